//! `mipbound map` and the library's region maps: the polygons tile the domain, there is one
//! per region (the search's count and the independent 2-D and 1-D oracles), each point of a
//! polygon has its pattern, class pieces tile their region and carry the argmax, and the
//! images written are valid PNG and SVG.

use std::collections::HashMap;

use mipbound_experiment::Problem;
use mipbound_experiment::count::{CountSettings, count};
use mipbound_experiment::map::{MapResult, MapSettings, map};
use mipbound_experiment::polygon::{self, Point};
use mipbound_experiment::run::{CancelToken, Run};
use mipbound_formulation::Domain;
use mipbound_network::random::random_network;
use mipbound_network::{Activation, Network, PiecewiseLinear, pattern_line};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::cli::{mipbound, stderr, stdout};
use crate::formats::data;
use crate::oracle::{count_1d, count_2d};

/// The networks under test: every activation kind, with and without an output layer.
fn networks() -> Vec<(String, Network, f64)> {
    let pwl = PiecewiseLinear::new(vec![-0.5, 0.0, 0.7], vec![0.3, -1.0, 1.5, 0.2], 0.2).unwrap();
    let kinds = [
        ("relu", Activation::Relu),
        ("leaky", Activation::LeakyRelu { slope: 0.1 }),
        ("hard tanh", Activation::hard_tanh()),
        ("pwl", Activation::Pwl(pwl)),
        ("maxout 3", Activation::Maxout { rank: 3 }),
    ];
    let mut nets = Vec::new();
    for (k, (name, activation)) in kinds.into_iter().enumerate() {
        for (widths, output, lo) in [
            (vec![2, 6, 5, 3], true, -2.0),
            (vec![2, 5, 4], false, -1.5),
            (vec![1, 6, 5, 2], true, -3.0),
            (vec![1, 4, 4, 1], true, -2.0),
        ] {
            let seed = 10 * k as u64 + widths.len() as u64 + u64::from(output);
            let net = random_network(&widths, &activation, 0.3, output, seed);
            nets.push((format!("{name} {widths:?}"), net, lo));
        }
    }
    let file = mipbound_network::formats::load(&data("mlp-2-8-8-3.json"), None).unwrap();
    nets.push(("mlp-2-8-8-3.json".into(), file, -3.0));
    let maxout = mipbound_network::formats::load(&data("maxout-2-3x3.onnx"), None).unwrap();
    nets.push(("maxout-2-3x3.onnx".into(), maxout, -2.0));
    nets
}

fn run_map(net: &Network, lo: f64, hi: f64, classes: bool) -> (Problem, MapResult) {
    let domain = Domain::uniform(net.input_dim(), lo, hi).unwrap();
    let problem = Problem::new(net.clone(), domain, "<test>").unwrap();
    let settings = MapSettings {
        classes,
        ..MapSettings::default()
    };
    let cancel = CancelToken::new();
    let result = map(&problem, &settings, &Run::quiet(1, &cancel)).unwrap();
    (problem, result)
}

/// The map's point `p` as a network input.
fn input(result: &MapResult, p: Point) -> Vec<f64> {
    p[..result.dimension].to_vec()
}

fn argmax(y: &[f64]) -> usize {
    if y.len() == 1 {
        return usize::from(y[0] > 0.0);
    }
    (0..y.len()).fold(0, |best, i| if y[i] > y[best] { i } else { best })
}

#[test]
fn polygons_tile_the_domain_one_per_region_with_their_patterns() {
    for (name, net, lo) in networks() {
        let hi = -lo;
        let (problem, result) = run_map(&net, lo, hi, true);
        let n = result.regions.len();
        assert!(result.complete, "{name}");
        assert!(n > 3, "{name}: only {n} regions");
        // One polygon per region: the search's count and the independent oracle.
        let cancel = CancelToken::new();
        let counted = count(
            &problem,
            &CountSettings::default(),
            &Run::quiet(1, &cancel),
            None,
        )
        .unwrap();
        assert_eq!(n as u64, counted.regions, "{name}");
        let oracle = match net.input_dim() {
            2 => count_2d(&net, lo, hi),
            _ => count_1d(&net, lo, hi),
        };
        assert_eq!(
            n, oracle,
            "{name}: the map against the exact geometric count"
        );
        // The areas sum to the domain's.
        let side = hi - lo;
        let domain_area = if result.dimension == 2 {
            side * side
        } else {
            side * side * mipbound_experiment::map::STRIP
        };
        assert!((result.domain_area - domain_area).abs() <= 1e-12 * domain_area);
        let total = result.covered_area();
        assert!(
            (total - domain_area).abs() <= 1e-9 * domain_area,
            "{name}: areas sum to {total}, the domain's is {domain_area}"
        );
        let widths = net.layer_bits();
        let pattern = |x: &[f64]| pattern_line(&net.pattern(x), &widths);
        let tolerance = 1e-9 * side;
        for r in &result.regions {
            assert!(r.area > 0.0, "{name}: region {} is empty", r.index);
            let w = mipbound_experiment::map::witness_point(&result, &r.witness);
            assert!(
                polygon::contains(&r.polygon, w, tolerance),
                "{name}: region {} does not contain its witness",
                r.index
            );
            // The centroid, inside the polygon, has the region's pattern.
            let c = polygon::centroid(&r.polygon);
            assert_eq!(
                pattern(&input(&result, c)),
                r.bits,
                "{name}: region {}",
                r.index
            );
            // Class pieces tile the region and their centroids have their class.
            let pieces: f64 = r.classes.iter().map(|p| p.area).sum();
            assert!(
                (pieces - r.area).abs() <= 1e-9 * r.area,
                "{name}: region {} has class pieces of area {pieces}, not {}",
                r.index,
                r.area
            );
            for p in &r.classes {
                let c = input(&result, polygon::centroid(&p.polygon));
                let y = net.output(&c);
                assert_eq!(argmax(y.as_slice().unwrap()), p.class, "{name}");
                assert_eq!(pattern(&c), r.bits, "{name}: a class piece left its region");
            }
        }
        // The legend's class areas: the winning classes, in order, summing to the domain.
        let shares = result.class_areas();
        assert!(shares.windows(2).all(|w| w[0].0 < w[1].0), "{name}");
        assert!(shares.iter().all(|&(_, a)| a > 0.0), "{name}");
        let total: f64 = shares.iter().map(|&(_, a)| a).sum();
        assert!(
            (total - result.covered_area()).abs() <= 1e-9 * total,
            "{name}: class areas {total}"
        );
        // Every random point lies in the polygon of its own pattern's region.
        let polygons: HashMap<&str, &[Point]> = result
            .regions
            .iter()
            .map(|r| (r.bits.as_str(), r.polygon.as_slice()))
            .collect();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let top = result.domain.iter().fold(0.0, |m: f64, p| m.max(p[1]));
        for _ in 0..300 {
            let p = if result.dimension == 2 {
                [rng.random_range(lo..hi), rng.random_range(lo..hi)]
            } else {
                [rng.random_range(lo..hi), rng.random_range(0.0..top)]
            };
            let region = polygons[pattern(&input(&result, p)).as_str()];
            assert!(polygon::contains(region, p, tolerance), "{name}: {p:?}");
        }
    }
}

#[test]
fn a_time_limit_gives_a_partial_map() {
    let net = random_network(&[2, 12, 12, 3], &Activation::Relu, 0.3, true, 1);
    let problem = Problem::new(net, Domain::uniform(2, -4.0, 4.0).unwrap(), "<test>").unwrap();
    let settings = MapSettings {
        count: CountSettings {
            time_limit: Some(0.0),
            ..CountSettings::default()
        },
        classes: false,
    };
    let cancel = CancelToken::new();
    let result = map(&problem, &settings, &Run::quiet(1, &cancel)).unwrap();
    assert!(!result.complete);
    assert_eq!(result.status, "time limit");
    assert!(result.covered_area() < result.domain_area);
}

fn path_str(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn map_writes_png_svg_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let net = data("mlp-2-8-8-3.json");
    let png = dir.path().join("map.png");
    let out = mipbound(&[
        "map",
        path_str(&net),
        "--box",
        "-3,3",
        "--out",
        path_str(&png),
        "--size",
        "640x480",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = crate::oracle::count_2d(
        &mipbound_network::formats::load(&net, None).unwrap(),
        -3.0,
        3.0,
    );
    assert!(stdout(&out).contains(&format!("regions       {expected} (complete)")));
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    assert_eq!((reader.info().width, reader.info().height), (640, 480));
    let mut pixels = vec![0; reader.output_buffer_size()];
    reader.next_frame(&mut pixels).unwrap();
    // Many colours: the regions are filled, not a blank canvas.
    let colours: std::collections::HashSet<&[u8]> = pixels.chunks(3).collect();
    assert!(colours.len() > 50, "{} colours", colours.len());

    let svg = dir.path().join("map.svg");
    let out = mipbound(&[
        "map",
        path_str(&net),
        "--box",
        "-3,3",
        "--out",
        path_str(&svg),
        "--color",
        "class",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&svg).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("the SVG is well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let polygons = doc
        .descendants()
        .filter(|n| n.has_tag_name("polygon"))
        .count();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let regions = report["regions"].as_array().unwrap();
    assert_eq!(regions.len(), expected);
    let pieces: usize = regions
        .iter()
        .map(|r| r["classes"].as_array().unwrap().len())
        .sum();
    // The domain, then one polygon per class piece.
    assert_eq!(polygons, 1 + pieces);
    // The legend: its title and one label per winning class with its share of the area.
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text().map(str::trim))
        .collect();
    assert!(texts.contains(&"class"), "{texts:?}");
    let mut areas = [0.0; 3];
    for piece in regions
        .iter()
        .flat_map(|r| r["classes"].as_array().unwrap())
    {
        areas[piece["class"].as_u64().unwrap() as usize] += piece["area"].as_f64().unwrap();
    }
    let total: f64 = areas.iter().sum();
    for (class, area) in areas.iter().enumerate() {
        let label = format!("{class}  {:.1}%", 100.0 * area / total);
        assert!(
            texts.contains(&label.as_str()),
            "{label} missing from {texts:?}"
        );
    }
    assert_eq!(report["classes"], 3);
    let first = &regions[0];
    assert!(first["bits"].as_str().unwrap().contains(' '));
    assert_eq!(first["pieces"].as_array().unwrap().len(), 16);
    assert!(first["polygon"].as_array().unwrap().len() >= 3);
    assert_eq!(report["domain_area"], 36.0);
}

#[test]
fn a_one_input_network_is_drawn_as_a_strip() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("net1.json");
    let out = mipbound(&[
        "generate",
        "--widths",
        "1,6,5,2",
        "--seed",
        "3",
        "--out",
        path_str(&file),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let svg = dir.path().join("strip.svg");
    let out = mipbound(&[
        "map",
        path_str(&file),
        "--box",
        "-2,2",
        "--out",
        path_str(&svg),
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["dimension"], 1);
    let net = mipbound_network::formats::load(&file, None).unwrap();
    let regions = report["regions"].as_array().unwrap();
    assert_eq!(regions.len(), count_1d(&net, -2.0, 2.0));
    // Each region is a rectangle across the strip.
    for r in regions {
        let poly = r["polygon"].as_array().unwrap();
        assert_eq!(poly.len(), 4, "{r}");
    }
    roxmltree::Document::parse(&std::fs::read_to_string(&svg).unwrap()).unwrap();
}

#[test]
fn bad_map_input_gives_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let net2 = data("mlp-2-8-8-3.json");
    let net3 = data("mlp-3-6-5-2.json");
    let png = dir.path().join("m.png");
    let missing = dir.path().join("nowhere/m.png");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["map", path_str(&net3), "--out", path_str(&png)],
            "the network has 3 inputs",
        ),
        (
            vec!["map", path_str(&net2), "--out", "m.gif"],
            "must be a .png or .svg file",
        ),
        (vec!["map", path_str(&net2)], "give --out"),
        (
            vec!["map", path_str(&net2), "--out", path_str(&net2)],
            "would destroy the input",
        ),
        (
            vec!["map", path_str(&net2), "--out", path_str(&missing)],
            "does not exist",
        ),
        (
            vec![
                "map",
                path_str(&net2),
                "--out",
                path_str(&png),
                "--size",
                "5",
            ],
            "from 100 to 8000",
        ),
        (
            vec![
                "map",
                path_str(&net2),
                "--out",
                path_str(&png),
                "--color",
                "x",
            ],
            "possible values: region, class",
        ),
        (
            vec![
                "map",
                path_str(&net2),
                "--out",
                path_str(&png),
                "--box",
                "1,1",
            ],
            "--box 1,1",
        ),
        (
            vec!["map", path_str(&net2), "--json", "--time-limit", "-1"],
            "negative",
        ),
    ];
    for (args, expected) in cases {
        let out = mipbound(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{err}");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(!png.exists(), "{args:?} wrote an image");
    }
}

/// A ReLU layer with a summing output.
fn relu_net(rows: &[[f64; 2]], bias: &[f64]) -> Network {
    use mipbound_network::Layer;
    use ndarray::{Array1, Array2};
    let w = Array2::from_shape_fn((rows.len(), 2), |(i, j)| rows[i][j]);
    let hidden = Layer::new(w, Array1::from(bias.to_vec()), Activation::Relu);
    let output = Layer::new(
        Array2::from_elem((1, rows.len()), 1.0),
        Array1::zeros(1),
        Activation::Identity,
    );
    Network::new(2, vec![hidden, output]).unwrap()
}

#[test]
fn thin_regions_keep_their_polygons() {
    // x = 1/2, y = 1/2 and x + y = 1 + w on the unit square: a triangle of side w among 7
    // regions; and an anisotropic box with 4 x 3 cells.
    let thin = |w: f64| {
        relu_net(
            &[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
            &[-0.5, -0.5, -(1.0 + w)],
        )
    };
    let mut cases: Vec<(Network, Domain, usize)> = [1e-6, 1e-8, 1e-10]
        .into_iter()
        .map(|w| (thin(w), Domain::unit_box(2), 7))
        .collect();
    cases.push((
        relu_net(
            &[[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]],
            &[-0.25e-3, -0.5e-3, -0.75e-3, -2500.0, -5000.0],
        ),
        Domain::new(vec![0.0, 0.0], vec![1e-3, 1e4]).unwrap(),
        12,
    ));
    for (net, domain, expected) in cases {
        let problem = Problem::new(net.clone(), domain, "<thin>").unwrap();
        let cancel = CancelToken::new();
        let result = map(&problem, &MapSettings::default(), &Run::quiet(1, &cancel)).unwrap();
        assert_eq!(result.regions.len(), expected);
        let total = result.covered_area();
        assert!((total - result.domain_area).abs() <= 1e-9 * result.domain_area);
        let widths = net.layer_bits();
        for r in &result.regions {
            assert!(r.area > 0.0 && r.polygon.len() >= 3, "{r:?}");
            let c = polygon::centroid(&r.polygon);
            assert_eq!(pattern_line(&net.pattern(&c), &widths), r.bits);
        }
    }
}

#[test]
fn a_plane_through_three_digits_is_mapped_in_u_v_with_its_points() {
    let net = data("example-784-8-6-10.onnx");
    let digits = format!("plane:mnist:{}:0,1,2", path_str(&data("mnist-tiny/digits")));
    let out = mipbound(&[
        "map",
        path_str(&net),
        "--box",
        "none",
        "--domain",
        &digits,
        "--json",
        "--color",
        "class",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["axes"], serde_json::json!(["u", "v"]));
    let points: Vec<(String, f64, f64)> = report["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let at = &p["at"];
            (
                p["label"].as_str().unwrap().to_string(),
                at[0].as_f64().unwrap(),
                at[1].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        points,
        vec![
            ("A".into(), 0.0, 0.0),
            ("B".into(), 1.0, 0.0),
            ("C".into(), 0.0, 1.0)
        ]
    );
    let regions = report["regions"].as_array().unwrap();
    let total: f64 = regions.iter().map(|r| r["area"].as_f64().unwrap()).sum();
    assert!((total - 1.0).abs() <= 1e-9, "{total}");
    // The count over the same plane agrees.
    let count = mipbound(&[
        "count",
        path_str(&net),
        "--box",
        "none",
        "--domain",
        &digits,
        "--json",
    ]);
    let counted: serde_json::Value = serde_json::from_slice(&count.stdout).unwrap();
    assert_eq!(counted["regions"], regions.len());
}
