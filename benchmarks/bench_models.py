"""Generation speed of the shipped models side by side, in one run: seconds per chunk and per megasample.

    .venv/bin/python benchmarks/bench_models.py [MODEL ...] [--repeats 7]

Each model's chunk program (256 x 256 output samples, the unit every map and world is made of) is
compiled first, then timed over `--repeats` chunks at different lattice positions, interleaved
between models so that load on a shared machine hits them alike. Prints best and median
milliseconds per chunk, megasamples per second, and each model's median relative to the first.
"""

from __future__ import annotations

import argparse
import statistics
import time

from terrain_gan import pretrained
from terrain_gan.world import synth


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="*", default=["default", "v2"], help="shipped names or weights paths")
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args(argv)
    caches = {}
    for name in args.models:
        cache = synth.ChunkCache(pretrained.load_model(name), seed=1, capacity=1)
        cache.chunk(-100, -100)  # compiles
        caches[name] = cache
    times = {name: [] for name in args.models}
    for r in range(args.repeats):
        for name, cache in caches.items():
            t0 = time.perf_counter()
            cache.chunk(r, 3 * r + 1)
            times[name].append(time.perf_counter() - t0)
    base = statistics.median(times[args.models[0]])
    print(f"| model | best ms / chunk | median ms / chunk | Msamples/s (median) | median vs {args.models[0]} |")
    print("|---|---|---|---|---|")
    for name, t in times.items():
        med = statistics.median(t)
        print(f"| {name} | {1e3 * min(t):.0f} | {1e3 * med:.0f} | {synth.CHUNK ** 2 / med / 1e6:.2f} | "
              f"{med / base:.2f}x |")


if __name__ == "__main__":
    main()
