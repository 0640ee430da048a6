"""Soft flow accumulation (`nn.flow`), the discriminator's `d_flow` channel: water runs downhill and
gathers in valleys, stops in pits, leaves at the window's edge; its gradient is finite to second order
(R1); a training step with it updates the channel's weights."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from terrain_gan import config
from terrain_gan.errors import TerrainGanError
from terrain_gan.nn import flow
from terrain_gan.nn import model as model_lib
from terrain_gan.train import step as train_step

N = 32


def _grid():
    return np.mgrid[0:N, 0:N].astype(np.float32)


def test_a_v_valley_gathers_its_whole_catchment_along_its_floor():
    y, x = _grid()
    valley = np.abs(x - 16) * 0.5 + (N - y) * 0.2  # floor on column 16, falling towards row N-1
    acc = np.asarray(flow.accumulation(jnp.asarray(valley[None]), iterations=2 * N))[0]
    floor = acc[:, 16]
    assert np.all(np.diff(floor) > 0)  # grows downstream, cell by cell
    # at the outlet: every cell of the window, but for what leaves over the lower edge directly
    assert floor[-1] > 0.9 * N * N - 2 * N
    assert acc[:, [0, N - 1]].max() < 2.5  # the ridges at the window's sides receive nothing from outside


def test_water_stops_in_a_pit_and_a_window_edge_is_an_outlet():
    y, x = _grid()
    bowl = ((x - 16) ** 2 + (y - 16) ** 2) * 0.01
    acc = np.asarray(flow.accumulation(jnp.asarray(bowl[None]), iterations=2 * N))[0]
    assert acc[16, 16] == pytest.approx(N * N, rel=1e-4)  # the whole window drains into the pit
    weights = np.asarray(flow.routing_weights(jnp.asarray(bowl[None])))
    assert weights[:, 0, 16, 16].sum() == 0  # the pit passes nothing on
    np.testing.assert_allclose(weights[:, 0, 3, 7].sum(), 1.0, rtol=1e-6)
    plane = (N - y) * 0.1  # falls towards row N-1: away from the sides, a cell collects a column's worth
    acc = np.asarray(flow.accumulation(jnp.asarray(plane[None]), iterations=2 * N))[0]
    np.testing.assert_allclose(acc[:, 16], np.arange(1, N + 1), rtol=1e-4)


def test_iterations_bound_the_path_length_counted():
    y, _ = _grid()
    plane = (N - y) * 0.1
    acc = np.asarray(flow.accumulation(jnp.asarray(plane[None]), iterations=5))[0]
    np.testing.assert_allclose(acc[-1, 16], 6.0, rtol=1e-5)  # itself and the 5 cells above it


def test_log_accumulation_has_finite_gradients_to_second_order():
    h = jnp.asarray(np.random.default_rng(0).normal(size=(2, N, N)).astype(np.float32)).cumsum(1) * 0.1
    grad = jax.grad(lambda h: flow.log_accumulation(h).sum())
    g = np.asarray(grad(h))
    assert np.isfinite(g).all() and np.abs(g).max() > 0
    gg = np.asarray(jax.grad(lambda h: (grad(h) ** 2).sum())(h))
    assert np.isfinite(gg).all()


def test_a_discriminator_that_sees_flow_gets_it_as_a_channel():
    cfg = config.load("configs/smoke.toml")
    D = model_lib.make_discriminator(dataclasses.replace(cfg.model, d_flow=True), 16, 2.0, rngs=nnx.Rngs(0))
    h = jnp.asarray(np.random.default_rng(1).normal(size=(1, 16, 16)).astype(np.float32))
    features = np.asarray(D.features(h))
    assert features.shape == (1, 16, 16, 4)
    np.testing.assert_allclose(features[0, ..., 3], np.asarray(flow.log_accumulation(h))[0], rtol=1e-6)


@pytest.mark.parametrize("apply_r1", [False, True])
def test_a_training_step_with_a_discriminator_that_sees_flow(tmp_path, apply_r1):
    cfg = config.load("configs/smoke.toml")
    cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, d_flow=True))
    run = train_step.setup(cfg, tmp_path)
    before = np.array(run.gan.D.stem.kernel[...])
    metrics = train_step.train_step(run.gan, run.real_batch(0), run.key(0), np.float32(0), tcfg=cfg.train,
                                    apply_r1=apply_r1)
    assert all(np.isfinite(float(v)) for v in metrics.values())
    stem = np.asarray(run.gan.D.stem.kernel[...])
    assert stem.shape[2] == 4 and not np.array_equal(stem[:, :, 3], before[:, :, 3])


def test_the_dcgan_refuses_it():
    with pytest.raises(TerrainGanError, match="model.d_flow is for the spatial and detail models"):
        config.from_dict({"model": {"kind": "dcgan", "d_flow": True}, "train": {"r1_gamma": 0.0}})
