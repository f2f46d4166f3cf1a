//! Point files and data-set images as input points.
//!
//! A point file holds one point per row, in one of three forms, chosen by the extension:
//! - `.npy`: a 2-D array of float64 or float32 (points x coordinates, C or Fortran order);
//!   a 1-D array is one point;
//! - `.json`: a list of lists of numbers;
//! - anything else: text, one point per line, coordinates separated by whitespace or commas;
//!   blank lines and lines starting with `#` are skipped.
//!
//! Every point must have the same number of coordinates, all finite; an empty file is refused.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// Points (rows of coordinates) with their labels when they are known.
#[derive(Debug, Clone, PartialEq)]
pub struct Points {
    /// One row per point, all of the same length.
    pub rows: Vec<Vec<f64>>,
    /// One label per point (data-set images), or `None`.
    pub labels: Option<Vec<u8>>,
    /// Where the points came from, as the reports name it.
    pub source: String,
}

impl Points {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Refuses points whose dimension is not `dim` (the network's inputs).
    pub fn check_dim(&self, dim: usize) -> Result<()> {
        if let Some((i, row)) = self.rows.iter().enumerate().find(|(_, r)| r.len() != dim) {
            bail!(
                "{}: point {i} has {} coordinates but the network has {dim} inputs",
                self.source,
                row.len()
            );
        }
        Ok(())
    }

    /// Reads a point file (format from its extension, see the module documentation).
    pub fn read(path: &Path) -> Result<Self> {
        let name = path.display().to_string();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let rows = match ext.as_deref() {
            Some("npy") => read_npy(path)?,
            Some("json") => {
                let text = read_text(path)?;
                serde_json::from_str::<Vec<Vec<f64>>>(&text).map_err(|e| {
                    anyhow::anyhow!("{name}: not a JSON list of lists of numbers ({e})")
                })?
            }
            _ => parse_text(&read_text(path)?).with_context(|| name.clone())?,
        };
        check_rows(&rows).with_context(|| name.clone())?;
        Ok(Self {
            rows,
            labels: None,
            source: name,
        })
    }

    /// The first `n` test images of an MNIST folder, with their labels: the test set
    /// `mipbound train` uses with its default split (the `t10k-*` files when the folder has
    /// them, else 20% of the images, split with seed 1).
    pub fn mnist_test(dir: &Path, n: usize) -> Result<Self> {
        if n == 0 {
            bail!("--n must be at least 1");
        }
        let (_, test) = mipbound_train::load_dir(dir, DEFAULT_TEST_FRACTION, DEFAULT_SPLIT_SEED)?;
        if n > test.len() {
            bail!(
                "--n {n}: the test set of {} has only {} images",
                dir.display(),
                test.len()
            );
        }
        Ok(Self {
            rows: (0..n).map(|i| test.images.row(i).to_vec()).collect(),
            labels: Some(test.labels[..n].to_vec()),
            source: format!("{} (test images 0..{n})", dir.display()),
        })
    }
}

/// `mipbound train`'s default `--test-fraction`.
pub const DEFAULT_TEST_FRACTION: f64 = 0.2;
/// `mipbound train`'s default `--split-seed`.
pub const DEFAULT_SPLIT_SEED: u64 = 1;

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// One point per line; whitespace or commas between coordinates; `#` comments.
fn parse_text(text: &str) -> Result<Vec<Vec<f64>>> {
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let row = line
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty())
            .map(|t| {
                t.parse::<f64>()
                    .map_err(|_| anyhow::anyhow!("line {}: '{t}' is not a number", n + 1))
            })
            .collect::<Result<Vec<f64>>>()?;
        rows.push(row);
    }
    Ok(rows)
}

/// A 2-D (or 1-D: one point) array of float64 or float32.
fn read_npy(path: &Path) -> Result<Vec<Vec<f64>>> {
    let name = path.display();
    let bytes = std::fs::read(path).with_context(|| format!("reading {name}"))?;
    let npy = npyz::NpyFile::new(&bytes[..])
        .map_err(|e| anyhow::anyhow!("{name}: not a .npy file ({e})"))?;
    let shape: Vec<u64> = npy.shape().to_vec();
    let (points, dim) = match shape.as_slice() {
        [d] => (1, *d),
        [p, d] => (*p, *d),
        _ => bail!("{name}: expected a 2-D array (points x coordinates), got shape {shape:?}"),
    };
    let (points, dim) = (usize::try_from(points)?, usize::try_from(dim)?);
    let dtype = npy.dtype();
    let fortran = npy.order() == npyz::Order::Fortran;
    let float_size = match &dtype {
        npyz::DType::Plain(t) if t.type_char() == npyz::TypeChar::Float => t.size_field(),
        _ => 0,
    };
    let flat: Vec<f64> = match float_size {
        8 => npy.into_vec::<f64>(),
        4 => npy
            .into_vec::<f32>()
            .map(|v| v.into_iter().map(f64::from).collect()),
        _ => bail!(
            "{name}: the array's type is {}, expected float64 or float32",
            dtype.descr()
        ),
    }
    .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    Ok((0..points)
        .map(|p| {
            (0..dim)
                .map(|c| flat[if fortran { c * points + p } else { p * dim + c }])
                .collect()
        })
        .collect())
}

/// At least one point; every row as long as the first, with at least one coordinate; all
/// values finite.
fn check_rows(rows: &[Vec<f64>]) -> Result<()> {
    let Some(first) = rows.first() else {
        bail!("no points (the file is empty)");
    };
    if first.is_empty() {
        bail!("point 0 has no coordinates");
    }
    for (i, row) in rows.iter().enumerate() {
        if row.len() != first.len() {
            bail!(
                "point {i} has {} coordinates but point 0 has {}",
                row.len(),
                first.len()
            );
        }
        if let Some((c, v)) = row.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            bail!("point {i}, coordinate {c} is {v}: coordinates must be finite");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_takes_whitespace_commas_and_comments() {
        let rows = parse_text("# a comment\n0.5, 1\n\n  2 3,4e-1 \n").unwrap();
        assert_eq!(rows, vec![vec![0.5, 1.0], vec![2.0, 3.0, 0.4]]);
        let err = parse_text("1 2\n3 x\n").unwrap_err().to_string();
        assert_eq!(err, "line 2: 'x' is not a number");
        let err = check_rows(&rows).unwrap_err().to_string();
        assert_eq!(err, "point 1 has 3 coordinates but point 0 has 2");
        let err = check_rows(&parse_text("1 nan\n").unwrap())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "point 0, coordinate 1 is NaN: coordinates must be finite"
        );
        let err = check_rows(&parse_text("# nothing\n").unwrap())
            .unwrap_err()
            .to_string();
        assert_eq!(err, "no points (the file is empty)");
    }
}
