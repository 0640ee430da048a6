"""Worlds on Dask (the optional extra `terrain-gan[dask]`): batch tiles on workers, and lazy arrays.

Workers rebuild the world from a `WorldSpec` (weights by path, checked by sha256) once per process
and keep it, chunk cache included, for every task they run. Tasks are blocks of neighbouring tiles
(so shared chunks are computed once per block); workers encode the files and the client writes
them, so no shared filesystem is needed and the bytes are exactly those of the in-process engine.
Local clusters start their workers with `spawn`: forking a process that has loaded JAX can deadlock.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import numpy as np

from terrain_gan.errors import TerrainGanError
from terrain_gan.world import World, WorldSpec

BLOCK = 4  # tiles per block side
_WORLDS: dict[tuple, World] = {}  # this process's worlds, by spec
LOADS = {"worlds": 0}  # worlds built in this process (tests check: once per worker)


def require_dask():
    """Imports dask and distributed, or fails with one line naming the extra."""
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise TerrainGanError("--engine dask needs Dask: pip install 'terrain-gan[dask]'") from None


def _key(spec: WorldSpec) -> tuple:
    return (spec.weights, spec.sha256, spec.seed, spec.period, json.dumps(spec.layout.as_json(), sort_keys=True))


def worker_world(spec: WorldSpec) -> World:
    """The world `spec` describes, built once per process (model loaded once) and kept."""
    key = _key(spec)
    if key not in _WORLDS:
        _WORLDS[key] = World.from_spec(spec)
        LOADS["worlds"] += 1
    return _WORLDS[key]


def _block_task(spec: WorldSpec, job, tiles: list[tuple[int, int]]) -> list[tuple[dict, dict]]:
    """Encodes a block of tiles on a worker: [(files, record)] in row-major order."""
    from terrain_gan.world_batch import encode_tile, release_memory

    world = worker_world(spec)
    world.reserve(job.size, len({x for x, _ in tiles}))
    out = []
    for x, z in tiles:
        out.append(encode_tile(world, job, x, z))
        release_memory()
    return out


def blocks(todo: list[tuple[int, int]], side: int | None = None) -> list[list[tuple[int, int]]]:
    """Tiles grouped into side x side blocks of the grid (default BLOCK), each in row-major order.

    >>> blocks([(0, 0), (1, 0), (5, 0), (0, 1)], side=4)
    [[(0, 0), (1, 0), (0, 1)], [(5, 0)]]
    """
    side = side or BLOCK
    groups: dict[tuple[int, int], list] = {}
    for x, z in todo:
        groups.setdefault((z // side, x // side), []).append((x, z))
    return [sorted(g, key=lambda t: (t[1], t[0])) for _, g in sorted(groups.items())]


def run_tiles(p, finished: Callable[[dict, dict], None], *, scheduler: str | None = None, workers: int = 2) -> None:
    """Makes the plan's tiles on a Dask cluster, calling `finished(files, record)` on the client as each comes."""
    require_dask()
    import dask
    from distributed import Client, LocalCluster, as_completed

    spec = p.world.spec()
    if scheduler is None and not 1 <= workers <= 256:
        raise TerrainGanError(f"--workers must be 1..256, got {workers}")
    with dask.config.set({"distributed.worker.multiprocessing-method": "spawn"}):
        cluster = None
        try:
            if scheduler is None:
                # No dashboard, and the scheduler's HTTP routes on a free port (8787 may be taken).
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None, scheduler_kwargs={"dashboard_address": ":0"},
                                       silence_logs=logging.ERROR)
            client = Client(scheduler or cluster, timeout="10s")
        except (OSError, TimeoutError) as e:
            if cluster is not None:
                cluster.close()
            raise TerrainGanError(f"cannot reach the Dask scheduler {scheduler or 'LocalCluster'}: {e}") from None
        try:
            _drive(client, spec, p.job, blocks(p.todo), finished, as_completed)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def _drive(client, spec, job, todo_blocks, finished, as_completed) -> None:
    """Keeps two blocks per worker in flight; hands results over as they complete (memory stays flat)."""
    spec_f, job_f = client.scatter([spec, job], broadcast=True)
    window = 2 * max(1, len(client.scheduler_info().get("workers", {})))
    pending = iter(todo_blocks)
    queue = as_completed([client.submit(_block_task, spec_f, job_f, b, pure=False)
                          for b in _take(pending, window)])
    for future in queue:
        for files, record in future.result():
            finished(files, record)
        future.release()
        for b in _take(pending, 1):
            queue.add(client.submit(_block_task, spec_f, job_f, b, pure=False))


def _take(it, n: int) -> list:
    out = []
    for item in it:
        out.append(item)
        if len(out) == n:
            break
    return out


def world_array(world: World, size: int, grid: tuple[int, int], origin: tuple[int, int] = (0, 0)):
    """A lazy dask.array of tiles origin .. origin + grid: one chunk per tile (its last row / column
    belongs to the next tile's chunk, except at the far edges). Computes with any Dask scheduler;
    distributed workers need a world made from a weights name or path."""
    require_dask()
    import dask.array as da

    from terrain_gan.world import check_grid, check_tile_size

    size = check_tile_size(size, world.stride)
    nx, nz = check_grid(*grid, size)
    source = world
    if world.weights is not None:
        source = world.spec()
        _WORLDS.setdefault(_key(source), world)  # the threaded scheduler reuses this very world
    chunks = ((size - 1,) * (nz - 1) + (size,), (size - 1,) * (nx - 1) + (size,))
    row0, col0 = origin[1] * (size - 1), origin[0] * (size - 1)
    return da.map_blocks(_array_block, dtype=np.float32, chunks=chunks, meta=np.empty((0, 0), np.float32),
                         source=source, row0=row0, col0=col0, name=f"terrain-world-{world.seed}-{id(world):x}")


def _array_block(source, row0: int, col0: int, block_info=None) -> np.ndarray:
    """One chunk of `world_array`: its samples, cut from the world's chunk lattice."""
    (r0, r1), (c0, c1) = block_info[None]["array-location"]
    world = source if isinstance(source, World) else worker_world(source)
    return world.region(row0 + r0, col0 + c0, r1 - r0, c1 - c0)
