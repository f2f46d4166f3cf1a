use std::path::PathBuf;

/// Why a list of layers does not make a valid network.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// There are no layers at all.
    #[error("the network is empty (no layers)")]
    Empty,
    /// The input dimension is zero.
    #[error("the input dimension is 0")]
    ZeroInput,
    /// A layer has no units.
    #[error("layer {layer}: has 0 units")]
    EmptyLayer {
        /// Index of the layer (0-based, in file order).
        layer: usize,
    },
    /// A weight matrix does not take the previous layer's output.
    #[error("layer {layer}: weights have {found} columns but its input has {expected} values")]
    InputShape {
        /// Index of the layer.
        layer: usize,
        /// Width of the previous layer (or the input dimension).
        expected: usize,
        /// Number of columns found.
        found: usize,
    },
    /// The bias does not match the number of units.
    #[error("layer {layer}: bias has {found} entries but the weights have {expected} rows")]
    BiasShape {
        /// Index of the layer.
        layer: usize,
        /// Rows of the weight matrix.
        expected: usize,
        /// Entries of the bias.
        found: usize,
    },
    /// A weight or bias is NaN or infinite.
    #[error("layer {layer}: {what} is {value} (all parameters must be finite)")]
    NonFinite {
        /// Index of the layer.
        layer: usize,
        /// Which entry, e.g. `weight [3, 7]` or `bias [2]`.
        what: String,
        /// The offending value.
        value: f64,
    },
    /// A weight, bias or activation parameter beyond [`crate::MAX_PARAMETER`].
    #[error("layer {layer}: {what} is {value:e} (parameters must lie within +-{max:e})", max = crate::MAX_PARAMETER)]
    TooLarge {
        /// Index of the layer.
        layer: usize,
        /// Which entry.
        what: String,
        /// The offending value.
        value: f64,
    },
    /// A maxout layer whose rows do not split into units of `rank` rows.
    #[error("layer {layer}: {rows} rows do not split into maxout units of rank {rank} (rank >= 2)")]
    Maxout {
        /// Index of the layer.
        layer: usize,
        /// Rows of the weight matrix.
        rows: usize,
        /// The maxout rank.
        rank: usize,
    },
    /// A layer's recorded convolution or pooling does not describe its weights.
    #[error("layer {layer}: {message}")]
    Structure {
        /// Index of the layer.
        layer: usize,
        /// What does not fit.
        message: String,
    },
    /// No layer has a non-linear piecewise-linear activation, so there is a single region.
    #[error("the network has no hidden piecewise-linear layer (nothing to count)")]
    NoHiddenLayer,
}

/// An error while reading a network file: which file, and what went wrong where.
#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", path.display())]
pub struct LoadError {
    /// The file being read.
    pub path: PathBuf,
    /// What went wrong.
    pub kind: LoadErrorKind,
}

impl LoadError {
    /// Attaches a path to an error kind.
    pub fn new(path: impl Into<PathBuf>, kind: LoadErrorKind) -> Self {
        Self {
            path: path.into(),
            kind,
        }
    }
}

/// The problem found in a network file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadErrorKind {
    /// The file could not be read or written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The file name does not tell the format.
    #[error("cannot tell the format from the extension (use .onnx, .json, .dat or --format)")]
    UnknownFormat,
    /// A syntax or structure error at a place in the file.
    #[error("{place}: {message}")]
    Syntax {
        /// Where: `line 12`, `node 'Gemm_3' (Gemm)`, `layers[2].bias`, ...
        place: String,
        /// What is wrong there.
        message: String,
    },
    /// The file is well-formed but uses something mipbound does not support.
    #[error("{place}: unsupported: {message}")]
    Unsupported {
        /// Where.
        place: String,
        /// What is not supported.
        message: String,
    },
    /// The file is larger than [`crate::formats::MAX_FILE_BYTES`].
    #[error("the file has {bytes} bytes, more than the limit of {limit} bytes")]
    TooLarge {
        /// Size of the file.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// The layers read do not form a valid network.
    #[error("{0}")]
    Model(#[from] ModelError),
}

impl LoadErrorKind {
    /// A syntax error at `place`.
    pub fn syntax(place: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Syntax {
            place: place.into(),
            message: message.into(),
        }
    }

    /// An unsupported construct at `place`.
    pub fn unsupported(place: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Unsupported {
            place: place.into(),
            message: message.into(),
        }
    }
}
