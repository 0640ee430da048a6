#!/usr/bin/env bash
# Regenerates everything in samples/ with the shipped default model (run from the repo root).
set -euo pipefail
cd "$(dirname "$0")/.."
for seed in 42 7 2026; do
  terrain-gan generate --seed "$seed" --size 1025 --out "samples/seed${seed}.png" --also preview
done
rm -rf samples/world7
terrain-gan world --seed 7 --tiles 4x4 --tile-size 257 --out samples/world7 --formats png16
terrain-gan eval default dcgan_seed --out samples/eval
