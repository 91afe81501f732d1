#!/usr/bin/env bash
# A/B on a GPU machine: whole ResNet-20 epochs of another build (OLD: a folder with dist/, shaders/
# and COMMIT, made here by `bash bench/gpu/ab.sh --pack COMMIT`, which writes out/ab-old) and of this
# checkout's dist/, alternating N times, both under the configuration the autotuner chose on the H100
# (pinned: no search). Carry .gpu-kit, dist and out/ab-old (bench/gpu/pack.sh packs the kit):
#   EARLY_PHASE_GPU_BUNDLE=$OUT/ab.tar.gz OUT=/tmp/gpu-out bash bench/gpu/ab.sh out/ab-old [N]
# Writes old-K.json, new-K.json, their logs and ab.txt (one line per run) to $OUT, all bundled.
set -uo pipefail
if [ "${1:-}" = "--pack" ]; then
  commit=$(git rev-parse "${2:?usage: bash bench/gpu/ab.sh --pack COMMIT}^{commit}")
  root=$(git rev-parse --show-toplevel)
  wt=$(mktemp -d)
  git -C "$root" worktree add -q --detach "$wt" "$commit"
  ln -s "$root/node_modules" "$wt/node_modules"
  (cd "$wt" && node esbuild.mjs --no-types >/dev/null)
  rm -rf "$root/out/ab-old" && mkdir -p "$root/out/ab-old"
  cp -r "$wt/dist" "$wt/shaders" "$root/out/ab-old/"
  echo "$commit" > "$root/out/ab-old/COMMIT"
  git -C "$root" worktree remove --force "$wt"
  du -sh "$root/out/ab-old"
  exit 0
fi
old=${1:?usage: bash bench/gpu/ab.sh OLD_DIR [N]}
old=$(cd "$old" && pwd)
source "$(dirname "$0")/setup.sh"
bundle_on_exit ab.tar.gz
N=${2:-3}
CONFIG=$H100_CONV_CONFIG # setup.sh
epoch() { # NAME K [env...]: one end-to-end bench with an epoch, and its line in ab.txt
  local name=$1 k=$2
  shift 2
  env "$@" timeout -k 5 60 node "${BENCH_JS:?}" --json "$OUT/$name-$k.json" --only end-to-end --no-tfjs --no-pytorch --epoch --conv-config "$CONFIG" >"$OUT/$name-$k.log" 2>&1 || status=1
  node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1])); const e = j.end_to_end;
    console.log(`${process.argv[2]}: epoch ${e.epoch.seconds.toFixed(3)} s, ${e.train_images_per_s.toFixed(0)} img/s over 20 steps, GPU ${e.gpu_ms_per_step.toFixed(2)} ms/step, ${e.dispatches_per_step.toFixed(0)} dispatches (${j.git_commit.slice(0, 7)})`)' "$OUT/$name-$k.json" "$name $k" 2>&1 | tee -a "$OUT/ab.txt"
}
status=0
for k in $(seq 1 "$N"); do
  BENCH_JS=$old/dist/bench.js epoch old "$k" EARLY_PHASE_SHADERS="$old/shaders" EARLY_PHASE_GIT_COMMIT="$(cat "$old/COMMIT")"
  BENCH_JS=dist/bench.js epoch new "$k"
done
exit $status
