//! The report sinks every command shares: the text table, JSON, and CSV.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use mipbound_experiment::NetworkSummary;
use mipbound_experiment::batch::RecordSink;
use mipbound_experiment::count::StableUnits;
use mipbound_experiment::files::replace_file;
use mipbound_experiment::records::{BatchRecord, csv_header, csv_row};
use serde::Serialize;

/// Prints a value as one line of JSON on stdout.
pub fn print_json(value: &impl Serialize) -> Result<()> {
    println!("{}", serde_json::to_string(value)?);
    Ok(())
}

/// Writes a value as the pretty-printed JSON file `path`, replacing it atomically.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)? + "\n";
    replace_file(path, text.as_bytes())
}

/// Prints `key  value` lines with the keys aligned.
pub fn print_table(rows: &[(String, String)]) {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (key, value) in rows {
        println!("{key:<width$}  {value}");
    }
}

/// A row of a table.
pub fn row(key: &str, value: impl ToString) -> (String, String) {
    (key.to_string(), value.to_string())
}

/// Table rows describing the network: every report starts with them.
pub fn network_rows(n: &NetworkSummary) -> Vec<(String, String)> {
    vec![
        row(
            "network",
            format!(
                "{} (n0 = {}, hidden {:?}, {} parameters)",
                n.path, n.input_dim, n.hidden_widths, n.parameters
            ),
        ),
        row("domain", &n.domain),
        row("network hash", &n.hash[..16.min(n.hash.len())]),
    ]
}

/// One line per layer: `layer 1: 2 active, 0 inactive, 8 unstable`.
pub fn describe_stable(units: &[StableUnits]) -> String {
    units
        .iter()
        .enumerate()
        .map(|(l, s)| {
            format!(
                "layer {}: {} active, {} inactive, {} unstable",
                l + 1,
                s.active,
                s.inactive,
                s.unstable
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Prints rows of cells as left-aligned columns; the first row is the header.
pub fn print_columns(table: &[Vec<String>]) {
    let columns = table[0].len();
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            table
                .iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in table {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| format!("{cell:<w$}"))
            .collect();
        println!("{}", cells.join("  ").trim_end());
    }
}

/// Writes serialisable rows (their field names as the header) as the CSV file `path`,
/// replacing it atomically.
pub fn write_csv<T: Serialize>(path: &Path, rows: &[T]) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    finish_csv(path, w)
}

/// Writes a header and rows of cells as the CSV file `path`, replacing it atomically.
pub fn write_csv_table(path: &Path, header: &[String], rows: &[Vec<String>]) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        w.write_record(r)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    finish_csv(path, w)
}

fn finish_csv(path: &Path, w: csv::Writer<Vec<u8>>) -> Result<()> {
    let bytes = w
        .into_inner()
        .map_err(|e| anyhow::anyhow!("writing {}: {}", path.display(), e.error()))?;
    replace_file(path, &bytes)
}

/// The CSV mirror of a batch's records: rewritten whole at the start (so that it always
/// matches the JSONL records), then one row appended per record.
pub struct CsvRecords {
    /// The CSV file.
    pub path: PathBuf,
    /// The XOR widths, one group of columns each.
    pub widths: Vec<String>,
}

impl RecordSink for CsvRecords {
    fn restart(&mut self, records: &[BatchRecord]) -> Result<()> {
        let rows: Vec<Vec<String>> = records.iter().map(csv_row).collect();
        write_csv_table(&self.path, &csv_header(&self.widths), &rows)
    }

    fn append(&mut self, record: &BatchRecord) -> Result<()> {
        let file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .with_context(|| format!("writing {}", self.path.display()))?;
        let mut w = csv::Writer::from_writer(file);
        w.write_record(csv_row(record))
            .and_then(|()| w.flush().map_err(Into::into))
            .with_context(|| format!("writing {}", self.path.display()))
    }
}
