//! The `weights.dat` text format of Serra's group (OPL-style data file):
//!
//! ```text
//! //Classification accuracy = 97.88%
//! levels = 3;
//! n = [784, 100, 100, 10];
//! W = [
//! w_1[0][0],w_1[0][1],...        one row of W_1 (n[1] rows of n[0] values), then W_2, ...
//! ,w_1[1][0],...
//! ];
//! B = [
//! b_1[0],...                     one line per layer
//! ,b_2[0],...
//! ];
//! ```
//! `levels` is the number of weight layers; every layer but the last is ReLU and the last
//! is the linear output layer. Lines starting with `//` are comments; a comment
//! `//Classification accuracy = X%` becomes the metadata `test_accuracy = X / 100`.
//! Rows may be separated by commas and/or whitespace and wrapped in brackets. When the
//! values of a block are not one row per line, they are split by the shapes in `n`.

use std::fmt::Write as _;

use ndarray::{Array1, Array2};

use crate::{Activation, Layer, LoadErrorKind, Metadata, Network};

struct Row {
    line: usize,
    values: Vec<f64>,
}

#[derive(Default)]
struct Parsed {
    levels: Option<(usize, usize)>,
    widths: Option<(usize, Vec<usize>)>,
    weights: Option<(usize, Vec<Row>)>,
    biases: Option<(usize, Vec<Row>)>,
    metadata: Metadata,
}

enum Block {
    None,
    Weights(Vec<Row>, usize),
    Biases(Vec<Row>, usize),
}

pub(super) fn read(bytes: &[u8]) -> Result<Network, LoadErrorKind> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| LoadErrorKind::syntax("file", format!("not UTF-8 text ({e})")))?;
    let parsed = parse(text)?;
    build(parsed)
}

fn parse(text: &str) -> Result<Parsed, LoadErrorKind> {
    let mut parsed = Parsed::default();
    let mut block = Block::None;
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix("//") {
            read_comment(comment, &mut parsed.metadata);
            continue;
        }
        if !matches!(block, Block::None) {
            let (content, closes) = match line.find("];") {
                Some(i) => (&line[..i], true),
                None => (line, false),
            };
            let values = numbers(content, line_no)?;
            let rows = match &mut block {
                Block::Weights(rows, _) | Block::Biases(rows, _) => rows,
                Block::None => unreachable!(),
            };
            if !values.is_empty() {
                rows.push(Row {
                    line: line_no,
                    values,
                });
            }
            if closes {
                match std::mem::replace(&mut block, Block::None) {
                    Block::Weights(rows, start) => parsed.weights = Some((start, rows)),
                    Block::Biases(rows, start) => parsed.biases = Some((start, rows)),
                    Block::None => unreachable!(),
                }
            }
            continue;
        }
        let (name, value) = line.split_once('=').ok_or_else(|| {
            LoadErrorKind::syntax(
                format!("line {line_no}"),
                format!("expected `name = value;`, found \"{}\"", shorten(line)),
            )
        })?;
        let value = value.trim();
        match name.trim() {
            "levels" => {
                let v = value.trim_end_matches(';').trim();
                let levels = v.parse::<usize>().map_err(|_| {
                    LoadErrorKind::syntax(
                        format!("line {line_no}"),
                        format!("levels must be a positive integer, found \"{v}\""),
                    )
                })?;
                parsed.levels = Some((line_no, levels));
            }
            "n" => {
                let widths = numbers(value, line_no)?
                    .into_iter()
                    .map(|w| {
                        (w >= 0.0 && w.fract() == 0.0)
                            .then_some(w as usize)
                            .ok_or_else(|| {
                                LoadErrorKind::syntax(
                                    format!("line {line_no}"),
                                    format!(
                                        "layer widths must be non-negative integers, found {w}"
                                    ),
                                )
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                parsed.widths = Some((line_no, widths));
            }
            "W" | "B" => {
                let rest = value.trim_start_matches('[');
                let is_weights = name.trim() == "W";
                let mut rows = Vec::new();
                let (content, closes) = match rest.find("];") {
                    Some(i) => (&rest[..i], true),
                    None => (rest, false),
                };
                let values = numbers(content, line_no)?;
                if !values.is_empty() {
                    rows.push(Row {
                        line: line_no,
                        values,
                    });
                }
                match (closes, is_weights) {
                    (true, true) => parsed.weights = Some((line_no, rows)),
                    (true, false) => parsed.biases = Some((line_no, rows)),
                    (false, true) => block = Block::Weights(rows, line_no),
                    (false, false) => block = Block::Biases(rows, line_no),
                }
            }
            other => {
                return Err(LoadErrorKind::syntax(
                    format!("line {line_no}"),
                    format!(
                        "unknown entry \"{}\" (expected levels, n, W or B)",
                        shorten(other)
                    ),
                ));
            }
        }
    }
    match block {
        Block::Weights(_, start) => Err(unclosed("W", start)),
        Block::Biases(_, start) => Err(unclosed("B", start)),
        Block::None => Ok(parsed),
    }
}

fn unclosed(name: &str, line: usize) -> LoadErrorKind {
    LoadErrorKind::syntax(
        format!("line {line}"),
        format!("{name} = [ is never closed with ];"),
    )
}

fn read_comment(comment: &str, metadata: &mut Metadata) {
    let Some(rest) = comment.trim().strip_prefix("Classification accuracy") else {
        return;
    };
    let value = rest
        .trim_start_matches([' ', '='])
        .trim_end_matches('%')
        .trim();
    if let Ok(percent) = value.parse::<f64>() {
        metadata.insert("test_accuracy".into(), serde_json::json!(percent / 100.0));
    }
}

/// The numbers on a line: separators are commas, whitespace and brackets.
fn numbers(text: &str, line_no: usize) -> Result<Vec<f64>, LoadErrorKind> {
    text.split(|c: char| c == ',' || c == '[' || c == ']' || c == ';' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(|token| {
            token.parse::<f64>().map_err(|_| {
                LoadErrorKind::syntax(
                    format!("line {line_no}"),
                    format!("\"{}\" is not a number", shorten(token)),
                )
            })
        })
        .collect()
}

fn shorten(text: &str) -> String {
    if text.chars().count() > 40 {
        format!("{}...", text.chars().take(40).collect::<String>())
    } else {
        text.to_string()
    }
}

fn build(parsed: Parsed) -> Result<Network, LoadErrorKind> {
    let missing = |what: &str| LoadErrorKind::syntax("file", format!("no `{what}` entry"));
    let (levels_line, levels) = parsed.levels.ok_or_else(|| missing("levels = ...;"))?;
    let (widths_line, widths) = parsed.widths.ok_or_else(|| missing("n = [...];"))?;
    let (w_line, weight_rows) = parsed.weights.ok_or_else(|| missing("W = [...];"))?;
    let (b_line, bias_rows) = parsed.biases.ok_or_else(|| missing("B = [...];"))?;
    if levels.checked_add(1) != Some(widths.len()) {
        return Err(LoadErrorKind::syntax(
            format!("line {widths_line}"),
            format!(
                "n has {} entries but levels = {levels} (line {levels_line}) needs {}",
                widths.len(),
                levels.saturating_add(1)
            ),
        ));
    }
    let weight_shapes: Vec<(usize, usize)> =
        (0..levels).map(|l| (widths[l + 1], widths[l])).collect();
    let bias_shapes: Vec<(usize, usize)> = (0..levels).map(|l| (1, widths[l + 1])).collect();
    let weights = split_rows("W", w_line, weight_rows, &weight_shapes)?;
    let biases = split_rows("B", b_line, bias_rows, &bias_shapes)?;
    let layers = weights
        .into_iter()
        .zip(biases)
        .enumerate()
        .map(|(l, (w, b))| {
            let activation = if l + 1 == levels {
                Activation::Identity
            } else {
                Activation::Relu
            };
            Layer::new(w, Array1::from(b.into_raw_vec_and_offset().0), activation)
        })
        .collect();
    Ok(Network::new(widths[0], layers)?.with_metadata(parsed.metadata))
}

/// Cuts a block into matrices of the given shapes: one row per line when the lines match
/// the shapes, otherwise the flat sequence of values in row-major order.
fn split_rows(
    name: &str,
    start_line: usize,
    rows: Vec<Row>,
    shapes: &[(usize, usize)],
) -> Result<Vec<Array2<f64>>, LoadErrorKind> {
    // Sizes come from the file's `n`: checked before anything of that size is allocated.
    let total = shapes
        .iter()
        .try_fold(0usize, |acc, &(r, c)| r.checked_mul(c)?.checked_add(acc));
    let present: usize = rows.iter().map(|r| r.values.len()).sum();
    let row_count = shapes
        .iter()
        .try_fold(0usize, |acc, &(r, _)| acc.checked_add(r));
    let Some(total) = total.filter(|_| row_count.is_some()) else {
        return Err(LoadErrorKind::syntax(
            format!("line {start_line}"),
            format!("{name}: the widths in n need more than 2^64 values"),
        ));
    };
    let row_lengths: Vec<usize> = if row_count == Some(rows.len()) {
        shapes
            .iter()
            .flat_map(|&(r, c)| std::iter::repeat_n(c, r))
            .collect()
    } else {
        Vec::new()
    };
    let one_per_line = rows.len() == row_lengths.len()
        && rows
            .iter()
            .zip(&row_lengths)
            .all(|(row, &len)| row.values.len() == len);
    if !one_per_line && rows.len() == row_lengths.len() {
        // Right number of lines, wrong length somewhere: point at the first bad line.
        if let Some((i, (row, &len))) = rows
            .iter()
            .zip(&row_lengths)
            .enumerate()
            .find(|(_, (row, len))| row.values.len() != **len)
        {
            let (layer, r) = locate(shapes, i);
            return Err(LoadErrorKind::syntax(
                format!("line {}", row.line),
                format!(
                    "{name}: layer {} row {r} has {} values, expected {len}",
                    layer + 1,
                    row.values.len()
                ),
            ));
        }
    }
    if present != total {
        let expected = shapes
            .iter()
            .map(|(r, c)| format!("{r}x{c}"))
            .collect::<Vec<_>>()
            .join(" + ");
        return Err(LoadErrorKind::syntax(
            format!("line {start_line}"),
            format!("{name} has {present} values, n requires {total} ({expected})"),
        ));
    }
    let flat: Vec<f64> = rows.into_iter().flat_map(|r| r.values).collect();
    let mut out = Vec::with_capacity(shapes.len());
    let mut offset = 0;
    for &(r, c) in shapes {
        let chunk = flat[offset..offset + r * c].to_vec();
        let matrix = Array2::from_shape_vec((r, c), chunk)
            .map_err(|e| LoadErrorKind::syntax(format!("line {start_line}"), e.to_string()))?;
        out.push(matrix);
        offset += r * c;
    }
    Ok(out)
}

/// Maps a global row index to (layer, row within the layer).
fn locate(shapes: &[(usize, usize)], mut row: usize) -> (usize, usize) {
    for (layer, &(r, _)) in shapes.iter().enumerate() {
        if row < r {
            return (layer, row);
        }
        row -= r;
    }
    (shapes.len(), row)
}

pub(super) fn write(net: &Network) -> Result<Vec<u8>, LoadErrorKind> {
    if net.output_layer().is_none() {
        return Err(LoadErrorKind::unsupported(
            "network",
            "weights.dat needs a linear output layer (its last level is always linear)",
        ));
    }
    if let Some(layer) = net
        .hidden_layers()
        .iter()
        .find(|l| l.activation != Activation::Relu)
    {
        return Err(LoadErrorKind::unsupported(
            "network",
            format!(
                "weights.dat holds ReLU networks only, not {} (use JSON or ONNX)",
                layer.activation.name()
            ),
        ));
    }
    let layers = net.layers();
    let mut out = String::new();
    if let Some(acc) = net.metadata().get("test_accuracy").and_then(|v| v.as_f64()) {
        let _ = writeln!(out, "//Classification accuracy = {}%", acc * 100.0);
    }
    let _ = writeln!(out, "\nlevels = {};\n", layers.len());
    let widths: Vec<String> = std::iter::once(net.input_dim())
        .chain(layers.iter().map(Layer::width))
        .map(|w| w.to_string())
        .collect();
    let _ = writeln!(out, "n = [{}];\n\nW = [", widths.join(", "));
    let rows = layers.iter().flat_map(|l| l.weights.rows());
    for (i, row) in rows.enumerate() {
        write_row(&mut out, i, row.iter());
    }
    out.push_str("];\n\nB = [\n");
    for (i, layer) in layers.iter().enumerate() {
        write_row(&mut out, i, layer.bias.iter());
    }
    out.push_str("];\n");
    Ok(out.into_bytes())
}

/// Rust's `{}` for f64 prints the shortest text that reads back to the same value.
fn write_row<'a>(out: &mut String, index: usize, values: impl Iterator<Item = &'a f64>) {
    if index > 0 {
        out.push(',');
    }
    let values: Vec<String> = values.map(|v| v.to_string()).collect();
    out.push_str(&values.join(","));
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::he_network;

    const SAMPLE: &str = "//Model path = somewhere\n//Classification accuracy = 97.5%\n\n\
        levels = 2;\n\nn = [2, 3, 1];\n\nW = [\n1,2\n,3,4\n,5,6\n,7,8,9\n];\n\nB = [\n0.5,0.25,-1\n,2\n];\n";

    #[test]
    fn reads_the_serra_layout() {
        let net = read(SAMPLE.as_bytes()).unwrap();
        assert_eq!(net.input_dim(), 2);
        assert_eq!(net.hidden_widths(), vec![3]);
        let hidden = &net.hidden_layers()[0];
        assert_eq!(hidden.weights[[2, 1]], 6.0);
        assert_eq!(hidden.bias[2], -1.0);
        assert_eq!(net.output_layer().unwrap().weights[[0, 2]], 9.0);
        assert_eq!(net.metadata()["test_accuracy"], serde_json::json!(0.975));
    }

    #[test]
    fn round_trip_is_exact() {
        let net = he_network(&[4, 6, 5, 3], 0.2, true, 3);
        assert_eq!(read(&write(&net).unwrap()).unwrap(), net);
    }

    #[test]
    fn flat_blocks_are_split_by_shape() {
        let flat = "levels = 2;\nn = [2, 3, 1];\nW = [1,2,3,4,5,6,7,8,9];\nB = [0.5 0.25 -1 2];\n";
        let net = read(flat.as_bytes()).unwrap();
        assert_eq!(net.hidden_layers()[0].weights[[1, 0]], 3.0);
        assert_eq!(net.output_layer().unwrap().bias[0], 2.0);
    }

    #[test]
    fn errors_name_the_line() {
        let short_row = SAMPLE.replace(",5,6\n", ",5\n");
        assert_eq!(
            read(short_row.as_bytes()).unwrap_err().to_string(),
            "line 11: W: layer 1 row 2 has 1 values, expected 2"
        );
        let bad_number = SAMPLE.replace(",3,4", ",3,x4");
        assert_eq!(
            read(bad_number.as_bytes()).unwrap_err().to_string(),
            "line 10: \"x4\" is not a number"
        );
    }
}
