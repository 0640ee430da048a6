"""Drainage measures of real DEM regions beside spectral fBm and generated maps, as one markdown table.

    .venv/bin/python benchmarks/drainage_real.py [DEM ...] [--dataset data/dem90v2.npz ...] [--model v2]
        [--seeds 42 7] [--size 1025]

Each DEM is resampled to 90 m; sea (cells at or below 0 m connected to the map edge) becomes NaN and
drains the land. `--dataset` adds a row for each region of a terrain_gan dataset at 90 m (its sea
already void), such as the v2 training set and its held-out regions. Columns: median depression
fraction over 256 x 256 windows with no NaN (area deeper than 1 m below its pour point), concavity θ
(S = k A^-θ) and Hack exponent h (L = c A^h) over cells draining >= 1 km², and the seconds
`drainage_stats` took. Real rivers: θ ≈ 0.3-0.7, h ≈ 0.5-0.6. After the rows, the range of θ and h
over the real rows: the spread single regions show, which a set's median hides.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from terrain_gan.dataset.core import load_dataset
from terrain_gan.dem import core as dem
from terrain_gan.dem import resample
from terrain_gan.eval import drainage, fbm

CELL_M = 90.0
FBM_BETA = 2.6  # fbm_heightmap's default spectral exponent
FBM_RELIEF_M = 1000.0
LARGE_CHANNELS = 10_000  # channel cells of a region whose θ and h are not a few valleys' (a 1025² map: ~50000)


def _row(name: str, height: np.ndarray) -> tuple[str, drainage.DrainageStats]:
    """One table row (shape, windows, the measures and the time they took) and its measures."""
    start = time.perf_counter()
    stats = drainage.drainage_stats(height, CELL_M)
    seconds = time.perf_counter() - start
    windows = drainage.window_depression_fractions(height, CELL_M).size
    return (f"| {name} | {height.shape[0]}x{height.shape[1]} | {np.isnan(height).mean():.2f} | {windows} | "
            f"{stats.depression_fraction:.4f} | {stats.theta:.2f} | {stats.hack_h:.2f} | "
            f"{stats.channel_cells} | {seconds:.1f} |"), stats


def _real(path: str) -> np.ndarray:
    """A DEM at 90 m with its sea masked to NaN."""
    return dem.mask_sea(resample.resample(dem.read_dem(path), CELL_M).height)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dems", nargs="*", help="real DEM files (any format read_dem reads)")
    parser.add_argument("--dataset", nargs="*", default=[], help="terrain_gan datasets at 90 m: a row per region")
    parser.add_argument("--model", default="v2", help="the model of the generated maps")
    parser.add_argument("--seeds", type=int, nargs="*", default=[42, 7], help="generated-map seeds")
    parser.add_argument("--size", type=int, default=1025, help="side of fBm and generated maps")
    args = parser.parse_args()
    drainage.drainage_stats(np.zeros((8, 8), np.float32), CELL_M)  # compile pyflwdir's numba code first
    print("| map | cells | NaN | windows | depression fraction | θ | h | channel cells | s |")
    print("|---|---|---|---|---|---|---|---|---|")
    real = []

    def show(name, height, is_real=False):
        line, stats = _row(name, height)
        print(line, flush=True)
        if is_real:
            real.append(stats)

    for path in args.dems:
        show(Path(path).name, _real(path), True)
    for path in args.dataset:
        data = load_dataset(path)
        if data.cell_size_m != CELL_M:
            raise SystemExit(f"drainage_real.py: error: {path} has {data.cell_size_m:g} m cells, not {CELL_M:g} m")
        for name, height in zip(data.names, data.heights):
            show(f"{Path(path).stem}: {name}", height, True)
    fbm_height = fbm.fbm_heightmap(args.size, beta=FBM_BETA, seed=0, cell_size_m=CELL_M, relief_m=FBM_RELIEF_M)
    show(f"fBm β={FBM_BETA}, {FBM_RELIEF_M:.0f} m relief", fbm_height)
    if args.seeds:
        import terrain_gan  # JAX only when generated maps are asked for

        for seed in args.seeds:
            hm = terrain_gan.generate(seed=seed, size=args.size, model=args.model)
            assert hm.cell_size_m == CELL_M, hm.cell_size_m
            show(f"{args.model} seed {seed}", hm.height)
    print()
    for least in (1, LARGE_CHANNELS):
        for what, symbol in (("theta", "θ"), ("hack_h", "h")):
            values = np.array([getattr(s, what) for s in real if s.channel_cells >= least])
            values = values[np.isfinite(values)]
            if values.size:
                print(f"{symbol} over the {values.size} real rows with >= {least} channel cells: "
                      f"{values.min():.2f}..{values.max():.2f} (median {np.median(values):.2f})")


if __name__ == "__main__":
    main()
