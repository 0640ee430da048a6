"""The host side of training: the step loop, logs, sample grids, curves and checkpoints."""

from __future__ import annotations

import io
import json
import signal
import threading
import time
from pathlib import Path

import jax
import numpy as np
from flax import nnx

from exporters.colors import relief_rgb
from terrain_gan import config as config_lib
from terrain_gan import fileio
from terrain_gan.errors import Interrupted, TerrainGanError
from terrain_gan.nn import model as model_lib
from terrain_gan.progress import Progress
from terrain_gan.train import checkpoint
from terrain_gan.train.step import Run, _meta, run_identity, setup, train_step


def run(cfg: config_lib.Config, workdir: str | Path, *, data=None, quiet: bool = False) -> Run:
    """Trains `cfg` in `workdir` to cfg.train.steps, resuming from its last checkpoint.

    Writes metrics.jsonl, samples_<step>.png, curves.png, ckpt_<step>.npz (keeping the last two)
    and, at the end, weights.npz (the EMA generator, loadable with `load_model`). SIGINT (Ctrl-C) or
    SIGTERM stops it at the next step boundary with a checkpoint of that step, raising
    `errors.Interrupted` (a second signal stops it at once; the checkpoints on disk stay whole).
    """
    workdir = Path(workdir)
    with _StopOnSignal() as stop:  # from the start: a signal during set-up stops at step boundary 0
        _claim(workdir, cfg)
        state = setup(cfg, workdir, data)
        t = cfg.train
        bar = Progress(t.steps, "steps", start=state.step, every=t.log_every,
                       stream=io.StringIO() if quiet else None)
        pending, t0 = None, time.perf_counter()
        elapsed0 = _elapsed_so_far(workdir)

        def elapsed() -> float:  # training seconds, earlier runs of this workdir included
            return elapsed0 + time.perf_counter() - t0

        while state.step < t.steps:
            if stop.signum is not None:  # a step boundary: everything up to state.step is done
                if pending is not None:
                    _log(workdir, bar, *pending, elapsed())
                bar.close()
                _stop(workdir, state, stop.signum, elapsed())
            step = state.step
            apply_r1 = t.r1_gamma > 0 and step % t.r1_every == 0
            metrics = train_step(state.gan, state.real_batch(step), state.key(step), np.float32(step), tcfg=t,
                                 apply_r1=apply_r1)
            if pending is not None:  # read back one step late: no host sync on the step just queued
                _log(workdir, bar, *pending, elapsed())
            pending = (step, metrics)
            state.step = step + 1
            if state.step % t.sample_every == 0 or state.step == t.steps:
                _samples(workdir, state)
            if state.step % t.checkpoint_every == 0 or state.step == t.steps:
                _checkpoint(workdir, state, elapsed())
        if pending is not None:
            _log(workdir, bar, *pending, elapsed())
        bar.close()
        _export_weights(workdir, state, elapsed())
    return state


class _StopOnSignal:
    """While active, SIGINT and SIGTERM only note the signal (`signum`); the loop stops at a step boundary.

    A second signal raises KeyboardInterrupt at once. Handlers are installed in the main thread only
    (Python allows no other) and the previous ones restored on exit.
    """

    def __init__(self):
        self.signum: int | None = None
        self._previous: dict = {}

    def __enter__(self) -> _StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._note)
        return self

    def _note(self, signum, frame) -> None:
        if self.signum is not None:
            raise KeyboardInterrupt
        self.signum = signum

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)


def _stop(workdir: Path, state: Run, signum: int, elapsed: float) -> None:
    """Checkpoints the step reached (unless that checkpoint exists) and raises `Interrupted`."""
    path = workdir / f"ckpt_{state.step:06d}.npz"
    if not path.exists():
        _checkpoint(workdir, state, elapsed)
    name = signal.Signals(signum).name
    raise Interrupted(f"{name} at step {state.step}; checkpoint {path} (run the same command to resume)", signum)


def _claim(workdir: Path, cfg: config_lib.Config) -> None:
    """Creates `workdir` for this config, or checks that it already belongs to it."""
    try:
        workdir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise TerrainGanError(f"{workdir}: cannot create workdir ({e.strerror})") from None
    fileio.remove_stale_temps(workdir)  # a checkpoint half-written by a killed run
    marker = workdir / "config.json"
    if marker.exists():
        if run_identity(json.loads(marker.read_text())) != run_identity(config_lib.to_dict(cfg)):
            raise TerrainGanError(f"{workdir}: holds a run of another config; use a new --workdir")
    else:
        fileio.write_json(marker, config_lib.to_dict(cfg))


def _log(workdir: Path, bar: Progress, step: int, metrics, elapsed: float) -> None:
    values = {k: float(v) for k, v in jax.device_get(metrics).items()}
    bar.update(1, d=values["d_loss"], g=values["g_loss"])
    if step % bar.every == 0:
        with open(workdir / "metrics.jsonl", "a") as f:
            f.write(json.dumps(dict(step=step, seconds=round(elapsed, 2), **values)) + "\n")


def _samples(workdir: Path, state: Run) -> None:
    """A hillshade grid of 16 EMA-generator windows from a fixed key, so grids are comparable."""
    gen = state.gan.G_ema
    gen.eval()
    x = _fake_windows(state, gen, jax.random.key(12345), 16)
    gen.train()
    heights = state.data.denormalise(x)
    tiles = np.stack([relief_rgb(h, state.cfg.cell_size_m) for h in heights])
    import imageio.v3 as iio

    with fileio.atomic_path(workdir / f"samples_{state.step:06d}.png") as tmp:
        iio.imwrite(tmp, _grid(tiles, cols=4), extension=".png")
    with open(workdir / "quality.jsonl", "a") as f:
        f.write(json.dumps(dict(step=state.step, **_quality(state))) + "\n")
    _curves(workdir)


def _fake_windows(state: Run, gen, key, n: int) -> np.ndarray:
    """`n` normalised windows of `gen`; a detail generator's are conditioned on fixed real windows."""
    if hasattr(gen, "windows_for"):
        big = state.data.eval_windows(n, seed=7, window=state.real_window)
        return np.asarray(_windows_for(gen, key, jax.numpy.asarray(state.data.normalise(big))))
    return np.asarray(model_lib.sample(gen, key, batch=n, size=state.cfg.data.window))


@nnx.jit
def _windows_for(gen, key, real_big):
    return gen.windows_for(key, real_big)


def _grid(images_NxHxWxC: np.ndarray, cols: int, pad: int = 2) -> np.ndarray:
    """Tiles N equally sized images into one image with `cols` columns and a white gap."""
    n, h, w, c = images_NxHxWxC.shape
    rows = -(-n // cols)
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), 255, images_NxHxWxC.dtype)
    for i, img in enumerate(images_NxHxWxC):
        r, q = divmod(i, cols)
        out[pad + r * (h + pad):pad + r * (h + pad) + h, pad + q * (w + pad):pad + q * (w + pad) + w] = img
    return out


def _quality(state: Run, n: int = 256) -> dict:
    """Cheap quality figures of the EMA generator against fixed real windows (for the curve)."""
    from terrain_gan.eval import metrics

    gen, cell = state.gan.G_ema, state.cfg.cell_size_m
    gen.eval()
    fake = state.data.denormalise(_fake_windows(state, gen, jax.random.key(54321), n))
    gen.train()
    real = state.data.eval_windows(n, seed=0, window=state.cfg.data.window)
    return dict(slope_w1_deg=metrics.wasserstein1(metrics.slope_angles(real, cell_size_m=cell),
                                                  metrics.slope_angles(fake, cell_size_m=cell)),
                relief_w1_m=metrics.wasserstein1(metrics.local_relief(real), metrics.local_relief(fake)))


def _jsonl(path: Path) -> list[dict]:
    """The rows of a .jsonl log ([] if it is not there yet)."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def _curves(workdir: Path) -> None:
    """Loss curves, the discriminator's logits (and any quality metric logged) as curves.png."""
    rows = _jsonl(workdir / "metrics.jsonl")
    if len(rows) < 2:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = _curves_figure(rows, _jsonl(workdir / "quality.jsonl"))
    with fileio.atomic_path(workdir / "curves.png") as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def _curves_figure(rows: list[dict], q: list[dict]):
    """The figure of curves.png from metrics.jsonl's and quality.jsonl's rows: losses; the
    discriminator's mean logits on real windows and on fakes (apart by far more than a few units,
    it tells them apart with ease: model card, "Twenty-fifth round"); the quality distances."""
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in rows]
    fig, (ax, al, aq) = plt.subplots(1, 3, figsize=(16, 3.5), dpi=100)
    for name in ("d_loss", "g_loss", "r1"):
        ax.plot(steps, [r[name] for r in rows], label=name, lw=1)
    for name, label in (("real_logit", "real windows"), ("fake_logit", "fakes")):
        al.plot(steps, [r[name] for r in rows], label=label, lw=1)
    al.axhline(0.0, color="k", lw=0.5)
    for name, label in (("slope_w1_deg", "slope-angle W1 (deg)"), ("relief_w1_m", "local-relief W1 (m / 10)")):
        scale = 0.1 if name == "relief_w1_m" else 1.0
        aq.plot([r["step"] for r in q], [scale * r[name] for r in q], marker="o", ms=3, label=label)
    for panel, title in ((ax, "losses"), (al, "discriminator's mean logit"),
                         (aq, "quality vs real windows (lower is better)")):
        panel.set_xlabel("step")
        panel.set_title(title)
        panel.legend()
        panel.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _checkpoint(workdir: Path, state: Run, elapsed: float) -> None:
    checkpoint.save(workdir / f"ckpt_{state.step:06d}.npz", checkpoint.state_of(state.gan),
                    dict(_meta(state), seconds=round(elapsed, 1)))
    for old in sorted(workdir.glob("ckpt_*.npz"))[:-2]:
        old.unlink()


def _elapsed_so_far(workdir: Path) -> float:
    last = checkpoint.latest(workdir)
    return float(checkpoint.read_meta(last).get("seconds", 0.0)) if last else 0.0


def _export_weights(workdir: Path, state: Run, elapsed: float) -> None:
    from terrain_gan import pretrained

    pretrained.save_weights(workdir / "weights.npz", state.gan.G_ema, dict(_meta(state), seconds=round(elapsed, 1)))


def run_cascade(cfg: config_lib.Config, config_path: str | Path, workdir: str | Path, *, quiet: bool = False) -> Path:
    """Trains each level of a cascade config in `workdir/<level name>` (each resumable), then writes
    `workdir/weights.npz` holding them all. Returns that path."""
    from terrain_gan import pretrained
    from terrain_gan.nn import cascade, steering

    workdir = Path(workdir)
    _claim(workdir, cfg)
    levels, seconds = [], 0.0
    for path in config_lib.level_paths(cfg, config_path):
        level_cfg = config_lib.load(path)
        run(level_cfg, workdir / level_cfg.name, quiet=quiet)
        levels.append(pretrained.load_model(workdir / level_cfg.name / "weights.npz"))
        seconds += float(levels[-1].meta.get("seconds", 0.0))
    norm = tuple((m.height_mean_m, m.height_std_m) for m in levels)
    steer = steering.fit(levels[0].generator, norm[0])
    generator = cascade.CascadeGenerator(levels[0].generator, levels[1].generator, norm, cfg.model, steer)
    metas = [dict(config=m.meta["config"], normalisation=m.meta["normalisation"], step=m.meta["step"],
                  seconds=m.meta.get("seconds")) for m in levels]
    out = workdir / "weights.npz"
    pretrained.save_weights(out, generator, dict(config=config_lib.to_dict(cfg), levels=metas,
                                                 normalisation=levels[-1].meta["normalisation"],
                                                 **({} if steer is None else dict(steering=steer.as_json())),
                                                 step=sum(m["step"] for m in metas), seconds=round(seconds, 1)))
    return out
