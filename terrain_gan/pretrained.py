"""Trained generator weights: save, load by name or path, and the `Model` handle users hold.

A weights file holds only the (EMA) generator's state plus metadata: the config, the height
normalisation and training facts. The shipped models live in `terrain_gan/weights/`: `v2` (the
cascade, the default), `v1` (the first model, a single GAN) and `dcgan_seed` (the article's DCGAN).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from pathlib import Path

import jax
from flax import nnx

from terrain_gan import config as config_lib
from terrain_gan.errors import TerrainGanError
from terrain_gan.nn import cascade, steering
from terrain_gan.train import checkpoint

WEIGHTS_DIR = Path(__file__).parent / "weights"
DEFAULT_MODEL = "v2"  # what "default" (and every command without --model) names


@dataclasses.dataclass(frozen=True, eq=False)
class Model:
    """A loaded generator. Heights it makes are `output * height_std_m + height_mean_m` metres."""

    generator: nnx.Module
    config: config_lib.Config
    height_mean_m: float
    height_std_m: float
    model_id: str
    sha256: str
    meta: dict

    @property
    def cell_size_m(self) -> float:
        return self.config.cell_size_m

    @property
    def spatial(self) -> bool:
        """True for the fully convolutional generators that make seamless worlds of any size."""
        return self.config.model.kind in ("spatial", "cascade")


def save_weights(path, generator: nnx.Module, meta: dict) -> None:
    """Writes the generator's state (params and any batch statistics) and `meta`."""
    checkpoint.save(path, nnx.state(generator), dict(meta, kind="weights"))


def resolve(name_or_path: str | Path) -> Path:
    """A shipped model's name ("v2", "v1", "dcgan_seed"; "default" is `DEFAULT_MODEL`) or a path -> the weights file."""
    text = DEFAULT_MODEL if str(name_or_path) == "default" else str(name_or_path)
    shipped = WEIGHTS_DIR / f"{text}.npz"
    if "/" not in text and "\\" not in text and not text.endswith(".npz"):
        if not shipped.is_file():
            names = sorted(p.stem for p in WEIGHTS_DIR.glob("*.npz"))
            raise TerrainGanError(f"{text}: no shipped model of that name (shipped: {', '.join(names) or 'none'}; "
                                  f"default: {DEFAULT_MODEL})")
        return shipped
    path = Path(text)
    return path / "weights.npz" if path.is_dir() else path


@functools.lru_cache(maxsize=4)
def _load(path: Path, mtime_ns: int) -> Model:
    meta = checkpoint.read_meta(path)
    if meta.get("kind") != "weights":
        raise TerrainGanError(f"{path}: is a training checkpoint, not a weights file (use weights.npz)")
    try:
        cfg = config_lib.from_dict(meta["config"], str(path))
        norm = meta["normalisation"]
    except (KeyError, TypeError):
        raise TerrainGanError(f"{path}: weights metadata is incomplete") from None
    if cfg.model.kind == "cascade":
        steer = None if "steering" not in meta else steering.Steering.from_json(meta["steering"], str(path))
        build = lambda: cascade.from_levels(meta.get("levels"), str(path), cfg.model, steer)  # noqa: E731
    else:
        build = lambda: cascade.make_generator(cfg.model, rngs=nnx.Rngs(0))  # noqa: E731
    # An abstract skeleton (shapes only): initialising real weights would compile every init op, in vain.
    graphdef, skeleton = nnx.split(nnx.eval_shape(build))
    state, _ = checkpoint.restore(path, skeleton)
    generator = nnx.merge(graphdef, jax.device_put(state))
    generator.eval()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Model(generator, cfg, float(norm["height_mean_m"]), float(norm["height_std_m"]),
                 f"{cfg.name}-{digest[:12]}", digest, meta)


def load_model(name_or_path: str | Path = "default") -> Model:
    """Loads a generator by shipped name or weights path (cached).

    >>> load_model("default").cell_size_m
    90.0
    """
    if isinstance(name_or_path, Model):
        return name_or_path
    path = resolve(name_or_path).resolve()
    if not path.is_file():
        raise TerrainGanError(f"{path}: weights file not found")
    return _load(path, path.stat().st_mtime_ns)
