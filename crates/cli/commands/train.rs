//! `mipbound train`: a ReLU MLP on MNIST, written as JSON and ONNX with its accuracy.

use std::process::ExitCode;

use anyhow::{Result, bail};
use mipbound_train::{TrainSettings, load_dir, train};

use crate::args::TrainArgs;
use crate::common::{check_parameters, refuse_overwrite};

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

pub fn run(args: TrainArgs) -> Result<ExitCode> {
    if args.widths.is_empty() || args.widths.contains(&0) {
        bail!("--widths needs positive hidden widths, e.g. 10,12");
    }
    let settings = TrainSettings {
        hidden: args.widths.clone(),
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.learning_rate,
        seed: args.seed,
    };
    check_training(&settings, args.test_fraction, |n| {
        format!("--{}", n.replace('_', "-"))
    })?;
    let onnx = args.out.with_extension("onnx");
    // The images are the inputs: neither output may replace one of them.
    let data_files: Vec<std::path::PathBuf> = std::fs::read_dir(&args.data)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    let inputs: Vec<&std::path::Path> = data_files.iter().map(|p| p.as_path()).collect();
    refuse_overwrite("--out", &args.out, &inputs)?;
    refuse_overwrite("--out", &onnx, &inputs)?;
    let (train_set, test_set) = load_dir(&args.data, args.test_fraction, args.split_seed)?;
    if train_set.is_empty() {
        bail!("{}: no training images", args.data.display());
    }
    let chain: Vec<usize> = std::iter::once(train_set.pixels())
        .chain(args.widths.iter().copied())
        .chain([train_set.classes])
        .collect();
    check_parameters("--widths", &chain, 1, true)?;
    let mut trained = train(&train_set, &test_set, &settings);
    let meta = trained.network.metadata_mut();
    meta.insert("data".into(), args.data.display().to_string().into());
    meta.insert("split_seed".into(), args.split_seed.into());
    mipbound_network::formats::save(&trained.network, &args.out, None)?;
    mipbound_network::formats::save(&trained.network, &onnx, None)?;
    println!(
        "trained {:?} on {} images in {:.1} s: test accuracy {:.4} ({} images), train accuracy {:.4}, final loss {:.4}; wrote {} and {}",
        args.widths,
        train_set.len(),
        trained.seconds,
        trained.test_accuracy,
        test_set.len(),
        trained.train_accuracy,
        trained.epoch_losses.last().copied().unwrap_or(f64::NAN),
        args.out.display(),
        onnx.display()
    );
    Ok(ExitCode::SUCCESS)
}
