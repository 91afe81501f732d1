#!/usr/bin/env bash
# The quick-size evidence of docs/results/ (README "Sizes"), in the order it was run. Re-runnable:
# every stage resumes or is skipped when complete. Usage: scripts/evidence-quick.sh OUT_DIR
# docs/results/quick/ keeps its run.log, the runs' JSON files (runs/) and the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/quick}
cli="node dist/cli.js"
$cli quickstart --out "$out"                                   # the quick lottery, k = 16, levels 0-3
for fig in fig1 fig4 fig5 fig6 fig7 fig8; do
  $cli sweep "$fig" --model resnet20 --size quick --out "$out"
done
# Telemetry over the first 256 iterations (4 epochs of a 8,192-image subset would be the same count).
$cli telemetry --model resnet20 --iterations 256 --train-subset 8192 --test-subset 1000 --dense-until 32 --samples-per-decade 12 --sample-test-subset 500 --out "$out"
$cli sweep fig10 --model resnet20 --size quick --out "$out"
$cli sweep fig9 --model resnet20 --size quick --out "$out"
$cli figures --runs "$out" --out "$out/figures"
