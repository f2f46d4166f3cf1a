#!/usr/bin/env bash
# One estimate's trials spread over a Slurm cluster: a job array of trial shards, then
# `merge --estimate`. The recipe, its options and its environment are those of
# scripts/slurm-count.sh (see its header), without the plan.
#
#   scripts/slurm-estimate.sh NET SHARDS OUT [ESTIMATE OPTIONS...]
#   TIME=04:00:00 scripts/slurm-estimate.sh net.onnx 8 runs/est --trials 200 --xor 3,4
exec env MIPBOUND_KIND=estimate bash "$(dirname "$0")/slurm-count.sh" "$@"
