"""Terrain quality metrics on sets of heightmap windows, float (N, W, W) metres, in numpy.

- Radially averaged power spectrum (plane removed, Hann-windowed) and its log-log slope over a band.
- Slope-angle and local-relief distributions, compared by the 1-D Wasserstein-1 distance.
- Pit fraction: interior cells strictly lower than all 8 neighbours.
- Sliced Wasserstein distance of Laplacian-pyramid patches (Karras et al. 2018, Progressive GAN),
  for one-channel heightmaps: see `swd_descriptors` and `sliced_wasserstein`.

Every function is vectorised over windows and cells; none loops over pixels.
"""

from __future__ import annotations

import numpy as np

# Fit band of the spectral slope, in cycles per window (see `slope_band`).
_BAND_LO_CYCLES = 3  # below this the Hann window's main lobe (2 bins wide) mixes in the plane/mean
_BAND_HI_FRACTION = 0.25  # W/4 cycles = wavelength 4 cells: short of DEM-resampling blur near Nyquist


def _centred_axes(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Cell coordinates about the window centre; with them {1, x, y} is an orthogonal basis."""
    return np.arange(rows) - (rows - 1) / 2, np.arange(cols) - (cols - 1) / 2


def plane_coefficients(windows: np.ndarray) -> np.ndarray:
    """Least-squares plane of each window: float64 (N, 3) = (mean m, dz/dy m/cell, dz/dx m/cell).

    >>> plane_coefficients(np.add.outer(np.arange(4.0), 2 * np.arange(4.0))[None] + 7.0)
    array([[11.5,  1. ,  2. ]])
    """
    h = np.asarray(windows, np.float64)
    y, x = _centred_axes(*h.shape[1:])
    mean = h.mean(axis=(1, 2))
    by = np.einsum("nij,i->n", h, y) / (np.sum(y**2) * h.shape[2])
    bx = np.einsum("nij,j->n", h, x) / (np.sum(x**2) * h.shape[1])
    return np.stack([mean, by, bx], axis=1)


def plane(coefficients: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Planes (N, rows, cols) from `plane_coefficients` rows."""
    y, x = _centred_axes(rows, cols)
    c = np.asarray(coefficients, np.float64)
    return c[:, 0, None, None] + c[:, 1, None, None] * y[None, :, None] + c[:, 2, None, None] * x[None, None, :]


def detrend_plane(windows: np.ndarray) -> np.ndarray:
    """Removes each window's least-squares plane (mean and tilt); float64 (N, H, W).

    >>> h = np.add.outer(np.arange(4.0), 2 * np.arange(4.0))[None] + 7.0
    >>> float(np.abs(detrend_plane(h)).max()) < 1e-12
    True
    """
    h = np.asarray(windows, np.float64)
    return h - plane(plane_coefficients(h), *h.shape[1:])


def radial_power_spectrum(windows: np.ndarray, *, cell_size_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-window radially averaged power spectral density.

    Each window is plane-detrended and multiplied by a 2-D Hann window (power renormalised so a
    white field keeps its variance). Bins are integer radial wavenumbers k = 1 .. W//2 cycles per
    window; the density is in m² per (cycle/m)², so summing it over the 2-D frequency plane gives m².

    Args:
      windows: (N, W, W) heights in metres.
      cell_size_m: grid spacing in metres.

    Returns:
      (freq_cpm (K,), power (N, K)): frequencies in cycles per metre and the density per window.

    >>> f, p = radial_power_spectrum(np.random.default_rng(0).normal(size=(2, 32, 32)), cell_size_m=1.0)
    >>> f.shape, p.shape, bool(abs(p.mean() - 1.0) < 0.2)   # unit white noise: density 1 m²·m²
    ((16,), (2, 16), True)
    """
    n, rows, cols = windows.shape
    assert rows == cols, "square windows expected"
    taper = np.outer(np.hanning(rows), np.hanning(cols))
    spec = np.fft.rfft2(detrend_plane(windows) * taper)
    density = np.abs(spec) ** 2 * cell_size_m**2 / (rows * cols * np.mean(taper**2))
    k = np.rint(np.hypot(*np.meshgrid(np.fft.fftfreq(rows) * rows, np.fft.rfftfreq(cols) * cols,
                                      indexing="ij"))).astype(np.int64)
    kmax = rows // 2
    onehot = (k.reshape(-1, 1) == np.arange(1, kmax + 1)).astype(np.float64)
    power = density.reshape(n, -1) @ onehot / onehot.sum(axis=0)
    return np.arange(1, kmax + 1) / (rows * cell_size_m), power


def slope_band(size: int) -> tuple[int, int]:
    """The spectral-slope fit band (lo, hi) in cycles per window, inclusive: (3, W/4).

    For 64-cell windows of 90 m that is wavelengths 1920 m down to 360 m (4 cells).

    >>> slope_band(64)
    (3, 16)
    """
    return _BAND_LO_CYCLES, max(_BAND_LO_CYCLES + 2, int(size * _BAND_HI_FRACTION))


def spectral_slopes(windows: np.ndarray, *, cell_size_m: float, band: tuple[int, int] | None = None) -> np.ndarray:
    """Per-window log-log slope of the radial power spectrum over `band` (cycles/window; default `slope_band`).

    A self-affine surface with power ∝ f^-β has slope -β (β ≈ 2-3.5 for real terrain).

    >>> from terrain_gan.eval.fbm import fbm_heightmap
    >>> h = np.stack([fbm_heightmap(64, beta=3.0, seed=s, cell_size_m=90.0, relief_m=1e3) for s in range(8)])
    >>> bool(abs(np.median(spectral_slopes(h, cell_size_m=90.0)) + 3.0) < 0.3)
    True
    """
    lo, hi = slope_band(windows.shape[-1]) if band is None else band
    freq, power = radial_power_spectrum(windows, cell_size_m=cell_size_m)
    sel = slice(lo - 1, hi)  # bin i holds k = i + 1
    x = np.log10(freq[sel])
    y = np.log10(np.maximum(power[:, sel], 1e-30))
    xc = x - x.mean()
    return (y - y.mean(axis=1, keepdims=True)) @ xc / np.sum(xc**2)


def slope_angles(windows: np.ndarray, *, cell_size_m: float) -> np.ndarray:
    """Slope angle in degrees of every interior cell (central differences), flattened float32.

    >>> h = np.add.outer(np.zeros(5), np.arange(5.0) * 10.0)[None]   # rises 10 m per 10 m cell
    >>> slope_angles(h, cell_size_m=10.0)[:3]
    array([45., 45., 45.], dtype=float32)
    """
    h = np.asarray(windows, np.float32)
    gy = (h[:, 2:, 1:-1] - h[:, :-2, 1:-1]) / (2 * cell_size_m)
    gx = (h[:, 1:-1, 2:] - h[:, 1:-1, :-2]) / (2 * cell_size_m)
    return np.degrees(np.arctan(np.hypot(gx, gy))).ravel()


def _sliding_extreme(h: np.ndarray, k: int, op) -> np.ndarray:
    """`op` (np.max / np.min) over every k x k block of the last two axes (separable)."""
    view = np.lib.stride_tricks.sliding_window_view
    return op(view(op(view(h, k, axis=2), axis=-1), k, axis=1), axis=-1)


def local_relief(windows: np.ndarray, *, k: int = 5) -> np.ndarray:
    """max - min height in every k x k neighbourhood (valid positions), flattened float32 metres.

    >>> local_relief(np.arange(16.0).reshape(1, 4, 4), k=3)
    array([10., 10., 10., 10.], dtype=float32)
    """
    h = np.asarray(windows, np.float32)
    return (_sliding_extreme(h, k, np.max) - _sliding_extreme(h, k, np.min)).ravel()


def pit_fraction(windows: np.ndarray) -> float:
    """Fraction of interior cells strictly lower than all 8 neighbours (closed depressions).

    >>> h = np.ones((1, 4, 4)); h[0, 1, 1] = 0.0
    >>> pit_fraction(h)   # 1 of 4 interior cells
    0.25
    """
    h = np.asarray(windows)
    rows, cols = h.shape[1:]
    centre = h[:, 1:-1, 1:-1]
    pit = np.ones(centre.shape, bool)
    for dy in (-1, 0, 1):  # 8 whole-array comparisons, one per neighbour offset
        for dx in (-1, 0, 1):
            if dy or dx:
                pit &= centre < h[:, 1 + dy: rows - 1 + dy, 1 + dx: cols - 1 + dx]
    return float(pit.mean())


def wasserstein1(a: np.ndarray, b: np.ndarray) -> float:
    """Exact 1-D Wasserstein-1 distance between two empirical distributions (any sizes).

    W1 = ∫ |F_a(t) - F_b(t)| dt, evaluated between consecutive pooled sample values.

    >>> wasserstein1(np.array([0.0, 1.0, 2.0]), np.array([5.0, 6.0, 7.0]))
    5.0
    >>> wasserstein1(np.array([0.0, 1.0]), np.array([0.0, 0.0, 1.0, 1.0]))
    0.0
    """
    a, b = np.sort(np.ravel(a).astype(np.float64)), np.sort(np.ravel(b).astype(np.float64))
    pooled = np.sort(np.concatenate([a, b]))
    cdf_a = np.searchsorted(a, pooled[:-1], side="right") / a.size
    cdf_b = np.searchsorted(b, pooled[:-1], side="right") / b.size
    return float(np.sum(np.abs(cdf_a - cdf_b) * np.diff(pooled)))


# ---- sliced Wasserstein distance of Laplacian-pyramid patches (Karras et al. 2018) ----------------
_GAUSS5 = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0  # the binomial filter of their pyr_down/pyr_up
PATCH = 7
MIN_LEVEL_SIZE = 16  # their pyramid runs from 16x16 up to full resolution


def _blur5(x: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """Separable 5-tap binomial filter over the last two axes, mirror edges (scipy 'mirror')."""
    pad = np.pad(x, ((0, 0), (2, 2), (2, 2)), mode="reflect")
    rows, cols = x.shape[1:]
    tmp = sum(w * pad[:, i: i + rows, :] for i, w in enumerate(_GAUSS5 * gain))
    return sum(w * tmp[:, :, j: j + cols] for j, w in enumerate(_GAUSS5 * gain))


def laplacian_pyramid(x: np.ndarray, levels: int) -> list[np.ndarray]:
    """Laplacian pyramid, finest first; the last level is the low-pass residual.

    >>> pyr = laplacian_pyramid(np.random.default_rng(0).normal(size=(1, 16, 16)), 2)
    >>> [p.shape for p in pyr]
    [(1, 16, 16), (1, 8, 8)]
    """
    pyr = [np.asarray(x, np.float64)]
    for _ in range(levels - 1):
        down = _blur5(pyr[-1])[:, ::2, ::2]
        up = np.zeros_like(pyr[-1])
        up[:, ::2, ::2] = down
        pyr[-1] = pyr[-1] - _blur5(up, gain=2.0)  # x4 over both axes restores the zero-filled mean
        pyr.append(down)
    return pyr


def pyramid_levels(size: int) -> int:
    """Number of pyramid levels for W-cell windows: W, W/2, ... down to 16 (at least 1).

    >>> pyramid_levels(64), pyramid_levels(128), pyramid_levels(16)
    (3, 4, 1)
    """
    return max(1, int(np.floor(np.log2(size / MIN_LEVEL_SIZE))) + 1)


def swd_descriptors(windows: np.ndarray, *, height_scale_m: float, rng: np.random.Generator,
                    patches_per_window: int = 64) -> list[np.ndarray]:
    """Random 7x7 patches of each Laplacian-pyramid level, one (N * P, 49) array per level.

    Heights are normalised before the pyramid: each window's mean is removed and the result
    divided by `height_scale_m` (the real set's pooled within-window std).
    """
    x = (windows - windows.mean(axis=(1, 2), keepdims=True)) / height_scale_m
    pyr = laplacian_pyramid(x, pyramid_levels(windows.shape[-1]))
    n, offs = windows.shape[0], np.arange(PATCH)
    out = []
    for level in pyr:  # a handful of levels; the patch gather itself is vectorised
        hi = level.shape[-1] - PATCH + 1
        y0, x0 = rng.integers(0, hi, size=(2, n, patches_per_window, 1, 1))
        idx = np.arange(n)[:, None, None, None]
        patches = level[idx, y0 + offs[:, None], x0 + offs[None, :]]
        out.append(patches.reshape(-1, PATCH * PATCH).astype(np.float32))
    return out


def swd_directions(dim: int, *, seed: int, directions: int = 128, repeats: int = 4) -> np.ndarray:
    """`repeats` x `directions` random unit vectors, float32 (repeats * directions, dim).

    Karras et al. average SWD over 4 repeats of 128 directions; the mean over all 512 is the same.
    """
    dirs = np.random.default_rng(seed).normal(size=(repeats * directions, dim)).astype(np.float32)
    return dirs / np.linalg.norm(dirs, axis=1, keepdims=True)


def swd_projections(desc: list[np.ndarray], real_desc: list[np.ndarray], dirs: np.ndarray) -> list[np.ndarray]:
    """Per level, sorted projections (D, M) of `desc`, normalised by the *real* set's level mean/std.

    Karras et al. normalise each set by its own statistics, which hides a difference in amplitude;
    here both sets share the real set's, so an over- or under-scaled generator is penalised.
    """
    out = []
    for d, r in zip(desc, real_desc):
        mu, sd = r.mean(), r.std() + 1e-12
        out.append(np.sort(dirs @ ((d - mu) / sd).T, axis=1))
    return out


def swd_from_projections(real_proj: list[np.ndarray], fake_proj: list[np.ndarray]) -> np.ndarray:
    """SWD per level from sorted projections; sets of unequal size are compared at common quantiles."""
    out = []
    for r, f in zip(real_proj, fake_proj):
        m = min(r.shape[1], f.shape[1])
        pick = lambda p: p[:, ((np.arange(m) + 0.5) * p.shape[1] / m).astype(np.int64)]
        out.append(float(np.abs(pick(r) - pick(f)).mean()))
    return np.array(out)


def sliced_wasserstein(real_desc: list[np.ndarray], fake_desc: list[np.ndarray], *, seed: int = 0,
                       directions: int = 128, repeats: int = 4) -> np.ndarray:
    """SWD per pyramid level (finest first) between descriptor sets from `swd_descriptors`.

    Multiply by 1e3 to compare with the paper's tables.

    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(2, 8, 32, 32))
    >>> dx = swd_descriptors(x, height_scale_m=1.0, rng=rng)
    >>> dy = swd_descriptors(y, height_scale_m=1.0, rng=rng)
    >>> d2 = swd_descriptors(2 * y, height_scale_m=1.0, rng=rng)
    >>> bool(np.all(sliced_wasserstein(dx, dy) < sliced_wasserstein(dx, d2)))
    True
    """
    dirs = swd_directions(real_desc[0].shape[1], seed=seed, directions=directions, repeats=repeats)
    return swd_from_projections(swd_projections(real_desc, real_desc, dirs),
                                swd_projections(fake_desc, real_desc, dirs))


def pooled_std(windows: np.ndarray) -> float:
    """Std of heights about each window's own mean, pooled over the set (metres)."""
    h = np.asarray(windows, np.float64)
    return float(np.sqrt(np.mean((h - h.mean(axis=(1, 2), keepdims=True)) ** 2)))


def lattice_phase_profile(maps_NxHxW: np.ndarray, period: int) -> np.ndarray:
    """Mean |second difference| at each phase of a `period`-sample lattice, over the mean: (period,).

    A generator whose latents sit on a lattice can leave it visible as texture that is rougher or
    smoother at some phases of each lattice cell; real terrain has a flat profile (all ones). Maps
    start on the lattice (sample 0 at phase 0); differences along both axes are pooled, each placed
    at the phase of its centre sample.
    """
    maps = np.asarray(maps_NxHxW, np.float64)
    d2x = np.abs(maps[:, :, 2:] - 2 * maps[:, :, 1:-1] + maps[:, :, :-2])  # centre column j + 1
    d2y = np.abs(maps[:, 2:, :] - 2 * maps[:, 1:-1, :] + maps[:, :-2, :])  # centre row i + 1
    phase_x = (np.arange(1, maps.shape[2] - 1) % period)
    phase_y = (np.arange(1, maps.shape[1] - 1) % period)
    sums = np.bincount(phase_x, d2x.sum(axis=(0, 1)), period) + np.bincount(phase_y, d2y.sum(axis=(0, 2)), period)
    counts = (np.bincount(phase_x, minlength=period) * d2x.shape[0] * d2x.shape[1]
              + np.bincount(phase_y, minlength=period) * d2y.shape[0] * d2y.shape[2])
    per_phase = sums / counts
    return per_phase / per_phase.mean()
