//! Batch and study records (`results.jsonl`): read with the library, as JSON, as the CSV
//! table `batch` writes, and as the study's charts.

use std::path::PathBuf;

use mipbound_experiment::charts::charts;
use mipbound_experiment::records::{
    common_widths, csv_header, csv_row, read_records_strict as read_records,
};
use pyo3::prelude::*;

use crate::errors::anyhow_value_error;

/// The records of a `results.jsonl` written by `mipbound batch` or `study` (every line a
/// whole record), as a JSON list.
#[pyfunction]
pub fn records_json(path: PathBuf) -> PyResult<String> {
    let records = read_records(&path).map_err(anyhow_value_error)?;
    serde_json::to_string(&records).map_err(|e| anyhow_value_error(e.into()))
}

/// The records as the rows of `results.csv`: `(header, rows)`, every cell as text.
#[pyfunction]
pub fn records_table(path: PathBuf) -> PyResult<(Vec<String>, Vec<Vec<String>>)> {
    let records = read_records(&path).map_err(anyhow_value_error)?;
    let widths = common_widths(&records).map_err(anyhow_value_error)?;
    Ok((csv_header(&widths), records.iter().map(csv_row).collect()))
}

/// The study's charts of the records, as a JSON list (`name` titles them).
#[pyfunction]
#[pyo3(signature = (path, name="study"))]
pub fn study_charts(path: PathBuf, name: &str) -> PyResult<String> {
    let records = read_records(&path).map_err(anyhow_value_error)?;
    serde_json::to_string(&charts(name, &records)).map_err(|e| anyhow_value_error(e.into()))
}
