//! `mipbound local`: regions in the l-infinity ball around points, against clipped boxes and
//! the exact 1-D / 2-D oracles; the time-limit path; point files; reports; bad input.

use std::path::Path;

use mipbound_experiment::count::{CountSettings, count};
use mipbound_experiment::local::{LocalResult, LocalSettings, local};
use mipbound_experiment::points::{PointSource, Points};
use mipbound_experiment::run::{CancelToken, Run};
use mipbound_experiment::{NoProgress, Problem};
use mipbound_formulation::Domain;
use mipbound_network::Network;
use mipbound_network::random::he_network;

use crate::cli::{mipbound, stderr, stdout};
use crate::formats::data;
use crate::oracle::{count_1d, count_2d_box};

fn points(rows: &[&[f64]]) -> Points {
    Points {
        points: rows.iter().map(|r| r.to_vec()).collect(),
        labels: None,
        name: "<test>".into(),
    }
}

fn run_local(net: &Network, input: &Domain, pts: &Points, settings: &LocalSettings) -> LocalResult {
    let cancel = CancelToken::new();
    let run = Run {
        threads: 2,
        cancel: &cancel,
        progress: &NoProgress,
    };
    local(net, "<net>", Some(input), pts, settings, &run).unwrap()
}

fn settings(radius: f64) -> LocalSettings {
    LocalSettings {
        radius,
        ..LocalSettings::default()
    }
}

/// The ball around `x` cut to `[lo, hi]^n`, computed here by hand.
fn clipped(x: &[f64], r: f64, lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
    (
        x.iter().map(|v| (v - r).max(lo)).collect(),
        x.iter().map(|v| (v + r).min(hi)).collect(),
    )
}

fn box_count(net: &Network, lower: Vec<f64>, upper: Vec<f64>) -> u64 {
    let p = Problem::new(net.clone(), Domain::new(lower, upper).unwrap(), "<box>").unwrap();
    let cancel = CancelToken::new();
    let r = count(&p, &CountSettings::default(), &Run::quiet(1, &cancel), None).unwrap();
    assert!(r.complete);
    r.regions
}

#[test]
fn one_dimensional_balls_match_the_box_count_and_the_breakpoint_oracle() {
    let xs: &[&[f64]] = &[&[-1.9], &[-0.4], &[0.3], &[1.95], &[2.3]];
    let mut nontrivial = 0;
    for (i, widths) in [&[1usize, 8, 6][..], &[1, 5, 5, 5]].iter().enumerate() {
        for seed in 0..3 {
            let net = he_network(widths, 1.0, false, 40 * i as u64 + seed);
            let input = Domain::uniform(1, -2.0, 2.0).unwrap();
            let r = run_local(&net, &input, &points(xs), &settings(0.6));
            assert_eq!(r.points.len(), xs.len());
            for (p, x) in r.points.iter().zip(xs) {
                let (lo, hi) = clipped(x, 0.6, -2.0, 2.0);
                assert_eq!(p.kind, "exact");
                assert!(p.complete && p.mipbound.is_none());
                assert_eq!(p.regions as usize, count_1d(&net, lo[0], hi[0]), "{x:?}");
                assert_eq!(p.regions, box_count(&net, lo, hi));
                nontrivial += usize::from(p.regions > 2);
            }
        }
    }
    assert!(nontrivial >= 10, "only {nontrivial} balls with 3+ regions");
}

#[test]
fn two_dimensional_balls_match_the_box_count_and_the_polygon_oracle() {
    // Points inside, at the edge and in a corner of the box, and one just outside it.
    let xs: &[&[f64]] = &[&[0.1, -0.2], &[2.8, 0.5], &[-2.9, -2.7], &[1.0, 3.2]];
    let nets = [
        mipbound_network::formats::load(&data("mlp-2-8-8-3.json"), None).unwrap(),
        he_network(&[2, 10, 8], 1.0, false, 5),
        he_network(&[2, 6, 6, 6], 1.0, false, 6),
    ];
    let mut nontrivial = 0;
    for net in &nets {
        for radius in [0.3, 1.0] {
            let input = Domain::uniform(2, -3.0, 3.0).unwrap();
            let r = run_local(net, &input, &points(xs), &settings(radius));
            for (p, x) in r.points.iter().zip(xs) {
                let (lo, hi) = clipped(x, radius, -3.0, 3.0);
                assert!(p.complete, "{x:?}");
                let oracle = count_2d_box(net, [lo[0], lo[1]], [hi[0], hi[1]]);
                assert_eq!(p.regions as usize, oracle, "{x:?} radius {radius}");
                assert_eq!(p.regions, box_count(net, lo, hi));
                nontrivial += usize::from(p.regions > 3);
            }
            let counts: Vec<f64> = r.points.iter().map(|p| p.regions as f64).collect();
            let s = r.summary.regions.as_ref().unwrap();
            assert_eq!(s.mean, counts.iter().sum::<f64>() / counts.len() as f64);
            assert_eq!(s.max, counts.iter().copied().fold(0.0, f64::max));
            assert_eq!((r.summary.exact, r.summary.lower_bounds), (xs.len(), 0));
            let binned: usize = r.summary.histogram.bins.iter().map(|b| b.count).sum();
            assert_eq!(binned, xs.len());
        }
    }
    assert!(nontrivial >= 8, "only {nontrivial} balls with 4+ regions");
}

#[test]
fn a_stopped_count_is_a_certain_lower_bound_with_a_mipbound_bound_beside_it() {
    let net = he_network(&[4, 12, 12], 0.5, false, 77);
    let input = Domain::uniform(4, -1.0, 1.0).unwrap();
    let x: &[&[f64]] = &[&[0.0, 0.1, -0.1, 0.2]];
    let full = run_local(&net, &input, &points(x), &settings(0.9));
    let exact = full.points[0].regions;
    assert!(full.points[0].complete && exact > 50, "{exact}");
    let mut cut = settings(0.9);
    cut.count.time_limit = Some(0.0);
    let r = run_local(&net, &input, &points(x), &cut);
    let p = &r.points[0];
    assert!(!p.complete);
    assert_eq!(p.status, "time limit");
    assert_eq!(p.kind, "lower bound (certain)");
    assert!(p.regions < exact, "{} vs {exact}", p.regions);
    let m = p.mipbound.as_ref().expect("a MIPBound bound");
    assert_eq!(m.kind, "lower bound (p >= 0.99)");
    assert!(m.confidence >= 0.99 - 1e-12);
    assert_eq!(m.xor, "3");
    // Seeded: this bound holds (as it does with probability >= 0.99) and is not trivial.
    let value: u64 = m.value.parse().unwrap();
    assert!(m.log2 >= 2.0 && value <= exact, "{m:?} vs {exact}");
    assert!(p.best_log2() >= m.log2);
    assert_eq!((r.summary.exact, r.summary.lower_bounds), (0, 1));
}

#[test]
fn a_cancel_keeps_the_points_done_so_far() {
    let net = he_network(&[2, 8, 8], 1.0, false, 3);
    let input = Domain::uniform(2, -1.0, 1.0).unwrap();
    let cancel = CancelToken::new();
    cancel.cancel();
    let run = Run::quiet(1, &cancel);
    let pts = points(&[&[0.0, 0.0], &[0.5, 0.5], &[-0.5, 0.5]]);
    let r = local(&net, "<c>", Some(&input), &pts, &settings(0.3), &run).unwrap();
    assert!(r.interrupted);
    assert_eq!((r.points.len(), r.points_given), (1, 3));
    assert_eq!(r.points[0].status, "interrupted");
    assert_eq!(r.points[0].kind, "lower bound (certain)");
    assert!(r.points[0].mipbound.is_none());
}

/// A .npy file written here byte by byte (format 1.0), independently of the reader.
fn write_npy(path: &Path, descr: &str, fortran: bool, shape: &[usize], data: &[u8]) {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let fortran = if fortran { "True" } else { "False" };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend(data);
    std::fs::write(path, bytes).unwrap();
}

const ROWS: [[f64; 2]; 3] = [[0.25, -1.5], [2.5, 0.75], [-1.0, 0.0]];

#[test]
fn point_files_in_text_npy_and_json_read_the_same_points() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("p.txt");
    std::fs::write(&text, "# x y\n0.25 -1.5\n2.5,0.75\n\n-1, 0\n").unwrap();
    let json = dir.path().join("p.json");
    std::fs::write(&json, "[[0.25, -1.5], [2.5, 0.75], [-1, 0]]").unwrap();
    let f8 = dir.path().join("f8.npy");
    let c_order: Vec<f64> = ROWS.iter().flatten().copied().collect();
    let le8: Vec<u8> = c_order.iter().flat_map(|v| v.to_le_bytes()).collect();
    write_npy(&f8, "<f8", false, &[3, 2], &le8);
    let f4 = dir.path().join("f4.npy");
    let f_order: Vec<f32> = (0..2)
        .flat_map(|c| ROWS.iter().map(move |r| r[c] as f32))
        .collect();
    let le4: Vec<u8> = f_order.iter().flat_map(|v| v.to_le_bytes()).collect();
    write_npy(&f4, "<f4", true, &[3, 2], &le4);
    let be8 = dir.path().join("be8.npy");
    let be: Vec<u8> = c_order.iter().flat_map(|v| v.to_be_bytes()).collect();
    write_npy(&be8, ">f8", false, &[3, 2], &be);
    let expected: Vec<Vec<f64>> = ROWS.iter().map(|r| r.to_vec()).collect();
    for path in [&text, &json, &f8, &f4, &be8] {
        let p = PointSource::File(path.clone()).read(2).unwrap();
        assert_eq!(p.points, expected, "{}", path.display());
        assert_eq!(p.labels, None);
    }
    let one = dir.path().join("one.npy");
    write_npy(&one, "<f8", false, &[2], &le8[..16]);
    let read = PointSource::File(one).read(2).unwrap();
    assert_eq!(read.points, vec![vec![0.25, -1.5]]);
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

#[test]
fn the_cli_writes_rows_summary_csv_and_histogram() {
    let dir = tempfile::tempdir().unwrap();
    let pts = dir.path().join("p.txt");
    std::fs::write(&pts, "0.25 -1.5\n2.5 0.75\n-1 0\n0 0\n").unwrap();
    let (csv, svg, png) = (
        dir.path().join("local.csv"),
        dir.path().join("h.svg"),
        dir.path().join("h.png"),
    );
    let net = data("mlp-2-8-8-3.json");
    let args = |extra: &[&str]| {
        let mut a = vec![
            "local",
            net.to_str().unwrap(),
            "--box=-2,2",
            "--points",
            pts.to_str().unwrap(),
            "--radius",
            "0.8",
            "--threads",
            "1",
        ];
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<String>>()
    };
    let owned = args(&["--json", "--csv", csv.to_str().unwrap(), "--plot"]);
    let mut with_plot: Vec<&str> = owned.iter().map(String::as_str).collect();
    with_plot.push(svg.to_str().unwrap());
    let v = json_of(&mipbound(&with_plot));
    assert_eq!(v["command"], "local");
    assert_eq!(v["radius"], 0.8);
    let rows = v["points"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    // Each count is the clipped box's count, through the library.
    let network = mipbound_network::formats::load(&net, None).unwrap();
    let mut counts = Vec::new();
    for (i, (p, x)) in rows
        .iter()
        .zip([[0.25, -1.5], [2.5, 0.75], [-1.0, 0.0], [0.0, 0.0]])
        .enumerate()
    {
        let (lo, hi) = clipped(&x, 0.8, -2.0, 2.0);
        let expected = box_count(&network, lo.clone(), hi.clone());
        assert_eq!(p["index"], i);
        assert_eq!(p["regions"].as_u64().unwrap(), expected);
        assert_eq!(
            expected as usize,
            count_2d_box(&network, [lo[0], lo[1]], [hi[0], hi[1]])
        );
        assert_eq!(p["kind"], "exact");
        assert!(p["label"].is_null() && p["mipbound"].is_null());
        counts.push(expected as f64);
    }
    let mut sorted = counts.clone();
    sorted.sort_by(f64::total_cmp);
    let s = &v["summary"];
    assert_eq!(s["points"], 4);
    assert_eq!(s["exact"], 4);
    assert_eq!(
        s["regions"]["median"].as_f64().unwrap(),
        (sorted[1] + sorted[2]) / 2.0
    );
    assert_eq!(s["regions"]["min"].as_f64().unwrap(), sorted[0]);
    assert_eq!(
        s["regions"]["mean"].as_f64().unwrap(),
        counts.iter().sum::<f64>() / 4.0
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "index,label,regions,kind,complete,status,seconds,count_seconds,unstable_units,mipbound_regions,mipbound_log2,mipbound_kind,mipbound_confidence,mipbound_xor,mipbound_seconds"
    );
    assert_eq!(lines.len(), 5);
    for (i, line) in lines[1..].iter().enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[0], i.to_string());
        assert_eq!(cells[1], "");
        assert_eq!(cells[2], counts[i].to_string());
        assert_eq!(&cells[3..6], ["exact", "true", "complete"]);
        assert!(cells[9..].iter().all(|c| c.is_empty()), "{line}");
    }
    let svg_text = std::fs::read_to_string(&svg).unwrap();
    assert!(svg_text.starts_with("<svg") && svg_text.contains("<rect"));

    // The text report, and a PNG histogram.
    let owned = args(&["--plot", png.to_str().unwrap()]);
    let argv: Vec<&str> = owned.iter().map(String::as_str).collect();
    let out = mipbound(&argv);
    assert!(out.status.success(), "{}", stderr(&out));
    let report = stdout(&out);
    assert!(
        report.contains("4 of 4 (4 exact, 0 certain lower bounds)"),
        "{report}"
    );
    assert!(report.contains(&format!("median {:.1}", (sorted[1] + sorted[2]) / 2.0)));
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    // The CSV is not overwritten by accident: it is an input of this run.
    let owned = args(&["--csv", pts.to_str().unwrap()]);
    let argv: Vec<&str> = owned.iter().map(String::as_str).collect();
    assert!(!mipbound(&argv).status.success());
}

#[test]
fn the_cli_reports_the_time_limit_path() {
    let dir = tempfile::tempdir().unwrap();
    let pts = dir.path().join("p.json");
    std::fs::write(&pts, "[[0.5, 0.5], [0.1, 0.9]]").unwrap();
    let csv = dir.path().join("l.csv");
    let net = data("mlp-2-8-8-3.json");
    let out = mipbound(&[
        "local",
        net.to_str().unwrap(),
        "--box=-3,3",
        "--points",
        pts.to_str().unwrap(),
        "--radius",
        "2",
        "--time-limit",
        "0",
        "--csv",
        csv.to_str().unwrap(),
        "--json",
    ]);
    let v = json_of(&out);
    for p in v["points"].as_array().unwrap() {
        assert_eq!(p["kind"], "lower bound (certain)");
        assert_eq!(p["status"], "time limit");
        assert_eq!(p["complete"], false);
        assert_eq!(p["mipbound"]["kind"], "lower bound (p >= 0.99)");
    }
    assert_eq!(v["summary"]["lower_bounds"], 2);
    let text = std::fs::read_to_string(&csv).unwrap();
    let row: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(&row[3..6], ["lower bound (certain)", "false", "time limit"]);
    assert_eq!(row[11], "lower bound (p >= 0.99)");
    assert_eq!(row[13], "3");
}

#[test]
fn mnist_test_images_come_with_their_labels() {
    let digits = data("mnist-tiny/digits");
    let (_, test) = mipbound_train::load_dir(&digits, 0.2, 1).unwrap();
    let net = data("example-784-8-6-10.onnx");
    let out = mipbound(&[
        "local",
        net.to_str().unwrap(),
        "--data",
        digits.to_str().unwrap(),
        "--n",
        "2",
        "--radius",
        "0.005",
        "--json",
    ]);
    let v = json_of(&out);
    let rows = v["points"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let problem = Problem::load(&net, None, "0,1").unwrap();
    for (i, p) in rows.iter().enumerate() {
        assert_eq!(p["label"].as_u64().unwrap(), u64::from(test.labels[i]));
        let (lo, hi) = clipped(test.images.row(i).as_slice().unwrap(), 0.005, 0.0, 1.0);
        assert_eq!(
            p["regions"].as_u64().unwrap(),
            box_count(problem.network(), lo, hi)
        );
    }
}

#[test]
fn bad_input_is_one_line_naming_the_option_or_file() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let ok = write("ok.txt", "0.5 0.5\n");
    let three = write("three.txt", "0.5 0.5 0.5\n");
    let nan = write("nan.txt", "0.5 0.5\n0.5 NaN\n");
    let inf = write("inf.json", "[[0.5, 1e999]]");
    let empty = write("empty.txt", "");
    let far = write("far.txt", "0.5 1.5\n");
    let ints = dir.path().join("i.npy");
    write_npy(&ints, "<i8", false, &[1, 2], &[0u8; 16]);
    let net = data("mlp-2-8-8-3.json");
    let net = net.to_str().unwrap();
    let digits = data("mnist-tiny/digits");
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["--points", &three, "--radius", "0.1"],
            "three.txt: point 0 has 3 coordinates but the network has 2 inputs".into(),
        ),
        (
            vec!["--points", &nan, "--radius", "0.1"],
            "nan.txt: point 1 has the non-finite coordinate NaN".into(),
        ),
        (
            vec!["--points", &inf, "--radius", "0.1"],
            "inf.json: not JSON".into(),
        ),
        (
            vec!["--points", &empty, "--radius", "0.1"],
            "empty.txt: holds no point".into(),
        ),
        (
            vec!["--points", &far, "--radius", "0.1"],
            "far.txt: point 0: coordinate 1 = 1.5 lies at least the radius 0.1 outside the input box [0, 1]".into(),
        ),
        (
            vec!["--points", ints.to_str().unwrap(), "--radius", "0.1"],
            "i.npy: the array holds '<i8'; float64 or float32 expected".into(),
        ),
        (
            vec!["--points", &ok, "--radius", "0"],
            "--radius 0: must be a finite number > 0".into(),
        ),
        (
            vec!["--points", &ok, "--radius", "-1"],
            "--radius -1: must be a finite number > 0".into(),
        ),
        (
            vec!["--points", &ok, "--radius", "inf"],
            "--radius inf: must be a finite number > 0".into(),
        ),
        (
            vec!["--points", &ok, "--radius", "NaN"],
            "--radius NaN: must be a finite number > 0".into(),
        ),
        (
            vec!["--points", "/nonexistent/p.txt", "--radius", "0.1"],
            "/nonexistent/p.txt".into(),
        ),
        (
            vec!["--points", &ok, "--radius", "0.1", "--plot", "h.jpg"],
            "--plot h.jpg: expected a .png or .svg file".into(),
        ),
        (
            vec![
                "--data",
                digits.to_str().unwrap(),
                "--n",
                "500",
                "--radius",
                "0.1",
            ],
            "--n 500: ".into(),
        ),
        (
            vec!["--data", digits.to_str().unwrap(), "--n", "0", "--radius", "0.1"],
            "--n must be at least 1".into(),
        ),
        (
            vec!["--points", &ok, "--radius", "0.1", "--domain", "all"],
            "--domain".into(),
        ),
        (
            vec!["--radius", "0.1"],
            "--points".into(),
        ),
    ];
    for (args, expected) in cases {
        let mut argv = vec!["local", net];
        argv.extend(args);
        let out = mipbound(&argv);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{argv:?}: {err}");
        assert!(err.contains(&expected), "{argv:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{argv:?}: {err}");
        assert!(out.stdout.is_empty());
    }
}

/// The network whose input is `u`, for `x = a + u (b - a)`: the first layer composed by hand.
fn along(net: &Network, a: &[f64], b: &[f64]) -> Network {
    let mut layers = net.layers().to_vec();
    let w = layers[0].weights.clone();
    let d = ndarray::Array2::from_shape_fn((a.len(), 1), |(i, _)| b[i] - a[i]);
    layers[0] = mipbound_network::Layer::new(
        w.dot(&d),
        &layers[0].bias + &w.dot(&ndarray::Array1::from(a.to_vec())),
        layers[0].activation.clone(),
    );
    Network::new(1, layers).unwrap()
}

#[test]
fn segments_count_the_regions_crossed_and_their_density() {
    let xs: &[&[f64]] = &[
        &[-1.6, -1.2],
        &[1.6, 0.8],
        &[-0.8, 1.8],
        &[-0.8, -1.8],
        &[0.0, 0.0],
    ];
    let mut nontrivial = 0;
    for seed in 0..4 {
        let net = he_network(&[2, 10, 8], 1.0, false, 60 + seed);
        let input = Domain::uniform(2, -2.0, 2.0).unwrap();
        let seg = LocalSettings {
            segments: true,
            ..settings(0.0)
        };
        let r = run_local(&net, &input, &points(xs), &seg);
        assert_eq!(r.mode, "segments");
        assert_eq!(r.points.len(), xs.len() - 1);
        for (i, p) in r.points.iter().enumerate() {
            let (a, b) = (xs[i], xs[i + 1]);
            let s = p.segment.as_ref().unwrap();
            assert!(p.complete);
            assert_eq!(p.regions as usize, count_1d(&along(&net, a, b), 0.0, 1.0));
            let length = ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
            assert!((s.length - length).abs() < 1e-12);
            assert_eq!(s.regions_per_unit_length, p.regions as f64 / s.length);
            nontrivial += usize::from(p.regions > 3);
        }
        let density = r.summary.regions_per_unit_length.as_ref().unwrap();
        assert_eq!(density.n, xs.len() - 1);
    }
    assert!(
        nontrivial >= 6,
        "only {nontrivial} segments with 4+ regions"
    );
}

#[test]
fn the_cli_writes_segment_rows_and_refuses_bad_segments() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let pts = write("p.txt", "0.1 0.2\n0.9 0.7\n0.3 0.95\n");
    let csv = dir.path().join("s.csv");
    let net = data("mlp-2-8-8-3.json");
    let network = mipbound_network::formats::load(&net, None).unwrap();
    let net = net.to_str().unwrap();
    let out = mipbound(&[
        "local",
        net,
        "--points",
        &pts,
        "--segments",
        "--csv",
        csv.to_str().unwrap(),
        "--json",
    ]);
    let v = json_of(&out);
    assert_eq!(v["mode"], "segments");
    assert!(v["radius"].is_null());
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "segment,from,to,from_label,to_label,regions,kind,length,regions_per_unit_length,complete,status,seconds,mipbound_regions,mipbound_kind"
    );
    assert_eq!(lines.len(), 3);
    let ends = [[0.1, 0.2], [0.9, 0.7], [0.3, 0.95]];
    for (i, line) in lines[1..].iter().enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        let expected = count_1d(&along(&network, &ends[i], &ends[i + 1]), 0.0, 1.0);
        assert_eq!(
            &cells[..3],
            [i.to_string(), i.to_string(), (i + 1).to_string()]
        );
        assert_eq!(cells[5], expected.to_string());
        assert_eq!(cells[6], "exact");
        assert_eq!(v["points"][i]["regions"], expected);
    }
    let one = write("one.txt", "0.1 0.2\n");
    let same = write("same.txt", "0.1 0.2\n0.5 0.5\n0.5 0.5\n");
    for (file, expected) in [
        (&one, "one.txt: --segments needs at least two points"),
        (&same, "segment from point 1 to point 2"),
        (&same, "coincide"),
    ] {
        let out = mipbound(&["local", net, "--points", file, "--segments"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(expected), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    let out = mipbound(&[
        "local",
        net,
        "--points",
        &pts,
        "--segments",
        "--radius",
        "0.1",
    ]);
    assert_eq!(out.status.code(), Some(2));
}
