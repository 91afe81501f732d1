#!/usr/bin/env bash
# The weight-gradient kernels of ResNet-20 on a GPU machine under pinned conv configurations (no
# autotune): split-K chunk x reduce lanes, and the pass-1 tile shape. One bench process per
# configuration, kernels only. Run like run.sh (carry .gpu-kit and dist); writes
# $OUT/weight-grad-sweep.log.
set -uo pipefail
source "$(dirname "$0")/setup.sh"
configs=(
  '{}'
  '{"weightGradChunk":128,"reduceLanes":32}'
  '{"weightGradChunk":256,"reduceLanes":32}'
  '{"weightGradChunk":512,"reduceLanes":8}'
  '{"weightGradChunk":4096}'
  '{"weightGradRows":1,"weightGradChannels":8}'
  '{"weightGradRows":1,"weightGradChannels":8,"weightGradChunk":128,"reduceLanes":32}'
)
for c in "${configs[@]}"; do
  echo "== --conv-config $c"
  timeout -k 5 40 node dist/bench.js --only kernels --filter 'weight_grad' --passes 1 --reps 5 --no-profile --conv-config "$c" 2>&1 \
    | grep -E '^resnet20 +conv2d.weight_grad|configuration|Error'
done 2>&1 | tee "$OUT/weight-grad-sweep.log"
