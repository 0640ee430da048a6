"""The real training loop on tiny data: end to end, resumable, deterministic, refusing foreign checkpoints."""

from __future__ import annotations

import dataclasses
import json

import jax
import numpy as np
import pytest
from conftest import REPO
from flax import nnx

from terrain_gan import config, pretrained
from terrain_gan.cli import main
from terrain_gan.errors import TerrainGanError
from terrain_gan.nn import model as model_lib
from terrain_gan.train import checkpoint
from terrain_gan.train import loop as train_loop
from terrain_gan.train import step as train_step


@pytest.fixture(scope="module")
def smoke_cfg():
    return config.load(f"{REPO}/configs/smoke.toml")


def _weights(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files if k != "__meta__"}


def test_smoke_run_writes_every_artifact(smoke_weights):
    workdir = smoke_weights.parent
    rows = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [0, 2]
    assert all(np.isfinite(r[k]) for r in rows for k in ("d_loss", "g_loss", "r1", "seconds"))
    quality = [json.loads(line) for line in (workdir / "quality.jsonl").read_text().splitlines()]
    assert [q["step"] for q in quality] == [2, 4] and all(q["slope_w1_deg"] >= 0 for q in quality)
    for name in ("samples_000002.png", "samples_000004.png", "curves.png", "ckpt_000004.npz", "config.json"):
        assert (workdir / name).stat().st_size > 0, name
    model = pretrained.load_model(smoke_weights)
    assert model.cell_size_m == 90.0 and model.meta["step"] == 4 and model.config.name == "smoke"
    assert not list(workdir.glob(".*.part*"))  # no temporary files left behind


def test_curves_show_the_discriminators_logits(smoke_weights):
    """curves.png's middle panel draws the discriminator's mean logits on real windows and on fakes,
    step by step as metrics.jsonl logs them (how far apart they stand says how easily it wins)."""
    import matplotlib.pyplot as plt

    workdir = smoke_weights.parent
    rows = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
    fig = train_loop._curves_figure(rows, [])
    try:
        panel = next(a for a in fig.axes if a.get_title() == "discriminator's mean logit")
        lines = {line.get_label(): line for line in panel.get_lines()}
        for key, label in (("real_logit", "real windows"), ("fake_logit", "fakes")):
            np.testing.assert_array_equal(lines[label].get_xdata(), [r["step"] for r in rows])
            np.testing.assert_array_equal(lines[label].get_ydata(), [r[key] for r in rows])
    finally:
        plt.close(fig)


def test_resumed_run_equals_uninterrupted_run(tmp_path, monkeypatch, smoke_cfg, smoke_weights):
    """A run killed after its step-2 checkpoint, rerun, does steps 2-3 only and ends bit-identical."""
    train_loop.run(smoke_cfg, tmp_path, quiet=True)
    for name in ("ckpt_000004.npz", "weights.npz"):  # as if killed just after step 2's checkpoint
        (tmp_path / name).unlink()
    steps_done = []
    real_step = train_loop.train_step
    monkeypatch.setattr(train_loop, "train_step",
                        lambda gan, real, key, step, **kw: steps_done.append(int(step)) or real_step(
                            gan, real, key, step, **kw))
    train_loop.run(smoke_cfg, tmp_path, quiet=True)
    assert steps_done == [2, 3]
    resumed, straight = _weights(tmp_path / "weights.npz"), _weights(smoke_weights)
    assert resumed.keys() == straight.keys()
    for name in straight:
        np.testing.assert_array_equal(resumed[name], straight[name], err_msg=name)


def test_workdir_of_another_config_is_refused(tmp_path, smoke_cfg, smoke_weights):
    other = dataclasses.replace(smoke_cfg, train=dataclasses.replace(smoke_cfg.train, lr_g=0.5))
    with pytest.raises(TerrainGanError, match="holds a run of another config"):
        train_loop.run(other, smoke_weights.parent, quiet=True)


def test_truncated_and_foreign_checkpoints_are_refused(tmp_path, smoke_weights):
    ckpt = smoke_weights.parent / "ckpt_000004.npz"
    data = ckpt.read_bytes()
    bad = tmp_path / "ckpt_000004.npz"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(TerrainGanError, match="not a terrain_gan checkpoint"):
        checkpoint.read_meta(bad)
    bad.write_bytes(b"\x93NUMPY random bytes named like a checkpoint")
    with pytest.raises(TerrainGanError, match="not a terrain_gan checkpoint"):
        checkpoint.read_meta(bad)
    with pytest.raises(TerrainGanError, match="training checkpoint, not a weights file"):
        pretrained.load_model(ckpt)


def test_weights_of_another_shape_are_refused(tmp_path, smoke_weights):
    """A weights file whose arrays do not fit its own config (tampered metadata) names the array."""
    with np.load(smoke_weights, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(bytes(arrays["__meta__"]).decode())
    meta["config"]["model"]["g_widths"] = [32, 16, 8, 8, 8]
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    path = tmp_path / "weights.npz"
    np.savez(path, **arrays)
    with pytest.raises(TerrainGanError, match=r"head/0/bias/value is float32\[16\], expected float32\[32\]"):
        pretrained.load_model(path)


def test_cli_train_bad_inputs_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[train]\nsteps = 'x'\n")
    for argv in (["train", "--config", str(bad), "--workdir", str(tmp_path / "w")],
                 ["train", "--config", str(tmp_path / "missing.toml"), "--workdir", str(tmp_path / "w")],
                 ["train", "--config", f"{REPO}/configs/smoke.toml", "--workdir", str(tmp_path / "w"),
                  "--steps", "0"]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("terrain-gan: error:"), err
    assert not (tmp_path / "w" / "weights.npz").exists()


def _params(module) -> dict:
    return {k: np.asarray(v) for k, v in jax.tree_util.tree_leaves_with_path(nnx.state(module, nnx.Param))}


def test_d_update_leaves_g_unchanged_and_g_update_leaves_d_unchanged(tmp_path, smoke_cfg):
    """The two halves of the step touch only their own network (bit for bit), and each does move it."""
    run = train_step.setup(smoke_cfg, tmp_path)
    gan, t = run.gan, smoke_cfg.train
    real = run.real_batch(0)
    fake = model_lib.sample(gan.G, jax.random.key(1), batch=real.shape[0], size=real.shape[1])
    g0, e0, d0 = _params(gan.G), _params(gan.G_ema), _params(gan.D)
    nnx.jit(train_step.d_update, static_argnames=("tcfg", "apply_r1"))(gan, real, fake, tcfg=t, apply_r1=True)
    g1, e1, d1 = _params(gan.G), _params(gan.G_ema), _params(gan.D)
    assert all(np.array_equal(g0[k], g1[k]) for k in g0) and all(np.array_equal(e0[k], e1[k]) for k in e0)
    assert any(not np.array_equal(d0[k], d1[k]) for k in d0)
    inputs = train_step.fake_inputs(gan.G, real.shape, jax.random.key(2))
    nnx.jit(train_step.g_update, static_argnames=("tcfg",))(gan, real, inputs, np.float32(0), tcfg=t)
    g2, d2 = _params(gan.G), _params(gan.D)
    assert all(np.array_equal(d1[k], d2[k]) for k in d1)
    assert any(not np.array_equal(g1[k], g2[k]) for k in g1)
