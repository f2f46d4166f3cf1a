//! `mipbound bench-lp` (hidden): the margin LP solvers timed on one identical sequence of
//! region LPs, for `scripts/bench.sh`.
//!
//! The sequence mimics the search: hyperplanes through random points of `[0, 1]^dim` with
//! Gaussian normals are pushed, solved after each push, and popped in depth-first order.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Result, bail};
use mipbound_formulation::{DenseMarginOracle, Domain, HalfSpace, HighsMarginOracle, MarginOracle};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Serialize;

use crate::args::BenchLpArgs;
use crate::report::print_json;
use mipbound_experiment::limits::MAX_PARAMETERS;

enum Op {
    Push(HalfSpace),
    Pop,
}

#[derive(Serialize)]
struct LpBenchReport {
    dim: usize,
    solves: usize,
    max_rows: usize,
    dense_us_per_solve: f64,
    highs_us_per_solve: f64,
    speedup: f64,
    verdict_mismatches: usize,
    dense_fallbacks: u64,
    seed: u64,
}

fn operations(args: &BenchLpArgs) -> Vec<Op> {
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let mut ops = Vec::new();
    let (mut depth, mut solves) = (0, 0);
    while solves < args.solves {
        if depth > 0 && (depth >= args.max_rows || rng.random::<f64>() < 0.35) {
            ops.push(Op::Pop);
            depth -= 1;
            continue;
        }
        let normal: Vec<f64> = (0..args.dim)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect();
        let c = -normal.iter().map(|a| a * rng.random::<f64>()).sum::<f64>();
        ops.push(Op::Push(HalfSpace::new(normal, c, rng.random())));
        depth += 1;
        solves += 1;
    }
    ops
}

/// Runs the sequence; returns seconds and the margin of every solve.
fn replay(oracle: &mut impl MarginOracle, ops: &[Op]) -> Result<(f64, Vec<f64>)> {
    let mut margins = Vec::new();
    let start = Instant::now();
    for op in ops {
        match op {
            Op::Push(h) => {
                oracle.push(h)?;
                margins.push(oracle.solve()?.margin);
            }
            Op::Pop => oracle.pop()?,
        }
    }
    Ok((start.elapsed().as_secs_f64(), margins))
}

pub fn run(args: BenchLpArgs) -> Result<ExitCode> {
    if args.dim == 0 || args.solves == 0 || args.max_rows == 0 {
        bail!("--dim, --solves and --max-rows must be positive");
    }
    // Every pushed hyperplane is kept (dim numbers per solve), and the dense oracle holds
    // a basis inverse of up to max_rows x max_rows numbers.
    let numbers = args.dim.checked_mul(args.solves).and_then(|a| {
        let basis = args.max_rows.checked_mul(args.max_rows)?;
        a.checked_add(basis)
    });
    if numbers.is_none_or(|n| n > MAX_PARAMETERS) {
        bail!(
            "--dim, --solves and --max-rows: the benchmark would hold more than {MAX_PARAMETERS} numbers"
        );
    }
    let domain = Domain::unit_box(args.dim);
    let ops = operations(&args);
    let mut dense = DenseMarginOracle::new(&domain, 0);
    let (dense_seconds, dense_margins) = replay(&mut dense, &ops)?;
    let mut highs = HighsMarginOracle::new(&domain, 0)?;
    let (highs_seconds, highs_margins) = replay(&mut highs, &ops)?;
    let tol = 1e-7 * domain.scale();
    let per_solve = |s: f64| s / args.solves as f64 * 1e6;
    let report = LpBenchReport {
        dim: args.dim,
        solves: args.solves,
        max_rows: args.max_rows,
        dense_us_per_solve: per_solve(dense_seconds),
        highs_us_per_solve: per_solve(highs_seconds),
        speedup: highs_seconds / dense_seconds,
        verdict_mismatches: dense_margins
            .iter()
            .zip(&highs_margins)
            .filter(|(a, b)| (**a > tol) != (**b > tol))
            .count(),
        dense_fallbacks: dense.fallbacks(),
        seed: args.seed,
    };
    print_json(&report)?;
    Ok(ExitCode::SUCCESS)
}
