#!/usr/bin/env bash
# The H100 targets' two figures again, repeated and alternating on one GPU machine: N whole
# 50,000-image ResNet-20 epochs of ours (`bench --only end-to-end --epoch`, under the configuration
# the autotuner chose on the H100, pinned so that no search runs) and N of PyTorch's
# (bench/pytorch_resnet20.py --epoch, fp32 eager, TF32 off). Carry .gpu-kit and dist
# (bench/gpu/pack.sh). Writes to $OUT: ours-K.json, pytorch-K.json, epochs.txt (one line per run),
# and all of them in epochs.tar.gz:
#   EARLY_PHASE_GPU_BUNDLE=$OUT/epochs.tar.gz OUT=/tmp/gpu-out bash bench/gpu/epochs.sh [N]
# Each run is bounded (60 s), N = 3 took about 2 minutes on an H100.
set -uo pipefail
source "$(dirname "$0")/setup.sh"
bundle_on_exit epochs.tar.gz
N=${1:-3}
CONFIG=$H100_CONV_CONFIG # setup.sh
status=0
for k in $(seq 1 "$N"); do
  timeout -k 5 60 node dist/bench.js --json "$OUT/ours-$k.json" --only end-to-end --no-tfjs --no-pytorch --epoch --conv-config "$CONFIG" >"$OUT/ours-$k.log" 2>&1 || status=1
  node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1])); const e = j.end_to_end;
    console.log(`ours ${process.argv[2]}: epoch ${e.epoch.seconds.toFixed(3)} s, ${e.train_images_per_s.toFixed(0)} img/s over 20 steps`)' "$OUT/ours-$k.json" "$k" 2>&1 | tee -a "$OUT/epochs.txt"
  timeout -k 5 60 "$EARLY_PHASE_PYTHON" bench/pytorch_resnet20.py --device cuda --epoch --json "$OUT/pytorch-$k.json" >"$OUT/pytorch-$k.log" 2>&1 || status=1
  node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
    console.log(`pytorch ${process.argv[2]}: epoch ${j.epoch_s.toFixed(3)} s, ${j.train_images_per_s.toFixed(0)} img/s over 20 steps`)' "$OUT/pytorch-$k.json" "$k" 2>&1 | tee -a "$OUT/epochs.txt"
done
exit $status
