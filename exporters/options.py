"""`ExportOptions`: how an export fits the terrain to a game, as one frozen, checked value.

Scale factors apply to meshes and to the numbers written for engines (Unity's Terrain size, Godot
positions); heightmap files (PNG16, GeoTIFF, .npy, RAW16, R16, EXR) always store metres.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from exporters.colors import COLOR_KINDS
from exporters.errors import ExportError


@dataclass(frozen=True)
class ExportOptions:
    """Options shared by every format of an export; checked when made.

    Attributes:
      height_scale: vertical exaggeration of meshes and engine heights (1 = true heights).
      scale: uniform factor on all three axes (1 = metres): fits the terrain to a game's units.
      lod: meshes keep every `lod`-th sample plus the last, so borders match neighbours at the same LOD.
      skirt_m: depth in metres of a vertical skirt hung from mesh borders (0 = none).
      colors: mesh vertex colours: None, "height", "slope" or "relief".
      texture: baked texture for meshes (PNG, one pixel per cell, embedded in GLB / .gltf, beside an OBJ):
        None or a colour kind.
      resample: Unity only: resample a non-2^n+1 map to the next 2^n+1 size instead of refusing it.

    >>> ExportOptions(lod=2, colors="slope").lod
    2
    >>> ExportOptions(scale=0)
    Traceback (most recent call last):
    ...
    exporters.errors.ExportError: --scale must be a positive number, got 0
    """

    height_scale: float = 1.0
    scale: float = 1.0
    lod: int = 1
    skirt_m: float = 0.0
    colors: str | None = None
    texture: str | None = None
    resample: bool = False

    def __post_init__(self):
        for name in ("height_scale", "scale"):
            object.__setattr__(self, name, _positive(f"--{name.replace('_', '-')}", getattr(self, name)))
        if isinstance(self.lod, bool) or not isinstance(self.lod, int) or self.lod < 1:
            raise ExportError(f"--lod must be a whole number >= 1, got {self.lod!r}")
        skirt = _number(self.skirt_m)
        if not math.isfinite(skirt) or skirt < 0:
            raise ExportError(f"--skirt must be >= 0 metres, got {self.skirt_m!r}")
        object.__setattr__(self, "skirt_m", skirt)
        for name in ("colors", "texture"):
            kind = getattr(self, name)
            if kind is not None and kind not in COLOR_KINDS:
                raise ExportError(f"--{name}: unknown colour kind {kind!r}; choose one of "
                                      f"{', '.join(COLOR_KINDS)}")
        object.__setattr__(self, "resample", bool(self.resample))

    def replace(self, **changes) -> "ExportOptions":
        """A copy with `changes` applied (and checked)."""
        return dataclasses.replace(self, **changes)

    def as_json(self) -> dict:
        """The options as a JSON-ready dict (recorded in sidecars)."""
        return dataclasses.asdict(self)


def _number(value) -> float:
    """`value` as a float, NaN when it is not a number."""
    if isinstance(value, bool):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _positive(name: str, value) -> float:
    """`value` as a positive finite float, or a one-line error naming the option."""
    x = _number(value)
    if not math.isfinite(x) or x <= 0:
        raise ExportError(f"{name} must be a positive number, got {value!r}")
    return x
