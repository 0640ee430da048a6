"""The generator's drainage penalty: the flood agrees with pyflwdir's on real terrain, its gradient
raises depression floors and lowers their spill points by exactly the depth's derivative, and a
training step with it reports the depth it penalised. A discriminator that sees depressions gets
their depth as a channel, and learns from it."""

from __future__ import annotations

import dataclasses
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from terrain_gan import config
from terrain_gan.dataset import core as dataset
from terrain_gan.errors import TerrainGanError
from terrain_gan.nn import drainage
from terrain_gan.nn import model as model_lib
from terrain_gan.train import step as train_step

pyflwdir = pytest.importorskip("pyflwdir")  # numba comes with it (the eval extra)


def _filled(height_BxHxW):
    spill = drainage.spill_cells(height_BxHxW)
    b = height_BxHxW.shape[0]
    return np.take_along_axis(height_BxHxW.reshape(b, -1), spill.reshape(b, -1), axis=1).reshape(height_BxHxW.shape)


def test_filled_heights_are_pyflwdirs_on_real_windows():
    windows = dataset.load_dataset().sample_windows(6, rng=np.random.default_rng(0), window=64)
    windows = windows.astype(np.float32)
    ours = _filled(windows)
    for window, filled in zip(windows, ours):
        theirs = pyflwdir.dem.fill_depressions(window, nodata=np.nan)[0]
        np.testing.assert_allclose(filled, theirs, rtol=0, atol=1e-3)  # pyflwdir rounds in its own way
        assert np.array_equal(filled - window > 0.01, theirs - window > 0.01)
    assert (ours - windows > 1.0).any(), "real windows hold some depressions: the check above saw some"


def _bowl():
    """A 7 x 7 plain at 10 m with a 3 x 3 basin at 4 m behind a rim at 9 m, which spills at (3, 5)."""
    h = np.full((7, 7), 10.0, np.float32)
    h[1:6, 1:6] = 9.0
    h[2:5, 2:5] = 4.0
    h[3, 5] = 6.0  # the pass
    h[3, 6] = 5.0  # outside the rim, the edge: lower than the pass
    return h


def test_depth_is_water_up_to_the_pass_and_its_gradient_moves_floor_and_pass():
    h = jnp.asarray(_bowl())[None]
    depth, grad = jax.value_and_grad(drainage.mean_depression_depth)(h)
    assert float(depth) == pytest.approx(9 * 2.0 / 49)  # nine cells at 4 m hold water up to the 6 m pass
    expected = np.zeros((7, 7), np.float32)
    expected[2:5, 2:5] = -1 / 49  # raising a floor cell makes it shallower
    expected[3, 5] = 9 / 49  # raising the pass deepens all nine
    np.testing.assert_allclose(grad[0], expected, atol=1e-7)


def test_a_training_step_with_the_penalty_reports_the_depth(tmp_path):
    cfg = config.load("configs/smoke.toml")
    cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, drainage=0.2))
    run = train_step.setup(cfg, tmp_path)
    metrics = train_step.train_step(run.gan, run.real_batch(0), run.key(0), np.float32(0), tcfg=cfg.train,
                                    apply_r1=False)
    assert 0 < float(metrics["drainage_m"]) < 1e4 and np.isfinite(float(metrics["g_loss"]))
    assert run.gan.height_std_m == pytest.approx(run.data.stats.height_std_m)


def test_without_numba_training_with_the_penalty_stops_before_the_first_step(tmp_path, monkeypatch):
    cfg = config.load("configs/smoke.toml")
    cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, drainage=0.2))
    monkeypatch.setitem(sys.modules, "numba", None)  # `import numba` now fails
    drainage.require.cache_clear()
    try:
        with pytest.raises(TerrainGanError, match="pip install numba"):
            train_step.setup(cfg, tmp_path)
    finally:
        drainage.require.cache_clear()


def test_a_discriminator_that_sees_depressions_gets_their_depth_as_a_channel():
    cfg = config.load("configs/smoke.toml")
    D = model_lib.make_discriminator(dataclasses.replace(cfg.model, d_drainage=True), 16, 2.0, rngs=nnx.Rngs(0))
    h = np.tile(np.arange(16, dtype=np.float32) * 0.1, (16, 1))  # a plane sloping to one edge
    h[5:8, 5:8] -= 0.25  # and a 3 x 3 pit in it: it spills at column 4's height, 0.4
    features = np.asarray(D.features(jnp.asarray(h[None])))
    assert features.shape == (1, 16, 16, 4)
    expected = np.zeros((16, 16), np.float32)
    expected[5:8, 5:7] = 0.4 - h[5:8, 5:7]  # column 7 (0.45) stands above the spill height
    np.testing.assert_allclose(features[0, ..., 3], expected * 2.0, atol=1e-6)
    plain = model_lib.make_discriminator(cfg.model, 16, 2.0, rngs=nnx.Rngs(0))
    assert plain.features(jnp.asarray(h[None])).shape == (1, 16, 16, 3)


@pytest.mark.parametrize("apply_r1", [False, True])
def test_a_training_step_with_a_discriminator_that_sees_depressions(tmp_path, apply_r1):
    cfg = config.load("configs/smoke.toml")
    cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, d_drainage=True))
    run = train_step.setup(cfg, tmp_path)
    before = jax.tree.map(np.array, nnx.state(run.gan.D, nnx.Param))
    metrics = train_step.train_step(run.gan, run.real_batch(0), run.key(0), np.float32(0), tcfg=cfg.train,
                                    apply_r1=apply_r1)
    assert all(np.isfinite(float(v)) for v in metrics.values())
    assert (float(metrics["r1"]) > 0) == apply_r1
    stem = np.asarray(run.gan.D.stem.kernel[...])
    assert stem.shape[2] == 4 and not np.array_equal(stem[:, :, 3], before["stem"]["kernel"][...][:, :, 3])


def test_the_relative_penalty_cannot_be_lowered_by_flattening_or_shifting(tmp_path):
    rng = np.random.default_rng(0)
    h = jnp.asarray(np.cumsum(rng.standard_normal((3, 24, 24)), axis=1).astype(np.float32))  # rough, with pits
    value, grad = jax.value_and_grad(drainage.relative_depression_depth)(h, 1e-3)
    assert float(value) > 0
    np.testing.assert_allclose(float(drainage.relative_depression_depth(0.5 * h + 3.0, 1e-3)), float(value), rtol=1e-5)
    # Euler: a scale- and shift-invariant function's gradient is orthogonal to h and to a constant
    for g, x in zip(np.asarray(grad), np.asarray(h)):
        assert abs(np.sum(g * x)) < 1e-5 * np.abs(g).sum() * np.abs(x).max()
        assert abs(g.sum()) < 1e-5 * np.abs(g).sum()
    # below the floor, the window's depth counts as over the floor (no division blow-up on flat ground)
    flat = 1e-4 * h
    np.testing.assert_allclose(float(drainage.relative_depression_depth(flat, 1.0)),
                               float(drainage.mean_depression_depth(flat)), rtol=1e-5)

    cfg = config.load("configs/smoke.toml")
    cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, drainage_relative=50.0))
    run = train_step.setup(cfg, tmp_path)
    metrics = train_step.train_step(run.gan, run.real_batch(0), run.key(0), np.float32(0), tcfg=cfg.train,
                                    apply_r1=False)
    assert 0 < float(metrics["drainage_relative"]) < 1 and float(metrics["drainage_m"]) == 0
