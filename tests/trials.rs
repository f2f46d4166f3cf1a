//! MIPBound soundness: across many networks with known exact counts and many seeds, a lower
//! bound stated at confidence 0.9 exceeds the exact count in at most ~10% of runs (it
//! should be close to 0: short XORs are conservative).

use mipbound_bounds::probabilistic::{alpha_for_confidence, binomial_tail, mbound, tail_bound};
use mipbound_formulation::Domain;
use mipbound_network::Network;
use mipbound_network::random::he_network;
use mipbound_parity::XorWidth;
use mipbound_search::{Limits, RegionSearch, SearchSettings, SearchStatus};

use crate::oracle::{count_1d, count_2d};

const CONFIDENCE: f64 = 0.9;
const TRIALS: usize = 5;
const SEEDS: u64 = 50;

fn networks() -> Vec<Vec<usize>> {
    [
        &[1, 8, 8][..],
        &[1, 6, 6, 6],
        &[1, 12],
        &[1, 10, 5],
        &[2, 8, 8],
        &[2, 6, 6, 6],
        &[2, 12, 6],
        &[2, 16],
        &[3, 8, 8],
        &[3, 10, 6],
        &[4, 8, 8],
        &[4, 12],
        &[5, 8, 6],
        &[5, 10],
        &[6, 8, 6],
        &[6, 7, 7],
        &[7, 8, 5],
        &[8, 6, 6],
        &[8, 10],
        &[8, 8, 4],
    ]
    .iter()
    .map(|w| w.to_vec())
    .collect()
}

struct Tally {
    runs: u64,
    mbound_failures: u64,
    tail_failures: u64,
}

fn run_network(index: usize, widths: &[usize]) -> Tally {
    let net = he_network(widths, 0.5, false, 500 + index as u64);
    run_trials(&net)
}

/// Runs `SEEDS` MIPBound estimates of `TRIALS` trials each on `net` over `[-1, 1]^n0`.
fn run_trials(net: &Network) -> Tally {
    let n0 = net.input_dim();
    let domain = Domain::uniform(n0, -1.0, 1.0).unwrap();
    let search = RegionSearch::new(net, &domain, SearchSettings::default()).unwrap();
    let exact =
        mipbound_search::count_regions(net, &domain, SearchSettings::default(), &Limits::default())
            .unwrap()
            .stats
            .regions;
    match n0 {
        1 => assert_eq!(exact as usize, count_1d(net, -1.0, 1.0)),
        2 => assert_eq!(exact as usize, count_2d(net, -1.0, 1.0)),
        _ => {}
    }
    let log2_exact = (exact as f64).log2();
    let alpha = alpha_for_confidence(CONFIDENCE, TRIALS);
    let mut tally = Tally {
        runs: 0,
        mbound_failures: 0,
        tail_failures: 0,
    };
    for seed in 0..SEEDS {
        let width = XorWidth::Fixed(2 + (seed % 4) as usize);
        let levels: Vec<u32> = (0..TRIALS as u64)
            .map(|r| {
                let out = search
                    .run_trial(width, seed, r, &Limits::default())
                    .unwrap();
                assert_eq!(out.status, SearchStatus::Exhausted);
                out.level
            })
            .collect();
        let lower = mbound(&levels, alpha).unwrap();
        let tail = tail_bound(&levels, TRIALS.div_ceil(2), 1.0 - CONFIDENCE).unwrap();
        tally.runs += 1;
        tally.mbound_failures += u64::from(lower.exponent > log2_exact);
        tally.tail_failures += u64::from(tail.exponent > log2_exact);
    }
    tally
}

/// Tallies `run(i)` for `0..count` on two threads.
fn tally_in_parallel(count: usize, run: impl Fn(usize) -> Tally + Sync) -> Vec<Tally> {
    std::thread::scope(|scope| {
        let run = &run;
        let handles: Vec<_> = (0..2)
            .map(|half| scope.spawn(move || (half..count).step_by(2).map(run).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

#[test]
fn lower_bounds_at_confidence_point_nine_fail_at_most_ten_percent() {
    let nets = networks();
    assert!(nets.len() >= 20);
    let tallies = tally_in_parallel(nets.len(), |i| run_network(i, &nets[i]));
    assert_failure_rates(&tallies);
}

/// The same with leaky ReLU, hard tanh, a 3-breakpoint PWL and rank-3 maxout: the XORs
/// act on the pattern bits (thermometer or binary codes), which stay an injective code.
#[test]
fn lower_bounds_for_other_activations_fail_at_most_ten_percent() {
    let shapes: [&[usize]; 3] = [&[1, 6, 6], &[2, 6, 4], &[3, 5, 4]];
    let nets: Vec<Network> = crate::activations::kinds()
        .into_iter()
        .enumerate()
        .flat_map(|(k, (_, activation))| {
            shapes.iter().enumerate().map(move |(i, s)| {
                crate::activations::random_net(
                    s[0],
                    &s[1..],
                    &activation,
                    0.5,
                    40 * k as u64 + i as u64,
                )
            })
        })
        .collect();
    let tallies = tally_in_parallel(nets.len(), |i| run_trials(&nets[i]));
    assert_failure_rates(&tallies);
}

fn assert_failure_rates(tallies: &[Tally]) {
    let runs: u64 = tallies.iter().map(|t| t.runs).sum();
    for (name, failures) in [
        (
            "MBound rule",
            tallies.iter().map(|t| t.mbound_failures).sum::<u64>(),
        ),
        (
            "binomial-tail rule",
            tallies.iter().map(|t| t.tail_failures).sum::<u64>(),
        ),
    ] {
        // One-sided test of H0: failure rate <= 10%, at 1% significance.
        let p_value = binomial_tail(runs as usize, 1.0 - CONFIDENCE, failures as usize);
        eprintln!("{name}: {failures} of {runs} runs above the exact count (p-value {p_value:.3})");
        assert!(
            p_value >= 0.01,
            "{name}: {failures} of {runs} runs exceed the exact count"
        );
    }
}
