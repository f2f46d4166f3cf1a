#!/usr/bin/env bash
# One exact count spread over a Slurm cluster: the plan, a job array of shards, a merge.
# (scripts/slurm-estimate.sh runs this recipe for an estimate's trials; see the end.)
#
#   scripts/slurm-count.sh NET SHARDS OUT [COUNT OPTIONS...]
#   TIME=02:00:00 scripts/slurm-count.sh tests/data/cnn-8x8.onnx 4 runs/cnn
#
#   NET      the network (any format `mipbound count` reads)
#   SHARDS   number of array tasks, one shard of the plan each
#   OUT      a folder on the shared file system (created if missing); everything goes there
#   COUNT OPTIONS  options that change the count (--box, --domain, --lp, --seed, ...): given
#            once here, they go to the plan and to every shard (they are part of the
#            fingerprint, and merge refuses shards that differ)
#
# Environment: TIME, the Slurm time limit of one task (default 24:00:00); SIGNAL_LEAD, how
# many seconds before it the task is told to stop (default 120; Slurm may send the signal
# up to a minute earlier); MIPBOUND, the binary (default target/release/mipbound, else
# mipbound on PATH; it must be reachable from every node); the usual SBATCH_* variables
# for partition, account, memory and CPUs (a task uses SLURM_CPUS_PER_TASK threads).
#
# Steps:
# 1. Here, now: `mipbound count NET --plan OUT/plan.json` cuts the top of the search tree
#    into 4096 subtrees (cheap: seconds), so bad options fail at once. Every shard reads
#    this one list, so the split never depends on LP results that could differ between
#    nodes.
# 2. A job array: task I runs `count NET --plan OUT/plan.json --shard I/SHARDS`, recording
#    finished subtrees in OUT/shard-I-of-SHARDS.json (atomic rewrites as they finish).
#    SIGNAL_LEAD seconds before its time limit Slurm sends the task SIGUSR1
#    (`--signal=B:USR1@...`); the task stops the count with SIGINT (the checkpoint keeps
#    every finished subtree) and requeues itself (`scontrol requeue`); the requeued task
#    resumes (`--resume`). A node failure or SIGKILL loses only the subtrees in progress.
#    Each task's report goes to OUT/task-I.out.
# 3. A merge job depending on the whole array with `afterany` (a requeued task keeps the
#    dependency waiting; a failed one does not block it): `mipbound merge --count` writes
#    the total to OUT/merged.json, or names the shards that are missing or unfinished in
#    OUT/merge.out (exit 2); rerun those tasks with the `rerun` line printed below, then
#    the merge.
#
# Estimates (scripts/slurm-estimate.sh NET SHARDS OUT [ESTIMATE OPTIONS...]): no plan (the
# trials are fixed by the seed, so bad options show in OUT/task-I.out, not here); task I
# runs `estimate NET --shard I/SHARDS` with the same checkpoint, signal and requeue steps (a
# trial cut by the signal runs again on resume), and the merge is `merge --estimate`: the
# bounds of one run with the same options.
set -euo pipefail

KIND=${MIPBOUND_KIND:-count}
case $KIND in
    count | estimate) ;;
    *) echo "slurm-count: MIPBOUND_KIND must be count or estimate, got '$KIND'" >&2; exit 2 ;;
esac

usage() {
    sed -n '2,43p' "$(dirname "$0")/slurm-count.sh" >&2
    exit 2
}
[ $# -ge 3 ] || usage
NET=$1
SHARDS=$2
OUT=$3
shift 3
TIME=${TIME:-24:00:00}
SIGNAL_LEAD=${SIGNAL_LEAD:-120}
if [ -z "${MIPBOUND:-}" ]; then
    MIPBOUND=target/release/mipbound
    [ -x "$MIPBOUND" ] || MIPBOUND=$(command -v mipbound || true)
fi
[ -n "$MIPBOUND" ] && [ -x "$MIPBOUND" ] ||
    { echo "slurm-$KIND: no mipbound binary: cargo build --release, or set MIPBOUND" >&2; exit 2; }
MIPBOUND=$(realpath "$MIPBOUND")
case $SHARDS in
    '' | *[!0-9]* | 0) echo "slurm-$KIND: SHARDS must be a positive integer, got '$SHARDS'" >&2; exit 2 ;;
esac
[ -r "$NET" ] || { echo "slurm-$KIND: cannot read the network $NET" >&2; exit 2; }
command -v sbatch >/dev/null || { echo "slurm-$KIND: sbatch not found (is Slurm installed?)" >&2; exit 2; }

mkdir -p "$OUT"
OUT=$(realpath "$OUT")
NET=$(realpath "$NET")
OPTIONS=""
[ $# -gt 0 ] && OPTIONS=$(printf ' %q' "$@")

if [ "$KIND" = count ]; then
    PLAN=$OUT/plan.json
    if [ ! -f "$PLAN" ]; then
        "$MIPBOUND" count "$NET" "$@" --plan "$PLAN"
    fi
    OPTIONS="$OPTIONS --plan $(printf '%q' "$PLAN")"
fi

# The task runs mipbound in the background so that the batch shell can take SIGUSR1.
TASK=$OUT/task.sh
cat >"$TASK" <<EOF
#!/usr/bin/env bash
# One shard of the $KIND (written by scripts/slurm-$KIND.sh).
set -uo pipefail
I=\${SLURM_ARRAY_TASK_ID:?run as a Slurm array task}
CHECKPOINT=$(printf '%q' "$OUT")/shard-\$I-of-$SHARDS.json
if [ -f "\$CHECKPOINT" ]; then MODE=--resume; else MODE=--checkpoint; fi
echo "task \$I (job \$SLURM_JOB_ID, restart \${SLURM_RESTART_COUNT:-0}): \$MODE \$CHECKPOINT"
$(printf '%q' "$MIPBOUND") $KIND $(printf '%q' "$NET")$OPTIONS --shard "\$I/$SHARDS" \$MODE "\$CHECKPOINT" \\
    --threads "\${SLURM_CPUS_PER_TASK:-1}" &
PID=\$!
requeue() {
    echo "task \$I: time limit near; stopping at the next node and requeueing"
    kill -INT \$PID
    wait \$PID
    scontrol requeue "\${SLURM_ARRAY_JOB_ID}_\$I"
    exit 0
}
trap requeue USR1
# When USR1 arrives, wait returns at once and the trap runs (and exits).
wait \$PID
EOF
chmod +x "$TASK"

ARRAY=$(sbatch --parsable --job-name=mipbound-$KIND --array=0-$((SHARDS - 1)) \
    --time="$TIME" --signal=B:USR1@"$SIGNAL_LEAD" --requeue --open-mode=append \
    --output="$OUT/task-%a.out" "$TASK")
ARRAY=${ARRAY%%;*}
MERGE=$(sbatch --parsable --job-name=mipbound-merge --dependency=afterany:"$ARRAY" \
    --output="$OUT/merge.out" \
    --wrap="$(printf '%q' "$MIPBOUND") merge --$KIND --json $(printf '%q' "$OUT")/shard-*-of-$SHARDS.json > $(printf '%q' "$OUT/merged.json")")
MERGE=${MERGE%%;*}

[ "$KIND" = count ] && echo "plan    $PLAN"
echo "array   job $ARRAY: $SHARDS tasks, time limit $TIME each; reports in $OUT/task-*.out"
echo "merge   job $MERGE after the array (afterany): $OUT/merged.json, messages in $OUT/merge.out"
echo "rerun   sbatch --array=I --time=$TIME --signal=B:USR1@$SIGNAL_LEAD --requeue --open-mode=append --output=$OUT/task-%a.out $TASK"
