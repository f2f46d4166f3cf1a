//! `mipbound train`: a ReLU MLP on MNIST, written as JSON and ONNX with its accuracy.

use std::process::ExitCode;

use anyhow::{Result, bail};
use mipbound_train::{TrainSettings, load_dir, train};

use mipbound_experiment::files::refuse_overwrite;
use mipbound_experiment::limits::check_parameters;
use mipbound_experiment::study::check_training;

use crate::args::TrainArgs;

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
