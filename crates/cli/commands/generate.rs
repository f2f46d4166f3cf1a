//! `mipbound generate`: a seeded random network.

use std::process::ExitCode;

use anyhow::{Result, bail};
use mipbound_network::Activation;
use mipbound_network::random::random_network;

use crate::args::GenerateArgs;
use mipbound_experiment::limits::check_parameters;

/// Largest `--bias-std`: the biases drawn stay far from the magnitudes the loaders refuse.
pub const MAX_BIAS_STD: f64 = 1000.0;

pub fn run(args: GenerateArgs) -> Result<ExitCode> {
    let min_layers = if args.no_output_layer { 2 } else { 3 };
    if args.widths.len() < min_layers || args.widths.contains(&0) {
        bail!(
            "--widths needs at least {min_layers} positive widths (n0, hidden...{})",
            if args.no_output_layer { "" } else { ", output" }
        );
    }
    check_parameters(
        "--widths",
        &args.widths,
        args.activation.rank(),
        !args.no_output_layer,
    )?;
    if !(0.0..=MAX_BIAS_STD).contains(&args.bias_std) {
        bail!("--bias-std must be a non-negative number of at most {MAX_BIAS_STD}");
    }
    if args.activation == Activation::Identity {
        bail!("--activation identity makes a linear network with no regions to count");
    }
    let mut net = random_network(
        &args.widths,
        &args.activation,
        args.bias_std,
        !args.no_output_layer,
        args.seed,
    );
    let meta = net.metadata_mut();
    meta.insert(
        "generator".into(),
        "mipbound generate (He-normal weights)".into(),
    );
    meta.insert("seed".into(), args.seed.into());
    meta.insert("bias_std".into(), args.bias_std.into());
    meta.insert("activation".into(), args.activation.name().into());
    mipbound_network::formats::save(&net, &args.out, None)?;
    println!(
        "wrote {} (n0 = {}, hidden {:?} {}, seed {})",
        args.out.display(),
        net.input_dim(),
        net.hidden_widths(),
        args.activation.name(),
        args.seed
    );
    Ok(ExitCode::SUCCESS)
}
