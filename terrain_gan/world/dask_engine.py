"""Batch worlds on Dask (the optional extra `terrain-gan[dask]`): tiles made on workers.

Workers rebuild the world from a `WorldSpec` once per process (`world.remote`; lazy arrays live there too)
and keep it, chunk cache included, for every task they run. Tasks are blocks of neighbouring tiles
(so shared chunks are computed once per block); workers encode the files and the client writes
them, so no shared filesystem is needed and the bytes are exactly those of the in-process engine.
Local clusters start their workers with `spawn`: forking a process that has loaded JAX can deadlock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from terrain_gan.errors import TerrainGanError
from terrain_gan.world.claims import BUSY, MINE
from terrain_gan.world.core import World
from terrain_gan.world.remote import LOADS, WorldSpec, require_dask, worker_world  # noqa: F401 (LOADS: tests)
from terrain_gan.world.tile_job import TileJob, encode_tile, release_memory

BLOCK = 4  # tiles per block side


def _block_task(spec: WorldSpec, job: TileJob, tiles: list[tuple[int, int]]) -> list[tuple[dict, dict]]:
    """Encodes a block of tiles on a worker: [(files, record)] in row-major order."""
    world = worker_world(spec, World.from_spec)
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


def run_tiles(p, finished: Callable[[dict, dict], None], *, todo: list | None = None,
              take: Callable[[int, int], str] | None = None, scheduler: str | None = None,
              workers: int = 2) -> list[tuple[int, int]]:
    """Makes tiles on a Dask cluster, calling `finished(files, record)` on the client as each comes.

    `todo`: the tiles (default the plan's). `take(x, z)`: claims a tile just before its block is
    submitted (`world.claims`: MINE, DONE or BUSY); returns the tiles found BUSY, not made.
    """
    require_dask()
    import dask
    from distributed import Client, LocalCluster, as_completed

    spec = p.world.spec()
    if scheduler is None and not 1 <= workers <= 256:
        raise TerrainGanError(f"--workers must be 1..256, got {workers}")
    busy: list[tuple[int, int]] = []
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
            todo_blocks = blocks(p.todo if todo is None else todo)
            _drive(client, spec, p.job, _claimed(todo_blocks, take, busy), finished, as_completed)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    return busy


def _claimed(todo_blocks, take, busy: list):
    """The blocks with only the tiles `take` claims, claimed lazily (as each block is submitted)."""
    for block in todo_blocks:
        states = [(t, MINE if take is None else take(*t)) for t in block]
        busy.extend(t for t, state in states if state == BUSY)
        mine = [t for t, state in states if state == MINE]
        if mine:
            yield mine


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
