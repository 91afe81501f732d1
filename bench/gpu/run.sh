#!/usr/bin/env bash
# `npm run bench` on a GPU machine, next to PyTorch on the same GPU: run from the repository root on
# the machine, with .gpu-kit/ (bench/gpu/pack.sh) and dist/ carried there. Writes to $OUT (the
# device tool's output folder; out/gpu otherwise):
#   bench-gpu.json, bench-gpu.log     node dist/bench.js --json --epoch (ceilings, every kernel, end to
#                                     end with one whole 50,000-image epoch, and bench's own PyTorch
#                                     child on CUDA), extra arguments passed on
#   pytorch-epoch.json                bench/pytorch_resnet20.py --epoch: one full 50,000-image epoch
#   gpu-check.json, gpu-check.log     node dist/gpu-check.js: every ResNet-20 conv shape against the float64
#                                     references, and training bits reproducible (before any timing)
#   bench-gpu-pinned.json, .log       end to end again (epoch included) under the best configuration
#                                     measured by hand on an H100 (PINNED below), beside the autotuned one
#   bench-gpu-pinned-noreplay.json    the same with EARLY_PHASE_REPLAY=0: every step recorded afresh, the
#                                     CPU cost the step replay (src/train/train_step.ts) removes
#   bench-gpu-pinned-direct.json      the pinned configuration with direct loads (rowDirectWeights,
#                                     weightGradDirectDy: every lane loads weights / dy itself instead of
#                                     subgroup broadcasts; 4-5x slower on lavapipe, meant for GPUs)
#   bench-gpu-pinned-cols8.json,      the pinned configuration with 8-column forward tiles (rowCols 8, each
#   bench-gpu-pinned-cols8-direct.json  weight broadcast or load feeding two multiply-adds; lavapipe's
#                                     default since 2026-11-26; 4% slower on the H100), with broadcasts
#                                     and with direct loads
#   bench-wrn-vgg.json, .log          the kernel shapes of WRN-16-8 and VGG-13 (one pass, no end to end)
#   setup.txt                         GPU, driver, Vulkan ICD and the kit's commit
#   gpu-results.tar.gz                all of the above in one file, written on exit (to
#                                     $EARLY_PHASE_GPU_BUNDLE if set): the device tool returns at most
#                                     8 files, and this run writes about 20, so call it there as
#     EARLY_PHASE_GPU_BUNDLE=$OUT/gpu-results.tar.gz OUT=/tmp/gpu-out bash bench/gpu/run.sh
# Each step is bounded (9 minutes in all, to fit one 10-minute device call; the whole run took
# 151 s on an H100, the autotune search included), so one step's failure or time-out still leaves
# the others' files.
set -uo pipefail
source "$(dirname "$0")/setup.sh"
bundle_on_exit gpu-results.tar.gz

{
  echo "commit: $EARLY_PHASE_GIT_COMMIT"
  echo "node: $(node -v)"
  echo "VK_DRIVER_FILES: ${VK_DRIVER_FILES:-unset}"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || true
  "$EARLY_PHASE_PYTHON" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())' 2>&1 || true
  # Does the NVIDIA Vulkan driver initialise at all? On the H200 machine of 2026-11-26 (Firecracker,
  # kernel 6.18.44-fc-v657-gpu, no nvidia-modeset module) it did not: its
  # vk_icdNegotiateLoaderICDInterfaceVersion returned -3 (VK_ERROR_INITIALIZATION_FAILED), so the
  # loader reports "Could not get 'vkCreateInstance'" and Dawn finds no adapter. Another H200 machine
  # later that day did initialise it and ran bench/gpu/ab.sh (docs/results/h200-ab-bn-onepass).
  "$EARLY_PHASE_PYTHON" -c 'import ctypes; v = ctypes.c_uint32(5); print("nvidia vulkan icd negotiate:", ctypes.CDLL("libGLX_nvidia.so.0").vk_icdNegotiateLoaderICDInterfaceVersion(ctypes.byref(v)), "(0 = ok, -3 = initialization failed), interface", v.value)' 2>&1 || true
  grep -c nvidia_modeset /proc/modules | sed 's/^/nvidia_modeset modules loaded: /'
} | tee "$OUT/setup.txt"

status=0
pytorch_epoch() { timeout -k 5 60 "$EARLY_PHASE_PYTHON" bench/pytorch_resnet20.py --device cuda --epoch --json "$OUT/pytorch-epoch.json" 2>&1 | tail -25; }
PINNED=$H100_CONV_CONFIG
PINNED_DIRECT="${PINNED%\}},\"rowDirectWeights\":true,\"weightGradDirectDy\":true}"
PINNED_COLS8="${PINNED/\"rowCols\":4/\"rowCols\":8}"
PINNED_COLS8_DIRECT="${PINNED_DIRECT/\"rowCols\":4/\"rowCols\":8}"
# gpu-check runs the autotune search first (once per machine): log every candidate's time
EARLY_PHASE_AUTOTUNE_VERBOSE=1 timeout -k 5 60 node dist/gpu-check.js --json "$OUT/gpu-check.json" 2>&1 | tee "$OUT/gpu-check.log" || status=1
# no adapter: the timings cannot run either; PyTorch still can
if grep -q 'No WebGPU adapter' "$OUT/gpu-check.log"; then
  echo "no WebGPU adapter on this machine: skipping the WebGPU bench" >&2
  pytorch_epoch
  exit 3
fi
timeout -k 5 300 node dist/bench.js --json "$OUT/bench-gpu.json" --no-tfjs --epoch "$@" 2>&1 | tee "$OUT/bench-gpu.log" || status=1
timeout -k 5 60 node dist/bench.js --json "$OUT/bench-gpu-pinned.json" --only end-to-end --no-tfjs --no-pytorch --epoch --conv-config "$PINNED" 2>&1 | tee "$OUT/bench-gpu-pinned.log" || status=1
timeout -k 5 60 node dist/bench.js --json "$OUT/bench-gpu-pinned-direct.json" --only end-to-end --no-tfjs --no-pytorch --epoch --conv-config "$PINNED_DIRECT" 2>&1 | tee "$OUT/bench-gpu-pinned-direct.log" || status=1
timeout -k 5 60 node dist/bench.js --json "$OUT/bench-gpu-pinned-cols8.json" --only end-to-end --no-tfjs --no-pytorch --epoch --conv-config "$PINNED_COLS8" 2>&1 | tee "$OUT/bench-gpu-pinned-cols8.log" || status=1
timeout -k 5 60 node dist/bench.js --json "$OUT/bench-gpu-pinned-cols8-direct.json" --only end-to-end --no-tfjs --no-pytorch --epoch --conv-config "$PINNED_COLS8_DIRECT" 2>&1 | tee "$OUT/bench-gpu-pinned-cols8-direct.log" || status=1
EARLY_PHASE_REPLAY=0 timeout -k 5 60 node dist/bench.js --json "$OUT/bench-gpu-pinned-noreplay.json" --only end-to-end --no-tfjs --no-pytorch --epoch --conv-config "$PINNED" 2>&1 | tee "$OUT/bench-gpu-pinned-noreplay.log" || status=1
pytorch_epoch || status=1
timeout -k 5 60 node dist/bench.js --json "$OUT/bench-wrn-vgg.json" --only kernels --models wrn16_8,vgg13 --passes 1 --no-profile 2>&1 | tee "$OUT/bench-wrn-vgg.log" || status=1
exit $status
