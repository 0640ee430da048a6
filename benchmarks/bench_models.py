"""Generation speed of the shipped models side by side, in one run: seconds per chunk and per megasample.

    .venv/bin/python benchmarks/bench_models.py [MODEL ...] [--repeats 7]

Each model's programs are compiled first, then timed `--repeats` times, interleaved between models
so that load on a shared machine hits them alike, in three ways:

- a map: a 1024 x 1024 region (4 x 4 chunks of 256 x 256 samples, the unit every map and world is
  made of) from a new world each time, as `generate` makes it; per chunk;
- a world: a 2048 x 2048 region (8 x 8 chunks), as `world` makes (about) 4 x 4 tiles of 513 samples in
  one process; per chunk;
- random access: one chunk alone at a new place of a new world (a cascade then computes the layout
  around it, which a map shares between its chunks).

Prints best and median milliseconds per chunk, megasamples per second, and each model's median
relative to the first.
"""

from __future__ import annotations

import argparse
import statistics
import time

from terrain_gan import pretrained
from terrain_gan.world import synth

MAP = 4 * synth.CHUNK  # samples per side of a map


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="*", default=["v1", "v2"], help="shipped names or weights paths")
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args(argv)
    models = {name: pretrained.load_model(name) for name in args.models}
    for model in models.values():
        synth.ChunkCache(model, seed=1).region(0, 0, 2 * synth.CHUNK, 2 * synth.CHUNK)  # compiles
    ways = {"map": MAP, "world": 2 * MAP, "random access": synth.CHUNK}  # samples per side
    chunks = {way: (side // synth.CHUNK) ** 2 for way, side in ways.items()}
    times = {(way, name): [] for way in ways for name in models}
    for r in range(args.repeats):
        for way, side in ways.items():
            for name, model in models.items():
                cache = synth.ChunkCache(model, seed=r + 2)  # a new world
                at = r * synth.CHUNK if way == "random access" else 0  # one chunk alone: a new place too
                t0 = time.perf_counter()
                cache.region(at, 3 * at, side, side)
                times[way, name].append((time.perf_counter() - t0) / chunks[way])
    print(f"| way | model | best ms / chunk | median ms / chunk | Msamples/s (median) | median vs {args.models[0]} |")
    print("|---|---|---|---|---|---|")
    for (way, name), t in times.items():
        med, base = statistics.median(t), statistics.median(times[way, args.models[0]])
        print(f"| {way} | {name} | {1e3 * min(t):.0f} | {1e3 * med:.0f} | {synth.CHUNK ** 2 / med / 1e6:.2f} | "
              f"{med / base:.2f}x |")


if __name__ == "__main__":
    main()
