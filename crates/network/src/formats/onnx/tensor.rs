//! Constant tensors of an ONNX file: data types, inline values and external data files.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path};

use super::super::onnx_proto::{EXTERNAL, TensorProto, data_type};
use crate::LoadErrorKind;

/// Most values a single constant tensor (read or folded) may hold: 2^28, 2 GiB of f64.
pub(crate) const MAX_TENSOR_VALUES: usize = 1 << 28;

/// A constant tensor, flattened in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tensor {
    pub dims: Vec<usize>,
    pub values: Vec<f64>,
    /// Integer or boolean data (integer division and `Mod` truncate).
    pub integer: bool,
}

impl Tensor {
    /// A float tensor.
    pub fn float(dims: Vec<usize>, values: Vec<f64>) -> Self {
        Self {
            dims,
            values,
            integer: false,
        }
    }

    /// An int64 tensor.
    pub fn int(dims: Vec<usize>, values: Vec<f64>) -> Self {
        Self {
            dims,
            values,
            integer: true,
        }
    }
}

/// The number of values of a tensor of shape `dims`, with overflow and size checks.
pub(crate) fn element_count(dims: &[usize], place: &str) -> Result<usize, LoadErrorKind> {
    dims.iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= MAX_TENSOR_VALUES)
        .ok_or_else(|| {
            LoadErrorKind::unsupported(
                place,
                format!("shape {dims:?} has more than {MAX_TENSOR_VALUES} values"),
            )
        })
}

/// Where external data files are looked up: the model's folder, when loaded from a file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DataFolder<'a>(pub Option<&'a Path>);

/// Decodes a tensor, reading external data from `folder`.
pub(crate) fn read_tensor(
    tensor: &TensorProto,
    place: &str,
    folder: DataFolder<'_>,
) -> Result<Tensor, LoadErrorKind> {
    let dims: Vec<usize> = tensor
        .dims
        .iter()
        .map(|&d| usize::try_from(d))
        .collect::<Result<_, _>>()
        .map_err(|_| LoadErrorKind::syntax(place, "negative dimension"))?;
    let count = element_count(&dims, place)?;
    let code = tensor.data_type;
    let size = match code {
        data_type::FLOAT | data_type::INT32 => 4,
        data_type::DOUBLE | data_type::INT64 => 8,
        data_type::BOOL | data_type::INT8 | data_type::UINT8 => 1,
        data_type::INT16 | data_type::UINT16 => 2,
        data_type::FLOAT16 => {
            return Err(LoadErrorKind::unsupported(
                place,
                "float16 weights (export in float32)",
            ));
        }
        other => {
            return Err(LoadErrorKind::unsupported(
                place,
                format!(
                    "tensor data type {} (float32, float64 and integers are read)",
                    data_type::name(other)
                ),
            ));
        }
    };
    let external;
    let raw: &[u8] = if tensor.data_location == EXTERNAL {
        external = read_external(tensor, place, folder, count * size)?;
        &external
    } else {
        &tensor.raw_data
    };
    let integer = !matches!(code, data_type::FLOAT | data_type::DOUBLE);
    let values = if !raw.is_empty() || tensor.data_location == EXTERNAL {
        if raw.len() != count * size {
            return Err(LoadErrorKind::syntax(
                place,
                format!(
                    "shape {dims:?} of {} needs {} bytes, raw_data has {}",
                    data_type::name(code),
                    count * size,
                    raw.len()
                ),
            ));
        }
        decode_raw(raw, code)
    } else {
        let values: Vec<f64> = match code {
            data_type::FLOAT => tensor.float_data.iter().map(|&v| f64::from(v)).collect(),
            data_type::DOUBLE => tensor.double_data.clone(),
            data_type::INT64 => tensor.int64_data.iter().map(|&v| v as f64).collect(),
            _ => tensor.int32_data.iter().map(|&v| f64::from(v)).collect(),
        };
        if values.len() != count {
            return Err(LoadErrorKind::syntax(
                place,
                format!(
                    "shape {dims:?} needs {count} values, found {}",
                    values.len()
                ),
            ));
        }
        values
    };
    Ok(Tensor {
        dims,
        values,
        integer,
    })
}

/// Little-endian values of type `code` (the length is a multiple of the size).
fn decode_raw(raw: &[u8], code: i32) -> Vec<f64> {
    fn each<const N: usize>(raw: &[u8], f: impl Fn([u8; N]) -> f64) -> Vec<f64> {
        raw.chunks_exact(N)
            .map(|c| {
                let mut b = [0u8; N];
                b.copy_from_slice(c);
                f(b)
            })
            .collect()
    }
    match code {
        data_type::FLOAT => each::<4>(raw, |b| f64::from(f32::from_le_bytes(b))),
        data_type::DOUBLE => each::<8>(raw, f64::from_le_bytes),
        data_type::INT64 => each::<8>(raw, |b| i64::from_le_bytes(b) as f64),
        data_type::INT32 => each::<4>(raw, |b| f64::from(i32::from_le_bytes(b))),
        data_type::INT16 => each::<2>(raw, |b| f64::from(i16::from_le_bytes(b))),
        data_type::UINT16 => each::<2>(raw, |b| f64::from(u16::from_le_bytes(b))),
        data_type::INT8 => raw.iter().map(|&b| f64::from(b as i8)).collect(),
        _ => raw.iter().map(|&b| f64::from(b)).collect(),
    }
}

/// The `len` bytes of an external tensor: `location` inside the model's folder, at
/// `offset`, `length` bytes long (checked against the file).
fn read_external(
    tensor: &TensorProto,
    place: &str,
    folder: DataFolder<'_>,
    len: usize,
) -> Result<Vec<u8>, LoadErrorKind> {
    let entry = |key: &str| {
        tensor
            .external_data
            .iter()
            .find(|e| e.key == key)
            .map(|e| e.value.as_str())
    };
    let error = |m: String| LoadErrorKind::syntax(place, m);
    let location = entry("location")
        .filter(|l| !l.is_empty())
        .ok_or_else(|| error("external data without a location".into()))?;
    let number = |key: &str| -> Result<Option<u64>, LoadErrorKind> {
        entry(key)
            .map(|v| {
                v.trim().parse::<u64>().map_err(|_| {
                    error(format!(
                        "external data {key} '{}' is not a non-negative integer",
                        v.escape_debug()
                    ))
                })
            })
            .transpose()
    };
    let offset = number("offset")?.unwrap_or(0);
    let length = number("length")?;
    let shown = location.escape_debug().to_string();
    let Some(folder) = folder.0 else {
        return Err(error(format!(
            "external data file '{shown}' needs the model's folder (load the model from a file)"
        )));
    };
    let relative = Path::new(location);
    if !relative
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(error(format!(
            "external data file '{shown}' is outside the model's folder (absolute or '..' paths are refused)"
        )));
    }
    let path = folder.join(relative);
    let inside = match (path.canonicalize(), folder.canonicalize()) {
        (Ok(file), Ok(dir)) => file.starts_with(dir),
        (Err(e), _) | (_, Err(e)) => {
            return Err(error(format!("external data file '{shown}': {e}")));
        }
    };
    if !inside {
        return Err(error(format!(
            "external data file '{shown}' links outside the model's folder"
        )));
    }
    let mut file =
        File::open(&path).map_err(|e| error(format!("external data file '{shown}': {e}")))?;
    let size = file
        .metadata()
        .map_err(|e| error(format!("external data file '{shown}': {e}")))?
        .len();
    let length = length.unwrap_or(size.saturating_sub(offset));
    if length != len as u64 {
        return Err(error(format!(
            "external data in '{shown}' has length {length}, the tensor needs {len} bytes"
        )));
    }
    if offset.checked_add(length).is_none_or(|end| end > size) {
        return Err(error(format!(
            "external data in '{shown}' at offset {offset}, length {length} runs past the end of the file ({size} bytes)"
        )));
    }
    let mut bytes = vec![0; len];
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.read_exact(&mut bytes))
        .map_err(|e| error(format!("external data file '{shown}': {e}")))?;
    Ok(bytes)
}
