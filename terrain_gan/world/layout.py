"""Large-scale layout of a world: where high and low, rough and smooth ground go.

The generator's own coarse latents vary the terrain over ~128 samples; beyond that a world would be
one statistically uniform texture. A `Layout` adds, as pointwise functions of world coordinates
evaluated inside the chunk program (so seams, determinism and periodicity hold by construction):

- a relief field r(x) = relief * exp(relief_variation * n(x)) * relief_map(x), where n is a smooth
  random field (cubic B-spline over normals on a lattice `relief_scale` samples apart, keyed by the
  world seed and lattice cell) of about unit standard deviation;
- an optional guide map e(x): a coarse sketch of elevation in metres, cubic-B-spline interpolated.

Heights are h = r(x) * (mean + std * g) without a guide (relief scales heights above sea level:
rough ground is high, smooth ground low), and h = e(x) + r(x) * std * g with one (the guide sets the
large-scale elevation, the GAN output g, dataset-normalised, supplies the detail). A cascade with a
steering (model v2, `nn.steering`) takes its guide differently: the guide moves its coarse latents so
that the GAN itself draws high, rough ground where the guide is high (`Surface.guide_clip`). Maps are
anchored to world sample (0, 0) and cover `extent` samples; outside it their edge values continue.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from terrain_gan.errors import TerrainGanError
from terrain_gan.nn import latents
from terrain_gan.world.maps import CoarseMap, load_map

MAX_CTRL, MAX_EVAL = 1024, 1024  # height-range bounds: controls and evaluation points per axis, at most
MIN_RELIEF_SCALE = 256
# The model's normalised output g is taken to lie in this range when no exact range is asked for;
# the shipped training data spans about -1.1 .. +9.0 standard deviations.
GAN_ENVELOPE = (-2.0, 10.0)
GUIDE_RELIEF_FLOOR = 0.25  # share of the model's relief left on a guide's lowest ground (cascades)


@dataclasses.dataclass(frozen=True, eq=False)
class Layout:
    """How a world's relief and elevation vary at large scale (see the module docstring).

    Attributes:
      relief: overall multiplier of relief (1 = the model's own).
      relief_variation: standard deviation of log-relief across the world (0 = uniform).
      relief_scale: spacing in samples of the relief field's lattice (features span ~2-4 of them).
      guide: optional `CoarseMap` of elevation in metres steering large-scale elevation.
      relief_map: optional `CoarseMap` of relief multipliers (>= 0) applied on top.
      roughness: a cascade with a steering (model v2) only: every coarse latent moved this far (-2..2)
        along the direction that turns its plains into uplands into ranges; below 0 more plains,
        above 0 more mountains, 0 the model's own mix (`nn.steering.Steering.push`).

    >>> Layout().plain, Layout(relief_variation=0.0).plain
    (False, True)
    """

    relief: float = 1.0
    relief_variation: float = 0.3
    relief_scale: int = 2048
    guide: CoarseMap | None = None
    relief_map: CoarseMap | None = None
    roughness: float = 0.0

    def __post_init__(self):
        checks = [(math.isfinite(self.relief) and 0 < self.relief <= 100, f"relief must be in (0, 100], got {self.relief}"),
                  (math.isfinite(self.relief_variation) and 0 <= self.relief_variation <= 3,
                   f"relief variation must be in [0, 3], got {self.relief_variation}"),
                  (isinstance(self.relief_scale, int) and MIN_RELIEF_SCALE <= self.relief_scale <= 2**22,
                   f"relief scale must be a whole number of samples, {MIN_RELIEF_SCALE}..{2**22}, "
                   f"got {self.relief_scale!r}"),
                  (math.isfinite(self.roughness) and -2 <= self.roughness <= 2,
                   f"roughness must be in [-2, 2], got {self.roughness}")]
        for ok, message in checks:
            if not ok:
                raise TerrainGanError(message)
        if self.relief_map is not None and float(self.relief_map.values.min()) < 0:
            raise TerrainGanError(f"relief map {self.relief_map.source}: multipliers must be >= 0")

    @property
    def plain(self) -> bool:
        """True when the layout changes nothing: heights are the model's own (as `generate` makes)."""
        return (self.relief == 1 and self.relief_variation == 0 and self.guide is None and self.relief_map is None
                and self.roughness == 0)

    def as_json(self) -> dict:
        """What the manifest records about the layout (maps by checksum; roughness only when set, so the
        manifests of worlds made before it existed still match)."""
        doc = dict(relief=self.relief, relief_variation=self.relief_variation, relief_scale=self.relief_scale,
                   guide=None if self.guide is None else self.guide.as_json(),
                   relief_map=None if self.relief_map is None else self.relief_map.as_json())
        return doc | ({"roughness": self.roughness} if self.roughness else {})

    def surface(self, period) -> "Surface":
        """The static part of the chunk program for this layout in a world of `period` (or None)."""
        spacing = tuple(_relief_spacing(self.relief_scale, None if period is None else p)
                        for p in (period or (None, None)))
        return Surface(spacing, self.guide is not None, self.relief_map is not None,
                       None if self.guide is None else self.guide.extent,
                       None if self.relief_map is None else self.relief_map.extent, period)

    def params(self) -> dict:
        """The numeric inputs of the chunk program (arrays, so layouts share compiled programs)."""
        out = dict(relief=np.float32(self.relief), variation=np.float32(self.relief_variation))
        if self.guide is not None:
            out["guide"] = self.guide.values
        if self.relief_map is not None:
            out["relief_map"] = self.relief_map.values
        if self.roughness:  # only when set: the chunk program sees the key (static) and moves the latents
            out["roughness"] = np.float32(self.roughness)
        return out


def make_layout(extent: tuple[int, int], *, guide_top_m: float, relief: float = 1.0, relief_variation: float = 0.3,
                relief_scale: int = 2048, guide=None, guide_range=None, relief_map=None, roughness: float = 0.0) -> Layout:
    """A `Layout` whose maps (paths or arrays, or None) cover world samples [0, extent): what the CLI builds.

    PNG guides run from `guide_range` (default 0 m .. `guide_top_m`) black to white; PNG relief maps
    from 0x (black) through 1x (mid-grey) to 2x (white). Arrays and .npy / DEM files are taken as is.

    >>> make_layout((1024, 1024), guide_top_m=2500.0, guide=np.zeros((4, 4))).guide.extent
    (1024, 1024)
    """
    if guide_range is not None:
        lo, hi = (float(v) for v in guide_range)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise TerrainGanError(f"guide range LO,HI must be finite with LO < HI, got {lo:g},{hi:g}")
    g = None if guide is None else load_map(guide, extent=extent, what="guide map",
                                            png_range=guide_range or (0.0, guide_top_m))
    r = None if relief_map is None else load_map(relief_map, extent=extent, what="relief map", png_range=(0.0, 2.0))
    return Layout(float(relief), float(relief_variation), relief_scale, g, r, float(roughness))


def _relief_spacing(scale: int, period: int | None) -> tuple[float, int | None]:
    """(spacing in samples, lattice period in cells): in a periodic world a whole number of cells per period."""
    if period is None:
        return float(scale), None
    cells = max(1, round(period / scale))
    return period / cells, cells


@dataclasses.dataclass(frozen=True)
class Surface:
    """Static (hashable) description of a layout's pointwise surface; the numbers come in `params`."""

    spacing: tuple[tuple[float, int | None], tuple[float, int | None]]
    has_guide: bool
    has_relief_map: bool
    guide_extent: tuple[int, int] | None
    relief_map_extent: tuple[int, int] | None
    period: tuple[int, int] | None
    # With a guide: relief also follows the guide, from GUIDE_RELIEF_FLOOR of the model's at the
    # guide's lowest to all of it at its highest, so dark ground becomes lowland, bright mountains
    # (a cascade's coarse level without a steering; v1 keeps relief independent of the guide).
    guide_relief: bool = False
    sample_step: int = 1  # spacing of the positions it is evaluated on (a cascade's coarse samples: 4)
    # A steered cascade's coarse level (`nn.steering`): the heights of guide the steering reaches.
    # The GAN's own heights then carry the guide up to them, and only the rest is added:
    # h = e + r * (GAN heights - clip(e)).
    guide_clip: tuple[float, float] | None = None

    def __call__(self, g_HxW, rows_N, cols_M, key, params, mean: float, std: float):
        """Heights in metres from the normalised generator output on world samples rows_N x cols_M."""
        if self.period is not None:
            rows_N, cols_M = jnp.mod(rows_N, self.period[0]), jnp.mod(cols_M, self.period[1])
        r = params["relief"] * jnp.exp(params["variation"] * self._relief_noise(rows_N, cols_M, key))
        if self.has_relief_map:
            r = r * map_values(params["relief_map"], self.relief_map_extent, rows_N, cols_M, self.period,
                               self.sample_step)
        if self.has_guide:
            e = map_values(params["guide"], self.guide_extent, rows_N, cols_M, self.period, self.sample_step)
            if self.guide_clip is not None:
                return e + r * (g_HxW * std + mean - jnp.clip(e, *self.guide_clip))
            if self.guide_relief:
                lo, hi = params["guide"].min(), params["guide"].max()
                t = jnp.clip((e - lo) / jnp.maximum(hi - lo, 1e-6), 0.0, 1.0)
                r = r * (GUIDE_RELIEF_FLOOR + (1.0 - GUIDE_RELIEF_FLOOR) * t)
            return e + r * (g_HxW * std)
        return r * (g_HxW * std + mean)

    def guide_at(self, rows_N, cols_M, params):
        """The guide map's heights in metres at world positions rows_N x cols_M (any, in samples),
        each wrapped into a periodic world's first period, so every copy of a place gets the same bits."""
        if self.period is not None:
            rows_N, cols_M = jnp.mod(rows_N, self.period[0]), jnp.mod(cols_M, self.period[1])
        return map_points(params["guide"], self.guide_extent, rows_N, cols_M, self.period is not None)

    def _relief_noise(self, rows_N, cols_M, key):
        """The smooth random field n (about unit standard deviation) on rows_N x cols_M."""
        (sr, pr), (sc, pc) = self.spacing
        k = self.sample_step
        wu, cu = _axis_weights(rows_N.astype(jnp.float32) / sr, _window(rows_N.shape[0], sr, k))
        wv, cv = _axis_weights(cols_M.astype(jnp.float32) / sc, _window(cols_M.shape[0], sc, k))
        ctrl = latents.relief_controls(key, cu, cv, wu.shape[1], wv.shape[1], period=None if pr is None else (pr, pc))
        return 2.0 * _sandwich(wu, ctrl, wv)  # x2: B-spline smoothing leaves std ~0.48


def map_values(values_HxW, extent, rows_N, cols_M, period, step: int = 1):
    """A `CoarseMap`'s values at world samples rows_N x cols_M (cubic B-spline on pixel centres).

    Outside the map its edge pixels continue (periodic worlds: the map wraps around).
    """
    h, w = values_HxW.shape
    wu, cu = _axis_weights((rows_N.astype(jnp.float32) + 0.5) * (h / extent[0]) - 0.5,
                           _window(rows_N.shape[0], extent[0] / h, step))
    wv, cv = _axis_weights((cols_M.astype(jnp.float32) + 0.5) * (w / extent[1]) - 0.5,
                           _window(cols_M.shape[0], extent[1] / w, step))
    iu, iv = cu + jnp.arange(wu.shape[1]), cv + jnp.arange(wv.shape[1])
    if period is None:
        iu, iv = jnp.clip(iu, 0, h - 1), jnp.clip(iv, 0, w - 1)
    else:
        iu, iv = jnp.mod(iu, h), jnp.mod(iv, w)
    return _sandwich(wu, values_HxW[iu][:, iv], wv)


def map_points(values_HxW, extent, rows_N, cols_M, wrap: bool):
    """`map_values` at positions in any order (each with its own four controls along each axis)."""
    h, w = values_HxW.shape

    def taps(x, scale, n):
        u = (x.astype(jnp.float32) + 0.5) * scale - 0.5
        base = jnp.floor(u)
        idx = base.astype(jnp.int32)[:, None] - 1 + jnp.arange(4, dtype=jnp.int32)[None, :]
        return (jnp.mod(idx, n) if wrap else jnp.clip(idx, 0, n - 1)), _cubic_weights(u - base)

    iu, wu = taps(rows_N, h / extent[0], h)
    iv, wv = taps(cols_M, w / extent[1], w)
    grid = values_HxW[iu[:, :, None, None], iv[None, None, :, :]]
    return jnp.einsum("na,namb,mb->nm", wu, grid, wv, precision=jax.lax.Precision.HIGHEST)


def _cubic_weights(t_N):
    """Cubic B-spline weights (N, 4) of the four controls around positions with fractional parts t_N."""
    t = t_N[:, None]
    return jnp.concatenate([(1 - t) ** 3, 3 * t**3 - 6 * t**2 + 4, -3 * t**3 + 3 * t**2 + 3 * t + 1, t**3], axis=1) / 6


def _window(n: int, spacing: float, step: int = 1) -> int:
    """Controls a run of n positions `step` samples apart can touch, controls `spacing` samples apart (static)."""
    return math.ceil((n - 1) * step / spacing) + 5


def _axis_weights(u_N, k: int):
    """Cubic B-spline weights of positions u_N (increasing) on k consecutive controls: ((N, k), first control).

    Control c sits at u = c; the window starts one control before floor(u_N[0]).
    """
    base = jnp.floor(u_N)
    w4 = _cubic_weights(u_N - base)
    first = base[0].astype(jnp.int32) - 1
    rel = base.astype(jnp.int32)[:, None] - 1 - first + jnp.arange(4, dtype=jnp.int32)[None, :]  # (N, 4) in [0, k)
    onehot = rel[:, :, None] == jnp.arange(k, dtype=jnp.int32)[None, None, :]
    return jnp.sum(jnp.where(onehot, w4[:, :, None], 0.0), axis=1), first


def _sandwich(wu_NxK, grid_KxL, wv_MxL):
    """wu @ grid @ wv.T at full float32 precision: the separable B-spline on a window of controls."""
    hi = jax.lax.Precision.HIGHEST
    return jnp.matmul(jnp.matmul(wu_NxK, grid_KxL, precision=hi), wv_MxL.T, precision=hi)


def relief_noise_bounds(key, rows: tuple[int, int], cols: tuple[int, int], layout: Layout, period) -> tuple[float, float]:
    """Bounds of n over world samples [rows) x [cols): n evaluated on a grid, widened by its slope bound.

    n's B-spline derivative along an axis is at most the largest step between neighbouring controls
    (per lattice spacing), so n between grid points differs from the nearest one by at most that
    times the distance; beyond MAX_CTRL controls a side, the bound of threefry normals (|z| < 5.5) is used.
    """
    (sr, pr), (sc, pc) = layout.surface(period).spacing
    if pr is not None:
        i0, j0, n_i, n_j = 0, 0, pr, pc
        rows, cols = (0, period[0]), (0, period[1])
    else:
        i0, j0 = math.floor(rows[0] / sr) - 2, math.floor(cols[0] / sc) - 2
        n_i, n_j = math.floor((rows[1] - 1) / sr) + 3 - i0, math.floor((cols[1] - 1) / sc) + 3 - j0
    if max(n_i, n_j) > MAX_CTRL:
        return -11.0, 11.0
    ctrl = np.asarray(jax.device_get(latents.relief_controls(key, i0, j0, n_i, n_j,
                                                             period=None if pr is None else (pr, pc))), np.float64)
    step = max(1, math.ceil(max(rows[1] - rows[0], cols[1] - cols[0]) / MAX_EVAL), int(min(sr, sc)) // 16)
    ys = np.unique(np.append(np.arange(rows[0], rows[1], step), rows[1] - 1))
    xs = np.unique(np.append(np.arange(cols[0], cols[1], step), cols[1] - 1))
    n = 2.0 * np_bspline(ctrl, ys / sr - i0, xs / sc - j0, pr is not None)
    slope_u = np.abs(np.diff(ctrl, axis=0, append=ctrl[:1] if pr is not None else ctrl[-1:])).max()
    slope_v = np.abs(np.diff(ctrl, axis=1, append=ctrl[:, :1] if pc is not None else ctrl[:, -1:])).max()
    margin = 2.0 * (slope_u * step / (2 * sr) + slope_v * step / (2 * sc))
    return float(n.min() - margin), float(n.max() + margin)


def np_bspline(ctrl, u_N, v_M, wrap: bool) -> np.ndarray:
    """Host-side (float64) cubic B-spline of `ctrl` at positions u_N x v_M (in control units)."""
    def taps(u, n):
        base = np.floor(u)
        t = (u - base)[:, None]
        w = np.concatenate([(1 - t) ** 3, 3 * t**3 - 6 * t**2 + 4, -3 * t**3 + 3 * t**2 + 3 * t + 1, t**3], 1) / 6
        idx = base.astype(np.int64)[:, None] - 1 + np.arange(4)[None, :]
        return (np.mod(idx, n) if wrap else np.clip(idx, 0, n - 1)), w

    iu, wu = taps(u_N, ctrl.shape[0])
    iv, wv = taps(v_M, ctrl.shape[1])
    return np.einsum("na,namb,mb->nm", wu, ctrl[iu[:, :, None, None], iv[None, None, :, :]], wv)


def height_envelope(key, layout: Layout, mean: float, std: float, rows, cols, period,
                    guide_clip: tuple[float, float] | None = None) -> tuple[float, float]:
    """Heights the layout can give over world samples [rows) x [cols) if g stays within GAN_ENVELOPE
    (`guide_clip`: a steered cascade's, see `Surface`)."""
    n_lo, n_hi = relief_noise_bounds(key, rows, cols, layout, period) if layout.relief_variation else (0.0, 0.0)
    rm = (1.0, 1.0) if layout.relief_map is None else (float(layout.relief_map.values.min()),
                                                       float(layout.relief_map.values.max()))
    r_lo = layout.relief * math.exp(layout.relief_variation * n_lo) * rm[0]
    r_hi = layout.relief * math.exp(layout.relief_variation * n_hi) * rm[1]
    g_lo, g_hi = GAN_ENVELOPE
    if layout.guide is None:
        a, b = mean + std * g_lo, mean + std * g_hi
        return min(r_lo * a, r_hi * a), max(r_lo * b, r_hi * b)
    e_lo, e_hi = float(layout.guide.values.min()), float(layout.guide.values.max())
    if guide_clip is None:
        return e_lo + r_hi * std * g_lo, e_hi + r_hi * std * g_hi
    # h = e + r * (mean + std g - clip(e)): piecewise linear in e, so bounded at e's ends and the clip's
    es = [e for e in (e_lo, e_hi, *guide_clip) if e_lo <= e <= e_hi]
    base = [e - r * min(max(e, guide_clip[0]), guide_clip[1]) for e in es for r in (r_lo, r_hi)]
    return (min(base) + max(r_lo, r_hi) * min(0.0, mean + std * g_lo),
            max(base) + max(r_lo, r_hi) * max(0.0, mean + std * g_hi))
