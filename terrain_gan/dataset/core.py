"""Training data: resampled real DEM regions, loaded from one `.npz`, sampled as square windows.

The file (written by `dataset.build.build`) holds per region a uint16 grid
quantised at `quantum_m` above a float offset (65535 = void), plus the cell
size, window and dataset-wide statistics. `Dataset` dequantises to float32
metres, precomputes every usable window origin (no void, not dead flat) and
samples windows fast enough to be called every training step.

Normalisation is one affine map for the whole dataset (mean and std of all
valid window cells), never a per-tile min-max: absolute relief is what the GAN
must learn.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np

from terrain_gan.dataset import windows as dw
from terrain_gan.errors import TerrainGanError

FORMAT = "terrain_gan.dataset"
FORMAT_VERSION = 1
VOID_CODE = 65535
BUILTIN = "builtin"
_STAT_KEYS = ("height_mean_m", "height_std_m", "grad_std")


@dataclasses.dataclass(frozen=True)
class Stats:
    """Dataset-wide statistics over the cells of valid windows (metres; grad_std per cell step)."""

    height_mean_m: float
    height_std_m: float
    grad_std: float


def builtin_path() -> Path:
    """The shipped dataset `terrain_gan/data/dem90.npz`."""
    return Path(__file__).resolve().parents[1] / "data" / "dem90.npz"


class Dataset:
    """Regions of real terrain at one cell size, with a fast random window sampler.

    Attributes:
      heights: list of float32 (H, W) arrays in metres, NaN = void.
      names, sources: region names and the source files they came from.
      cell_size_m, window, flat_relief_m: grid spacing, training window side, flatness threshold.
      stats: dataset-wide `Stats` (kept by `split`, so both halves share one normalisation).
    """

    def __init__(self, heights, names, sources, *, cell_size_m: float, window: int, stats: Stats | None = None,
                 flat_relief_m: float = 5.0, path: str = "<memory>"):
        self.heights = [np.asarray(h, np.float32) for h in heights]
        self.names, self.sources = list(names), list(sources)
        self.cell_size_m, self.window, self.flat_relief_m = float(cell_size_m), int(window), float(flat_relief_m)
        self.path = path
        self._origins: dict[int, list[np.ndarray]] = {}
        self.stats = stats if stats is not None else compute_stats(self.heights, self.window, self.flat_relief_m)

    # ---- loading -------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path = BUILTIN) -> "Dataset":
        """Loads a dataset file (or the shipped one for "builtin"), validating format and version.

        Raises:
          TerrainGanError: missing file, not a terrain_gan dataset, or an unsupported version.
        """
        path = builtin_path() if str(path) == BUILTIN else Path(path)
        if not path.is_file():
            raise TerrainGanError(f"{path}: dataset file not found")
        try:
            with np.load(io.BytesIO(path.read_bytes()), allow_pickle=False) as z:  # a corrupt zip leaks the file
                arrays = {k: z[k] for k in z.files}
        except Exception as e:  # zipfile/pickle/format errors: all mean "not our file"
            raise TerrainGanError(f"{path}: not a terrain_gan dataset ({type(e).__name__})") from None
        if str(arrays.get("format", "")) != FORMAT:
            raise TerrainGanError(f"{path}: not a terrain_gan dataset (no '{FORMAT}' format marker)")
        version = int(arrays.get("format_version", -1))
        if version != FORMAT_VERSION:
            raise TerrainGanError(f"{path}: dataset format version {version}, this terrain_gan reads "
                                  f"{FORMAT_VERSION}; rebuild it with `terrain-gan dataset build`")
        return cls._from_arrays(path, arrays)

    @classmethod
    def _from_arrays(cls, path: Path, a: dict[str, np.ndarray]) -> "Dataset":
        """Dequantises regions and checks the arrays are consistent."""
        try:
            names, sources, offsets = list(a["names"]), list(a["sources"]), a["offsets_m"]
            quantum = float(a["quantum_m"])
            codes = [a[f"region_{i:03d}"] for i in range(len(names))]
            stats = Stats(*(float(a[k]) for k in _STAT_KEYS))
            cell, window, flat = float(a["cell_size_m"]), int(a["window"]), float(a["flat_relief_m"])
        except KeyError as e:
            raise TerrainGanError(f"{path}: dataset is missing array {e}") from None
        if len(sources) != len(names) or offsets.shape != (len(names),) or any(c.dtype != np.uint16 for c in codes):
            raise TerrainGanError(f"{path}: dataset arrays are inconsistent (regions/offsets/dtypes)")
        heights = [dequantise(c, o, quantum) for c, o in zip(codes, offsets)]
        return cls(heights, [str(n) for n in names], [str(s) for s in sources], cell_size_m=cell, window=window,
                   stats=stats, flat_relief_m=flat, path=str(path))

    # ---- windows -------------------------------------------------------------------------------
    def origins(self, window: int | None = None) -> list[np.ndarray]:
        """Per region, flat indices of usable window origins (computed once per window size)."""
        w = self.window if window is None else int(window)
        if w not in self._origins:
            self._origins[w] = [np.flatnonzero(dw.valid_origins(h, w, self.flat_relief_m)).astype(np.int32)
                                for h in self.heights]
        return self._origins[w]

    def window_counts(self, window: int | None = None) -> np.ndarray:
        """Number of usable windows per region."""
        return np.array([o.size for o in self.origins(window)], np.int64)

    def sample_windows(self, n: int, *, rng: np.random.Generator, window: int | None = None,
                       regions=None, augment: bool = True, region_weight: str = "windows") -> np.ndarray:
        """Random usable windows, float32 (n, w, w) metres.

        Regions are drawn in proportion to their number of usable windows (`region_weight`
        "windows") or to its square root ("sqrt"), origins uniformly;
        with `augment`, each window gets a random rot90 and flip (the 8 symmetries of a square).
        Deterministic for a given `rng` state.

        Args:
          n: number of windows.
          rng: numpy Generator; the only source of randomness.
          window: side in cells (default: the dataset's window).
          regions: optional names or indices of regions to draw from.
          augment: apply random rotations/flips.
        """
        w = self.window if window is None else int(window)
        origins = self.origins(w)
        chosen = self._region_indices(regions)
        counts = np.array([origins[i].size for i in chosen], np.float64)
        if counts.sum() == 0:
            raise TerrainGanError(f"{self.path}: no usable {w}x{w} window in the chosen regions")
        if region_weight == "sqrt":
            counts = np.sqrt(counts)
        region = np.asarray(chosen)[rng.choice(len(chosen), size=n, p=counts / counts.sum())]
        pick = rng.random(n)
        turns, flips = rng.integers(0, 4, size=n), rng.integers(0, 2, size=n)
        out = np.empty((n, w, w), np.float32)
        for k in range(n):  # one slice per window, not per cell
            o = origins[region[k]]
            win = dw.window_at(self.heights[region[k]], o[int(pick[k] * o.size)], w)
            if augment:
                win = np.rot90(win, turns[k])
                win = win[:, ::-1] if flips[k] else win
            out[k] = win
        return out

    def eval_windows(self, n: int, *, seed: int = 0, window: int | None = None) -> np.ndarray:
        """A fixed evaluation set: `n` windows drawn with `seed`, without augmentation."""
        return self.sample_windows(n, rng=np.random.default_rng(seed), window=window, augment=False)

    def windows_grid(self, *, stride: int | None = None, window: int | None = None) -> np.ndarray:
        """Every usable window on a regular grid of origins (default stride: one window), (N, w, w)."""
        w = self.window if window is None else int(window)
        s = w if stride is None else int(stride)
        out = []
        for h in self.heights:
            ok = dw.valid_origins(h, w, self.flat_relief_m)[::s, ::s]
            ys, xs = np.nonzero(ok)
            out.extend(h[y * s: y * s + w, x * s: x * s + w] for y, x in zip(ys, xs))
        return np.stack(out).astype(np.float32) if out else np.zeros((0, w, w), np.float32)

    def _region_indices(self, regions) -> list[int]:
        """Region names/indices → indices (all when None)."""
        if regions is None:
            return list(range(len(self.heights)))
        idx = [self.names.index(r) if isinstance(r, str) and r in self.names else r for r in regions]
        bad = [r for r in idx if not isinstance(r, (int, np.integer)) or not 0 <= r < len(self.heights)]
        if bad:
            raise TerrainGanError(f"{self.path}: unknown region(s) {bad}; have {', '.join(self.names)}")
        return [int(i) for i in idx]

    # ---- splitting and normalisation ---------------------------------------------------------
    def subset(self, regions) -> "Dataset":
        """A Dataset of the given regions, sharing this one's statistics (and normalisation)."""
        idx = self._region_indices(regions)
        return Dataset([self.heights[i] for i in idx], [self.names[i] for i in idx],
                       [self.sources[i] for i in idx], cell_size_m=self.cell_size_m, window=self.window,
                       stats=self.stats, flat_relief_m=self.flat_relief_m, path=self.path)

    def split(self) -> tuple["Dataset", "Dataset"]:
        """Two datasets with disjoint regions and roughly equal usable windows (deterministic).

        Regions go, largest first, to whichever half has fewer windows so far; for
        "real vs real, split by region" evaluation baselines.
        """
        counts = self.window_counts()
        usable = [int(i) for i in np.argsort(-counts, kind="stable") if counts[i] > 0]
        if len(usable) < 2:
            raise TerrainGanError(f"{self.path}: need at least 2 regions with usable windows to split")
        halves: tuple[list[int], list[int]] = ([], [])
        totals = [0, 0]
        for i in usable:
            side = int(totals[1] < totals[0])
            halves[side].append(i)
            totals[side] += int(counts[i])
        return self.subset(sorted(halves[0])), self.subset(sorted(halves[1]))

    def normalise(self, height_m):
        """Metres → model units: (h - mean) / std with the dataset-wide statistics."""
        return (height_m - self.stats.height_mean_m) / self.stats.height_std_m

    def denormalise(self, x):
        """Model units → metres (inverse of `normalise`)."""
        return x * self.stats.height_std_m + self.stats.height_mean_m

    def summary(self) -> dict:
        """Plain-dict description: regions, shapes, windows and statistics."""
        counts = self.window_counts()
        return {"path": self.path, "cell_size_m": self.cell_size_m, "window": self.window,
                "flat_relief_m": self.flat_relief_m, "valid_windows": int(counts.sum()),
                **dataclasses.asdict(self.stats),
                "regions": [{"name": n, "source": s, "shape": list(h.shape), "valid_windows": int(c),
                             "void_fraction": float(np.isnan(h).mean())}
                            for n, s, h, c in zip(self.names, self.sources, self.heights, counts)]}


def load_dataset(path: str | Path = BUILTIN) -> Dataset:
    """Loads a dataset file; "builtin" is the shipped `terrain_gan/data/dem90.npz`."""
    return Dataset.load(path)


def dequantise(codes: np.ndarray, offset_m: float, quantum_m: float) -> np.ndarray:
    """uint16 codes → float32 metres, NaN for the void code."""
    h = (offset_m + codes.astype(np.float64) * quantum_m).astype(np.float32)
    h[codes == VOID_CODE] = np.nan
    return h


def quantise(height: np.ndarray, quantum_m: float) -> tuple[np.ndarray, float]:
    """float metres (NaN = void) → (uint16 codes, offset); raises ValueError if the relief does not fit."""
    offset = float(np.floor(np.nanmin(height) / quantum_m) * quantum_m)
    valid = np.isfinite(height)
    q = np.rint((np.where(valid, height, offset) - offset) / quantum_m)
    if q.max() >= VOID_CODE:
        raise ValueError(f"relief {np.nanmax(height) - offset:.0f} m exceeds {(VOID_CODE - 1) * quantum_m:.0f} m")
    codes = q.astype(np.uint16)
    codes[~valid] = VOID_CODE
    return codes, offset


def compute_stats(heights: list[np.ndarray], window: int, flat_relief_m: float) -> Stats:
    """Mean/std of heights and std of first differences over cells covered by usable windows."""
    values, diffs = [], []
    for h in heights:
        cov = dw.covered_cells(dw.valid_origins(h, window, flat_relief_m), window) if min(h.shape) >= window \
            else np.zeros(h.shape, bool)
        values.append(h[cov].astype(np.float64))
        diffs.append((h[1:] - h[:-1])[cov[1:] & cov[:-1]].astype(np.float64))
        diffs.append((h[:, 1:] - h[:, :-1])[cov[:, 1:] & cov[:, :-1]].astype(np.float64))
    v, d = np.concatenate(values), np.concatenate(diffs)
    if v.size == 0:
        return Stats(0.0, 1.0, 1.0)
    return Stats(float(v.mean()), float(v.std()), float(d.std()) if d.size else 1.0)
