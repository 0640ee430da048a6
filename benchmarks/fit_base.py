"""Fit the detail level's "fitted" and "even" bases (`nn/cascade.FITTED_WEIGHTS`, `EVEN_WEIGHTS`) to real terrain, and compare bases, as one table.

    .venv/bin/python benchmarks/fit_base.py [--dataset data/dem90v2.npz] [--holdout data/holdout90.npz]
                                            [--n 150] [--seed 1] [--flatness 1.0] [--lobe 0.073] [--rough R]

Model v2's detail level adds a learned residual to an x4 interpolation of its 360 m condition, the
4 x 4 block means of the 90 m heights. Keys cubic interpolation passes through the block means with
its curvature gathered at them: its mean |second difference| by phase of the 4-sample lattice is
0.68-1.32 of its mean, and half of a map's |second difference| is the base's (model card, ninth
round). This script fits six taps per phase instead, mirror symmetric (phases 3 and 2 are phases 0
and 1 reversed), reproducing constants and ramps, to minimise

    (RMSE of the base against the real windows)^2 / 100 + flatness * 100 * mean((profile - 1)^2)
        + 1e4 * sum(max(0, -lobe - weight)^2) + 100 * max(0, d2 - rough * d2_keys)^2

over `--n` real 96² windows of `--dataset` (Powell, from Lanczos-3), where the profile is
`eval.metrics.lattice_phase_profile`. The third term keeps every weight above -lobe: Keys cubic's
deepest is -0.073. Without it the fit sharpens (weights down to -0.24, a step overshoots by 19 %),
and on generated layouts the base rings beside the coarse level's one-cell eroded channels (model
card, fourteenth round). The last term, with `--rough R`, keeps the base's mean |second difference|
d2 along rows within R times Keys cubic's on the fitting windows: `--rough 1` fits the "even" base,
an even profile no rougher than Keys (model card, sixteenth round). It prints the weights in
`FITTED_WEIGHTS`' layout and, for Keys, Lanczos-3, the new fit and the weights in the code now: the
profile's range, the mean |second difference| along rows and the RMSE, on the fitting windows and on
windows of the held-out regions. About 5 minutes on two cores.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.optimize import minimize

from terrain_gan.dataset.core import load_dataset
from terrain_gan.eval.metrics import lattice_phase_profile
from terrain_gan.nn import cascade

TRIM = cascade.DetailGenerator.MARGIN


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="data/dem90v2.npz", help="real terrain the weights are fitted on")
    p.add_argument("--holdout", default="data/holdout90.npz", help="real terrain they are checked on")
    p.add_argument("--n", type=int, default=150, help="96² windows to fit on (300 are checked on)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--flatness", type=float, default=1.0, help="weight of the profile's departure from 1")
    p.add_argument("--lobe", type=float, default=0.073, help="no weight below -LOBE (Keys cubic: 0.073)")
    p.add_argument("--rough", type=float, default=None,
                   help="no rougher than ROUGH x Keys cubic's mean |second difference| on the fitting windows "
                        "(1.0 fits the \"even\" base; default: no limit, the \"fitted\" base)")
    args = p.parse_args(argv)
    fit_on = _pairs(args.dataset, args.n, args.seed)
    sets = {"fitting windows": fit_on, "held-out regions": _pairs(args.holdout, 300, args.seed + 1)}
    rough_max = np.inf if args.rough is None else args.rough * _measure(cascade.phase_taps("keys"), *fit_on)[1]

    def objective(v):
        taps = _fitted_taps(v)
        profile, d2, rmse = _measure(taps, *fit_on)
        deepest = np.concatenate([w for _, w in taps])
        return (rmse**2 / 100 + args.flatness * 100 * np.mean((profile - 1) ** 2)
                + 100 * max(0.0, d2 - rough_max) ** 2
                + 1e4 * np.sum(np.clip(-args.lobe - deepest, 0, None) ** 2))

    lanczos3 = np.concatenate([_lanczos3(p) for p in (0, 1)])
    fitted = _fitted_taps(minimize(objective, lanczos3, method="Powell", options=dict(maxiter=6000)).x)
    print(("FITTED" if args.rough is None else "EVEN") + "_WEIGHTS = (")
    for _, row in fitted[:2]:
        print("    (" + ", ".join(f"{w:.6f}" for w in row) + "),")
    print(")\n")

    bases = {"Keys cubic": cascade.phase_taps("keys"), "Lanczos-3": _fitted_taps(lanczos3), "fitted now": fitted,
             "FITTED_WEIGHTS (the code)": cascade.phase_taps("fitted"), "EVEN_WEIGHTS (the code)": cascade.phase_taps("even")}
    print("| base | deepest weight | set | profile min..max | mean \\|d2\\| (real) | RMSE m |")
    print("|---|---|---|---|---|---|")
    for name, taps in bases.items():
        deepest = min(min(w) for _, w in taps)
        for label, (cond, real) in sets.items():
            profile, d2, rmse = _measure(taps, cond, real)
            real_d2 = np.abs(np.diff(real, 2, axis=2)).mean()
            print(f"| {name} | {deepest:.3f} | {label} | {profile.min():.3f}..{profile.max():.3f} "
                  f"| {d2:.2f} ({real_d2:.2f}) | {rmse:.2f} |")


def _pairs(path, n, seed):
    """(condition (n, 24, 24), real central 64² (n, 64, 64)) of n real 96² windows, float64."""
    real = load_dataset(path).sample_windows(n, rng=np.random.default_rng(seed), window=96).astype(np.float64)
    m = cascade.DetailGenerator.CONDITION_MARGIN
    return real.reshape(n, 24, 4, 24, 4).mean(axis=(2, 4)), real[:, m:-m, m:-m]


def _positions(p):
    """Where phase p's taps of the fitted layout sit relative to its output sample, in condition samples."""
    first, weights = cascade.phase_taps("fitted")[p]
    return np.arange(first, first + len(weights)) - (p - 1.5) / cascade.FACTOR


def _lanczos3(p):
    w = np.array([np.sinc(x) * np.sinc(x / 3) for x in _positions(p)])
    return w / w.sum()


def _project(w, p):
    """The nearest weights that keep constants and reproduce ramps at phase p."""
    c = np.stack([np.ones(len(w)), _positions(p)])
    return w - c.T @ np.linalg.solve(c @ c.T, c @ w - np.array([1.0, 0.0]))


def _fitted_taps(v):
    """The fitted layout's taps for free weights v (phases 0 and 1, concatenated), held to constants and ramps."""
    half = len(v) // 2
    return cascade.phase_taps("fitted", (_project(v[:half], 0), _project(v[half:], 1)))


def _measure(taps, cond, real):
    """(lattice profile, mean |second difference| along rows, RMSE against the real windows)."""
    base = cascade.interp4(cond, TRIM, taps, xp=np)
    profile = lattice_phase_profile(base.astype(np.float32), cascade.FACTOR)
    return profile, np.abs(np.diff(base, 2, axis=2)).mean(), np.sqrt(np.mean((base - real) ** 2))


if __name__ == "__main__":
    main()
