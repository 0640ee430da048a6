"""The texture columns of benchmarks/detail_on_real.py see what they say: one-cell bumps, a diagonal
grain, and how the high-pass grows with slope; and its `--parts` add up to the detail level's output."""

import sys
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from terrain_gan import load_model
from terrain_gan.nn import cascade

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from detail_on_real import PARTS, _detail_windows, texture  # noqa: E402


def _smooth(noise, shift):
    """Noise averaged with itself moved one sample along `shift`: correlated along that direction."""
    return noise + np.roll(noise, shift, axis=(1, 2))


def test_a_grain_along_one_diagonal_shows_in_that_diagonal_and_a_flip_swaps_them():
    noise = np.random.default_rng(0).normal(size=(64, 48, 48))
    grain = _smooth(noise, (1, 1))  # along the ↘ diagonal
    *_, down, up = texture(grain).correlations
    assert down > up + 0.2, (down, up)
    *_, down_f, up_f = texture(grain[:, :, ::-1]).correlations
    assert abs(down_f - up) < 0.02 and abs(up_f - down) < 0.02
    *_, d_iso, u_iso = texture(noise).correlations  # white noise: no grain either way
    assert abs(d_iso - u_iso) < 0.05


def test_extrema_and_the_slope_exponent():
    rng = np.random.default_rng(1)
    steepness = rng.uniform(0.5, 20, size=(64, 1, 1))
    ramp = np.add.outer(np.arange(48.0), np.zeros(48))[None] * steepness
    noise = rng.normal(size=(64, 48, 48))
    smoothed = noise
    for shift in ((0, 1), (0, 1), (1, 0), (1, 0)):  # a 1-2-1 binomial along each axis
        smoothed = _smooth(smoothed, shift)
    white, smooth = texture(noise).extrema, texture(smoothed).extrema
    assert abs(white - 2 / 9) < 0.01  # a white-noise sample is the highest of nine 1 time in 9, the lowest too
    assert white > 2 * smooth > 0  # smoothed bumps make far fewer local extrema
    # texture that scales with the slope has b near 1; a fixed texture on steeper ramps, b near 0
    scaled, fixed = texture(ramp + noise * steepness).slope_exponent, texture(ramp + noise).slope_exponent
    assert scaled > 0.8 and abs(fixed) < 0.2, (scaled, fixed)


def test_texture_that_runs_downslope_correlates_along_the_slope_more_than_across():
    rng = np.random.default_rng(2)
    ramp = np.add.outer(np.zeros(48), np.arange(48.0))[None] * 3.0  # slopes along x
    noise = rng.normal(size=(64, 48, 48))
    gullies = _smooth(_smooth(noise, (0, 1)), (0, 1))  # noise elongated along x: downslope
    terraces = _smooth(_smooth(noise, (1, 0)), (1, 0))  # elongated along y: along the contours
    along, across = texture(ramp + gullies).downslope
    assert along > across + 0.3, (along, across)
    along, across = texture(ramp + terraces).downslope
    assert across > along + 0.3, (along, across)
    along, across = texture(np.transpose(ramp + terraces, (0, 2, 1))).downslope  # the same, turned: a ramp along y
    assert across > along + 0.3, (along, across)
    diagonal = np.add.outer(np.arange(48.0), np.arange(48.0))[None] * 3.0  # slopes along ↘
    along, across = texture(diagonal + _smooth(_smooth(noise, (1, 1)), (1, 1))).downslope  # gullies along ↘
    assert along > across + 0.3, (along, across)
    along, across = texture(diagonal + _smooth(_smooth(noise, (1, -1)), (1, -1))).downslope  # ridges along ↙
    assert across > along + 0.3, (along, across)


def test_the_parts_of_the_shipped_detail_level_add_up_to_its_output():
    detail = load_model("v2").generator.detail
    real = np.cumsum(np.random.default_rng(3).normal(size=(4, 96, 96)), axis=2).astype(np.float32) / 10
    whole = _detail_windows(detail, real, seed=0)
    without, alone = (_detail_windows(detail, real, seed=0, part=p) for p in PARTS)
    base = np.asarray(cascade.up4(cascade.block_mean4(jnp.asarray(real)), detail.MARGIN, detail.cfg.detail_base,
                                  detail.cfg.detail_base_share))
    np.testing.assert_allclose(without + alone - base, whole, atol=1e-4)
    for part in (without, alone):  # each part leaves out something the level draws
        assert np.abs(part - whole).mean() > 1e-3
