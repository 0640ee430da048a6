"""A world as a recipe file: `terrain-gan world --config configs/worlds/archipelago.toml --out w/`.

A recipe is a frozen `WorldConfig` read by the same strict TOML loader as training configs (an unknown key
or a wrong type is one line naming the file and the key); command-line flags override it. Map paths in a
recipe (guide, relief_map) are relative to the recipe file. A world made from a recipe records the
resolved recipe in its manifest.json ("recipe"), so the folder tells how to remake it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from terrain_gan import config as config_lib
from terrain_gan.errors import TerrainGanError
from terrain_gan.world import batch


@dataclasses.dataclass(frozen=True)
class LayoutConfig:
    relief: float = 1.0  # overall relief multiplier
    relief_variation: float = 0.3  # std of log-relief across the world (0 = uniform)
    relief_scale: int = 2048  # samples between relief-field nodes
    guide: str = ""  # coarse elevation sketch over the whole grid: PNG (grey), .npy or DEM file ("" = none)
    guide_range: tuple[float, ...] = ()  # metres of a PNG guide's black and white (() = 0 .. model mean + 2 std)
    relief_map: str = ""  # relief multipliers over the grid: PNG (mid-grey = 1x, white = 2x) or .npy
    roughness: float = 0.0  # model v2: -2..2, below 0 more plains, above 0 more mountains (0 = its own mix)


@dataclasses.dataclass(frozen=True)
class ExportConfig:
    formats: str = "png16,npy"  # comma-separated exporters.FORMAT_NAMES
    height_range: str = "auto"  # "auto", "exact" or "LO,HI" metres, one range for the whole world
    height_scale: float = 1.0  # vertical exaggeration of meshes
    scale: float = 1.0  # uniform scale of meshes and engine files
    lod: int = 1  # meshes keep every LOD-th sample
    skirt_m: float = 0.0  # skirt depth below mesh borders, metres
    colors: str = ""  # mesh vertex colours: height, slope, relief ("" = none)
    texture: str = ""  # baked texture: height, slope, relief ("" = none)


@dataclasses.dataclass(frozen=True)
class WorldConfig:
    name: str = "world"
    seed: int = 0  # world seed, 0..2^32-1
    model: str = "default"  # shipped model name or weights .npz
    tiles: tuple[int, ...] = ()  # (nx, nz) the world's grid; required here or as --tiles
    tile_size: int = 513  # samples per tile side, k*16+1
    periodic: bool = False  # the world wraps around its grid (a torus)
    layout: LayoutConfig = LayoutConfig()
    export: ExportConfig = ExportConfig()


def load(path: str | Path) -> WorldConfig:
    """Reads a recipe file over WorldConfig's defaults, strictly; map paths become relative to the caller.

    >>> load("configs/worlds/archipelago.toml").tiles
    (4, 4)
    """
    path = Path(path)
    cfg = config_lib.override(WorldConfig(), config_lib.read_toml(path), str(path))
    layout = {k: str(path.parent / v) for k in ("guide", "relief_map") if (v := getattr(cfg.layout, k))
              and not Path(v).is_absolute()}
    cfg = dataclasses.replace(cfg, layout=dataclasses.replace(cfg.layout, **layout))
    return check(cfg, str(path))


def check(cfg: WorldConfig, where: str = "world") -> WorldConfig:
    """Checks what types alone cannot (the rest is checked by `plan`); returns `cfg`."""
    if len(cfg.tiles) != 2:
        raise TerrainGanError(f"{where}: tiles must be [NX, NZ], e.g. tiles = [4, 4]" if cfg.tiles else
                              f"{where}: the world's grid is not given: --tiles NXxNZ, or tiles = [NX, NZ] in a recipe")
    if cfg.layout.guide_range and len(cfg.layout.guide_range) != 2:
        raise TerrainGanError(f"{where}.layout.guide_range: expected [LO, HI] metres, got {list(cfg.layout.guide_range)}")
    height_range(cfg.export.height_range, f"{where}.export.height_range")
    return cfg


def with_flags(cfg: WorldConfig, top: dict, layout: dict, export: dict) -> WorldConfig:
    """`cfg` with the values given on the command line (None = not given) put over it."""
    given = lambda d: {k: v for k, v in d.items() if v is not None}  # noqa: E731
    return dataclasses.replace(cfg, **given(top), layout=dataclasses.replace(cfg.layout, **given(layout)),
                               export=dataclasses.replace(cfg.export, **given(export)))


def height_range(text: str, where: str = "height_range"):
    """'auto' | 'exact' | 'LO,HI' metres as the library takes it: the word or (lo, hi).

    >>> height_range("auto"), height_range("-100,2000")
    ('auto', (-100.0, 2000.0))
    """
    if text in ("auto", "exact"):
        return text
    try:
        lo, hi = (float(v) for v in text.replace(":", ",").split(","))
    except ValueError:
        raise TerrainGanError(f"{where}: expected auto, exact or LO,HI metres, got {text!r}") from None
    return lo, hi


def range_text(value) -> str:
    """The inverse of `height_range`: (lo, hi) as 'LO,HI' (exact for any float), words as they are."""
    return value if isinstance(value, str) else ",".join(repr(float(v)) for v in value)


def as_json(cfg: WorldConfig) -> dict:
    """The resolved recipe as JSON-able data (what the manifest records; `from_dict` reads it back)."""
    d = dataclasses.asdict(cfg)
    d["tiles"], d["layout"]["guide_range"] = list(cfg.tiles), list(cfg.layout.guide_range)
    return d


def from_dict(table: dict, where: str = "recipe") -> WorldConfig:
    """A WorldConfig from a dict (a manifest's "recipe" or a parsed recipe file), strictly checked."""
    return check(config_lib.override(WorldConfig(), table, where), where)


def plan(cfg: WorldConfig, out, *, xs: range | None = None, zs: range | None = None,
         recorded: bool = True) -> batch.WorldPlan:
    """Checks a recipe and the output folder (`world.batch.plan`); nothing is written.

    `recorded`: the manifest records the resolved recipe (as it does for a world made from a recipe file).
    """
    from exporters import ExportOptions

    e, lay = cfg.export, cfg.layout
    options = ExportOptions(height_scale=e.height_scale, scale=e.scale, lod=e.lod, skirt_m=e.skirt_m,
                            colors=e.colors or None, texture=e.texture or None)
    layout = batch.grid_layout(cfg.model, tiles=cfg.tiles, tile_size=cfg.tile_size, relief=lay.relief,
                               relief_variation=lay.relief_variation, relief_scale=lay.relief_scale,
                               guide=lay.guide or None, guide_range=tuple(lay.guide_range) or None,
                               relief_map=lay.relief_map or None, roughness=lay.roughness)
    return batch.plan(cfg.seed, cfg.model, tiles=tuple(cfg.tiles), tile_size=cfg.tile_size, out=out,
                      formats=e.formats, xs=xs, zs=zs, layout=layout, periodic=cfg.periodic,
                      height_range=height_range(e.height_range), options=options,
                      recipe=as_json(cfg) if recorded else None)
