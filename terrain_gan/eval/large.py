"""`terrain-gan eval --large`: realism at the scale users look at, computed alike on real regions and generated maps.

Rows (every real set is read from a dataset file at the models' 90 m cells):

- real (training regions): the regions of the training dataset, whole;
- real A vs real B (halves): every region cut in two across its longer axis (`halves`); windows of
  the second halves against those of the first -- the floor of the two-sample test;
- real (held-out regions): regions the models never saw;
- fBm (matched spectrum): Gaussian fields with the training windows' radial spectrum;
- one row per model: maps from `generate` (one per seed) and windows from random world positions.

Columns: the maps measured and their 256² windows with no void; the median over those windows of the
area inside closed depressions deeper than 1 m (priority-flood fill); the medians over maps of the
slope–area concavity θ and Hack's exponent h (`drainage.drainage_stats`; real rivers θ ≈ 0.45,
h ≈ 0.5–0.6); and C2ST@256: the held-out accuracy of a classifier telling the set's 256² windows,
seen at 360 m (means of 4 x 4 blocks, so 64² inputs), from windows of the first halves of the
training regions (0.5 = indistinguishable; compare with the halves row, not with 0.5).

Needs the eval extra (pyflwdir, scipy): pip install 'terrain-gan[eval]'.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from terrain_gan.dataset.build import block_mean
from terrain_gan.dataset.core import Dataset
from terrain_gan.errors import TerrainGanError
from terrain_gan.eval import c2st, drainage, evaluate, fbm

WINDOW = drainage.WINDOW  # 256 cells: 23 km at 90 m
VIEW_FACTOR = 4  # the classifier sees 256² windows of 90 m cells as 64² of 360 m cells
DEFAULT_DATASET = "data/dem90v2.npz"  # paths relative to the working directory, as in configs/
DEFAULT_HOLDOUT = "data/holdout90.npz"
COLUMNS = ("set", "maps", "256² windows", "depression fraction", "θ", "Hack h", "C2ST@256 (360 m)")


@dataclasses.dataclass(frozen=True)
class LargeRow:
    """One set of maps (or windows only) measured at large scale; None / NaN where not measured."""

    name: str
    maps: int | None
    windows: int | None
    depression_fraction: float
    theta: float
    hack_h: float
    c2st: float

    def cells(self) -> tuple[str, ...]:
        num = lambda x, spec: "-" if x is None or np.isnan(x) else format(x, spec)  # noqa: E731
        return (self.name, "-" if self.maps is None else str(self.maps),
                "-" if self.windows is None else str(self.windows), num(self.depression_fraction, ".4f"),
                num(self.theta, ".2f"), num(self.hack_h, ".2f"), num(self.c2st, ".3f"))


def require_extra() -> None:
    """Raises one clear error when the eval extra (pyflwdir, scipy) is not installed."""
    try:
        import pyflwdir  # noqa: F401
        import scipy  # noqa: F401
    except ImportError as e:
        raise TerrainGanError(f"large-scale evaluation needs {e.name}, from the eval extra: "
                              "pip install 'terrain-gan[eval]'") from None


def halves(height_HxW: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A region cut in two across its longer axis (rows when square): (first half, second half), as views.

    >>> a, b = halves(np.zeros((5, 8)))
    >>> a.shape, b.shape
    ((5, 4), (5, 4))
    """
    axis = int(height_HxW.shape[1] > height_HxW.shape[0])
    return tuple(np.split(height_HxW, [height_HxW.shape[axis] // 2], axis=axis))


def half_datasets(data: Dataset) -> tuple[Dataset, Dataset]:
    """The first and the second halves of every region of `data`, as two datasets sharing its statistics."""
    first, second = zip(*(halves(h) for h in data.heights))
    make = lambda hs: Dataset(hs, data.names, data.sources, cell_size_m=data.cell_size_m,  # noqa: E731
                              window=data.window, stats=data.stats, flat_relief_m=data.flat_relief_m,
                              path=data.path)
    return make(first), make(second)


def coarse_view(windows_NxWxW: np.ndarray, factor: int = VIEW_FACTOR) -> np.ndarray:
    """Means of `factor` x `factor` blocks, float32: 256² windows of 90 m cells seen at 360 m.

    The same filter as `block_mean`, which made the coarse level's training data;
    windows stacked along rows never share a block, since their side is a multiple of `factor`.

    >>> coarse_view(np.arange(16.0).reshape(1, 4, 4), 2).tolist()
    [[[2.5, 4.5], [10.5, 12.5]]]
    """
    n, rows, cols = windows_NxWxW.shape
    if rows % factor or cols % factor:
        raise TerrainGanError(f"windows of {rows}x{cols} cells do not split into {factor}x{factor} blocks")
    stacked = block_mean(np.asarray(windows_NxWxW).reshape(n * rows, cols), factor)
    return stacked.reshape(n, rows // factor, cols // factor)


def _median(values) -> float:
    """Median of the finite values; NaN when there are none (no warning)."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if v.size else float("nan")


def drainage_row(name: str, maps: list[np.ndarray], cell_size_m: float) -> LargeRow:
    """The drainage columns of a set of maps (regions): pooled 256² window median, per-map medians of θ and h."""
    fractions = np.concatenate([drainage.window_depression_fractions(m, cell_size_m) for m in maps] + [np.zeros(0)])
    stats = [drainage.drainage_stats(m, cell_size_m) for m in maps]
    return LargeRow(name, len(maps), int(fractions.size), _median(fractions),
                    _median([s.theta for s in stats]), _median([s.hack_h for s in stats]), float("nan"))


def fbm_sets(real_windows: np.ndarray, *, n: int, map_seeds, map_size: int, cell_size_m: float,
             seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """fBm with the radial spectrum of `real_windows`: (maps of map_size², n windows like the real ones).

    Windows take their planes from the real ones as in `evaluate`; maps keep only the mean level,
    since a window's tilt has no meaning over a map four times wider.
    """
    spectrum = fbm.estimate_spectrum(real_windows, cell_size_m=cell_size_m, seed=seed)
    windows = fbm.fbm_windows(n, real_windows.shape[-1], spectrum, seed=seed + 1, cell_size_m=cell_size_m)
    level = dataclasses.replace(spectrum, planes=None)
    maps = [fbm.fbm_windows(1, map_size, level, seed=int(s), cell_size_m=cell_size_m)[0] for s in map_seeds]
    return maps, windows


class LargeReference:
    """The real 256² windows, at 360 m, that every set's windows are told apart from."""

    def __init__(self, windows_NxWxW: np.ndarray, *, seed: int = 0, c2st_steps: int = 300):
        self.view = coarse_view(windows_NxWxW)
        self.seed, self.c2st_steps = seed, c2st_steps

    def c2st(self, windows_NxWxW: np.ndarray) -> float:
        """Classifier two-sample accuracy of `windows_NxWxW` (90 m) against the reference, both at 360 m."""
        return c2st.c2st_accuracy(self.view, coarse_view(windows_NxWxW), seed=self.seed, steps=self.c2st_steps)

    def row(self, name: str, maps: list[np.ndarray], windows_NxWxW: np.ndarray, cell_size_m: float) -> LargeRow:
        """All columns of one set: drainage of its maps, C2ST of its windows."""
        return dataclasses.replace(drainage_row(name, maps, cell_size_m), c2st=self.c2st(windows_NxWxW))


def _load(models, dataset, holdout):
    """Datasets and models, every path checked and every cell size compared before any work."""
    from terrain_gan import pretrained

    require_extra()
    load = lambda d: d if isinstance(d, Dataset) else Dataset.load(d)  # noqa: E731
    data = load(dataset)
    held = None if holdout is None else load(holdout)
    loaded = [(name, pretrained.load_model(name)) for name in models]
    cells = [(str(name), m.cell_size_m) for name, m in loaded]
    for name, cell in cells + ([] if held is None else [(held.path, held.cell_size_m)]):
        if abs(cell - data.cell_size_m) > 1e-6:
            raise TerrainGanError(f"{name}: cell size {cell} m differs from the dataset's {data.cell_size_m} m")
    return data, held, loaded


def evaluate_large(models=("default",), *, dataset=DEFAULT_DATASET, holdout=DEFAULT_HOLDOUT, map_seeds=(0, 1, 2),
                   map_size: int = 1025, n: int = 1000, seed: int = 0, c2st_steps: int = 300,
                   baselines: bool = True, progress=None) -> list[LargeRow]:
    """The large-scale table's rows: real training, halves floor, held-out, fBm and one per model.

    Args:
      models: shipped model names or weights paths; models that make only 64² windows are skipped.
      dataset: training regions (also the C2ST reference: their first halves), a path or a `Dataset`.
      holdout: regions never trained on, likewise (None: no such row).
      map_seeds: one generated (and one fBm) map per seed; map_size: their side in cells.
      n: 256² windows per set for the classifier.
      seed: the source of every other random choice (windows drawn, latents, classifier).
      c2st_steps: training steps of the two-sample classifier.
      baselines: include the real, halves, held-out and fBm rows.
      progress: optional callable(str) told which row is being computed.
    """
    from terrain_gan import generation
    from terrain_gan.world import synth

    data, held, loaded = _load(models, dataset, holdout)
    say = progress or (lambda _: None)
    cell = data.cell_size_m
    first, second = half_datasets(data)
    real = first.eval_windows(n, seed=seed, window=WINDOW)
    ref = LargeReference(real, seed=seed, c2st_steps=c2st_steps)
    rows = []
    if baselines:
        say("real training regions (large)")
        rows.append(drainage_row("real (training regions)", data.heights, cell))
        say("real halves (large)")
        rows.append(LargeRow("real A vs real B (halves)", None, None, float("nan"), float("nan"), float("nan"),
                             ref.c2st(second.eval_windows(n, seed=seed + 1, window=WINDOW))))
        if held is not None:
            say("real held-out regions (large)")
            rows.append(ref.row("real (held-out regions)", held.heights,
                                held.eval_windows(n, seed=seed + 2, window=WINDOW), cell))
        say("spectrally matched fBm (large)")
        maps, windows = fbm_sets(real, n=n, map_seeds=map_seeds, map_size=map_size, cell_size_m=cell, seed=seed + 3)
        rows.append(ref.row("fBm (matched spectrum)", maps, windows, cell))
    for name, model in loaded:
        label = evaluate.model_label(name)
        if not model.spatial:
            say(f"{label}: makes only 64x64 windows, left out of the large table")
            continue
        say(f"{label} (large)")
        maps = [generation.generate(seed=int(s), size=map_size, model=model).height for s in map_seeds]
        rows.append(ref.row(label, maps, synth.sample_windows(model, n, WINDOW, seed=seed + 4), cell))
    return rows


def format_table(rows: list[LargeRow]) -> str:
    """The rows as an aligned plain-text table (also valid Markdown)."""
    return evaluate.format_table(rows, COLUMNS)
