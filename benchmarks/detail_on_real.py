"""How good is a cascade's detail level on its own? It dresses real 360 m conditions, as one table.

    .venv/bin/python benchmarks/detail_on_real.py [CASCADE ...] [--dataset data/dem90v2.npz] [--n 1000] [--seed 0] [--parts]

A cascade's maps mix two levels' faults: the coarse layout (and its drainage) and the 90 m detail.
Here the detail level of each cascade (shipped name or weights path) is given the block means of
real 96² windows (its training condition) and judged on the central 64² against other real
windows, with `terrain-gan eval`'s 64² measures (`eval.evaluate.Reference`; C2ST is its classifier).
Two more columns say what the classifier may see:

- lattice (4): mean |second difference| by phase of the 4-sample condition lattice over its mean
  (`eval.metrics.lattice_phase_profile`; real terrain 1.00);
- slope power: the power spectrum of the windows' x-slopes over real windows', in four wavelength
  bands (cells). Below 1 at 2-4 cells is detail smoothed away at the finest scale, which the
  classifier sees at once (a one-cell blur: 0.97);
- spectrum shape: how far the windows' mean log spectrum shape, over the whole frequency plane, is
  from the reference draw's (`nn.losses.spectrum_mismatch`, the term `[train] spectrum` weighs):
  unlike the slope power along x, it sees a grain along the diagonals.

Rows: real windows of another draw (the floor), the Keys-cubic interpolation of the real
conditions (the base the detail level adds its residual to), then each detail level.

A second table describes the finest texture, which the classifier tells apart even from a one-cell
high-pass alone (model card, "Eleventh round"): the fraction of samples higher or lower than all
eight neighbours; and, of the high-pass (a window minus its 1-2-1 blur), the median kurtosis, the
correlation of neighbouring samples along rows (x), columns (y) and each diagonal, the exponent
b of its standard deviation against the window's mean slope (std ~ slope^b across windows), and the
correlation of neighbouring samples along the local slope direction and across it (real terrain's
fine relief runs downslope).

`--parts` adds, for each detail level, its output without its per-sample correction and its
correction alone on the base: the level adds up base + 0.1 correction + relief x detail
(`DetailGenerator.compose`), and which of them draws the finest texture shows in the second table.
"""

from __future__ import annotations

import argparse
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from terrain_gan import load_model
from terrain_gan.dataset.core import load_dataset
from terrain_gan.eval import evaluate
from terrain_gan.eval.metrics import lattice_phase_profile, pit_fraction
from terrain_gan.nn import cascade, losses

MARGIN = cascade.DetailGenerator.CONDITION_MARGIN  # real context per side a 64² output needs
BANDS = ((16, 32), (8, 16), (4, 8), (2, 4))  # wavelength bands of the slope spectrum, cells


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="*", default=["v2"])
    p.add_argument("--dataset", default="data/dem90v2.npz")
    p.add_argument("--n", type=int, default=1000, help="windows per set")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--parts", action="store_true",
                   help="also each detail level without its correction, and its correction alone")
    args = p.parse_args(argv)
    models = [(name, load_model(name)) for name in args.models]
    for name, model in models:
        if not isinstance(model.generator, cascade.CascadeGenerator):
            raise SystemExit(f"detail_on_real.py: error: {name} is not a cascade (no detail level)")
    data = load_dataset(args.dataset)
    real = data.eval_windows(args.n, seed=args.seed, window=64)
    ref = evaluate.Reference(real, cell_size_m=data.cell_size_m, seed=args.seed)
    big = data.eval_windows(args.n, seed=args.seed + 7, window=64 + 2 * MARGIN)
    spectrum = _slope_spectrum(real)
    wavelengths = (real.shape[2] - 1) / np.maximum(np.arange(len(spectrum)), 1e-9)  # cells, per spectrum bin
    header = ("set", "C2ST acc", "slope W1 deg", "relief W1 m", "SWD x1e3", "pit fraction", "lattice (4)",
              *(f"slope power {a}-{b}" for a, b in BANDS), "spectrum shape")
    print("| " + " | ".join(header) + " |")
    print("|---" * len(header) + "|")

    def row(label, windows):
        r = ref.compare(label, windows)
        prof = lattice_phase_profile(windows, cascade.FACTOR)
        ratio = _slope_spectrum(windows) / spectrum
        bands = [ratio[(wavelengths >= lo) & (wavelengths < hi)].mean() for lo, hi in BANDS]
        shape = float(losses.spectrum_mismatch(jnp.asarray(windows, jnp.float32), jnp.asarray(real, jnp.float32)))
        cells = (label, f"{r.c2st:.3f}", f"{r.slope_w1_deg:.3f}", f"{r.relief_w1_m:.2f}", f"{r.swd_x1e3:.1f}",
                 f"{r.pit_fraction:.4f}", f"{prof.min():.3f}..{prof.max():.3f}", *(f"{b:.2f}" for b in bands),
                 f"{shape:.3f}")
        print("| " + " | ".join(cells) + " |", flush=True)

    sets = {"real (another draw)": big[:, MARGIN:-MARGIN, MARGIN:-MARGIN]}
    # block means and Keys-cubic weights are affine: the base in metres is the same in any normalisation
    base = cascade.up4(cascade.block_mean4(jnp.asarray(big)), cascade.DetailGenerator.MARGIN)
    sets["Keys-cubic base of the real conditions"] = np.asarray(base)
    for name, model in models:
        mean, std = model.generator.norm[1]
        for part in ("",) + (PARTS if args.parts else ()):
            sets[f"{name}: detail level on real conditions{', ' + part if part else ''}"] = (
                _detail_windows(model.generator.detail, (big - mean) / std, args.seed, part=part) * std + mean)
    for label, windows in sets.items():
        row(label, windows)
    print()
    header = ("set", "3x3 extrema", "high-pass kurtosis", "high-pass correlation, x / y", "diagonals ↘ / ↙",
              "high-pass ~ slope^b", "downslope / across")
    print("| " + " | ".join(header) + " |")
    print("|---" * len(header) + "|")
    for label, windows in [("real (the reference draw)", real)] + list(sets.items()):
        print("| " + " | ".join((label, *_texture_cells(texture(windows)))) + " |", flush=True)


PARTS = ("without its correction", "its correction alone")


def _detail_windows(detail: cascade.DetailGenerator, real_big_BxHxW, seed: int, batch: int = 100,
                    part: str = "") -> np.ndarray:
    """The detail level's normalised output on the block means of normalised real windows
    (`DetailGenerator.windows_for`), in batches, the latents of batch i drawn from fold_in(seed, i).

    `part`, one of `PARTS`: the same output with its per-sample correction left out, or with only
    its correction on the base (its relief-gated detail left out)."""
    key = jax.random.key(seed)

    def one(i):
        real, k = jnp.asarray(real_big_BxHxW[i:i + batch]), jax.random.fold_in(key, i)
        if not part:
            return detail.windows_for(k, real)
        base, fine, log_relief, correction = detail.parts(cascade.block_mean4(real), *detail.judged_inputs(real.shape, k))
        if part == PARTS[0]:
            return detail.compose(base, fine, log_relief, jnp.zeros_like(correction))
        return detail.compose(base, jnp.zeros_like(fine), log_relief, correction)

    return np.concatenate([np.asarray(one(i)) for i in range(0, len(real_big_BxHxW), batch)])


class Texture(NamedTuple):
    """The second table's measures of a set of windows (module docstring)."""

    extrema: float  # share of interior samples above or below all eight neighbours
    kurtosis: float  # of the high-pass, median over windows
    correlations: tuple[float, float, float, float]  # of high-pass neighbours along x, y, ↘ and ↙
    slope_exponent: float  # b in high-pass std ~ mean slope^b, across windows
    downslope: tuple[float, float]  # correlation of high-pass neighbours along the local slope, and across it


def texture(windows_NxWxW) -> Texture:
    """The finest texture of a set of windows: the second table's measures."""
    h = np.asarray(windows_NxWxW, np.float64)
    blur = lambda x, axis: 0.25 * np.roll(x, 1, axis) + 0.5 * x + 0.25 * np.roll(x, -1, axis)  # noqa: E731
    low = blur(blur(h, 1), 2)
    high = (h - low)[:, 1:-1, 1:-1]  # the rolled-in edge samples cut off
    dev = high - high.mean(axis=(1, 2), keepdims=True)
    std = np.sqrt((dev ** 2).mean(axis=(1, 2)))

    def correlation(a, b):  # mean over windows of the correlation of paired samples
        a, b = a - a.mean(axis=(1, 2), keepdims=True), b - b.mean(axis=(1, 2), keepdims=True)
        return float(np.mean((a * b).sum(axis=(1, 2)) / np.sqrt((a * a).sum(axis=(1, 2)) * (b * b).sum(axis=(1, 2)) + 1e-24)))

    pairs = ((dev[:, :, 1:], dev[:, :, :-1]), (dev[:, 1:], dev[:, :-1]),  # along rows, along columns
             (dev[:, 1:, 1:], dev[:, :-1, :-1]), (dev[:, 1:, :-1], dev[:, :-1, 1:]))  # the two diagonals
    gy, gx = np.gradient(h, axis=(1, 2))
    slope = np.hypot(gx, gy).mean(axis=(1, 2))
    return Texture(extrema=pit_fraction(h) + pit_fraction(-h),  # pits, and peaks as the pits of -h
                   kurtosis=float(np.median((dev ** 4).mean(axis=(1, 2)) / np.maximum(std, 1e-12) ** 4)),
                   correlations=tuple(correlation(a, b) for a, b in pairs),
                   slope_exponent=float(np.polyfit(np.log(slope + 1e-3), np.log(std + 1e-6), 1)[0]),
                   downslope=_downslope(dev, blur(blur(low, 1), 2)[:, 1:-1, 1:-1]))


def _downslope(dev, smooth):
    """(along, across): the correlation of each high-pass sample `dev` with its neighbours in the
    direction of the smoothed heights' gradient there (one of x, y and the diagonals), and with those
    at right angles to it, pooled over all windows. Real terrain's finest relief runs downslope:
    gullies and spurs."""
    gy, gx = np.gradient(smooth, axis=(1, 2))
    octant = np.round(np.arctan2(gy, gx) / (np.pi / 4)).astype(int)[:, 1:-1, 1:-1] % 4
    steps = ((0, 1), (1, 1), (1, 0), (1, -1))  # x, ↘, y, ↙: octant k's direction, k + 2 at right angles
    inner = dev[:, 1:-1, 1:-1]
    n, m = dev.shape[1], dev.shape[2]
    moved = [dev[:, 1 + dy:n - 1 + dy, 1 + dx:m - 1 + dx] for dy, dx in steps]
    along = sum(np.sum((inner * moved[k])[octant == k]) for k in range(4))
    across = sum(np.sum((inner * moved[(k + 2) % 4])[octant == k]) for k in range(4))
    var = np.sum(inner * inner)
    return float(along / var), float(across / var)


def _texture_cells(t: Texture) -> tuple[str, ...]:
    """A `Texture` as the second table's cells."""
    c = [f"{v:.3f}" for v in t.correlations]
    return (f"{t.extrema:.4f}", f"{t.kurtosis:.2f}", f"{c[0]} / {c[1]}", f"{c[2]} / {c[3]}", f"{t.slope_exponent:.2f}",
            f"{t.downslope[0]:.3f} / {t.downslope[1]:.3f}")


def _slope_spectrum(windows_NxWxW) -> np.ndarray:
    """Mean power spectrum of the windows' slopes along rows (first differences along x)."""
    slopes = np.diff(np.asarray(windows_NxWxW, np.float64), axis=2)
    return (np.abs(np.fft.rfft(slopes, axis=2)) ** 2).mean(axis=(0, 1))


if __name__ == "__main__":
    main()
