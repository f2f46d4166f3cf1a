//! `mipbound generate`: a seeded random network.

use std::process::ExitCode;

use anyhow::{Result, bail};
use mipbound_network::Activation;
use mipbound_network::random::random_network;

use crate::args::GenerateArgs;

/// Most weights and biases `generate` draws (800 MB of f64): larger widths are refused
/// before anything is allocated.
pub const MAX_PARAMETERS: usize = 100_000_000;

/// Weights and biases of the network `generate` would draw; `None` past `usize`.
fn parameters(widths: &[usize], rank: usize, output_layer: bool) -> Option<usize> {
    let layers = widths.len().checked_sub(1)?;
    (0..layers).try_fold(0usize, |total, l| {
        let rank = if output_layer && l + 1 == layers {
            1
        } else {
            rank
        };
        let rows = widths[l + 1].checked_mul(rank)?;
        total.checked_add(rows.checked_mul(widths[l].checked_add(1)?)?)
    })
}

pub fn run(args: GenerateArgs) -> Result<ExitCode> {
    let min_layers = if args.no_output_layer { 2 } else { 3 };
    if args.widths.len() < min_layers || args.widths.contains(&0) {
        bail!(
            "--widths needs at least {min_layers} positive widths (n0, hidden...{})",
            if args.no_output_layer { "" } else { ", output" }
        );
    }
    match parameters(&args.widths, args.activation.rank(), !args.no_output_layer) {
        Some(n) if n <= MAX_PARAMETERS => {}
        _ => bail!(
            "--widths: the network would have more than {MAX_PARAMETERS} weights and biases (the most generate draws)"
        ),
    }
    if !(args.bias_std.is_finite() && args.bias_std >= 0.0) {
        bail!("--bias-std must be a non-negative number");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_counted_with_overflow_checks() {
        // 2x3 + 3 biases, then 3x1 + 1 (the output layer ignores the rank).
        assert_eq!(parameters(&[2, 3, 1], 1, true), Some(13));
        // maxout rank 2: 6 rows of 2 + 6 biases, then an output row of 3 + 1.
        assert_eq!(parameters(&[2, 3, 1], 2, true), Some(22));
        assert_eq!(
            parameters(&[4_294_967_296, 4_294_967_296, 1], 1, true),
            None
        );
        assert_eq!(parameters(&[2, usize::MAX, 1], 1, true), None);
        assert_eq!(parameters(&[2, 3, 1], usize::MAX, false), None);
    }
}
