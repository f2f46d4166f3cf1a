#!/usr/bin/env bash
# Counts the regions of one network on a Slurm cluster: a plan job, a job array of N shards,
# then a merge job.
#
#   scripts/slurm-count.sh NET SHARDS OUT [COUNT OPTIONS...]
#   scripts/slurm-count.sh tests/data/cnn-8x8.onnx 4 runs/cnn --box 0,1
#
# OUT must be on a shared file system. The jobs:
# 1. plan:  `count NET --plan OUT/plan.json` (the top of the search tree, cut into 4096
#           subtrees: cheap). Every shard reads this one list.
# 2. array: task I runs `count NET --plan OUT/plan.json --shard I/N`, recording finished
#           subtrees in OUT/shard-I-of-N.json as they finish (atomic rewrites). Slurm sends
#           SIGUSR1 (--signal) SIGNAL_LEAD seconds before the time limit; the task then
#           stops the count (SIGINT: the checkpoint keeps every finished subtree) and
#           requeues itself; the requeued task resumes with --resume. A task killed outright
#           loses only the subtrees in progress: resubmitting it resumes as well.
# 3. merge: after the whole array (afterany, so that it also runs when shards failed),
#           `merge --count` writes the total to OUT/merged.json, or names the shards that
#           are missing or unfinished (then resubmit those tasks and run the merge again).
# COUNT OPTIONS (e.g. --box, --domain, --seed, --lp) go to the plan and to every shard:
# they are part of the fingerprint, and merge refuses shards that differ.
# Adjust the resources below (or with SBATCH_* environment variables) to your cluster.
set -euo pipefail
NET=${1:?usage: slurm-count.sh NET SHARDS OUT [COUNT OPTIONS...]}
SHARDS=${2:?usage: slurm-count.sh NET SHARDS OUT [COUNT OPTIONS...]}
OUT=${3:?usage: slurm-count.sh NET SHARDS OUT [COUNT OPTIONS...]}
shift 3
BIN=$(realpath "${MIPBOUND:-target/release/mipbound}")
[ -x "$BIN" ] || { echo "build first: cargo build --release (or set MIPBOUND)" >&2; exit 1; }
TIME=${TIME:-24:00:00}          # per task
SIGNAL_LEAD=${SIGNAL_LEAD:-120} # seconds before the time limit
NET=$(realpath "$NET")
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
EXTRA=$(printf ' %q' "$@")

cat > "$OUT/shard-task.sh" <<TASK
#!/usr/bin/env bash
# One shard of the count (written by slurm-count.sh).
set -uo pipefail
I=\${SLURM_ARRAY_TASK_ID:?run as a Slurm array task}
CK="$OUT/shard-\$I-of-$SHARDS.json"
if [ -f "\$CK" ]; then MODE=(--resume "\$CK"); else MODE=(--checkpoint "\$CK"); fi
"$BIN" count "$NET" --plan "$OUT/plan.json" --shard "\$I/$SHARDS" "\${MODE[@]}" \\
    --threads "\${SLURM_CPUS_PER_TASK:-1}" --json$EXTRA > "$OUT/shard-\$I-of-$SHARDS.out.json" &
pid=\$!
# Near the time limit: stop the count cleanly, then come back and resume.
trap 'kill -INT \$pid; wait \$pid; scontrol requeue "\$SLURM_JOB_ID"; exit 0' USR1
wait \$pid
TASK
chmod +x "$OUT/shard-task.sh"

plan=$(sbatch --parsable --job-name=mipbound-plan --cpus-per-task=1 --mem=4G --time=1:00:00 \
    --output="$OUT/slurm-%j-plan.out" \
    --wrap="$BIN count $NET --plan $OUT/plan.json$EXTRA")
array=$(sbatch --parsable --dependency=afterok:"$plan" \
    --job-name=mipbound-count --array=0-$((SHARDS - 1)) \
    --cpus-per-task=4 --mem=4G --time="$TIME" \
    --requeue --signal=B:USR1@"$SIGNAL_LEAD" \
    --output="$OUT/slurm-%A_%a.out" --open-mode=append \
    "$OUT/shard-task.sh")
merge=$(sbatch --parsable --dependency=afterany:"$array" \
    --job-name=mipbound-merge --cpus-per-task=1 --mem=2G --time=1:00:00 \
    --output="$OUT/slurm-%j-merge.out" \
    --wrap="$BIN merge --count --json $OUT/shard-*-of-$SHARDS.json > $OUT/merged.json")
echo "submitted plan job $plan, array job $array ($SHARDS shards) and merge job $merge"
