#!/usr/bin/env bash
# Regenerates everything in samples/ with the shipped models (the default, v2, unless named; run from the
# repo root of a clone: the model v2 comparison reads data/, which lives beside the package, and needs the
# eval extra).
set -euo pipefail
cd "$(dirname "$0")/.."
for seed in 42 7 2026; do
  terrain-gan generate --seed "$seed" --size 1025 --out "samples/seed${seed}.png" --also preview
done
rm -rf samples/world7
terrain-gan world --seed 7 --tiles 4x4 --tile-size 257 --out samples/world7 --formats png16
terrain-gan eval --out samples/eval  # v2 (the default), v1 and dcgan_seed
# model v2 beside v1 against the v2 training regions: the 64 x 64 table, the large-scale table
# (eval_v2_large.md) and real regions beside generated maps at one scale (real_vs_generated.png)
terrain-gan eval v1 v2 dcgan_seed --dataset data/dem90v2.npz --seed 0 --n 1000 --out samples/eval_v2 \
  --large --large-n 300 --figure samples/real_vs_generated.png
# a sketch (samples/guide_sketch.png: a disc and a line, 64 x 64) steering model v2 (guided_v2.png)
rm -rf samples/.guided && terrain-gan world --seed 3 --tiles 2x2 --tile-size 513 --model v2 \
  --guide samples/guide_sketch.png --out samples/.guided --formats npy
cp samples/.guided/overview.png samples/guided_v2.png && rm -rf samples/.guided
# the 3D viewer on the world (view_world7.png): serve it, screenshot tile 1,1 and its neighbours, stop it
terrain-gan view samples/world7 --port 8765 --no-browser & view=$!
sleep 3
chromium --headless --no-sandbox --disable-gpu --user-data-dir="$(mktemp -d)" --enable-unsafe-swiftshader \
  --use-angle=swiftshader --window-size=1100,640 --virtual-time-budget=30000 \
  --screenshot=samples/view_world7.png 'http://127.0.0.1:8765/#tile=1_1'
kill "$view"  # SIGTERM: a background job of a script ignores SIGINT
