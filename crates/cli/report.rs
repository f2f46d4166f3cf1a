//! Shared pieces of the text and JSON reports.

use serde::Serialize;

/// Prints a value as one line of JSON on stdout.
pub fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string(value)?);
    Ok(())
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

/// The network summary every report starts with.
#[derive(Debug, Serialize)]
pub struct NetworkSummary {
    /// File as given on the command line.
    pub path: String,
    /// Input dimension.
    pub input_dim: usize,
    /// Hidden widths.
    pub hidden_widths: Vec<usize>,
    /// Number of weights and biases.
    pub parameters: usize,
    /// The domain, e.g. `[0, 1]^784`.
    pub domain: String,
}

impl NetworkSummary {
    /// Summarises a loaded network.
    pub fn new(
        path: &std::path::Path,
        net: &mipbound_network::Network,
        domain: &mipbound_formulation::Domain,
    ) -> Self {
        Self {
            path: path.display().to_string(),
            input_dim: net.input_dim(),
            hidden_widths: net.hidden_widths(),
            parameters: net.num_parameters(),
            domain: domain.describe(),
        }
    }

    /// Table rows describing the network.
    pub fn rows(&self) -> Vec<(String, String)> {
        vec![
            row(
                "network",
                format!(
                    "{} (n0 = {}, hidden {:?}, {} parameters)",
                    self.path, self.input_dim, self.hidden_widths, self.parameters
                ),
            ),
            row("domain", &self.domain),
        ]
    }
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
