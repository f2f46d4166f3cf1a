//! The bound catalogue: every analytic bound with the conditions under which it holds, and
//! the activation-based bound from MILPs.

use std::time::Instant;

use anyhow::{Result, bail};
use mipbound_bounds::analytic::{
    hu_zhang_theorem1, hu_zhang_theorem2, montufar2014_lower, montufar2017_product, raghu_product,
    serra2018_lower, serra2018_maxout, serra2018_theorem1, zaslavsky,
};
use mipbound_bounds::architecture::{HiddenActivations, trivial_pieces};
use mipbound_bounds::cnn::{
    DEFAULT_MAX_NODES, attained_one_layer, e5_applies, xiong_lower_parts, xiong_one_layer,
    xiong_upper,
};
use mipbound_bounds::empirical::{ActivationProfile, EmpiricalSettings, activation_profile};
use mipbound_bounds::{BigUint, log2};
use mipbound_formulation::{Domain, UnitBounds};
use mipbound_network::{Activation, Layer, Network};
use mipbound_search::deadline_after;
use serde::{Deserialize, Serialize};

use crate::VERSION;
use crate::domains::InputMap;
use crate::limits::check_seconds;
use crate::problem::{NetworkSummary, Problem};

/// One bound of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoundEntry {
    /// Short name.
    pub name: String,
    /// `upper`, or `lower (max over parameters)` for constructions.
    pub kind: String,
    /// `architecture` or `these weights`.
    pub scope: String,
    /// Decimal value, or `None` when not applicable.
    pub value: Option<String>,
    /// log2 of the value.
    pub log2: Option<f64>,
    /// Citation.
    pub source: String,
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
            name: name.into(),
            kind: kind.into(),
            scope: scope.into(),
            log2: value.as_ref().map(log2),
            value: value.map(|v| v.to_string()),
            source: source.into(),
            note: note.into(),
        }
    }
}

/// One row of the activity table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// The result of `bounds`; its JSON is `mipbound bounds --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoundsResult {
    /// `bounds`.
    pub command: String,
    /// mipbound's version.
    pub version: String,
    /// The network and domain.
    pub network: NetworkSummary,
    /// Which network the bounds are about and why they hold on the domain.
    pub domain_note: String,
    /// Every bound of the catalogue, applicable or not.
    pub bounds: Vec<BoundEntry>,
    /// `None` for networks other than ReLU.
    pub activation: Option<ActivationReport>,
    /// HiGHS's random_seed (there is no other randomness).
    pub seed: u64,
}

/// Settings of the activation-based bound's MILPs.
#[derive(Debug, Clone, PartialEq)]
pub struct MilpSettings {
    /// Time limit of each MILP (a stopped MILP contributes its proven dual bound).
    pub milp_time_limit: f64,
    /// Most limits k solved per layer for A_l(k), I_l(k) (rounded up in between).
    pub max_limits: usize,
}

impl Default for MilpSettings {
    fn default() -> Self {
        Self {
            milp_time_limit: 10.0,
            max_limits: 32,
        }
    }
}

impl MilpSettings {
    /// Refuses settings the MILPs cannot run with.
    pub fn check(&self) -> Result<()> {
        if self.milp_time_limit.is_nan() || self.milp_time_limit <= 0.0 {
            bail!("--milp-time-limit must be a positive number of seconds");
        }
        if self.max_limits < 2 {
            bail!("--max-limits must be at least 2");
        }
        Ok(())
    }
}

/// Why the catalogue's bounds hold on the problem's domain.
fn domain_note(problem: &Problem) -> String {
    let n0 = problem.original().input_dim();
    match problem.input_map() {
        InputMap::Identity => {
            format!("bounds on regions of R^{n0}; they hold on every subset, this domain included")
        }
        InputMap::Affine(slice) => format!(
            "bounds of the network composed with the slice's map (n0 = {}): they hold on the {}-dimensional slice",
            slice.directions.len(),
            slice.directions.len()
        ),
        InputMap::Cone { .. } => format!(
            "bounds on regions of R^{n0}; the activation-based bound needs a bounded domain and is not computed"
        ),
    }
}

/// Every bound of the catalogue for the problem, and the activation-based bound (ReLU
/// networks) within `time_limit` seconds of MILPs.
pub fn bounds(
    problem: &Problem,
    milp: &MilpSettings,
    time_limit: Option<f64>,
) -> Result<BoundsResult> {
    milp.check()?;
    check_seconds(&[("--time-limit", time_limit)])?;
    let (net, domain) = (problem.bound_network(), problem.domain());
    let activation = if HiddenActivations::of(net) != HiddenActivations::Relu {
        Err("ReLU networks only")
    } else if problem.is_everywhere() {
        Err("needs a bounded domain (its MILPs need finite bounds)")
    } else {
        Ok(activation(problem.network(), domain, milp, time_limit)?.1)
    };
    Ok(BoundsResult {
        command: "bounds".into(),
        version: VERSION.into(),
        network: problem.summary(),
        domain_note: domain_note(problem),
        bounds: catalogue(net, activation.as_ref().map_err(|why| *why)),
        activation: activation.ok(),
        seed: 0,
    })
}

/// Solves the activation profile within an overall budget.
pub fn activation(
    net: &Network,
    domain: &Domain,
    milp: &MilpSettings,
    budget: Option<f64>,
) -> Result<(ActivationProfile, ActivationReport)> {
    let bounds = UnitBounds::tightened(net, domain, 0)?;
    let settings = EmpiricalSettings {
        milp_time_limit: milp.milp_time_limit,
        max_limits: milp.max_limits,
        seed: 0,
        deadline: budget.and_then(|s| deadline_after(Instant::now(), s)),
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

/// Why a bound does not apply, for the notes.
fn not_applicable(why: &str) -> String {
    format!("not applicable: {why}")
}

/// Every architecture bound, each with a value where its conditions hold and the reason
/// otherwise, plus the activation-based one (ReLU only).
/// `activation`: the activation-based bound, or why it was not computed.
fn catalogue(net: &Network, activation: Result<&ActivationReport, &str>) -> Vec<BoundEntry> {
    let (n0, w) = (net.input_dim(), net.hidden_widths());
    let kind = HiddenActivations::of(net);
    let relu = kind == HiddenActivations::Relu;
    let breakpoints = kind.breakpoints();
    let one_layer = w.len() == 1;
    let arch = "architecture";
    let lower = "lower (max over parameters)";
    let relu_only = |value: BigUint| relu.then_some(value);
    let relu_note = |note: &str| {
        if relu {
            note.to_string()
        } else {
            not_applicable("ReLU networks only")
        }
    };
    let mut entries = vec![
        BoundEntry::new(
            "trivial",
            "upper",
            arch,
            Some(trivial_pieces(net)),
            "folklore; Montufar et al., NIPS 2014",
            "one region per pattern: prod_l pieces^n_l (2^N for ReLU)",
        ),
        BoundEntry::new(
            "Zaslavsky",
            "upper",
            arch,
            (relu && one_layer).then(|| zaslavsky(w[0] as u64, n0 as u64)),
            "Zaslavsky 1975; Pascanu, Montufar & Bengio, ICLR 2014",
            match (relu, one_layer) {
                (true, true) => "exact maximum for one layer".to_string(),
                (false, _) => not_applicable("ReLU networks only (see Hu & Zhang Thm 1)"),
                (true, false) => not_applicable("more than one hidden layer"),
            },
        ),
        BoundEntry::new(
            "Hu & Zhang Thm 1",
            "upper",
            arch,
            breakpoints
                .filter(|_| one_layer)
                .map(|p| hu_zhang_theorem1(n0, w[0], p)),
            "Hu & Zhang, arXiv 1810.13192 v1",
            match (breakpoints, one_layer) {
                (Some(p), true) => format!("exact maximum for one layer, p = {p} breakpoints"),
                (None, _) => {
                    not_applicable("needs scalar activations with one number of breakpoints")
                }
                (Some(_), false) => not_applicable("more than one hidden layer"),
            },
        ),
        BoundEntry::new(
            "per-layer product",
            "upper",
            arch,
            relu_only(raghu_product(n0, &w)),
            "Raghu et al., ICML 2017",
            relu_note("prod_l sum_{j<=n0} C(n_l, j)"),
        ),
        BoundEntry::new(
            "Montufar 2017 product",
            "upper",
            arch,
            relu_only(montufar2017_product(n0, &w)),
            "Montufar, SampTA 2017",
            relu_note("prod_l sum_{j<=d_l} C(n_l, j), d_l = min(n0, n_1..n_{l-1})"),
        ),
        BoundEntry::new(
            "Hu & Zhang Thm 2",
            "upper",
            arch,
            breakpoints.map(|p| hu_zhang_theorem2(n0, &w, p)),
            "Hu & Zhang, arXiv 1810.13192 v1",
            match breakpoints {
                Some(p) => format!(
                    "p = {p} breakpoints; equals Montufar 2017 for ReLU; their Thm 3 is invalid as printed and not offered"
                ),
                None => not_applicable("needs scalar activations with one number of breakpoints"),
            },
        ),
        BoundEntry::new(
            "Theorem 1",
            "upper",
            arch,
            relu_only(serra2018_theorem1(n0, &w)),
            "Serra, Tjandraatmadja & Ramalingam, ICML 2018",
            relu_note("tight for one layer"),
        ),
        match kind {
            HiddenActivations::Maxout { rank } => BoundEntry::new(
                "maxout bound",
                "upper",
                arch,
                Some(serra2018_maxout(n0, &w, rank)),
                "Serra, Tjandraatmadja & Ramalingam, ICML 2018",
                format!(
                    "rank k = {rank}: prod_l sum_{{j<=d_l}} C(k(k-1)/2 n_l, j) (erratum E1 fixed)"
                ),
            ),
            _ => BoundEntry::new(
                "maxout bound",
                "upper",
                arch,
                None,
                "Serra, Tjandraatmadja & Ramalingam, ICML 2018",
                not_applicable("needs maxout units of one rank in every hidden layer"),
            ),
        },
    ];
    entries.extend(xiong_entries(net, breakpoints));
    entries.push(match activation {
        Ok(a) => BoundEntry {
            name: "activation-based".into(),
            kind: "upper".into(),
            scope: "these weights".into(),
            value: Some(a.bound.clone()),
            log2: Some(a.log2),
            source: "Serra & Ramalingam, AAAI 2020 (with S_l, see crate doc)".into(),
            note: format!(
                "{} MILPs in {:.1} s ({} stopped, {} skipped); rests on HiGHS's floating-point \
                 MILP dual bounds (tolerances 1e-6), not on exact arithmetic",
                a.milps, a.seconds, a.milps_stopped, a.milps_skipped
            ),
        },
        Err(why) => BoundEntry::new(
            "activation-based",
            "upper",
            "these weights",
            None,
            "Serra & Ramalingam, AAAI 2020",
            not_applicable(why),
        ),
    });
    let constructions = [
        (
            "Montufar 2014 construction",
            montufar2014_lower(n0, &w),
            "Montufar, Pascanu, Cho & Bengio, NIPS 2014",
            "needs n_l >= n0 in every layer",
        ),
        (
            "Serra 2018 construction",
            serra2018_lower(n0, &w),
            "Serra, Tjandraatmadja & Ramalingam, ICML 2018",
            "needs n_l >= 3 n0 in every layer",
        ),
    ];
    for (name, value, source, condition) in constructions {
        let note = match (&value, relu) {
            (_, false) => not_applicable("ReLU networks only"),
            (Some(_), true) => "some network of this architecture has at least this many".into(),
            (None, true) => not_applicable(condition),
        };
        entries.push(BoundEntry::new(
            name,
            lower,
            arch,
            value.filter(|_| relu),
            source,
            note,
        ));
    }
    entries
}

/// Xiong et al.'s CNN bounds: the one-layer count, the multi-layer upper bound (first hidden
/// layer a plain convolution) and the multi-layer lower bound (every hidden layer one).
fn xiong_entries(net: &Network, breakpoints: Option<u64>) -> Vec<BoundEntry> {
    let source = if breakpoints.unwrap_or(1) == 1 {
        "Xiong et al., ICML 2020"
    } else {
        "Xiong et al., ICML 2020, PWL form derived in catalogue B16"
    };
    let layers = net.hidden_layers();
    let first = layers.first().and_then(Layer::conv);
    let plain_first = first.filter(|g| g.is_plain());
    let too_big = format!("not computed: more than {DEFAULT_MAX_NODES} enumeration nodes");
    let why_not = match (first, plain_first, breakpoints) {
        (_, _, None) => Some(not_applicable("needs ReLU or scalar PWL activations")),
        (None, _, _) => Some(not_applicable(
            "the first hidden layer is not a convolution",
        )),
        (Some(_), None, _) => Some(not_applicable(
            "the first convolution has padding, dilation, groups or unequal strides",
        )),
        _ => None,
    };
    let entry = |name, kind, value: Option<BigUint>, note: String| {
        BoundEntry::new(name, kind, "architecture", value, source, note)
    };
    let (Some(g), Some(p), None) = (plain_first, breakpoints, why_not.clone()) else {
        let why = why_not.unwrap_or_default();
        return vec![
            entry("Xiong one-layer CNN", "upper", None, why.clone()),
            entry("Xiong CNN upper", "upper", None, why.clone()),
            entry(
                "Xiong CNN construction",
                "lower (max over parameters)",
                None,
                why,
            ),
        ];
    };
    let one_layer = if layers.len() == 1 {
        let value = xiong_one_layer(g, p, DEFAULT_MAX_NODES);
        let note = match (&value, e5_applies(g)) {
            (None, _) => too_big.clone(),
            (Some(_), true) => {
                let attained = attained_one_layer(g, p, 0, DEFAULT_MAX_NODES)
                    .map_or("not computed".to_string(), |a| a.to_string());
                format!(
                    "an upper bound only, not the exact maximum: weight sharing makes the formula \
                     overcount for 2-D single-channel inputs (erratum E5); seeded random kernels \
                     attain {attained}"
                )
            }
            (Some(_), false) => "the maximum over parameters (Thm 2)".to_string(),
        };
        entry("Xiong one-layer CNN", "upper", value, note)
    } else {
        entry(
            "Xiong one-layer CNN",
            "upper",
            None,
            not_applicable("more than one hidden layer"),
        )
    };
    let later: Vec<usize> = net.hidden_widths().into_iter().skip(1).collect();
    let upper = if later.is_empty() {
        entry(
            "Xiong CNN upper",
            "upper",
            None,
            not_applicable("one hidden layer (see above)"),
        )
    } else {
        let value = xiong_upper(g, &later, p, DEFAULT_MAX_NODES);
        let note = if value.is_some() {
            format!("R_N'' of the first convolution times prod_l R(n0, n_l), p = {p} (Thm 5)")
        } else {
            too_big.clone()
        };
        entry("Xiong CNN upper", "upper", value, note)
    };
    let convs: Option<Vec<_>> = layers.iter().map(|l| l.conv().cloned()).collect();
    let lower = match (convs, p) {
        (Some(convs), 1)
            if layers.len() >= 2
                && net
                    .hidden_layers()
                    .iter()
                    .all(|l| l.activation == Activation::Relu) =>
        {
            let parts = xiong_lower_parts(&convs);
            let attained = parts
                .as_ref()
                .and_then(|(n_prime, _)| attained_one_layer(n_prime, 1, 0, DEFAULT_MAX_NODES));
            match (parts, attained) {
                (Some((n_prime, factor)), Some(r)) => {
                    let formula = xiong_one_layer(&n_prime, 1, DEFAULT_MAX_NODES)
                        .map_or("not computed".to_string(), |f| f.to_string());
                    entry(
                        "Xiong CNN construction",
                        "lower (max over parameters)",
                        Some(&r * factor),
                        format!(
                            "some network of this architecture has at least this many (Thm 5), \
                             with R_N' = {r} regions attained by seeded random kernels (formula: {formula})"
                        ),
                    )
                }
                (Some(_), None) => entry(
                    "Xiong CNN construction",
                    "lower (max over parameters)",
                    None,
                    format!("not computed: more than {DEFAULT_MAX_NODES} enumeration nodes"),
                ),
                (None, _) => entry(
                    "Xiong CNN construction",
                    "lower (max over parameters)",
                    None,
                    not_applicable("needs plain chained convolutions with d_l >= d_0"),
                ),
            }
        }
        _ => entry(
            "Xiong CNN construction",
            "lower (max over parameters)",
            None,
            not_applicable("needs two or more hidden ReLU layers, all plain convolutions"),
        ),
    };
    vec![one_layer, upper, lower]
}
