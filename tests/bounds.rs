//! Upper bounds against exact counts: exact <= activation-based bound <= Theorem 1, and every
//! analytic upper bound above the exact count.

use mipbound_bounds::analytic::{montufar2017_product, raghu_product, serra2018_theorem1, trivial};
use mipbound_bounds::empirical::{EmpiricalSettings, activation_profile};
use mipbound_formulation::{Domain, UnitBounds};
use mipbound_network::random::he_network;
use mipbound_network::{Activation, Layer, Network};
use mipbound_search::{Limits, SearchSettings, count_regions};
use ndarray::array;
use num_bigint::BigUint;

fn check(net: &Network, domain: &Domain) -> (u64, BigUint, BigUint) {
    let exact = count_regions(net, domain, SearchSettings::default(), &Limits::default())
        .unwrap()
        .stats
        .regions;
    let bounds = UnitBounds::tightened(net, domain, 0).unwrap();
    let profile = activation_profile(net, domain, &bounds, &EmpiricalSettings::default()).unwrap();
    let empirical = profile.bound(net.input_dim());
    let (n0, widths) = (net.input_dim(), net.hidden_widths());
    let theorem1 = serra2018_theorem1(n0, &widths);
    assert!(
        BigUint::from(exact) <= empirical,
        "exact {exact} > empirical {empirical} for {widths:?}"
    );
    assert!(
        empirical <= theorem1,
        "empirical {empirical} > Theorem 1 {theorem1}"
    );
    for other in [
        montufar2017_product(n0, &widths),
        raghu_product(n0, &widths),
        trivial(&widths),
    ] {
        assert!(BigUint::from(exact) <= other);
    }
    assert_eq!(profile.milps_stopped, 0);
    (exact, empirical, theorem1)
}

#[test]
fn exact_below_activation_bound_below_theorem1() {
    let mut tighter = 0;
    let cases: &[(&[usize], f64)] = &[
        (&[1, 6, 6], 2.0),
        (&[1, 4, 4, 4], 3.0),
        (&[2, 8, 8], 1.0),
        (&[2, 6, 6, 6], 1.0),
        (&[2, 12, 4], 2.0),
        (&[3, 8, 8], 1.0),
        (&[4, 10, 6], 1.0),
        (&[5, 6, 6, 6], 1.0),
        (&[8, 8, 8], 1.0),
        (&[16, 6, 10], 1.0),
    ];
    for (i, &(widths, half)) in cases.iter().enumerate() {
        let net = he_network(widths, 0.5, false, 700 + i as u64);
        let domain = Domain::uniform(widths[0], -half, half).unwrap();
        let (exact, empirical, theorem1) = check(&net, &domain);
        eprintln!("{widths:?}: exact {exact} empirical {empirical} theorem1 {theorem1}");
        tighter += usize::from(empirical < theorem1);
    }
    assert!(
        tighter >= 5,
        "the weights should make the bound tighter on most networks"
    );
}

/// The network of the empirical module's counterexample to the formula without `S`.
#[test]
fn activation_bound_holds_on_the_counterexample_network() {
    let net = Network::new(
        1,
        vec![
            Layer::new(array![[1.0], [-1.0]], array![0.0, 0.0], Activation::Relu),
            Layer::new(
                array![[1.0, 1.0], [1.0, 1.0]],
                array![-0.5, -0.25],
                Activation::Relu,
            ),
        ],
    )
    .unwrap();
    let (exact, empirical, _) = check(&net, &Domain::uniform(1, -1.0, 1.0).unwrap());
    assert_eq!(exact, 6);
    assert!(empirical >= BigUint::from(6u32));
}
