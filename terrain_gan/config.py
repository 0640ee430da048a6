"""Typed experiment configs: a frozen dataclass schema; TOML files override only what differs.

`configs/default.toml` is the shipped model; `configs/dcgan_seed.toml` the article's DCGAN.
An unknown key or a value of the wrong type is an error naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from pathlib import Path

from terrain_gan.errors import TerrainGanError

DETAIL_BASES = ("keys", "fitted", "even")  # what a detail level's residual is drawn on (nn/cascade.py `phase_taps`)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    kind: str = "spatial"  # "spatial" (fully convolutional, shipped) or "dcgan" (article baseline)
    # spatial generator: a fine latent field every `latent_stride` samples, plus a coarse field
    # every `latent_stride * coarse_factor` samples, bilinearly interpolated onto the fine lattice.
    latent_stride: int = 16
    z_channels: int = 32
    coarse_channels: int = 16
    coarse_factor: int = 8
    # generator widths, coarsest stage (stride 16) first, one per stride 16, 8, 4, 2, 1
    g_widths: tuple[int, ...] = (192, 128, 64, 32, 16)
    noise: bool = True  # per-sample noise injected after each x2 upsampling (StyleGAN-style)
    # ... only at the stages whose stride is at least this (1 = all; 4 = none at strides 2 and 1):
    # independent noise at the finest strides makes pits that real, drained land does not have
    noise_min_stride: int = 1
    # dcgan generator
    z_dim: int = 100
    # discriminator widths: a full-resolution stem, then one stride-2 conv per further width
    # (patch logits after the third, at stride 8); the spatial model needs 5 widths
    d_widths: tuple[int, ...] = (32, 64, 128, 256, 256)
    d_spectral_norm: bool = False
    d_batchnorm: bool = False  # the article's DCGAN uses BatchNorm in D as well
    # D also sees each cell's closed-depression depth in its window (nn/drainage.py; needs numba)
    d_drainage: bool = False
    # D also sees log soft flow accumulation in its window (nn/flow.py): connected channels, not pits
    d_flow: bool = False
    # cascade: breach the coarse layout's closed basins into valleys on a lattice of blocks this many
    # coarse samples wide (nn/hydrology.py; 8, 16, 32, 64 or 128; periodic worlds then repeat every
    # multiple of 4 blocks' samples, at least 256; 0 = off)
    drain_block: int = 0
    # ... and then incise each drained block's flow lines into branching valleys: this many steps of
    # stream-power erosion, each lowering a cell towards its steepest lower neighbour by
    # F = erosion_k * A^erosion_m per cell of distance, A the area it drains in coarse cells
    # (nn/floods.py `erode`; 0 = off)
    erosion_steps: int = 0
    erosion_k: float = 0.0
    erosion_m: float = 0.5
    # cascade: breach the finished map's closed basins the same way, on blocks this many output
    # samples wide (16, 32 or 64; each chunk then makes half a block more on each side; 0 = off)
    detail_drain_block: int = 0
    # ... first filling each closed depression by this fraction of its depth, so the cut is shallower
    # (1: filled to its brim, the way out then falling 1 cm a cell; `nn.floods.breach`)
    detail_drain_fill: float = 0.0
    # ... and leaving closed depressions shallower than this many metres as they are (real DEMs hold them)
    detail_drain_keep: float = 0.0
    # cascade: along its steering direction (nn/steering.py), each coarse latent cell shares this much
    # (0 = none, below 1) of a smooth field of standard normals with nodes `regional_cells` latent cells
    # apart, so that ground is rough or smooth over whole regions, as real ground is, not cell by cell
    # (nn/cascade.py `_regional`; periodic worlds then repeat every multiple of its node lattice)
    regional_relief: float = 0.0
    regional_cells: int = 8
    # detail level: the interpolation of its condition that it adds its residual to, "keys" (Keys
    # cubic), "fitted" (six taps fitted to real terrain, even roughness by phase) or "even" (likewise,
    # no rougher than Keys cubic; nn/cascade.py)
    detail_base: str = "keys"  # one of DETAIL_BASES
    # ... of which a six-tap base ("fitted", "even") takes this share, Keys cubic the rest (1 = all of
    # it). Set in a cascade's config, both override its detail level's own at generation: the level's
    # residual does not see its base, so the base can change without retraining (model card)
    detail_base_share: float = 1.0


@dataclasses.dataclass(frozen=True)
class DataConfig:
    dataset: str = "builtin"  # "builtin" (shipped with the package) or a path to a dataset .npz
    window: int = 64  # training window, samples
    flat_relief_m: float = 5.0  # windows whose relief (max-min) is below this are rejected
    # how often each region is drawn: "windows" (in proportion to its usable windows, i.e. its area),
    # "sqrt" (to their square root: a small mountain region is not drowned by a large plain)
    region_weight: str = "windows"


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    seed: int = 0
    steps: int = 4000
    batch_size: int = 8
    loss: str = "ns"  # "ns" non-saturating logistic, "hinge", or "bce" (sigmoid + cross-entropy)
    lr_g: float = 5e-4
    lr_d: float = 5e-4
    beta1: float = 0.0
    beta2: float = 0.99
    lr_decay_from: float = 0.5  # fraction of train.steps after which both rates fall linearly to 0 (1 = constant)
    r1_gamma: float = 0.1  # R1 gradient penalty weight on real data (0 = off)
    r1_every: int = 4  # lazy regularisation (StyleGAN2): apply R1 every k steps, scaled by k
    ema_decay: float = 0.999  # EMA of generator weights (0 = off)
    consistency: float = 20.0  # detail level: weight of |block means of the output - condition| (normalised)
    # weight of the fakes' mean closed-depression depth over their window's height std (scale-free,
    # so flattening cannot lower it; nn/drainage.py; 0 = off)
    drainage_relative: float = 0.0
    drainage: float = 0.0  # weight per metre of the fakes' mean closed-depression depth (nn/drainage.py; 0 = off)
    # detail level: weight of the squared departure from 1 of the fakes' roughness (mean |second
    # difference|) at each phase of the condition's 4-sample lattice over the real windows' mean
    # roughness (nn/losses.lattice_phase_spread; 0 = off)
    phase_flatness: float = 0.0
    # weight of the squared difference of the fakes' mean log spectrum shape (their Laplacian's power
    # in 4 x 4 frequency bins, as shares) from the real windows' (nn/losses.spectrum_mismatch; 0 = off)
    spectrum: float = 0.0
    log_every: int = 25
    sample_every: int = 250
    checkpoint_every: int = 250


@dataclasses.dataclass(frozen=True)
class Config:
    name: str = "default"
    cell_size_m: float = 90.0  # the model's cell size: heights and distances are in metres
    # a cascade (model.kind = "cascade"): the config files of its levels, coarse first, relative to
    # this file; each trains on its own, and the weights hold them all
    levels: tuple[str, ...] = ()
    model: ModelConfig = ModelConfig()
    data: DataConfig = DataConfig()
    train: TrainConfig = TrainConfig()


def _coerce(value, hint, where: str):
    """Checks `value` against the field's type hint; tuples accept TOML arrays."""
    origin = typing.get_origin(hint)
    if origin is tuple:
        (item,) = {a for a in typing.get_args(hint) if a is not Ellipsis}
        if not isinstance(value, (list, tuple)):
            raise TerrainGanError(f"{where}: expected a list, got {value!r}")
        return tuple(_coerce(v, item, where) for v in value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, str, float, bool) and (type(value) is not hint):
        raise TerrainGanError(f"{where}: expected {hint.__name__}, got {value!r}")
    return value


def override(obj, table: dict, where: str):
    """Returns `obj` (any frozen config dataclass) with the TOML `table` applied, strictly."""
    hints = typing.get_type_hints(type(obj))
    changes = {}
    for key, value in table.items():
        if key not in hints:
            known = ", ".join(sorted(hints))
            raise TerrainGanError(f"{where}: unknown config key {key!r} (known: {known})")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise TerrainGanError(f"{where}.{key}: expected a table, got {value!r}")
            changes[key] = override(current, value, f"{where}.{key}")
        else:
            changes[key] = _coerce(value, hints[key], f"{where}.{key}")
    return dataclasses.replace(obj, **changes)


def _base_error(model: ModelConfig) -> str:
    """What is wrong with model.detail_base / detail_base_share ("" if nothing)."""
    if model.detail_base not in DETAIL_BASES:
        return f"model.detail_base must be {', '.join(map(repr, DETAIL_BASES[:-1]))} or {DETAIL_BASES[-1]!r}"
    if not 0.0 <= model.detail_base_share <= 1.0:  # also refuses nan
        return f"model.detail_base_share must be in [0, 1], got {model.detail_base_share}"
    if model.detail_base_share != 1.0 and model.detail_base == "keys":
        return "model.detail_base_share blends a six-tap model.detail_base ('fitted' or 'even') with Keys cubic"
    return ""


def validate(cfg: Config, where: str) -> Config:
    """Checks values that types alone cannot; returns `cfg`."""
    base_error = _base_error(cfg.model)
    if cfg.model.kind == "cascade":
        if len(cfg.levels) != 2:
            raise TerrainGanError(f"{where}: a cascade names two level configs: levels = [coarse, detail]")
        if base_error:
            raise TerrainGanError(f"{where}: {base_error}")
        if cfg.model.drain_block not in (0, 8, 16, 32, 64, 128):
            raise TerrainGanError(f"{where}: model.drain_block must be 0 (off) or 8, 16, 32, 64 or 128 coarse samples, "
                                  f"got {cfg.model.drain_block}")
        steps, k, m = cfg.model.erosion_steps, cfg.model.erosion_k, cfg.model.erosion_m
        if steps < 0:
            raise TerrainGanError(f"{where}: model.erosion_steps must be 0 (off) or more, got {steps}")
        if steps and not cfg.model.drain_block:
            raise TerrainGanError(f"{where}: model.erosion_steps needs model.drain_block (it erodes the drained blocks)")
        if steps and not k > 0:
            raise TerrainGanError(f"{where}: model.erosion_k must be positive, got {k}")
        if steps and not 0 < m <= 1:
            raise TerrainGanError(f"{where}: model.erosion_m must be above 0 and at most 1, got {m}")
        if cfg.model.detail_drain_block not in (0, 16, 32, 64):
            raise TerrainGanError(f"{where}: model.detail_drain_block must be 0 (off) or 16, 32 or 64 output samples, "
                                  f"got {cfg.model.detail_drain_block}")
        if not 0.0 <= cfg.model.detail_drain_fill <= 1.0:
            raise TerrainGanError(f"{where}: model.detail_drain_fill must be from 0 to 1, "
                                  f"got {cfg.model.detail_drain_fill}")
        if not 0.0 <= cfg.model.regional_relief < 1.0:  # also refuses nan
            raise TerrainGanError(f"{where}: model.regional_relief must be at least 0 and below 1, "
                                  f"got {cfg.model.regional_relief}")
        if cfg.model.regional_cells not in (1, 2, 4, 8):
            raise TerrainGanError(f"{where}: model.regional_cells must be 1, 2, 4 or 8 latent cells, "
                                  f"got {cfg.model.regional_cells}")
        if not 0.0 <= cfg.model.detail_drain_keep < 1e6:  # also refuses nan and inf
            raise TerrainGanError(f"{where}: model.detail_drain_keep must be 0 (off) or a depth in metres, "
                                  f"got {cfg.model.detail_drain_keep}")
        return cfg
    checks = [
        (cfg.model.kind in ("spatial", "dcgan", "detail"),
         "model.kind must be 'spatial', 'dcgan', 'detail' or 'cascade'"),
        (not cfg.levels, "levels are for a cascade (model.kind = 'cascade')"),
        (not cfg.model.drain_block, "model.drain_block is for a cascade (model.kind = 'cascade')"),
        (not cfg.model.detail_drain_block, "model.detail_drain_block is for a cascade (model.kind = 'cascade')"),
        (not cfg.model.erosion_steps, "model.erosion_steps is for a cascade (model.kind = 'cascade')"),
        (not cfg.model.detail_drain_fill, "model.detail_drain_fill is for a cascade (model.kind = 'cascade')"),
        (not cfg.model.regional_relief, "model.regional_relief is for a cascade (model.kind = 'cascade')"),
        (cfg.model.kind == "detail" or not cfg.train.phase_flatness, "train.phase_flatness is for a detail level"),
        (cfg.model.kind == "detail" or (cfg.model.detail_base, cfg.model.detail_base_share) == ("keys", 1.0),
         "model.detail_base and detail_base_share are for a detail level or a cascade"),
        (not base_error, base_error),
        (cfg.train.phase_flatness >= 0, "train.phase_flatness must be >= 0"),
        (cfg.train.spectrum >= 0, "train.spectrum must be >= 0"),
        (cfg.train.loss in ("ns", "hinge", "bce"), "train.loss must be 'ns', 'hinge' or 'bce'"),
        (cfg.data.region_weight in ("windows", "sqrt"), "data.region_weight must be 'windows' or 'sqrt'"),
        (cfg.cell_size_m > 0, "cell_size_m must be positive"),
        (cfg.data.window >= 16 and cfg.data.window % cfg.model.latent_stride == 0,
         f"data.window must be a multiple of model.latent_stride ({cfg.model.latent_stride})"),
        (len(cfg.model.g_widths) == (3 if cfg.model.kind == "detail" else 5),
         "model.g_widths needs 5 widths (strides 16, 8, 4, 2, 1), a detail model 3 (strides 4, 2, 1)"),
        (cfg.model.kind == "dcgan" or len(cfg.model.d_widths) == 5,
         "model.d_widths needs 5 widths (a stem, then strides 2, 4, 8, 16)"),
        (cfg.model.latent_stride == 16, "model.latent_stride must be 16 (four x2 upsamplings)"),
        (cfg.model.noise_min_stride in (1, 2, 4, 8, 16), "model.noise_min_stride must be 1, 2, 4, 8 or 16"),
        (cfg.train.steps >= 1 and cfg.train.batch_size >= 1, "train.steps and train.batch_size must be >= 1"),
        (0.0 <= cfg.train.lr_decay_from <= 1.0, "train.lr_decay_from must be between 0 and 1"),
        (cfg.model.kind != "dcgan" or cfg.data.window == 64, "the dcgan model makes 64x64 windows: data.window = 64"),
        (cfg.model.kind != "dcgan" or not cfg.model.d_drainage, "model.d_drainage is for the spatial and detail models"),
        (cfg.model.kind != "dcgan" or not cfg.model.d_flow, "model.d_flow is for the spatial and detail models"),
        (cfg.model.kind != "dcgan" or cfg.train.r1_gamma == 0,
         "the dcgan discriminator uses BatchNorm, which R1 cannot differentiate: train.r1_gamma = 0"),
    ]
    for ok, message in checks:
        if not ok:
            raise TerrainGanError(f"{where}: {message}")
    return cfg


def from_dict(table: dict, where: str = "config") -> Config:
    """Builds a validated Config from a nested dict (a parsed TOML file)."""
    return validate(override(Config(), table, where), where)


def load(path: str | Path) -> Config:
    """Loads a TOML config file over the schema's defaults.

    >>> load("configs/dcgan_seed.toml").model.kind
    'dcgan'
    """
    return from_dict(read_toml(path), str(path))


def read_toml(path: str | Path) -> dict:
    """A TOML file's table; a missing, unreadable or invalid file is one line naming it."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise TerrainGanError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise TerrainGanError(f"{path}: cannot read config ({e})") from None
    except tomllib.TOMLDecodeError as e:
        raise TerrainGanError(f"{path}: not valid TOML ({e})") from None


def level_paths(cfg: Config, path: str | Path) -> list[Path]:
    """The level config files of a cascade config loaded from `path`."""
    return [Path(path).parent / level for level in cfg.levels]


def to_dict(cfg: Config) -> dict:
    """The config as plain JSON-able data (tuples become lists), as a checkpoint stores it."""
    import json

    return json.loads(json.dumps(dataclasses.asdict(cfg)))
