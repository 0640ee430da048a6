"""Worlds on Dask: a LocalCluster makes byte-identical files, loads the model once per worker; lazy arrays."""

import builtins
import hashlib
import subprocess
import sys

import numpy as np
import pytest

from terrain_gan.cli import main
from terrain_gan.errors import TerrainGanError
from terrain_gan.world import dask_engine as world_dask
from terrain_gan.world.core import World

S = 33


def _snapshot(folder) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _world(weights, out, *extra):
    return main(["world", "--seed", "7", "--tiles", "5x3", "--tile-size", str(S), "--out", str(out),
                 "--formats", "png16,npy", "--model", str(weights), *extra])


@pytest.fixture(scope="module")
def cluster():
    pytest.importorskip("distributed")
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.worker.multiprocessing-method": "spawn"}):
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                          scheduler_kwargs={"dashboard_address": ":0"}) as c:
            with Client(c) as client:
                yield c, client


def test_dask_engine_files_are_byte_identical_to_in_process(smoke_weights, cluster, tmp_path, monkeypatch):
    c, client = cluster
    monkeypatch.setattr(world_dask, "BLOCK", 1)  # 15 one-tile tasks: each worker runs several
    assert _world(smoke_weights, tmp_path / "local") == 0
    assert _world(smoke_weights, tmp_path / "dask", "--engine", "dask", "--scheduler", c.scheduler_address) == 0
    local, on_dask = _snapshot(tmp_path / "local"), _snapshot(tmp_path / "dask")
    assert len(local) > 30 and on_dask == local
    # Every worker built the world (loading the model) exactly once, however many tasks it ran.
    loads = client.run(lambda: world_dask.LOADS["worlds"])
    assert list(loads.values()) == [1, 1]


def test_dask_engine_masks_are_byte_identical_to_in_process(smoke_weights, cluster, tmp_path):
    c, _ = cluster
    extra = ("--formats", "npy", "--also", "masks", "--x", "0:2", "--z", "0:2")
    assert _world(smoke_weights, tmp_path / "local", *extra) == 0
    assert _world(smoke_weights, tmp_path / "dask", *extra, "--engine", "dask", "--scheduler", c.scheduler_address) == 0
    local = _snapshot(tmp_path / "local")
    assert sum(name.endswith("_splat.png") for name in local) == 4 and _snapshot(tmp_path / "dask") == local


def test_dask_engine_resumes_like_the_local_one(smoke_weights, cluster, tmp_path, capsys):
    c, _ = cluster
    out = tmp_path / "w"
    assert _world(smoke_weights, out, "--x", "0:2") == 0
    assert _world(smoke_weights, out, "--engine", "dask", "--scheduler", c.scheduler_address) == 0
    assert "9 tiles made, 6 already finished" in capsys.readouterr().out
    assert _world(smoke_weights, tmp_path / "ref") == 0
    assert _snapshot(out) == _snapshot(tmp_path / "ref")


def test_dask_engine_on_its_own_local_cluster(smoke_weights, tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "own"
    assert main(["world", "--seed", "2", "--tiles", "2x1", "--tile-size", str(S), "--out", str(out),
                 "--formats", "npy", "--model", str(smoke_weights), "--engine", "dask", "--workers", "1"]) == 0
    assert np.load(out / "tile_1_0.npy").tobytes() == World(2, smoke_weights).tile(1, 0, S).tobytes()


def test_unreachable_scheduler_is_one_line(smoke_weights, tmp_path, capsys):
    pytest.importorskip("distributed")
    rc = _world(smoke_weights, tmp_path / "w", "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9")
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "Dask scheduler" in err


def test_lazy_dask_array_has_one_chunk_per_tile(smoke_weights, cluster):
    world = World(7, smoke_weights)
    arr = world.to_dask(S, (3, 2), origin=(1, 0))
    assert arr.chunks == ((32, 33), (32, 32, 33)) and arr.dtype == np.float32
    expect = world.region(0, 32, 2 * 32 + 1, 3 * 32 + 1)
    assert arr.compute(scheduler="threads").tobytes() == expect.tobytes()
    _, client = cluster
    assert client.compute(arr).result().tobytes() == expect.tobytes()  # on the spawned workers
    assert arr[33:40, 5:9].compute(scheduler="sync").tobytes() == expect[33:40, 5:9].tobytes()


def test_without_dask_the_error_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name.split(".")[0] in ("dask", "distributed"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    with pytest.raises(TerrainGanError, match=r"pip install 'terrain-gan\[dask\]'"):
        world_dask.require_dask()


def test_terrain_gan_world_imports_without_dask():
    code = ("import sys; import terrain_gan, terrain_gan.world.core, terrain_gan.world.batch, terrain_gan.cli.world_cmd; "
            "sys.exit(1 if any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0
