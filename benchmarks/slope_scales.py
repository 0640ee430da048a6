"""How steep are a model's windows at the 64² classifier's scale and at the 360 m one, beside real terrain's?

    .venv/bin/python benchmarks/slope_scales.py [MODEL ...] [--n 512] [--dataset data/dem90v2.npz]

One table, one row per set: quantiles (10 / 25 / 50 / 75 / 90 %) over windows of each window's mean
slope in degrees (`eval.metrics.slope_angles`, as the 64² table's slope W1). First 64² windows at
the dataset's cells (what `terrain-gan eval`'s 64² table and C2ST@64 judge), then 256² windows
seen as 4 x 4 block means (`eval.large.coarse_view`, what C2ST@256 judges at 360 m). Real rows: `--n` windows drawn as `terrain-gan eval` draws its reference
(regions in proportion to their windows), and as the v2 levels train (`data.region_weight = "sqrt"`).
Model rows: `--n` windows from random world positions (`world.synth.sample_windows`), seed 4.

The last column, the median over the 256² windows of each one's mean slope at its own cells over
its mean slope at 360 m, says how much of a window's relief lies at scales under 360 m. Model v2's
maps hold as much as real terrain's, but span too narrow a range of steepness (model card,
"Seventeenth round").
"""

from __future__ import annotations

import argparse

import numpy as np

from terrain_gan import load_model
from terrain_gan.dataset.core import load_dataset
from terrain_gan.eval.large import VIEW_FACTOR, coarse_view
from terrain_gan.eval.metrics import slope_angles
from terrain_gan.world import synth

QUANTILES = (10, 25, 50, 75, 90)
SMALL, LARGE = 64, 256


def window_slopes(windows_NxWxW: np.ndarray, cell_size_m: float) -> np.ndarray:
    """Each window's mean slope in degrees over its interior cells."""
    return slope_angles(windows_NxWxW, cell_size_m=cell_size_m).reshape(len(windows_NxWxW), -1).mean(axis=1)


def row(name: str, small_NxSxS: np.ndarray, large_NxLxL: np.ndarray, cell_size_m: float) -> str:
    """One table row: the quantiles of the small windows' slopes, of the large ones' at the view's
    cells, and the median over the large windows of their slope at their cells over that at the view's."""
    fine = window_slopes(small_NxSxS, cell_size_m)
    coarse = window_slopes(coarse_view(large_NxLxL), cell_size_m * VIEW_FACTOR)
    ratio = window_slopes(large_NxLxL, cell_size_m) / np.maximum(coarse, 1e-6)  # the same 256² windows at both scales
    q = lambda s: " | ".join(f"{v:.2f}" for v in np.percentile(s, QUANTILES))  # noqa: E731
    return f"| {name} | {q(fine)} | {q(coarse)} | {np.median(ratio):.2f} |"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="*", default=["v2"])
    p.add_argument("--n", type=int, default=512, help="windows per set and size")
    p.add_argument("--dataset", default="data/dem90v2.npz")
    args = p.parse_args(argv)
    data = load_dataset(args.dataset)
    cell = data.cell_size_m
    view = f"{cell * VIEW_FACTOR:g} m"
    heads = " | ".join(f"{SMALL}² {q} %" for q in QUANTILES) + " | " + " | ".join(f"{view} {q} %" for q in QUANTILES)
    print(f"window mean slope (degrees): {SMALL}² windows at {cell:g} m, and {LARGE}² windows as "
          f"{VIEW_FACTOR} x {VIEW_FACTOR} block means\n")
    print(f"| set | {heads} | {cell:g} m / {view}, median |")
    print("|---|" + "---|" * (2 * len(QUANTILES) + 1))
    for weight in ("windows", "sqrt"):
        small, large = (data.sample_windows(args.n, rng=np.random.default_rng(seed), window=size, region_weight=weight,
                                            augment=False) for seed, size in ((0, SMALL), (1, LARGE)))
        print(row(f"real ({weight})", small, large, cell))
    for name in args.models:
        model = load_model(name)
        if abs(model.cell_size_m - cell) > 1e-6:
            raise SystemExit(f"{name}: cell size {model.cell_size_m} m, the dataset's is {cell} m")
        print(row(name, synth.sample_windows(model, args.n, SMALL, seed=4),
                  synth.sample_windows(model, args.n, LARGE, seed=4), cell))


if __name__ == "__main__":
    main()
