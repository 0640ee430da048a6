"""Spectral fractional Brownian motion (fBm): the noise terrain users make today, as a baseline.

A Gaussian random field with a chosen radially symmetric power spectrum is white complex noise
shaped by sqrt(power) in the Fourier domain and brought back with one inverse real FFT.

- `fbm_heightmap`: one large map with power ∝ f^-β (also the speed reference for generation).
- `estimate_spectrum` + `fbm_windows`: windows whose measured radial spectrum matches a real set's.

A window-sized spectrum says nothing about wavelengths longer than the window, which in real
terrain show up mostly as each window's mean level and tilt. Matched windows therefore take
their plane (mean and tilt) from the real set, bootstrapped, and their detail from the spectrum.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from terrain_gan.eval import metrics

_BATCH = 128  # windows synthesised per FFT call (caps memory at ~40 MB for 64-cell windows)


@dataclasses.dataclass(frozen=True)
class Spectrum:
    """A radially averaged power spectral density, and the large-scale part of the measured set.

    Attributes:
      freq_cpm: (K,) increasing radial frequencies, cycles per metre.
      power: (K,) density at those frequencies, m² per (cycle/m)².
      beta: power-law exponent used outside the tabulated range (power ∝ f^-beta).
      mean_m: mean height of the set it was measured on, metres.
      planes: optional (M, 3) `metrics.plane_coefficients` of the measured windows; when given,
        each synthetic window is detrended and gets one of these planes at random.
    """

    freq_cpm: np.ndarray
    power: np.ndarray
    beta: float
    mean_m: float
    planes: np.ndarray | None = None

    def __call__(self, f: np.ndarray) -> np.ndarray:
        """Density at radial frequencies `f` (cycles/m): log-log interpolation, power-law tails."""
        lf, lp = np.log(self.freq_cpm), np.log(self.power)
        x = np.log(np.maximum(f, 1e-30))
        inside = np.interp(x, lf, lp)
        tails = np.where(x < lf[0], lp[0] - self.beta * (x - lf[0]), lp[-1] - self.beta * (x - lf[-1]))
        return np.exp(np.where((x < lf[0]) | (x > lf[-1]), tails, inside))


def _radial_freq(rows: int, cols: int, cell_size_m: float) -> np.ndarray:
    """|f| in cycles/m on the rfft2 grid of a (rows, cols) field."""
    fy = np.fft.fftfreq(rows, d=cell_size_m)[:, None]
    fx = np.fft.rfftfreq(cols, d=cell_size_m)[None, :]
    return np.sqrt(fy**2 + fx**2)


def _gaussian_fields(n: int, rows: int, cols: int, amplitude: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """n periodic real fields whose rfft2 coefficients are complex Gaussian x `amplitude`."""
    noise = rng.standard_normal((n, rows, cols // 2 + 1, 2), dtype=np.float32)
    coeffs = (noise[..., 0] + 1j * noise[..., 1]) * amplitude.astype(np.float32)
    return np.fft.irfft2(coeffs, s=(rows, cols)).astype(np.float32)


def fbm_heightmap(size: int | tuple[int, int], *, beta: float = 2.6, seed: int = 0, cell_size_m: float = 90.0,
                  relief_m: float = 1000.0) -> np.ndarray:
    """One fBm heightmap with power ∝ f^-beta, rescaled to span [0, relief_m] metres.

    The field is periodic (it tiles seamlessly); any size works (e.g. 1025). Cost: one complex
    noise draw and one inverse rfft2.

    Args:
      size: side in cells, or (rows, cols).
      beta: spectral exponent of the radial power spectrum (2 ≤ beta ≤ 4 looks like terrain).
      seed: the only source of randomness.
      cell_size_m: grid spacing (sets the frequency units; the shape does not depend on it).
      relief_m: max - min of the result.

    Returns:
      float32 (rows, cols) heights in metres, min 0 and max relief_m.

    >>> h = fbm_heightmap(65, beta=3.0, seed=1, relief_m=500.0)
    >>> h.shape, h.dtype, float(h.min()), float(h.max())
    ((65, 65), dtype('float32'), 0.0, 500.0)
    >>> bool(np.array_equal(h, fbm_heightmap(65, beta=3.0, seed=1, relief_m=500.0)))
    True
    """
    rows, cols = (size, size) if np.isscalar(size) else size
    f = _radial_freq(rows, cols, cell_size_m)
    amplitude = np.where(f > 0, np.maximum(f, 1e-30) ** (-beta / 2), 0.0)  # zero mean
    h = _gaussian_fields(1, rows, cols, amplitude, np.random.default_rng(seed))[0]
    h -= h.min()
    return h * np.float32(relief_m / max(float(h.max()), 1e-30))


def estimate_spectrum(windows: np.ndarray, *, cell_size_m: float, calibrate: bool = True,
                      seed: int = 0) -> Spectrum:
    """The mean radial power spectrum of a set of windows, ready for `fbm_windows`.

    With `calibrate`, one correction pass synthesises windows from the estimate, measures them
    with the same estimator and divides out the ratio, so the estimator's own bias (Hann leakage,
    plane removal) is not applied twice.

    Args:
      windows: (N, W, W) real heights in metres.
      cell_size_m: grid spacing in metres.
      calibrate: apply the correction pass.
      seed: seed of the calibration draw.

    >>> real = np.stack([fbm_heightmap(64, beta=2.5, seed=s, relief_m=800.0) for s in range(16)])
    >>> spec = estimate_spectrum(real, cell_size_m=90.0)
    >>> round(spec.beta, 1), spec.freq_cpm.shape
    (2.5, (32,))
    """
    freq, power = metrics.radial_power_spectrum(windows, cell_size_m=cell_size_m)
    mean_power = power.mean(axis=0)
    lo, hi = metrics.slope_band(windows.shape[-1])
    beta = -float(np.polyfit(np.log(freq[lo - 1: hi]), np.log(mean_power[lo - 1: hi]), 1)[0])
    spec = Spectrum(freq, mean_power, beta, float(np.mean(windows)), metrics.plane_coefficients(windows))
    if not calibrate:
        return spec
    probe = fbm_windows(max(64, len(windows) // 4), windows.shape[-1], spec, seed=seed, cell_size_m=cell_size_m)
    measured = metrics.radial_power_spectrum(probe, cell_size_m=cell_size_m)[1].mean(axis=0)
    return dataclasses.replace(spec, power=mean_power * mean_power / measured)


def fbm_windows(n: int, size: int, spectrum: Spectrum, *, seed: int, cell_size_m: float = 90.0) -> np.ndarray:
    """n independent Gaussian-field windows with `spectrum`, float32 (n, size, size) metres.

    Each is cut from a periodic field twice its size, so windows are not themselves periodic
    (like real ones) and wavelengths up to twice the window are present.

    Args:
      n: number of windows.
      size: side in cells.
      spectrum: from `estimate_spectrum`. Windows get one of its `planes` each (bootstrapped) or,
        without planes, its `mean_m`.
      seed: the only source of randomness.
      cell_size_m: grid spacing (must match the one the spectrum was measured at).

    >>> spec = Spectrum(np.array([1e-4, 1e-3]), np.array([1e8, 1e5]), 3.0, 500.0)
    >>> w = fbm_windows(3, 32, spec, seed=0)
    >>> w.shape, w.dtype, bool(np.array_equal(w, fbm_windows(3, 32, spec, seed=0)))
    ((3, 32, 32), dtype('float32'), True)
    """
    big = 2 * size
    f = _radial_freq(big, big, cell_size_m)
    # E|F|^2 = S * M^2 / d^2 for density S on an M x M grid of spacing d; complex noise has E|z|^2 = 2.
    amplitude = np.where(f > 0, np.sqrt(spectrum(f) / 2.0) * big / cell_size_m, 0.0)
    rng = np.random.default_rng(seed)
    chunks = [_gaussian_fields(min(_BATCH, n - i), big, big, amplitude, rng)[:, :size, :size]
              for i in range(0, n, _BATCH)]
    fields = np.concatenate(chunks) if chunks else np.zeros((0, size, size), np.float32)
    if spectrum.planes is None:
        return fields + np.float32(spectrum.mean_m)
    coeffs = spectrum.planes[rng.integers(0, len(spectrum.planes), size=n)]
    return (metrics.detrend_plane(fields) + metrics.plane(coeffs, size, size)).astype(np.float32)
