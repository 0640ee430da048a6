"""Shared test set-up: strict JAX, and a tiny trained model for tests that need one."""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def assert_same_weights(path_a, path_b) -> None:
    """Two weights files hold the same arrays under the same names, bit for bit (metadata aside)."""
    import numpy as np

    with np.load(path_a) as a, np.load(path_b) as b:
        assert a.files == b.files
        for name in a.files:
            if name != "__meta__":
                np.testing.assert_array_equal(a[name], b[name], err_msg=name)


@pytest.fixture(scope="session")
def smoke_weights(tmp_path_factory):
    """weights.npz of the smoke config trained for a few steps on the shipped dataset."""
    from terrain_gan import config
    from terrain_gan.train import loop as train_loop

    workdir = tmp_path_factory.mktemp("smoke")
    cfg = config.load(os.path.join(REPO, "configs", "smoke.toml"))
    train_loop.run(cfg, workdir, quiet=True)
    return workdir / "weights.npz"
