//! Reading and writing networks: ONNX, `weights.dat` and mipbound's JSON.
//!
//! [`load`] picks the format from the extension (`.onnx`; `.json`; `.dat` or `.txt`) unless
//! one is given, and always returns a validated [`Network`] or a [`LoadError`] that names
//! the file, the place in it and the problem.

mod json;
mod onnx;
mod onnx_proto;
mod weights_dat;

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::{LoadError, LoadErrorKind, Network};

pub use onnx::OnnxPrecision;

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

/// Reads and validates a network; `format` overrides the extension.
pub fn load(path: &Path, format: Option<Format>) -> Result<Network, LoadError> {
    let error = |kind| LoadError::new(path, kind);
    let format = format
        .or_else(|| Format::from_path(path))
        .ok_or_else(|| error(LoadErrorKind::UnknownFormat))?;
    let bytes = std::fs::read(path).map_err(|e| error(e.into()))?;
    from_bytes(&bytes, format).map_err(error)
}

/// Parses and validates a network held in memory.
pub fn from_bytes(bytes: &[u8], format: Format) -> Result<Network, LoadErrorKind> {
    match format {
        Format::Onnx => onnx::read(bytes),
        Format::Json => json::read(bytes),
        Format::WeightsDat => weights_dat::read(bytes),
    }
}

/// Serialises a network (ONNX weights as f64, so that a round trip is exact).
pub fn to_bytes(net: &Network, format: Format) -> Result<Vec<u8>, LoadErrorKind> {
    match format {
        Format::Onnx => onnx::write(net, OnnxPrecision::F64),
        Format::Json => Ok(json::write(net)),
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
