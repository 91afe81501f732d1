# Sourced by the scripts in bench/gpu/ on a GPU machine (the device tool's, which has no Node and no
# Vulkan loader): checks the carried kit, unpacks the Vulkan loader, glvnd, Node and the packages
# bench.js loads, points Vulkan at the NVIDIA driver, and sets OUT (the device tool's output folder;
# out/gpu otherwise). Leaves the shell in the repository root.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
OUT=${OUT:-$root/out/gpu}
mkdir -p "$OUT"
kit=.gpu-kit
[ -d "$kit" ] || { echo "no $kit here: run bash bench/gpu/pack.sh on the build machine and carry .gpu-kit and dist" >&2; exit 2; }
[ -f dist/bench.js ] || { echo "no dist/bench.js: carry dist (bench/gpu/pack.sh builds it)" >&2; exit 2; }

# The Vulkan loader (libvulkan.so.1) and glvnd (libGLdispatch.so.0, without which the NVIDIA ICD
# libGLX_nvidia.so.0 does not load: "Could not get 'vkCreateInstance'"), unless the machine has them
if ! ldconfig -p | grep -q 'libvulkan\.so\.1' || ! ldconfig -p | grep -q 'libGLdispatch\.so\.0'; then
  for f in "$kit"/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd"; break; fi
done
# Node and the two native / ESM packages bench.js loads at run time
mkdir -p /tmp/ep-node node_modules
xz -dc "$kit/node.xz" > /tmp/ep-node/node
chmod +x /tmp/ep-node/node
export PATH=/tmp/ep-node:$PATH
tar -C node_modules -xJf "$kit/node_modules.tar.xz"
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp/xdg-runtime}
mkdir -p "$XDG_RUNTIME_DIR"
export EARLY_PHASE_GIT_COMMIT=$(cat "$kit/COMMIT")
export EARLY_PHASE_PYTHON=${EARLY_PHASE_PYTHON:-python3}
# On exit, everything under $OUT also goes into one gzipped tar, $EARLY_PHASE_GPU_BUNDLE if set, else
# $OUT/$1: the device tool returns at most 8 files, so call a script as
#   EARLY_PHASE_GPU_BUNDLE=$OUT/NAME.tar.gz OUT=/tmp/gpu-out bash bench/gpu/SCRIPT.sh
bundle_on_exit() {
  EARLY_PHASE_GPU_BUNDLE=${EARLY_PHASE_GPU_BUNDLE:-$OUT/$1}
  trap 'tar -C "$OUT" --exclude="$(basename "$EARLY_PHASE_GPU_BUNDLE")" -czf /tmp/gpu-bundle.tar.gz . && mv /tmp/gpu-bundle.tar.gz "$EARLY_PHASE_GPU_BUNDLE"' EXIT
}
# The conv configuration measured best on an H100 by hand (weight_grad_sweep.sh and whole epochs),
# which the autotuner's step search also chose there (2026-11-26, docs/results/h100-gpu-check-5401acf.log; again at b526ebf, h100-gpu-check.log),
# with rowScatter false since (configs.sh: the strided input gradients 3% of a step faster): the
# scripts pin it with --conv-config so that no search runs
H100_CONV_CONFIG='{"weightGradChunk":128,"reduceLanes":32,"rowCols":4,"rowRows":1,"rowChannels":8,"pointwise":true,"pointwiseChannels":8,"rowScatter":false,"weightGradChannels1x1":16}'
