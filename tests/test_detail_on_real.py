"""The texture columns of benchmarks/detail_on_real.py see what they say: one-cell bumps, a diagonal
grain, and how the high-pass grows with slope."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import detail_on_real  # noqa: E402


def _columns(windows):
    extrema, kurtosis, axes, diagonals, b = detail_on_real._texture(windows)
    return float(extrema), float(kurtosis), [float(v) for v in axes.split(" / ")], [float(v) for v in diagonals.split(" / ")], float(b)


def _smooth(noise, shift):
    """Noise averaged with itself moved one sample along `shift`: correlated along that direction."""
    return noise + np.roll(noise, shift, axis=(1, 2))


def test_a_grain_along_one_diagonal_shows_in_that_diagonal_and_a_flip_swaps_them():
    noise = np.random.default_rng(0).normal(size=(64, 48, 48))
    grain = _smooth(noise, (1, 1))  # along the ↘ diagonal
    _, _, axes, (down, up), _ = _columns(grain)
    assert down > up + 0.2, (down, up)
    _, _, _, (down_f, up_f), _ = _columns(grain[:, :, ::-1])
    assert abs(down_f - up) < 0.02 and abs(up_f - down) < 0.02
    _, _, _, (d_iso, u_iso), _ = _columns(noise)  # white noise: no grain either way
    assert abs(d_iso - u_iso) < 0.05


def test_extrema_and_the_slope_exponent():
    rng = np.random.default_rng(1)
    steepness = rng.uniform(0.5, 20, size=(64, 1, 1))
    ramp = np.add.outer(np.arange(48.0), np.zeros(48))[None] * steepness
    texture = rng.normal(size=(64, 48, 48))
    smoothed = texture
    for shift in ((0, 1), (0, 1), (1, 0), (1, 0)):  # a 1-2-1 binomial along each axis
        smoothed = _smooth(smoothed, shift)
    white, smooth = _columns(texture), _columns(smoothed)
    assert abs(white[0] - 2 / 9) < 0.01  # a white-noise sample is the highest of nine 1 time in 9, the lowest too
    assert white[0] > 2 * smooth[0] > 0  # smoothed bumps make far fewer local extrema
    bumpy = _columns(ramp + texture)
    # texture that scales with the slope has b near 1; a fixed texture on steeper ramps, b near 0
    scaled = _columns(ramp + texture * steepness)
    assert scaled[4] > 0.8 and abs(bumpy[4]) < 0.2, (scaled[4], bumpy[4])
