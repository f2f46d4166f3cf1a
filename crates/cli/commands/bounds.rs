//! `mipbound bounds`: every applicable bound, its value, log2 and source, and the per-layer
//! activity table behind the activation-based bound.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use mipbound_bounds::analytic::{
    hu_zhang_theorem2, montufar2014_lower, montufar2017_product, raghu_product, serra2018_lower,
    serra2018_theorem1, trivial, zaslavsky,
};
use mipbound_bounds::empirical::{ActivationProfile, EmpiricalSettings, activation_profile};
use mipbound_bounds::{BigUint, log2};
use mipbound_formulation::{Domain, UnitBounds};
use mipbound_network::Network;
use serde::Serialize;

use crate::args::{BoundsArgs, MilpArgs};
use crate::common::load_network_and_domain;
use crate::report::{NetworkSummary, print_json, print_table, row};

/// One bound of the report.
#[derive(Serialize)]
pub struct BoundEntry {
    /// Short name.
    pub name: &'static str,
    /// `upper`, or `lower (max over parameters)` for constructions.
    pub kind: &'static str,
    /// `architecture` or `these weights`.
    pub scope: &'static str,
    /// Decimal value, or `None` when not applicable.
    pub value: Option<String>,
    /// log2 of the value.
    pub log2: Option<f64>,
    /// Citation.
    pub source: &'static str,
    /// Conditions, or why it does not apply.
    pub note: String,
}

impl BoundEntry {
    fn new(
        name: &'static str,
        kind: &'static str,
        scope: &'static str,
        value: Option<BigUint>,
        source: &'static str,
        note: impl Into<String>,
    ) -> Self {
        Self {
            name,
            kind,
            scope,
            log2: value.as_ref().map(log2),
            value: value.map(|v| v.to_string()),
            source,
            note: note.into(),
        }
    }
}

/// One row of the activity table.
#[derive(Serialize)]
pub struct ActivityRow {
    /// Hidden layer, 1-based.
    pub layer: usize,
    /// At most this many units of the previous layer active (`None` for the first layer).
    pub limit: Option<usize>,
    /// A_l(k).
    pub active_max: usize,
    /// I_l(k).
    pub two_sided: usize,
    /// S_l(k).
    pub stable_active: usize,
}

/// The activation-based bound and how it was obtained.
#[derive(Serialize)]
pub struct ActivationReport {
    /// The bound (decimal).
    pub bound: String,
    /// log2 of the bound.
    pub log2: f64,
    /// The activity table.
    pub rows: Vec<ActivityRow>,
    /// MILPs solved.
    pub milps: usize,
    /// MILPs stopped by their time limit (dual bound used).
    pub milps_stopped: usize,
    /// MILPs skipped after the overall time budget (conservative values used).
    pub milps_skipped: usize,
    /// Seconds.
    pub seconds: f64,
}

#[derive(Serialize)]
struct BoundsReport {
    command: &'static str,
    version: &'static str,
    network: NetworkSummary,
    bounds: Vec<BoundEntry>,
    activation: ActivationReport,
    seed: u64,
}

/// Checks the MILP flags.
pub fn check_milp_args(args: &MilpArgs) -> Result<()> {
    if !(args.milp_time_limit.is_finite() && args.milp_time_limit > 0.0) {
        bail!("--milp-time-limit must be a positive number of seconds");
    }
    if args.max_limits < 2 {
        bail!("--max-limits must be at least 2");
    }
    Ok(())
}

/// Solves the activation profile within an overall budget.
pub fn activation(
    net: &Network,
    domain: &Domain,
    milp: &MilpArgs,
    budget: Option<f64>,
) -> Result<(ActivationProfile, ActivationReport)> {
    let bounds = UnitBounds::tightened(net, domain, 0)?;
    let settings = EmpiricalSettings {
        milp_time_limit: milp.milp_time_limit,
        max_limits: milp.max_limits,
        seed: 0,
        deadline: budget.map(|s| Instant::now() + Duration::from_secs_f64(s)),
    };
    let profile = activation_profile(net, domain, &bounds, &settings)?;
    let bound = profile.bound(net.input_dim());
    let rows = profile
        .layers
        .iter()
        .enumerate()
        .flat_map(|(l, layer)| {
            layer
                .limits
                .iter()
                .zip(&layer.activity)
                .map(move |(&k, a)| ActivityRow {
                    layer: l + 1,
                    limit: (l > 0).then_some(k),
                    active_max: a.active_max,
                    two_sided: a.two_sided,
                    stable_active: a.stable_active,
                })
        })
        .collect();
    let report = ActivationReport {
        log2: log2(&bound),
        bound: bound.to_string(),
        rows,
        milps: profile.milps,
        milps_stopped: profile.milps_stopped,
        milps_skipped: profile.milps_skipped,
        seconds: profile.seconds,
    };
    Ok((profile, report))
}

/// Every architecture bound for a ReLU network, plus the activation-based one.
fn catalogue(net: &Network, activation: &ActivationReport) -> Vec<BoundEntry> {
    let (n0, w) = (net.input_dim(), net.hidden_widths());
    let one_layer = w.len() == 1;
    let arch = "architecture";
    let lower = "lower (max over parameters)";
    vec![
        BoundEntry::new(
            "trivial 2^N",
            "upper",
            arch,
            Some(trivial(&w)),
            "folklore; Montufar et al., NIPS 2014",
            "one region per pattern",
        ),
        BoundEntry::new(
            "Zaslavsky",
            "upper",
            arch,
            one_layer.then(|| zaslavsky(w[0] as u64, n0 as u64)),
            "Zaslavsky 1975; Pascanu, Montufar & Bengio, ICLR 2014",
            if one_layer {
                "exact maximum for one layer"
            } else {
                "not applicable: more than one hidden layer"
            },
        ),
        BoundEntry::new(
            "per-layer product",
            "upper",
            arch,
            Some(raghu_product(n0, &w)),
            "Raghu et al., ICML 2017",
            "prod_l sum_{j<=n0} C(n_l, j)",
        ),
        BoundEntry::new(
            "Montufar 2017 product",
            "upper",
            arch,
            Some(montufar2017_product(n0, &w)),
            "Montufar, SampTA 2017",
            "prod_l sum_{j<=d_l} C(n_l, j), d_l = min(n0, n_1..n_{l-1})",
        ),
        BoundEntry::new(
            "Hu & Zhang Thm 2 (p = 1)",
            "upper",
            arch,
            Some(hu_zhang_theorem2(n0, &w, 1)),
            "Hu & Zhang, arXiv 1810.13192 v1",
            "equals Montufar 2017 for ReLU; their Thm 3 is invalid as printed and not offered",
        ),
        BoundEntry::new(
            "Theorem 1",
            "upper",
            arch,
            Some(serra2018_theorem1(n0, &w)),
            "Serra, Tjandraatmadja & Ramalingam, ICML 2018",
            "tight for one layer",
        ),
        BoundEntry::new(
            "maxout bound",
            "upper",
            arch,
            None,
            "Serra, Tjandraatmadja & Ramalingam, ICML 2018",
            "not applicable: no maxout units",
        ),
        BoundEntry {
            name: "activation-based",
            kind: "upper",
            scope: "these weights",
            value: Some(activation.bound.clone()),
            log2: Some(activation.log2),
            source: "Serra & Ramalingam, AAAI 2020 (with S_l, see crate doc)",
            note: format!(
                "{} MILPs in {:.1} s ({} stopped, {} skipped)",
                activation.milps,
                activation.seconds,
                activation.milps_stopped,
                activation.milps_skipped
            ),
        },
        BoundEntry::new(
            "Montufar 2014 construction",
            lower,
            arch,
            montufar2014_lower(n0, &w),
            "Montufar, Pascanu, Cho & Bengio, NIPS 2014",
            if montufar2014_lower(n0, &w).is_some() {
                "some network of this architecture has at least this many"
            } else {
                "not applicable: needs n_l >= n0 in every layer"
            },
        ),
        BoundEntry::new(
            "Serra 2018 construction",
            lower,
            arch,
            serra2018_lower(n0, &w),
            "Serra, Tjandraatmadja & Ramalingam, ICML 2018",
            if serra2018_lower(n0, &w).is_some() {
                "some network of this architecture has at least this many"
            } else {
                "not applicable: needs n_l >= 3 n0 in every layer"
            },
        ),
    ]
}

pub fn run(args: BoundsArgs) -> Result<ExitCode> {
    let (net, domain) = load_network_and_domain(&args.net)?;
    check_milp_args(&args.milp)?;
    if let Some(t) = args.time_limit
        && !(t.is_finite() && t >= 0.0)
    {
        bail!("--time-limit must be a non-negative number of seconds");
    }
    let (_, activation) = activation(&net, &domain, &args.milp, args.time_limit)?;
    let report = BoundsReport {
        command: "bounds",
        version: env!("CARGO_PKG_VERSION"),
        network: NetworkSummary::new(&args.net.net, &net, &domain),
        bounds: catalogue(&net, &activation),
        activation,
        seed: 0,
    };
    if args.json {
        print_json(&report);
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows = report.network.rows();
    rows.push(row("seed", "0 (HiGHS random_seed; no other randomness)"));
    print_table(&rows);
    println!();
    let mut table = vec![vec![
        "bound".to_string(),
        "kind".into(),
        "value".into(),
        "log2".into(),
        "source / note".into(),
    ]];
    for b in &report.bounds {
        table.push(vec![
            b.name.to_string(),
            format!("{} ({})", b.kind, b.scope),
            b.value.clone().unwrap_or_else(|| "-".into()),
            b.log2.map_or("-".into(), |v| format!("{v:.2}")),
            format!("{}; {}", b.source, b.note),
        ]);
    }
    crate::report::print_columns(&table);
    println!();
    println!("activation table (k = most active units in the previous layer):");
    let mut table = vec![vec![
        "layer".to_string(),
        "k".into(),
        "A_l(k)".into(),
        "I_l(k)".into(),
        "S_l(k)".into(),
    ]];
    for r in &report.activation.rows {
        table.push(vec![
            r.layer.to_string(),
            r.limit.map_or("any".into(), |k| format!("<= {k}")),
            r.active_max.to_string(),
            r.two_sided.to_string(),
            r.stable_active.to_string(),
        ]);
    }
    crate::report::print_columns(&table);
    println!(
        "A: most units active at once; I: units that can take both signs (can cut a region); S: units always active"
    );
    Ok(ExitCode::SUCCESS)
}
