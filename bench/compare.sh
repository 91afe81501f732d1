#!/usr/bin/env bash
# Back-to-back end-to-end comparison of this checkout against another commit:
#   bash bench/compare.sh COMMIT [RUNS] [extra bench flags...]
# builds COMMIT in a temporary git worktree (sharing this checkout's node_modules) and this checkout,
# then alternates `node dist/bench.js --only end-to-end --no-tfjs` between the two RUNS times
# (default 2). On a shared VM, single runs land 5-15% apart minutes apart, so only runs made
# alternately, back to back, compare two versions fairly. Prints one line per run; its loss is the
# bench's fingerprint (the timed steps always start from the same state): the same digits on both
# sides mean the same bits (with the same kernel configuration: pass --no-autotune or --conv-config).
set -euo pipefail
ref=${1:?usage: bash bench/compare.sh COMMIT [RUNS] [extra bench flags...]}
runs=${2:-2}
shift $(( $# >= 2 ? 2 : 1 ))
root=$(git rev-parse --show-toplevel)
ref_short=$(git -C "$root" rev-parse --short "$ref^{commit}")
head_short=$(git -C "$root" rev-parse --short HEAD)
[ -n "$(git -C "$root" status --porcelain --untracked-files=no)" ] && head_short="$head_short+changes"
tmp=$(mktemp -d)
cleanup() {
  git -C "$root" worktree remove --force "$tmp/ref" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
git -C "$root" worktree add -q --detach "$tmp/ref" "$ref_short"
ln -s "$root/node_modules" "$tmp/ref/node_modules"
echo "building $ref_short (worktree) and $head_short (this checkout)"
(cd "$tmp/ref" && node esbuild.mjs >/dev/null)
(cd "$root" && node esbuild.mjs >/dev/null)
for i in $(seq 1 "$runs"); do
  for side in ref head; do
    if [ "$side" = ref ]; then dir="$tmp/ref"; name=$ref_short; else dir=$root; name=$head_short; fi
    out=$(cd "$dir" && node dist/bench.js --only end-to-end --no-tfjs "$@" 2>&1 | grep -E '^  (train|eval):' | sed 's/^ *//' | tr '\n' ' ')
    echo "run $i  $name: ${out:-no result (run the bench there by hand to see why)}"
  done
done
