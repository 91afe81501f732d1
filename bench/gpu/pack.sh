#!/usr/bin/env bash
# Pack what `bench/gpu/run.sh` needs on a GPU machine that has no Node and no Vulkan loader (the
# `device` tool's machines): this machine's Node binary, the webgpu (Dawn, linux-x64 only) and
# wgsl_reflect packages, Debian's libvulkan1, and the commit. Writes .gpu-kit/ (git-ignored, about
# 35 MiB); carry it together with dist/ (built here by this script):
#   bash bench/gpu/pack.sh
#   device run, carry [".gpu-kit", "dist"]:  bash bench/gpu/run.sh
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
kit=.gpu-kit
[ -d node_modules/webgpu ] || bash scripts/bootstrap.sh
node esbuild.mjs --no-types
rm -rf "$kit"
mkdir -p "$kit"
xz -T0 -6 -c "$(command -v node)" > "$kit/node.xz"
tar -C node_modules -cJf "$kit/node_modules.tar.xz" \
  --exclude='webgpu/dist/darwin-*' --exclude='webgpu/dist/win32-*' --exclude='webgpu/dist/linux-arm64' \
  webgpu wgsl_reflect
# the Vulkan loader for amd64, whatever this machine is (the device machines are x86-64)
lists=$(mktemp -d)
mkdir -p "$lists/partial"
apt_amd64=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists="$lists")
apt-get "${apt_amd64[@]}" update -qq >/dev/null 2>&1
# and glvnd, which the NVIDIA Vulkan driver (libGLX_nvidia.so.0) needs to load
(cd "$kit" && apt-get "${apt_amd64[@]}" download -qq libvulkan1 libglvnd0 libgl1 libglx0 libegl1 libgles2 libopengl0 >/dev/null 2>&1)
rm -rf "$lists"
commit=$(git rev-parse HEAD)
[ -z "$(git status --porcelain --untracked-files=no)" ] || commit="$commit-dirty"
echo "$commit" > "$kit/COMMIT"
node -p 'process.version' > "$kit/NODE_VERSION"
du -sh "$kit" dist
echo "packed $kit for commit $commit"
