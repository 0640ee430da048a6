"""Is a model's latent lattice visible? |second difference| by phase of each lattice, as one table.

    .venv/bin/python benchmarks/lattice_phase.py [MODEL ...] [--seeds 42 7 2026] [--size 1025]

For every model, maps of `--size` samples from world sample (0, 0) (which sits on every lattice) are
pooled, and the mean |second difference| at each phase of a lattice of P samples is divided by the
mean over all phases (`eval.metrics.lattice_phase_profile`). Real terrain, cut at any offset, has a
flat profile; the table gives the lowest and highest ratio per lattice period (target: 0.95-1.05).
Its last row is that floor measured: real windows from `--real` (a dataset), as many samples as the
maps pool (twelve of 513², cut at random places), where any departure from 1 is sampling noise.
Periods: 4 (v2's detail lattice: one condition sample), 16 (v1's latent cell) and 64 (v2's coarse
latent cell).
"""

from __future__ import annotations

import argparse

import numpy as np

from terrain_gan import generate, load_model
from terrain_gan.dataset.core import load_dataset
from terrain_gan.eval.metrics import lattice_phase_profile

PERIODS = (4, 16, 64)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="*", default=["v1", "v2"])
    p.add_argument("--seeds", type=int, nargs="+", default=[42, 7, 2026])
    p.add_argument("--size", type=int, default=1025)
    p.add_argument("--real", default="data/dem90v2.npz", help="dataset of real terrain for the floor row")
    args = p.parse_args(argv)
    print("| model | " + " | ".join(f"period {k}: min..max" for k in PERIODS) + " |")
    print("|---|" + "---|" * len(PERIODS))
    for name in args.models:
        model = load_model(name)
        maps = np.stack([generate(seed=s, size=args.size, model=model).height for s in args.seeds])
        print(f"| {name} | " + " | ".join(_spread(maps, k) for k in PERIODS) + " |")
    size = 513
    count = round(len(args.seeds) * args.size**2 / size**2)
    real = load_dataset(args.real).sample_windows(count, rng=np.random.default_rng(0), window=size, augment=False)
    print(f"| real: {count} windows of {size}² ({args.real}) | " + " | ".join(_spread(real, k) for k in PERIODS) + " |")


def _spread(maps, period: int) -> str:
    prof = lattice_phase_profile(maps, period)
    return f"{prof.min():.3f}..{prof.max():.3f}"


if __name__ == "__main__":
    main()
