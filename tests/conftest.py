"""Shared test set-up: strict JAX, and a tiny trained model for tests that need one."""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="session")
def smoke_weights(tmp_path_factory):
    """weights.npz of the smoke config trained for a few steps on the shipped dataset."""
    from terrain_gan import config
    from terrain_gan.train import loop as train_loop

    workdir = tmp_path_factory.mktemp("smoke")
    cfg = config.load(os.path.join(REPO, "configs", "smoke.toml"))
    train_loop.run(cfg, workdir, quiet=True)
    return workdir / "weights.npz"
