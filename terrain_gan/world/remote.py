"""A world away from its process: the picklable `WorldSpec`, each worker's world cache, lazy Dask arrays.

Workers rebuild a world from its spec (weights by path, checked by sha256) once per process and keep it,
chunk cache included, for every task they run. This module sits below `world.core`: it is handed the
function that builds a `World` from a spec, so the world can offer `to_dask` without an import cycle.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from terrain_gan.errors import TerrainGanError
from terrain_gan.world.layout import Layout

_WORLDS: dict[tuple, Any] = {}  # this process's worlds (`World`), by spec
LOADS = {"worlds": 0}  # worlds built in this process (tests check: once per worker)
W = TypeVar("W")  # a `World`


@dataclasses.dataclass(frozen=True)
class WorldSpec:
    """What a worker needs to rebuild a `World` (picklable): the weights by path and checksum."""

    seed: int
    weights: str
    sha256: str
    layout: Layout
    period: tuple[int, int] | None


def require_dask() -> None:
    """Imports dask and distributed, or fails with one line naming the extra."""
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise TerrainGanError("--engine dask needs Dask: pip install 'terrain-gan[dask]'") from None


def _key(spec: WorldSpec) -> tuple:
    return (spec.weights, spec.sha256, spec.seed, spec.period, json.dumps(spec.layout.as_json(), sort_keys=True))


def worker_world(spec: WorldSpec, build: Callable[[WorldSpec], W]) -> W:
    """The world `spec` describes, built by `build(spec)` once per process (model loaded once) and kept."""
    key = _key(spec)
    if key not in _WORLDS:
        _WORLDS[key] = build(spec)
        LOADS["worlds"] += 1
    return _WORLDS[key]


def world_array(world, build: Callable[[WorldSpec], Any], size: int, grid: tuple[int, int],
                origin: tuple[int, int] = (0, 0)):
    """A lazy dask.array of a `World`'s tiles origin .. origin + grid (size and grid checked by the caller).

    One chunk per tile (its last row / column belongs to the next tile's chunk, except at the far edges).
    Computes with any Dask scheduler; distributed workers need a world made from a weights name or path.
    """
    require_dask()
    import dask.array as da

    nx, nz = grid
    source = world
    if world.weights is not None:
        source = world.spec()
        _WORLDS.setdefault(_key(source), world)  # the threaded scheduler reuses this very world
    chunks = ((size - 1,) * (nz - 1) + (size,), (size - 1,) * (nx - 1) + (size,))
    row0, col0 = origin[1] * (size - 1), origin[0] * (size - 1)
    return da.map_blocks(_array_block, dtype=np.float32, chunks=chunks, meta=np.empty((0, 0), np.float32),
                         source=source, build=build, row0=row0, col0=col0,
                         name=f"terrain-world-{world.seed}-{id(world):x}")


def _array_block(source, build, row0: int, col0: int, block_info=None) -> np.ndarray:
    """One chunk of `world_array`: its samples, cut from the world's chunk lattice."""
    (r0, r1), (c0, c1) = block_info[None]["array-location"]
    world = worker_world(source, build) if isinstance(source, WorldSpec) else source
    return world.region(row0 + r0, col0 + c0, r1 - r0, c1 - c0)
