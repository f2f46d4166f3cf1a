#!/usr/bin/env python3
"""Median trial level minus log2(exact count), per XOR width, on the given networks.

    scripts/xor-gap.py [--trials R] [--box LO,HI] NET...

Runs `mipbound estimate --exact` (release binary; build it first with
`cargo build --release`) with every trial run to exhaustion, and prints one row per network
and width. Short XORs are conservative: the gap is usually negative, most for k = 2.
"""
import argparse
import json
import math
import subprocess
import sys

BINARY = "target/release/mipbound"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("nets", nargs="+")
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--box", default="0,1")
    parser.add_argument("--xor", default="2,3,4,5")
    args = parser.parse_args()
    print(f"{'network':40} {'regions':>9} {'log2':>6} {'xor':>5} {'median':>7} {'gap':>6} {'min':>4} {'max':>4}")
    for net in args.nets:
        cmd = [BINARY, "estimate", net, "--box", args.box, "--xor", args.xor, "--trials", str(args.trials),
               "--exact", "--no-activation-bound", "--json"]
        report = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        exact = report["exact"]
        if not exact["complete"]:
            sys.exit(f"{net}: the exact count did not complete")
        log2n = math.log2(exact["regions"])
        for w in report["widths"]:
            if w["exhausted_trials"] != len(w["levels"]):
                sys.exit(f"{net}: a trial stopped before exhaustion")
            gap = w["level_median"] - log2n
            print(f"{net:40} {exact['regions']:>9} {log2n:>6.2f} {w['xor']:>5} {w['level_median']:>7.1f} "
                  f"{gap:>+6.2f} {w['level_min']:>4} {w['level_max']:>4}")


if __name__ == "__main__":
    main()
