"""Files for the engine tests, made once per session by the CLI with the shipped model and shared by the
Blender and Godot modules (read-only: each engine imports them from where they are or from a copy)."""

from __future__ import annotations

import pytest

from engines.engine_support import HEIGHT_SCALE, SCALE, N, blender_python, godot_command
from terrain_gan.cli import main


@pytest.fixture(scope="session")
def blender():
    """Blender's Python; asked for before the files so that a missing Blender skips without making them."""
    return blender_python()


@pytest.fixture(scope="session")
def godot():
    """The Godot 4 command; asked for before the files, like `blender`."""
    return godot_command()


@pytest.fixture(scope="session")
def map_dir(tmp_path_factory):
    """A 65 x 65 map: t.png + t.json + t.npy (float32 metres) and every mesh format; c/: coloured and
    textured; s/: scaled."""
    d = tmp_path_factory.mktemp("map")
    assert main(["generate", "--seed", "3", "--size", str(N), "--out", str(d / "t.png"),
                 "--also", "npy,glb,gltf,obj,godot,exr"]) == 0
    (d / "c").mkdir()
    (d / "s").mkdir()
    assert main(["export", str(d / "t.npy"), "--formats", "glb,gltf,obj", "--colors", "relief",
                 "--texture", "height", "--out", str(d / "c" / "t")]) == 0
    assert main(["export", str(d / "t.npy"), "--formats", "glb,obj", "--height-scale", str(HEIGHT_SCALE),
                 "--scale", str(SCALE), "--out", str(d / "s" / "t")]) == 0
    return d


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory):
    """A 2 x 2 world of 65-sample tiles: per tile GLB (Godot's), glTF, OBJ, EXR, R16, .npy; world.tscn."""
    out = tmp_path_factory.mktemp("world") / "w"
    assert main(["world", "--seed", "7", "--tiles", "2x2", "--tile-size", str(N), "--out", str(out),
                 "--formats", "godot,gltf,obj,npy", "--colors", "height", "--texture", "relief"]) == 0
    return out
