"""`terrain-gan eval`: how close generated terrain is to real terrain, as one table.

Every row is a set of 64x64 windows in metres compared with the same reference: real windows of
the evaluation dataset (no augmentation, a fixed seed). Rows:

- real vs real: the regions split into two halves (by `Dataset.split`), one half compared with the
  other -- the floor: what different real landscapes score against each other;
- fBm: spectral noise whose radial spectrum (and window planes) match the real set (what users use
  today);
- one row per model (shipped name or weights path): windows from random world positions.

Columns: mean spectral slope (real terrain about -2 to -3.5 over 360 m - 1.9 km wavelengths),
W1 distances of slope-angle (degrees) and 5x5 local-relief (metres) distributions, sliced
Wasserstein distance of Laplacian-pyramid patches (x1e3, mean over levels), pit fraction, and
classifier two-sample accuracy (0.5 = indistinguishable). Lower distances are better.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from terrain_gan.errors import TerrainGanError
from terrain_gan.eval import c2st, fbm, metrics

COLUMNS = ("set", "spectral slope", "slope W1 deg", "relief W1 m", "SWD x1e3", "pit fraction", "C2ST acc")


@dataclasses.dataclass(frozen=True)
class Row:
    """One evaluated set of windows against the real reference."""

    name: str
    spectral_slope: float
    slope_w1_deg: float
    relief_w1_m: float
    swd_x1e3: float
    pit_fraction: float
    c2st: float

    def cells(self) -> tuple[str, ...]:
        return (self.name, f"{self.spectral_slope:.2f}", f"{self.slope_w1_deg:.3f}", f"{self.relief_w1_m:.3f}",
                f"{self.swd_x1e3:.1f}", f"{self.pit_fraction:.4f}",
                "-" if np.isnan(self.c2st) else f"{self.c2st:.3f}")


class Reference:
    """The real windows every set is compared with, and their precomputed statistics."""

    def __init__(self, windows: np.ndarray, *, cell_size_m: float, seed: int = 0):
        self.windows, self.cell_size_m, self.seed = windows, cell_size_m, seed
        self.slopes = metrics.slope_angles(windows, cell_size_m=cell_size_m)
        self.relief = metrics.local_relief(windows)
        self.scale = metrics.pooled_std(windows)
        self.swd_desc = self._descriptors(windows)

    def _descriptors(self, windows):
        return metrics.swd_descriptors(windows, height_scale_m=self.scale, rng=np.random.default_rng(self.seed))

    def summary_row(self) -> Row:
        """The reference itself: its spectral slope and pit fraction, zero distances."""
        slope = float(np.mean(metrics.spectral_slopes(self.windows, cell_size_m=self.cell_size_m)))
        return Row("real (reference)", slope, 0.0, 0.0, 0.0, metrics.pit_fraction(self.windows), float("nan"))

    def compare(self, name: str, windows: np.ndarray, *, c2st_steps: int = 300,
                reference: np.ndarray | None = None) -> Row:
        """All metrics of `windows` against this reference (or against `reference` windows for C2ST/SWD)."""
        ref = self if reference is None else Reference(reference, cell_size_m=self.cell_size_m, seed=self.seed)
        swd = metrics.sliced_wasserstein(ref.swd_desc, ref._descriptors(windows), seed=self.seed)
        return Row(name=name,
                   spectral_slope=float(np.mean(metrics.spectral_slopes(windows, cell_size_m=self.cell_size_m))),
                   slope_w1_deg=metrics.wasserstein1(ref.slopes, metrics.slope_angles(
                       windows, cell_size_m=self.cell_size_m)),
                   relief_w1_m=metrics.wasserstein1(ref.relief, metrics.local_relief(windows)),
                   swd_x1e3=1e3 * float(np.mean(swd)),
                   pit_fraction=metrics.pit_fraction(windows),
                   c2st=c2st.c2st_accuracy(ref.windows, windows, seed=self.seed, steps=c2st_steps))


def model_windows(model, n: int, *, seed: int, size: int = 64) -> np.ndarray:
    """`n` windows of a trained model in metres, from independent random latents."""
    from terrain_gan.world import synth

    return synth.sample_windows(model, n, size, seed=seed)


def evaluate(models=("default",), *, dataset="builtin", n: int = 2000, seed: int = 0, c2st_steps: int = 300,
             baselines: bool = True, progress=None) -> list[Row]:
    """Evaluates models (and the real/fBm baselines) against real windows; returns the table's rows.

    Args:
      models: shipped model names or weights paths, one row each.
      dataset: the dataset file the real windows come from ("builtin" = the shipped one).
      n: windows per set.
      seed: the only source of randomness (windows drawn, latents, classifier).
      c2st_steps: training steps of the two-sample classifier.
      baselines: include the real-vs-real and fBm rows.
      progress: optional callable(str) told which row is being computed.
    """
    from terrain_gan import pretrained
    from terrain_gan.dataset import core as dataset_lib

    data = dataset_lib.load_dataset(dataset)
    loaded = [pretrained.load_model(name) for name in models]  # every bad path fails before any work
    for name, model in zip(models, loaded):
        if abs(model.cell_size_m - data.cell_size_m) > 1e-6:
            raise TerrainGanError(f"{name}: model cell size {model.cell_size_m} m differs from the dataset's "
                                  f"{data.cell_size_m} m")
    say = progress or (lambda _: None)
    real = data.eval_windows(n, seed=seed, window=64)
    ref = Reference(real, cell_size_m=data.cell_size_m, seed=seed)
    rows = []
    if baselines:
        say("real vs real (random halves)")
        rows.append(ref.summary_row())
        other = data.eval_windows(n, seed=seed + 4, window=64)
        rows.append(ref.compare("real vs real (random draw)", other, c2st_steps=c2st_steps))
        say("real vs real (split by region)")
        half_a, half_b = data.split()
        a, b = (h.eval_windows(n, seed=seed + 1, window=64) for h in (half_a, half_b))
        rows.append(ref.compare("real A vs real B (regions)", b, c2st_steps=c2st_steps, reference=a))
        say("spectrally matched fBm")
        spectrum = fbm.estimate_spectrum(real, cell_size_m=data.cell_size_m, seed=seed)
        rows.append(ref.compare("fBm (matched spectrum)", fbm.fbm_windows(
            n, 64, spectrum, seed=seed + 2, cell_size_m=data.cell_size_m), c2st_steps=c2st_steps))
    for name, model in zip(models, loaded):
        say(str(name))
        rows.append(ref.compare(model_label(name),
                                model_windows(model, n, seed=seed + 3), c2st_steps=c2st_steps))
    return rows


def model_label(name) -> str:
    """A shipped model's name ("default" read as the one it names), or the path it was given as."""
    from terrain_gan import pretrained

    path = pretrained.resolve(name)
    return path.stem if path.parent == pretrained.WEIGHTS_DIR else str(name)


def format_table(rows: list[Row], columns: tuple[str, ...] = COLUMNS) -> str:
    """The rows as an aligned plain-text table (also valid Markdown) under the header `columns`."""
    cells = [columns] + [r.cells() for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(columns))]
    line = lambda c: "| " + " | ".join(x.ljust(w) for x, w in zip(c, widths)) + " |"  # noqa: E731
    return "\n".join([line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
                     + [line(c) for c in cells[1:]])
