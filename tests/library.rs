//! The experiment library as a front end uses it: the region stream, provenance, cancel
//! tokens, and results equal to the CLI's JSON.

use std::sync::Arc;
use std::time::Duration;

use mipbound_experiment::count::{CountSettings, count};
use mipbound_experiment::regions::{Next, RegionStream};
use mipbound_experiment::run::{CancelToken, Run};
use mipbound_experiment::{NoProgress, Problem};
use mipbound_network::pattern_line;

use crate::cli::mipbound;
use crate::formats::data;

fn problem(name: &str, box_spec: &str) -> Problem {
    Problem::load(&data(name), None, box_spec).unwrap()
}

/// Every region of the stream, in order.
fn stream_all(problem: Problem, maps: bool) -> Vec<mipbound_experiment::regions::Region> {
    let stream = RegionStream::start(
        Arc::new(problem),
        &CountSettings::default(),
        maps,
        CancelToken::new(),
    )
    .unwrap();
    let mut regions = Vec::new();
    loop {
        match stream.next_within(Duration::from_millis(50)) {
            Next::Region(r) => regions.push(*r),
            Next::Pending => {}
            Next::Done => break,
        }
    }
    let end = stream.finish().unwrap();
    assert!(end.complete, "{end:?}");
    assert_eq!(end.regions, regions.len() as u64);
    regions
}

#[test]
fn the_region_stream_gives_every_region_once_with_its_pieces_and_map() {
    for (name, box_spec) in [("mlp-2-8-8-3.json", "-3,3"), ("maxout-2-3x3.onnx", "-2,2")] {
        let p = problem(name, box_spec);
        let net = p.network().clone();
        let cancel = CancelToken::new();
        let counted = count(&p, &CountSettings::default(), &Run::quiet(1, &cancel), None).unwrap();
        let regions = stream_all(p, true);
        assert_eq!(regions.len() as u64, counted.regions, "{name}");
        let mut codes: Vec<&str> = regions.iter().map(|r| r.bits.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), regions.len(), "{name}: a pattern came twice");
        let widths = net.layer_bits();
        for r in &regions {
            // The witness lies in the region: its pattern is the region's.
            assert_eq!(pattern_line(&net.pattern(&r.witness), &widths), r.bits);
            assert_eq!(r.pieces.len(), net.num_hidden_units());
            // The affine map is the network on the region: exact at the witness.
            let map = r.map.as_ref().unwrap();
            let x = ndarray::Array1::from(r.witness.clone());
            let y = map.weights.dot(&x) + &map.bias;
            let out = net.output(&r.witness);
            for (a, b) in y.iter().zip(out.iter()) {
                assert!(
                    (a - b).abs() <= 1e-9 * (1.0 + b.abs()),
                    "{name}: {a} vs {b}"
                );
            }
        }
    }
}

#[test]
fn the_region_stream_order_is_the_single_thread_pattern_order() {
    let p = problem("mlp-2-8-8-3.json", "-3,3");
    let mut written = Vec::new();
    let cancel = CancelToken::new();
    count(
        &p,
        &CountSettings::default(),
        &Run::quiet(1, &cancel),
        Some(&mut written),
    )
    .unwrap();
    let written = String::from_utf8(written).unwrap();
    let streamed: Vec<String> = stream_all(p, false).into_iter().map(|r| r.bits).collect();
    assert_eq!(written.lines().collect::<Vec<_>>(), streamed);
}

#[test]
fn a_dropped_or_cancelled_stream_stops_its_search() {
    let p = Arc::new(problem("mlp-2-8-8-3.json", "-3,3"));
    let mut stream = RegionStream::start(
        Arc::clone(&p),
        &CountSettings::default(),
        false,
        CancelToken::new(),
    )
    .unwrap();
    assert!(stream.by_ref().take(3).count() == 3);
    let end = stream.finish().unwrap();
    assert!(!end.complete);
    assert!(end.regions >= 3 && end.regions < 112, "{end:?}");
    // Dropping a stream mid-way must not hang.
    let stream =
        RegionStream::start(p, &CountSettings::default(), true, CancelToken::new()).unwrap();
    drop(stream);
}

#[test]
fn a_cancelled_count_reports_what_it_has_as_interrupted() {
    let p = problem("mlp-2-8-8-3.json", "-3,3");
    let cancel = CancelToken::new();
    cancel.cancel();
    let r = count(&p, &CountSettings::default(), &Run::quiet(2, &cancel), None).unwrap();
    assert!(r.interrupted() && !r.complete);
    assert_eq!(r.status, "interrupted");
    assert!(r.regions < 112);
}

#[test]
fn the_network_hash_follows_the_content_not_the_file() {
    let json = problem("mlp-2-8-8-3.json", "0,1");
    let dat = problem("mlp-2-8-8-3.dat", "0,1");
    assert_eq!(json.hash(), dat.hash());
    assert_eq!(json.hash().len(), 64);
    let other = problem("mlp-3-6-5-2.json", "0,1");
    assert_ne!(json.hash(), other.hash());
    let mut layers = json.network().layers().to_vec();
    layers[0].weights[[0, 0]] += 1e-12;
    let nudged = mipbound_network::Network::new(2, layers).unwrap();
    let nudged = Problem::new(nudged, json.domain().clone(), "<arrays>").unwrap();
    assert_ne!(json.hash(), nudged.hash());
}

#[test]
fn the_cli_json_is_the_library_result() {
    let file = data("mlp-3-6-5-2.json");
    let out = mipbound(&["count", file.to_str().unwrap(), "--json", "--threads", "2"]);
    assert!(out.status.success());
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let p = Problem::load(&file, None, "0,1").unwrap();
    let cancel = CancelToken::new();
    let run = Run {
        threads: 2,
        cancel: &cancel,
        progress: &NoProgress,
    };
    let lib =
        serde_json::to_value(count(&p, &CountSettings::default(), &run, None).unwrap()).unwrap();
    let (cli, lib) = (cli.as_object().unwrap(), lib.as_object().unwrap());
    assert_eq!(
        cli.keys().collect::<Vec<_>>(),
        lib.keys().collect::<Vec<_>>()
    );
    for (key, value) in lib {
        if !key.contains("seconds") {
            assert_eq!(&cli[key], value, "{key}");
        }
    }
    assert_eq!(cli["network"]["hash"], p.hash());
}
