"""Batch world generation: `terrain-gan world` as a library. Plan (check everything), then run.

`plan(...)` checks every input and the output folder before anything is written, fixes the
world-wide height range (16-bit codes mean the same metres in every tile) and finds the tiles still
to make. `run(plan)` makes them, in-process or on Dask workers (`world.dask_engine`), writing each tile's
files atomically with its record, and keeps manifest.json and the overview up to date.

Height range, chosen before the first tile is written so that re-runs and jobs splitting one world
agree: "auto" (default) is an a-priori envelope from the model's normalisation and the layout over
the whole grid (`World.height_envelope`; costs nothing); "exact" is a pre-pass over the whole grid
(doubles the work, tightest codes); (lo, hi) is fixed metres. A sample outside the range is clipped
to it in every format and counted in its tile's record ("clipped").
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

import exporters
from exporters import ExportError, ExportOptions
from terrain_gan import fileio
from terrain_gan.errors import TerrainGanError
from terrain_gan.progress import Progress
from terrain_gan.world import manifest as wm
from terrain_gan.world.claims import BUSY, MINE, Claims, folder_lock
from terrain_gan.world.core import World, check_grid, check_tile_size
from terrain_gan.world.layout import Layout
from terrain_gan.world.tile_job import TileJob, encode_tile, release_memory


@dataclasses.dataclass
class WorldPlan:
    """A checked batch run: the world, the tiles to make and those already finished."""

    world: World
    job: TileJob
    identity: dict
    xs: range
    zs: range
    todo: list[tuple[int, int]]
    records: dict
    recipe: dict | None = None  # the resolved `world.recipe.WorldConfig`, recorded in the manifest


def plan(seed: int, model="default", *, tiles: tuple[int, int], tile_size: int, out, formats="png16,npy",
         xs: range | None = None, zs: range | None = None, layout: Layout | None = None,
         periodic: bool = False, height_range="auto", options: ExportOptions | None = None,
         recipe: dict | None = None) -> WorldPlan:
    """Checks a batch run and the output folder; nothing is written.

    Args:
      seed, model, layout: the world (see `World`).
      tiles: (nx, nz) the whole world's grid; xs, zs: the tile columns / rows this job makes (default all).
      tile_size: samples per tile side, k*16+1 (2^n+1 for engines).
      out: the world's folder (created by `run`; its parent must exist).
      formats: export formats (`exporters.FORMAT_NAMES`), a list or comma-separated string.
      periodic: the world wraps around the grid (a torus); its extent must be a multiple of 256 samples
        (`synth.period_unit`: 512 for model v2).
      height_range: "auto", "exact" or (lo, hi) metres (see the module docstring).
      options: `exporters.ExportOptions` for meshes and engine files.
      recipe: the resolved recipe to record in the manifest (`world.recipe`; kept from an earlier run if None).

    >>> import tempfile
    >>> p = plan(7, tiles=(2, 2), tile_size=33, out=f"{tempfile.mkdtemp()}/w", formats="npy", xs=range(1, 2))
    >>> p.todo, p.job.height_range[0] < p.job.height_range[1]
    ([(1, 0), (1, 1)], True)
    """
    out = Path(out)
    size = check_tile_size(tile_size)
    grid = check_grid(*tiles, size)
    xs, zs = _span(xs, grid[0], "x"), _span(zs, grid[1], "z")
    names = exporters.check_formats(formats)
    options = exporters.ExportOptions() if options is None else options
    if not out.parent.is_dir():
        raise TerrainGanError(f"{out}: parent folder {out.parent} does not exist")
    if out.exists() and not out.is_dir():
        raise TerrainGanError(f"{out}: exists and is not a folder")
    extent = ((grid[1] * (size - 1)), grid[0] * (size - 1))
    world = World(seed, model, layout=layout, period=extent if periodic else None)
    spec = _range_spec(height_range)
    identity = dict(seed=world.seed, model_id=world.model.model_id, model_sha256=world.model.sha256,
                    cell_size_m=world.cell_size_m, tile_size=size, grid=list(grid), periodic=bool(periodic),
                    layout=world.layout.as_json(), height_range=spec, export_options=options.as_json())
    doc = wm.read_manifest(out) if out.is_dir() else None
    if doc is not None:
        wm.check_same_world(doc, identity, out)
        lo_hi = tuple(doc["height_range_m"])
    elif out.is_dir():
        wm.check_no_strangers(out)
    if doc is None:
        lo_hi = _height_range(world, spec, size, grid)
    exporters.world_files(out, grid, size, world.cell_size_m, lo_hi, names, options)  # checks only
    job = TileJob(out, size, grid, names, (float(lo_hi[0]), float(lo_hi[1])), options, wm.digest(identity))
    records = wm.read_records(out, job.world_digest) if out.is_dir() else {}
    todo = [(x, z) for z in zs for x in xs if not wm.is_finished(out, records.get((x, z)), names)]
    for key in todo:
        records.pop(key, None)
    if recipe is None and doc is not None:
        recipe = doc.get("recipe")
    return WorldPlan(world, job, identity, xs, zs, todo, records, recipe)


def grid_layout(model, *, tiles: tuple[int, int], tile_size: int, **layout) -> Layout:
    """`world.layout.make_layout` with maps stretched over the whole grid (checked first).

    `layout`: relief, relief_variation, relief_scale, guide, guide_range, relief_map, roughness.
    """
    from terrain_gan import pretrained
    from terrain_gan.world.layout import make_layout

    size = check_tile_size(tile_size)
    nx, nz = check_grid(*tiles, size)
    m = pretrained.load_model(model)
    return make_layout((nz * (size - 1), nx * (size - 1)), guide_top_m=m.height_mean_m + 2 * m.height_std_m,
                       **layout)


def _span(span, n: int, axis: str) -> range:
    """A job's tiles along one axis: a range inside [0, n), default all of it."""
    span = range(n) if span is None else span
    if span.step != 1 or len(span) == 0 or span.start < 0 or span.stop > n:
        raise TerrainGanError(f"--{axis} {span.start}:{span.stop} must be a non-empty range inside 0:{n}")
    return span


def _range_spec(height_range):
    """'auto' | 'exact' | [lo, hi] (checked)."""
    if height_range in ("auto", "exact"):
        return height_range
    try:
        lo, hi = (float(v) for v in height_range)
    except (TypeError, ValueError):
        raise TerrainGanError(f"height range must be auto, exact or LO,HI metres, got {height_range!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise TerrainGanError(f"height range LO,HI must be finite with LO < HI, got {lo:g},{hi:g}")
    return [float(np.float32(lo)), float(np.float32(hi))]  # exporters check heights as float32


def _height_range(world: World, spec, size: int, grid) -> tuple[float, float]:
    """The world-wide (lo, hi) metres for `spec`, over the whole grid (whatever part this job makes)."""
    if spec == "auto":
        lo, hi = world.height_envelope((0, grid[1] * (size - 1) + 1), (0, grid[0] * (size - 1) + 1))
        return float(np.floor(lo)), float(np.ceil(hi))  # whole metres: exact in float32 too
    if spec == "exact":
        lo, hi = np.inf, -np.inf
        bar = Progress(grid[0] * grid[1], "tiles (height range pre-pass)")
        for _, _, h in world.tiles(size, range(grid[0]), range(grid[1])):
            lo, hi = min(lo, float(h.min())), max(hi, float(h.max()))
            bar.update(1)
        bar.close()
        return float(np.floor(lo)), float(max(np.ceil(hi), np.floor(lo) + 1))
    return tuple(spec)


def run(p: WorldPlan, *, engine: str = "local", scheduler: str | None = None, workers: int = 2,
        quiet: bool = False) -> dict:
    """Makes the plan's unfinished tiles and writes them, the manifest and the overview.

    Runs sharing the folder split the tiles (`world.claims`): a tile another run is making is waited
    for, not made twice. Returns a summary: tiles made here / skipped, seconds, megasamples per second,
    samples clipped.
    """
    job = p.job
    _check_engine(engine, scheduler, workers)  # before the folder exists: a bad option writes nothing
    job.out.mkdir(exist_ok=True)
    _write_manifest(p)  # first: a folder holding only our files and no manifest is never left behind
    (job.out / wm.RECORDS).mkdir(exist_ok=True)
    for folder in (job.out, job.out / wm.RECORDS):  # what a killed run (kill -9) was writing
        fileio.remove_stale_temps(folder)
    exporters.write_files(exporters.world_files(job.out, job.grid, job.size, p.world.cell_size_m,
                                                job.height_range, job.formats, job.options))
    bar = Progress(len(p.todo), "tiles", stream=_Null() if quiet else None, every=max(1, len(p.todo) // 20))
    stats = dict(made=0, clipped=0)
    claims = Claims(job)
    t0 = last = time.perf_counter()

    def finished(files: dict, record: dict) -> None:
        nonlocal last
        exporters.write_files(files)
        del files
        claims.release(record["x"], record["z"])
        release_memory()
        p.records[(record["x"], record["z"])] = record
        stats["made"] += 1
        stats["clipped"] += record["clipped"]
        elapsed = time.perf_counter() - t0
        bar.update(1, Msamples_s=stats["made"] * job.size**2 / max(elapsed, 1e-9) / 1e6)
        if time.perf_counter() - last > 30:  # keep the manifest roughly current on long runs
            _write_manifest(p)
            last = time.perf_counter()

    try:
        todo = p.todo
        if engine == "local":
            p.world.reserve(job.size, len(p.xs))
        while todo:
            busy = _make(p, todo, claims, finished, engine, scheduler, workers)
            if busy and not quiet and todo is p.todo:
                print(f"another terrain-gan world run holds {job.out}; waiting", file=sys.stderr, flush=True)
            todo = [t for t in busy if claims.take(*t, wait=True) == MINE]  # its holder died: ours now
    except BaseException:
        claims.close()
        bar.close()
        with contextlib.suppress(ExportError, OSError):  # best effort: the first failure is the one to report
            _close_folder(p)
        raise
    bar.close()
    _close_folder(p)
    seconds = time.perf_counter() - t0
    return dict(stats, skipped=len(p.xs) * len(p.zs) - stats["made"], seconds=seconds,
                msamples_per_s=stats["made"] * job.size**2 / max(seconds, 1e-9) / 1e6,
                height_range=job.height_range, out=str(job.out))


def _make(p: WorldPlan, todo, claims: Claims, finished, engine, scheduler, workers) -> list[tuple[int, int]]:
    """Makes the tiles of `todo` this run can claim; returns those another run holds."""
    if engine == "dask":
        from terrain_gan.world import dask_engine as world_dask

        return world_dask.run_tiles(p, finished, todo=todo, take=lambda x, z: claims.take(x, z, wait=False),
                                    scheduler=scheduler, workers=workers)
    # One writer thread: a tile's files are written (fsync included) while the next is computed.
    # At most one tile waits to be written, so memory stays flat; the writer's errors surface here.
    busy, writing = [], None
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="tile-writer") as writer:
        for x, z in todo:
            state = claims.take(x, z, wait=False)
            if state == MINE:
                made = encode_tile(p.world, p.job, x, z)
                if writing is not None:
                    writing.result()
                writing = writer.submit(finished, *made)
                del made
            elif state == BUSY:
                busy.append((x, z))
        if writing is not None:
            writing.result()
    return busy


def _close_folder(p: WorldPlan) -> None:
    """Writes manifest.json and overview.png from every finished tile in the folder (other runs' too)."""
    job = p.job
    with folder_lock(job.out):
        for folder in (job.out, job.out / wm.RECORDS):  # a run that shared the folder may have been killed
            fileio.remove_stale_temps(folder)
        p.records.update(wm.read_records(job.out, job.world_digest))
        _write_manifest(p)
        exporters.write_files({job.out / wm.OVERVIEW: wm.overview_png(job.out, p.records, job.grid, job.size,
                                                                     p.world.cell_size_m)})


def _check_engine(engine: str, scheduler: str | None, workers: int) -> None:
    if engine not in ("local", "dask"):
        raise TerrainGanError(f"unknown engine {engine!r}; choose local or dask")
    if engine == "dask" and scheduler is None and not 1 <= workers <= 256:
        raise TerrainGanError(f"--workers must be 1..256, got {workers}")


def _write_manifest(p: WorldPlan) -> None:
    wm.write_manifest(p.job.out, wm.manifest(p.identity, p.job.height_range, p.job.formats, p.records,
                                             p.job.grid, p.job.size, p.recipe))


class _Null:
    def write(self, _):
        pass

    def flush(self):
        pass
