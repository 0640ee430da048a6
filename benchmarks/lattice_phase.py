"""Is a model's latent lattice visible? |second difference| by phase of each lattice, as one table.

    .venv/bin/python benchmarks/lattice_phase.py [MODEL ...] [--seeds 42 7 2026] [--size 1025]

For every model, maps of `--size` samples from world sample (0, 0) (which sits on every lattice) are
pooled, and the mean |second difference| at each phase of a lattice of P samples is divided by the
mean over all phases (`eval.metrics.lattice_phase_profile`). Real terrain, cut at any offset, has a
flat profile; the table gives the lowest and highest ratio per lattice period (target: 0.95-1.05).
Periods: 4 (v2's detail lattice: one condition sample), 16 (v1's latent cell) and 64 (v2's coarse
latent cell).
"""

from __future__ import annotations

import argparse

import numpy as np

from terrain_gan import generate, load_model
from terrain_gan.eval.metrics import lattice_phase_profile

PERIODS = (4, 16, 64)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="*", default=["default", "v2"])
    p.add_argument("--seeds", type=int, nargs="+", default=[42, 7, 2026])
    p.add_argument("--size", type=int, default=1025)
    args = p.parse_args(argv)
    print("| model | " + " | ".join(f"period {k}: min..max" for k in PERIODS) + " |")
    print("|---|" + "---|" * len(PERIODS))
    for name in args.models:
        model = load_model(name)
        maps = np.stack([generate(seed=s, size=args.size, model=model).height for s in args.seeds])
        cells = []
        for k in PERIODS:
            prof = lattice_phase_profile(maps, k)
            cells.append(f"{prof.min():.3f}..{prof.max():.3f}")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
