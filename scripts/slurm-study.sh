#!/usr/bin/env bash
# Runs a mipbound study on a Slurm cluster: a job array of N shards, then one job that merges
# the shards and writes the summary and plots.
#
#   scripts/slurm-study.sh configs/mnist-22.toml 16        # 16 shards
#
# Every shard trains and measures the networks whose index is its number modulo N (the
# network list is fixed by the config), appending to results.shard-I-of-N.{jsonl,csv} in
# the study's `out` folder, which must be on a shared file system. A shard that is killed or
# times out can simply be resubmitted: finished networks are skipped. Adjust the #SBATCH
# resources to your cluster; mipbound uses all the cores it is given (--cpus-per-task).
set -euo pipefail
CONFIG=${1:?usage: slurm-study.sh CONFIG SHARDS}
SHARDS=${2:?usage: slurm-study.sh CONFIG SHARDS}
BIN=${MIPBOUND:-target/release/mipbound}
[ -x "$BIN" ] || { echo "build first: cargo build --release (or set MIPBOUND)" >&2; exit 1; }

array=$(sbatch --parsable \
    --job-name=mipbound-study \
    --array=0-$((SHARDS - 1)) \
    --cpus-per-task=4 --mem=8G --time=24:00:00 \
    --output=slurm-%A_%a.out \
    --wrap="$BIN study $CONFIG --shard \${SLURM_ARRAY_TASK_ID}/$SHARDS --threads \${SLURM_CPUS_PER_TASK}")

OUT=$(sed -n 's/^out *= *"\(.*\)".*/\1/p' "$CONFIG")
sbatch --dependency=afterok:"$array" \
    --job-name=mipbound-summary --cpus-per-task=1 --mem=2G --time=1:00:00 \
    --output=slurm-%j-summary.out \
    --wrap="$BIN merge $OUT --out $OUT && $BIN study $CONFIG --summarize-only"
echo "submitted array job $array ($SHARDS shards) and the summary job after it"
