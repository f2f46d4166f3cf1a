//! Hostile inputs and invocations, table-driven: outputs that are inputs, broken merges and
//! batches, closed and full stdout, huge widths and time limits, negative values, control
//! characters. Each case runs in its own folder and asserts the exit code, the one stderr
//! line (naming the file or option and the problem; none when the run succeeds), no panic,
//! and that every file that was there before is still there, byte for byte.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::formats::data;

/// Where the case's stdout goes.
#[derive(Clone, Copy, Debug)]
enum Stdout {
    /// A pipe that is read to the end.
    Read,
    /// A pipe whose reader is already gone (`| head -1` after the first line): EPIPE.
    BrokenPipe,
    /// `> /dev/full`: ENOSPC.
    Full,
    /// `>&-`: no stdout at all.
    Closed,
}

struct Case {
    name: &'static str,
    setup: fn(&Path),
    args: &'static [&'static str],
    stdout: Stdout,
    code: i32,
    /// Fragments of the single stderr line; empty: stderr must be empty.
    says: &'static [&'static str],
}

const fn case(
    name: &'static str,
    setup: fn(&Path),
    args: &'static [&'static str],
    code: i32,
    says: &'static [&'static str],
) -> Case {
    Case {
        name,
        setup,
        args,
        stdout: Stdout::Read,
        code,
        says,
    }
}

const fn piped(mut c: Case, stdout: Stdout) -> Case {
    c.stdout = stdout;
    c
}

/// Fast estimate/batch settings.
const QUICK_TRIALS: &[&str] = &["--trials", "1", "--xor", "2", "--no-activation-bound"];

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_mipbound")
}

fn run_in(dir: &Path, args: &[&str], stdout: Stdout) -> Output {
    let mut cmd = match stdout {
        Stdout::Closed => {
            let mut c = Command::new("sh");
            c.arg("-c").arg("exec \"$0\" \"$@\" >&-").arg(bin());
            c
        }
        _ => Command::new(bin()),
    };
    cmd.args(args).current_dir(dir).env_remove("NO_COLOR");
    match stdout {
        Stdout::BrokenPipe => {
            let (reader, writer) = std::io::pipe().unwrap();
            drop(reader);
            cmd.stdout(writer);
        }
        Stdout::Full => {
            cmd.stdout(
                fs::OpenOptions::new()
                    .write(true)
                    .open("/dev/full")
                    .unwrap(),
            );
        }
        Stdout::Read | Stdout::Closed => {
            cmd.stdout(Stdio::piped());
        }
    }
    cmd.output().unwrap()
}

/// Every file under `dir` (following symbolic links) and its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = fs::read(&path) {
                files.insert(path, bytes);
            }
        }
    }
    files
}

// ---- setups -------------------------------------------------------------------------------

fn net(dir: &Path) {
    fs::copy(data("mlp-2-8-8-3.json"), dir.join("net.json")).unwrap();
}

/// A 3-input net with domain files: plane points (also as plane.svg and plane.csv), a box
/// and polytope rows named like outputs.
fn net_and_domain_files(dir: &Path) {
    fs::copy(data("mlp-3-6-5-2.json"), dir.join("net.json")).unwrap();
    let plane = "0.1 0.2 0.3\n0.5 0.5 0.5\n0.2 0.8 0.1\n";
    for name in ["plane.txt", "plane.svg", "plane.csv"] {
        fs::write(dir.join(name), plane).unwrap();
    }
    fs::write(dir.join("box.txt"), "0 0 0\n1 1 1\n").unwrap();
    fs::write(dir.join("rows.lp"), "1 1 1 1.5\n").unwrap();
}

fn net_and_old_outputs(dir: &Path) {
    net(dir);
    fs::write(dir.join("patterns.txt"), "earlier patterns\n").unwrap();
    fs::write(dir.join("old.csv"), "earlier,csv\n").unwrap();
}

fn net_and_links(dir: &Path) {
    net(dir);
    std::os::unix::fs::symlink("net.json", dir.join("link.json")).unwrap();
    fs::hard_link(dir.join("net.json"), dir.join("hard.json")).unwrap();
    fs::create_dir(dir.join("sub")).unwrap();
}

/// A PyTorch (dynamo) export whose weights live in `net.onnx.data`.
fn onnx_with_external_data(dir: &Path) {
    let source = data("torch/bn-mlp.dynamo.onnx");
    fs::copy(&source, dir.join("bn-mlp.dynamo.onnx")).unwrap();
    fs::copy(
        data("torch/bn-mlp.dynamo.onnx.data"),
        dir.join("bn-mlp.dynamo.onnx.data"),
    )
    .unwrap();
}

fn net_named_lp(dir: &Path) {
    fs::copy(data("mlp-2-8-8-3.json"), dir.join("net.lp")).unwrap();
}

fn mnist(dir: &Path) {
    let digits = dir.join("digits");
    fs::create_dir(&digits).unwrap();
    for entry in fs::read_dir(data("mnist-tiny/digits")).unwrap() {
        let path = entry.unwrap().path();
        fs::copy(&path, digits.join(path.file_name().unwrap())).unwrap();
    }
}

/// Study configurations whose families are too large; `digits/` holds the images.
fn big_studies(dir: &Path) {
    mnist(dir);
    let config = |total: u64, min_width: u64| {
        format!(
            "name = \"big\"\nout = \"study\"\n[data]\npath = \"digits\"\n[family]\ntotal_units = {total}\nnetworks_per_split = 1\nmin_width = {min_width}\n"
        )
    };
    fs::write(dir.join("many.toml"), config(1_000_000_000_000, 1)).unwrap();
    fs::write(dir.join("wide.toml"), config(40_000, 19_999)).unwrap();
    fs::write(dir.join("overflow.toml"), config(4, u64::MAX / 2 + 1)).unwrap();
    let small = config(4, 1);
    fs::write(
        dir.join("batch.toml"),
        format!("{small}[training]\nbatch_size = 0\n"),
    )
    .unwrap();
    let fraction = small.replace("path = \"digits\"", "path = \"digits\"\ntest_fraction = 7");
    fs::write(dir.join("fraction.toml"), fraction).unwrap();
    fs::write(
        dir.join("trials.toml"),
        format!("{small}[batch]\ntrials = 0\n"),
    )
    .unwrap();
}

/// A real batch result in `out/`, then a torn last line (as Ctrl-C leaves it).
fn batch_results(dir: &Path) {
    net(dir);
    let mut args = vec!["batch", "net.json", "--out", "out", "--no-exact"];
    args.extend(QUICK_TRIALS);
    let out = run_in(dir, &args, Stdout::Read);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let jsonl = dir.join("out/results.jsonl");
    let mut text = fs::read_to_string(&jsonl).unwrap();
    text.push_str("{\"index\": 1, \"netw");
    fs::write(&jsonl, text).unwrap();
}

fn batch_results_and_bad_net(dir: &Path) {
    batch_results(dir);
    fs::write(dir.join("bad.json"), "{\"format\": ").unwrap();
    fs::write(dir.join("list.txt"), "net.json\nbad.json\n").unwrap();
}

/// A merged result in `out/` and shard files next to it, some of them broken.
fn merge_inputs(dir: &Path) {
    batch_results(dir);
    let jsonl = dir.join("out/results.jsonl");
    let text = fs::read_to_string(&jsonl).unwrap();
    let record = text.lines().next().unwrap().to_string();
    fs::write(&jsonl, format!("{record}\n")).unwrap();
    fs::write(dir.join("good.jsonl"), format!("{record}\n")).unwrap();
    fs::write(dir.join("garbage.jsonl"), "not json at all\n").unwrap();
    fs::write(
        dir.join("middle.jsonl"),
        format!("{record}\n{{\"index\": oops}}\n{record}\n"),
    )
    .unwrap();
    fs::write(
        dir.join("torn.jsonl"),
        format!("{record}\n{{\"index\": 1, \"ne"),
    )
    .unwrap();
    fs::write(dir.join("empty.jsonl"), "").unwrap();
    fs::write(dir.join("latin1.jsonl"), b"\xe9t\xe9\n").unwrap();
    fs::create_dir(dir.join("nothing")).unwrap();
    fs::write(dir.join("shard\u{1b}[2J.jsonl"), "garbage\n").unwrap();
}

fn bad_names(dir: &Path) {
    fs::write(dir.join("bad\nname.json"), "{").unwrap();
    fs::write(
        dir.join("escape.dat"),
        "levels = 2;\nn = [2, 2, 1];\nW = [1,2\n,3,\u{1b}[31mred\n,5,6\n];\nB = [0,0\n,1\n];\n",
    )
    .unwrap();
    fs::write(
        dir.join("activation.json"),
        r#"{"format": "mipbound-network", "version": 1, "input_dim": 2, "layers": [{"activation": "re\nlu\u0007", "weights": [[1, 2]], "bias": [0]}]}"#,
    )
    .unwrap();
}

// ---- the table ----------------------------------------------------------------------------

const NO_LINE: &[&str] = &[];

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    use Stdout::{BrokenPipe, Closed, Full};
    vec![
        // Output paths that are inputs.
        case("patterns = input", net_and_old_outputs, &["count", "net.json", "--patterns", "net.json"], 2, &["--patterns net.json", "input file"]),
        case("patterns = symlink to input", net_and_links, &["count", "net.json", "--patterns", "link.json"], 2, &["--patterns link.json", "input file net.json"]),
        case("patterns = hard link to input", net_and_links, &["count", "net.json", "--patterns", "hard.json"], 2, &["--patterns hard.json", "input file"]),
        case("patterns = input, spelled differently", net_and_links, &["count", "net.json", "--patterns", "sub/../net.json"], 2, &["--patterns sub/../net.json", "input file"]),
        case("csv = input", net_and_old_outputs, &["estimate", "net.json", "--csv", "net.json", "--trials", "1", "--xor", "2"], 2, &["--csv net.json", "input file"]),
        case("csv = input via ./", net, &["estimate", "./net.json", "--csv", "net.json", "--trials", "1", "--xor", "2"], 2, &["--csv net.json", "input file"]),
        case("formulate --out = input", net_named_lp, &["formulate", "net.lp", "--format", "json", "--out", "net.lp"], 2, &["--out net.lp", "input file"]),
        case("convert --out = input", net, &["convert", "net.json", "--out", "net.json"], 2, &["--out net.json", "input file"]),
        case("convert --out = hard link", net_and_links, &["convert", "hard.json", "--out", "net.json"], 2, &["--out net.json", "input file hard.json"]),
        case("convert --out = the input's external data", onnx_with_external_data, &["convert", "bn-mlp.dynamo.onnx", "--out", "bn-mlp.dynamo.onnx.data", "--to", "json"], 2, &["--out bn-mlp.dynamo.onnx.data", "input file"]),
        case("convert --out = input, other format", net, &["convert", "net.json", "--out", "./net.json", "--to", "onnx"], 2, &["--out ./net.json", "input file"]),
        case("train --out = a data file", mnist, &["train", "--data", "digits", "--out", "digits/3.json", "--epochs", "1"], 2, &["--out digits/3.json", "input file"]),
        case("batch results = manifest", batch_results_and_bad_net, &["batch", "--manifest", "out/results.csv", "--out", "out", "--no-exact", "--trials", "1", "--xor", "2"], 2, &["--out out/results.csv", "input file"]),
        case("patterns = the domain's points", net_and_domain_files, &["count", "net.json", "--domain", "plane:plane.txt", "--patterns", "plane.txt"], 2, &["--patterns plane.txt", "input file"]),
        case("patterns = the box file", net_and_domain_files, &["count", "net.json", "--box", "box.txt", "--patterns", "box.txt"], 2, &["--patterns box.txt", "input file"]),
        case("map --out = the domain's points", net_and_domain_files, &["map", "net.json", "--domain", "plane:plane.svg", "--out", "plane.svg"], 2, &["--out plane.svg", "input file"]),
        case("estimate --csv = the domain's points", net_and_domain_files, &["estimate", "net.json", "--domain", "plane:plane.csv", "--csv", "plane.csv", "--trials", "1", "--xor", "2"], 2, &["--csv plane.csv", "input file"]),
        case("formulate --out = the polytope's rows", net_and_domain_files, &["formulate", "net.json", "--domain", "polytope:rows.lp", "--out", "rows.lp"], 2, &["--out rows.lp", "input file"]),
        case("count --threads 0 with --patterns", net_and_old_outputs, &["count", "net.json", "--patterns", "patterns.txt", "--threads", "0"], 2, &["--threads must be at least 1"]),
        case("estimate --threads 0 with --csv", net_and_old_outputs, &["estimate", "net.json", "--csv", "old.csv", "--threads", "0"], 2, &["--threads must be at least 1"]),
        // merge: nothing lost, garbage refused.
        case("merge only a missing file", merge_inputs, &["merge", "missing.jsonl", "--out", "out"], 2, &["missing.jsonl", "No such file"]),
        case("merge a missing file", merge_inputs, &["merge", "good.jsonl", "missing.jsonl", "--out", "out"], 2, &["missing.jsonl", "No such file"]),
        case("merge garbage", merge_inputs, &["merge", "garbage.jsonl", "--out", "out"], 2, &["garbage.jsonl: line 1", "not a batch record"]),
        case("merge garbage in the middle", merge_inputs, &["merge", "good.jsonl", "middle.jsonl", "--out", "out"], 2, &["middle.jsonl: line 2", "not a batch record"]),
        case("merge a torn last line", merge_inputs, &["merge", "torn.jsonl", "--out", "out"], 2, &["torn.jsonl: line 2", "not a batch record"]),
        case("merge an empty file", merge_inputs, &["merge", "empty.jsonl", "--out", "out"], 2, &["no records"]),
        case("merge a folder without results", merge_inputs, &["merge", "nothing", "--out", "out"], 2, &["nothing", "no results*.jsonl"]),
        case("merge a file that is not UTF-8", merge_inputs, &["merge", "latin1.jsonl", "--out", "out"], 2, &["latin1.jsonl", "UTF-8"]),
        case("merge into a file", merge_inputs, &["merge", "good.jsonl", "--out", "good.jsonl"], 2, &["good.jsonl"]),
        // batch: a bad network leaves the results alone.
        case("batch with a bad network", batch_results_and_bad_net, &["batch", "net.json", "bad.json", "--out", "out", "--no-exact", "--trials", "1", "--xor", "2", "--no-activation-bound"], 2, &["bad.json", "EOF while parsing"]),
        case("batch with a missing network", batch_results_and_bad_net, &["batch", "net.json", "gone.onnx", "--out", "out", "--no-exact", "--trials", "1", "--xor", "2", "--no-activation-bound"], 2, &["gone.onnx", "No such file"]),
        case("batch manifest with a bad network", batch_results_and_bad_net, &["batch", "--manifest", "list.txt", "--out", "out", "--no-exact", "--trials", "1", "--xor", "2", "--no-activation-bound"], 2, &["bad.json", "EOF while parsing"]),
        // Broken pipes, closed and full stdout.
        piped(case("count | head", net, &["count", "net.json"], 0, NO_LINE), BrokenPipe),
        piped(case("count --json | head", net, &["count", "net.json", "--json"], 0, NO_LINE), BrokenPipe),
        piped(case("inspect | head", net, &["inspect", "net.json"], 0, NO_LINE), BrokenPipe),
        piped(case("estimate | head", net, &["estimate", "net.json", "--trials", "1", "--xor", "2", "--no-activation-bound"], 0, NO_LINE), BrokenPipe),
        piped(case("bounds | head", net, &["bounds", "net.json", "--milp-time-limit", "1"], 0, NO_LINE), BrokenPipe),
        piped(case("--help | head", net, &["count", "--help"], 0, NO_LINE), BrokenPipe),
        piped(case("count > /dev/full", net, &["count", "net.json"], 2, &["writing to standard output", "No space left on device"]), Full),
        piped(case("inspect --json > /dev/full", net, &["inspect", "net.json", "--json"], 2, &["writing to standard output", "No space left on device"]), Full),
        piped(case("count >&-", net, &["count", "net.json"], 0, NO_LINE), Closed),
        // Allocation limits.
        case("generate 2^32 x 2^32", net, &["generate", "--widths", "4294967296,4294967296,1", "--out", "big.json"], 2, &["--widths", "more than 100000000 weights"]),
        case("generate 2^64-1", net, &["generate", "--widths", "2,18446744073709551615,1", "--out", "big.json"], 2, &["--widths", "more than 100000000 weights"]),
        case("generate 2^64", net, &["generate", "--widths", "2,18446744073709551616,1", "--out", "big.json"], 2, &["--widths", "too large"]),
        case("generate 20000 x 20000", net, &["generate", "--widths", "20000,20000,1", "--out", "big.json"], 2, &["--widths", "more than 100000000 weights"]),
        case("generate a huge maxout rank", net, &["generate", "--widths", "2,1000,1", "--activation", "maxout:1000000000", "--out", "big.json"], 2, &["--widths", "more than 100000000 weights"]),
        case("train 2^32 units", mnist, &["train", "--data", "digits", "--widths", "4294967296,2", "--out", "t.json"], 2, &["--widths", "more than 100000000 weights"]),
        case("study of 10^12 networks", big_studies, &["study", "many.toml"], 2, &["many.toml", "more than 100000 networks"]),
        case("study of too wide networks", big_studies, &["study", "wide.toml"], 2, &["[family]", "more than 100000000 weights"]),
        case("study with min_width 2^63", big_studies, &["study", "overflow.toml"], 2, &["overflow.toml", "min_width >= 1"]),
        case("bench-lp --dim 2^32", net, &["bench-lp", "--dim", "4294967296", "--solves", "1"], 2, &["--dim", "more than 100000000 numbers"]),
        case("generate --bias-std 1.7e308", net, &["generate", "--widths", "2,3,1", "--bias-std", "1.7e308", "--out", "g.json"], 2, &["--bias-std", "at most 1000"]),
        case("train --epochs 2^64-1", mnist, &["train", "--data", "digits", "--widths", "2", "--epochs", "18446744073709551615", "--out", "t.json"], 2, &["--epochs", "between 1 and 1000000"]),
        case("study batch_size 0", big_studies, &["study", "batch.toml"], 2, &["batch.toml: [training] batch_size", "at least 1"]),
        case("study test_fraction 7", big_studies, &["study", "fraction.toml"], 2, &["fraction.toml: [data] test_fraction", "[0, 1)"]),
        case("study with [batch] trials = 0", big_studies, &["study", "trials.toml"], 2, &["trials.toml: [batch]", "--trials must be at least 1"]),
        // Time limits: huge means no limit, NaN is refused.
        case("count --time-limit 1e19", net, &["count", "net.json", "--time-limit", "1e19"], 0, NO_LINE),
        case("count --time-limit 1e300", net, &["count", "net.json", "--time-limit", "1e300"], 0, NO_LINE),
        case("count --time-limit inf", net, &["count", "net.json", "--time-limit", "inf"], 0, NO_LINE),
        case("count --time-limit NaN", net, &["count", "net.json", "--time-limit", "NaN"], 2, &["--time-limit", "NaN is not a number of seconds"]),
        case("estimate --time-limit 1e300", net, &["estimate", "net.json", "--time-limit", "1e300", "--trials", "1", "--xor", "2", "--no-activation-bound"], 0, NO_LINE),
        case("estimate --trial-time-limit 1e19", net, &["estimate", "net.json", "--trial-time-limit", "1e19", "--exact", "--exact-time-limit", "1e300", "--trials", "1", "--xor", "2", "--no-activation-bound"], 0, NO_LINE),
        case("bounds --time-limit 1e300", net, &["bounds", "net.json", "--time-limit", "1e300", "--milp-time-limit", "1e300"], 0, NO_LINE),
        case("batch time limits 1e300", net, &["batch", "net.json", "--out", "new", "--exact-time-limit", "1e300", "--trial-time-limit", "inf", "--trials", "1", "--xor", "2", "--no-activation-bound"], 0, NO_LINE),
        // Negative values: mipbound's message, not clap's `-- -1` tip.
        case("count --time-limit -1", net, &["count", "net.json", "--time-limit", "-1"], 2, &["--time-limit", "negative"]),
        case("estimate --trials -3", net, &["estimate", "net.json", "--trials", "-3"], 2, &["--trials", "negative"]),
        case("count --threads -2", net, &["count", "net.json", "--threads", "-2"], 2, &["--threads", "negative"]),
        case("generate --seed -1", net, &["generate", "--widths", "2,3,1", "--seed", "-1", "--out", "g.json"], 2, &["--seed", "negative"]),
        case("generate --widths -3,2,1", net, &["generate", "--widths", "-3,2,1", "--out", "g.json"], 2, &["--widths", "negative"]),
        case("estimate --confidence -0.5", net, &["estimate", "net.json", "--confidence", "-0.5"], 2, &["--confidence", "strictly between 0 and 1"]),
        case("bounds --milp-time-limit -5", net, &["bounds", "net.json", "--milp-time-limit", "-5"], 2, &["--milp-time-limit", "negative"]),
        case("generate --bias-std -1", net, &["generate", "--widths", "2,3,1", "--bias-std", "-1", "--out", "g.json"], 2, &["--bias-std", "non-negative"]),
        case("estimate --xor -1", net, &["estimate", "net.json", "--xor", "-1"], 2, &["--xor"]),
        // Error lines: one line, control characters escaped, clap's errors too.
        case("newline in a file name", bad_names, &["count", "bad\nname.json"], 2, &["bad\\nname.json", "EOF while parsing"]),
        case("escape sequence in a file", bad_names, &["count", "escape.dat"], 2, &["escape.dat: line 4", "\\u{1b}", "is not a number"]),
        case("newline in an activation name", bad_names, &["inspect", "activation.json"], 2, &["activation.json", "re\\nlu\\u{7}"]),
        case("escape sequence in a merged file's name", merge_inputs, &["merge", "shard\u{1b}[2J.jsonl", "--out", "out"], 2, &["shard\\u{1b}[2J.jsonl: line 1", "not a batch record"]),
        case("unknown flag", net, &["count", "net.json", "--frobnicate"], 2, &["--frobnicate"]),
        case("missing --out", net, &["generate", "--widths", "2,3,1"], 2, &["--out"]),
        case("unknown command", net, &["frobnicate"], 2, &["frobnicate"]),
    ]
}

#[test]
fn hostile_inputs_and_invocations() {
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let dir = tempfile::tempdir().unwrap();
        (c.setup)(dir.path());
        let before = snapshot(dir.path());
        let out = run_in(dir.path(), c.args, c.stdout);
        let after = snapshot(dir.path());
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let mut problems = Vec::new();
        if out.status.code() != Some(c.code) {
            problems.push(format!("exit {:?}, expected {}", out.status.code(), c.code));
        }
        if err.contains("panicked") {
            problems.push("panicked".to_string());
        }
        if c.says.is_empty() {
            if !err.is_empty() {
                problems.push("stderr should be empty".to_string());
            }
        } else {
            if err.lines().count() != 1 || !err.starts_with("error: ") {
                problems.push("expected one `error:` line".to_string());
            }
            for fragment in c.says {
                if !err.contains(fragment) {
                    problems.push(format!("no '{fragment}'"));
                }
            }
        }
        for (path, bytes) in &before {
            match after.get(path) {
                Some(now) if now == bytes => {}
                Some(_) => problems.push(format!("{} changed", path.display())),
                None => problems.push(format!("{} is gone", path.display())),
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{} ({:?}): {}\n  stderr: {err:?}",
                c.name,
                c.args,
                problems.join("; ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
