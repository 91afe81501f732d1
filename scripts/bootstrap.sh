#!/usr/bin/env bash
# Everything a fresh clone needs before it can run: npm packages, the Vulkan loader and Mesa lavapipe
# (scripts/setup-system.sh), and the bundle in dist/. Each step is skipped when already done, so
# `npm start` and `npm test` call this every time.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "early-phase: installing npm packages (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

bash scripts/setup-system.sh

if [ ! -f dist/cli.js ] || [ -n "$(find src bench esbuild.mjs package.json -newer dist/cli.js -print -quit 2>/dev/null)" ]; then
  echo "early-phase: building dist/ (esbuild)" >&2
  node esbuild.mjs --no-types
fi
