//! Reading and writing networks: ONNX, `weights.dat` and mipbound's JSON.
//!
//! [`load`] picks the format from the extension (`.onnx`; `.json`; `.dat` or `.txt`) unless
//! one is given, and always returns a validated [`Network`] or a [`LoadError`] that names
//! the file, the place in it and the problem. Files (and ONNX external data) larger than
//! [`MAX_FILE_BYTES`] are refused before they are read.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod json;
mod onnx;
mod onnx_proto;
mod weights_dat;

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

use crate::{LoadError, LoadErrorKind, Network};

pub use onnx::OnnxPrecision;
/// Sequential models described operator by operator in ONNX terms (see [`from_ops`]).
pub mod sequential {
    pub use super::onnx::{Attribute, Constant, Op, from_ops};
}

/// A network file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// ONNX (`.onnx`), as exported by PyTorch.
    Onnx,
    /// The `weights.dat` text format of Serra's group (`levels`, `n`, `W`, `B`).
    WeightsDat,
    /// mipbound's own JSON format (see the README).
    Json,
}

impl Format {
    /// Guesses the format from a file's extension.
    pub fn from_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "onnx" => Some(Format::Onnx),
            "json" => Some(Format::Json),
            "dat" | "txt" => Some(Format::WeightsDat),
            _ => None,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Onnx => "onnx",
            Format::WeightsDat => "dat",
            Format::Json => "json",
        })
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "onnx" => Ok(Format::Onnx),
            "dat" | "weights.dat" | "weights-dat" => Ok(Format::WeightsDat),
            "json" => Ok(Format::Json),
            other => Err(format!("unknown format '{other}' (use onnx, dat or json)")),
        }
    }
}

/// Largest network file mipbound reads: 2 GiB, the largest protobuf message. ONNX
/// external data files are checked against the tensors they hold instead.
pub const MAX_FILE_BYTES: u64 = 2 << 30;

/// Reads and validates a network; `format` overrides the extension. ONNX external data is
/// read from the model's folder.
pub fn load(path: &Path, format: Option<Format>) -> Result<Network, LoadError> {
    let error = |kind| LoadError::new(path, kind);
    let format = format
        .or_else(|| Format::from_path(path))
        .ok_or_else(|| error(LoadErrorKind::UnknownFormat))?;
    let bytes = read_limited(path).map_err(error)?;
    let folder = path.parent().map(|p| {
        if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            p
        }
    });
    parse(&bytes, format, onnx::DataFolder(folder)).map_err(error)
}

/// The files besides `path` that loading it reads: for ONNX, the external data files its
/// tensors name (resolved in the model's folder); none for the other formats or when the
/// file cannot be read. Front ends refuse to write over any of them.
pub fn companion_files(path: &Path) -> Vec<std::path::PathBuf> {
    if Format::from_path(path) != Some(Format::Onnx) {
        return Vec::new();
    }
    let Ok(bytes) = read_limited(path) else {
        return Vec::new();
    };
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    onnx::external_locations(&bytes)
        .into_iter()
        .map(|location| folder.join(location))
        .collect()
}

/// The bytes of a file of at most [`MAX_FILE_BYTES`].
fn read_limited(path: &Path) -> Result<Vec<u8>, LoadErrorKind> {
    let file = std::fs::File::open(path)?;
    let bytes = file.metadata()?.len();
    if bytes > MAX_FILE_BYTES {
        return Err(LoadErrorKind::TooLarge {
            bytes,
            limit: MAX_FILE_BYTES,
        });
    }
    let mut out = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut out)?;
    if out.len() as u64 > MAX_FILE_BYTES {
        return Err(LoadErrorKind::TooLarge {
            bytes: out.len() as u64,
            limit: MAX_FILE_BYTES,
        });
    }
    Ok(out)
}

/// Parses and validates a network held in memory (ONNX external data is refused: it
/// needs the model's folder, see [`load`]).
pub fn from_bytes(bytes: &[u8], format: Format) -> Result<Network, LoadErrorKind> {
    parse(bytes, format, onnx::DataFolder(None))
}

fn parse(
    bytes: &[u8],
    format: Format,
    folder: onnx::DataFolder<'_>,
) -> Result<Network, LoadErrorKind> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(LoadErrorKind::TooLarge {
            bytes: bytes.len() as u64,
            limit: MAX_FILE_BYTES,
        });
    }
    match format {
        Format::Onnx => onnx::read(bytes, folder),
        Format::Json => json::read(bytes),
        Format::WeightsDat => weights_dat::read(bytes),
    }
}

/// Serialises a network (ONNX weights as f64, so that a round trip is exact).
pub fn to_bytes(net: &Network, format: Format) -> Result<Vec<u8>, LoadErrorKind> {
    match format {
        Format::Onnx => onnx::write(net, OnnxPrecision::F64),
        Format::Json => json::write(net),
        Format::WeightsDat => weights_dat::write(net),
    }
}

/// Writes a network; the format comes from `format` or the extension.
pub fn save(net: &Network, path: &Path, format: Option<Format>) -> Result<(), LoadError> {
    let error = |kind| LoadError::new(path, kind);
    let format = format
        .or_else(|| Format::from_path(path))
        .ok_or_else(|| error(LoadErrorKind::UnknownFormat))?;
    let bytes = to_bytes(net, format).map_err(error)?;
    std::fs::write(path, bytes).map_err(|e| error(e.into()))
}

/// Writes a network as ONNX with the chosen weight precision (PyTorch exports f32).
pub fn onnx_bytes(net: &Network, precision: OnnxPrecision) -> Result<Vec<u8>, LoadErrorKind> {
    onnx::write(net, precision)
}
