#!/usr/bin/env bash
# Conv configurations against each other on a GPU machine, one build: for each NAME=JSON (a
# ConvConfig over the defaults, as --conv-config takes it): N rounds of whole-epoch runs, alternating
# the configurations (each run two epochs back to back, so the second is what every later epoch of a
# training run costs), then the conv kernel rows of ResNet-20 under each (`bench --only kernels
# --filter conv2d`: ms, GFLOP/s, % of the FMA ceiling per shape). Carry .gpu-kit and dist
# (bench/gpu/pack.sh):
#   EARLY_PHASE_GPU_BUNDLE=$OUT/configs.tar.gz OUT=/tmp/gpu-out bash bench/gpu/configs.sh N NAME=JSON NAME=JSON...
# `h100` names setup.sh's H100_CONV_CONFIG. Writes kernels-NAME.json, NAME-K.json, their logs and
# configs.txt (one line per epoch) to $OUT, all bundled.
set -uo pipefail
source "$(dirname "$0")/setup.sh"
bundle_on_exit configs.tar.gz
N=${1:?usage: bash bench/gpu/configs.sh N NAME=JSON [NAME=JSON...]}
shift
[ $# -ge 1 ] || { echo "configs.sh: name at least one NAME=JSON configuration" >&2; exit 2; }
names=()
declare -A cfg
for a in "$@"; do
  name=${a%%=*}
  json=${a#*=}
  [ "$json" = h100 ] && json=$H100_CONV_CONFIG # setup.sh
  [[ "$name" =~ ^[a-z0-9-]+$ ]] || { echo "configs.sh: name '$name' must be lowercase letters, digits or '-'" >&2; exit 2; }
  names+=("$name")
  cfg[$name]=$json
  echo "$name: $json" | tee -a "$OUT/configs.txt"
done
status=0
for k in $(seq 1 "$N"); do
  for name in "${names[@]}"; do
    timeout -k 5 90 node dist/bench.js --json "$OUT/$name-$k.json" --only end-to-end --no-tfjs --no-pytorch --epoch --epochs 2 --conv-config "${cfg[$name]}" >"$OUT/$name-$k.log" 2>&1 || status=1
    node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1])); const e = j.end_to_end;
      console.log(`${process.argv[2]}: epochs ${e.epochs.map((x) => x.seconds.toFixed(3)).join(" ")} s, GPU ${e.gpu_ms_per_step.toFixed(2)} ms/step, ${e.train_images_per_s.toFixed(0)} img/s over 20 steps, first steps ${e.epochs.map((x) => x.step_ms.first3[0].toFixed(1)).join(" ")} ms (${j.git_commit.slice(0, 7)})`)' "$OUT/$name-$k.json" "$name $k" 2>&1 | tee -a "$OUT/configs.txt"
  done
done
# the kernel rows last, on a GPU the epochs have brought to its clocks (first, the first config's
# rows ran 4x slow)
for name in "${names[@]}"; do
  timeout -k 5 120 node dist/bench.js --json "$OUT/kernels-$name.json" --only kernels --filter conv2d --no-profile --conv-config "${cfg[$name]}" >"$OUT/kernels-$name.log" 2>&1 || status=1
done
exit $status
