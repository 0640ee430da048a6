"""Running Blender and Godot on exported files, and reading their meshes back onto the heightmap's grid.

Blender is `pip install bpy` (Blender 5.0 as a Python module). It cannot share terrain_gan's venv:
bpy 4.5 and 5.0 pin numpy < 2 while jax >= 0.5 needs numpy >= 2 (pip then falls back to bpy 4.4,
which is built against numpy 1 and fails to import numpy.core.multiarray). So it lives in its own
venv and runs as a subprocess: `.venv-blender/` at the repository root (what `.ci/run` makes), or
the interpreter named by TERRAIN_GAN_BLENDER_PYTHON. The tests skip only when neither has bpy.

Godot 4 comes from Debian unstable, unpacked into `.godot-root/` by `tests/engines/install_godot.sh`
(what `.ci/run` does), or is the command named by TERRAIN_GAN_GODOT; its tests skip only when neither is there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("blender_probe.py")
GODOT_PROBE = Path(__file__).with_name("godot_probe.gd")
GODOT_ENV = "TERRAIN_GAN_GODOT"
ENV = "TERRAIN_GAN_BLENDER_PYTHON"
INSTALL = ("python3.11 -m venv .venv-blender && .venv-blender/bin/pip install -r tests/engines/requirements.txt "
           f"(or set {ENV} to a Python 3.11 that has bpy)")
N = 65  # samples per side of the map and of each world tile (90 m cells)
HEIGHT_SCALE, SCALE = 2.0, 0.01  # the scaled export: 1 unit = 100 m, heights doubled
KINDS = {".glb": "glb", ".gltf": "gltf", ".obj": "obj", ".exr": "exr"}


def blender_python() -> str:
    """The Python that has bpy; skips the test when none is installed (a named one must work)."""
    named = os.environ.get(ENV)
    python = named or str(REPO / ".venv-blender" / ("Scripts/python.exe" if sys.platform == "win32"
                                                    else "bin/python"))
    if not named and not Path(python).exists():
        pytest.skip(f"Blender (bpy) is not installed: {INSTALL}")
    found = subprocess.run([python, "-c", "import importlib.util, sys; sys.exit(not importlib.util.find_spec('bpy'))"],
                           capture_output=True)
    if found.returncode:
        if named:
            pytest.fail(f"{ENV}={python} has no bpy: {INSTALL}")
        pytest.skip(f"Blender (bpy) is not installed in {python}: {INSTALL}")
    return python


def run_blender(python: str, paths, workdir: Path) -> dict:
    """Imports every file in one Blender process (blender_probe.py); {str(path): what Blender holds}."""
    jobs = [{"path": str(p), "kind": KINDS[Path(p).suffix]} for p in paths]
    (workdir / "jobs.json").write_text(json.dumps(jobs))
    done = subprocess.run([python, str(PROBE), str(workdir / "jobs.json"), str(workdir / "report.json")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads((workdir / "report.json").read_text())


def godot_command() -> str:
    """The Godot 4 command; skips the test when none is installed (a named one must run)."""
    named = os.environ.get(GODOT_ENV)
    godot = named or str(REPO / ".godot-root" / "godot")
    if not named and not Path(godot).exists():
        pytest.skip(f"Godot 4 is not installed: bash tests/engines/install_godot.sh (or set {GODOT_ENV})")
    try:
        version = subprocess.run([godot, "--headless", "--version"], capture_output=True, text=True).stdout
    except OSError as e:
        version = str(e)
    if not version.startswith("4."):
        pytest.fail(f"{godot} is not a working Godot 4 ({version.strip()[-200:]!r}): bash tests/engines/install_godot.sh")
    return godot


def run_godot(godot: str, project: Path, scenes, workdir: Path) -> dict:
    """Imports `project` (a folder of exported files) headless with Godot's default import settings (so only
    the files' own `.import` settings apply), instances `scenes` (res:// paths) in one run of godot_probe.gd;
    {scene: [every MeshInstance3D]} plus "godot": the version."""
    settings = 'config_version=5\n\n[application]\nconfig/name="engine test"\n'
    (project / "project.godot").write_text(settings)
    shutil.copy(GODOT_PROBE, project / GODOT_PROBE.name)
    env = dict(os.environ, **{k: str(workdir / k.lower()) for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME",
                                                                    "XDG_CACHE_HOME")})
    run = dict(capture_output=True, text=True, timeout=600, env=env)
    done = subprocess.run([godot, "--headless", "--path", str(project), "--import"], **run)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = workdir / "godot_report.json"
    done = subprocess.run([godot, "--headless", "--path", str(project), "--script", f"res://{GODOT_PROBE.name}",
                           "--", str(out), *scenes], **run)
    # Godot exits 0 even when a script fails to parse: the report is the proof that it ran.
    assert done.returncode == 0 and out.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(out.read_text())


def godot_to_blender(vertices) -> np.ndarray:
    """Godot / glTF axes (x east, y up, z south) to the (x east, y north, z up) that `on_grid` reads."""
    v = np.asarray(vertices, np.float64).reshape(-1, 3)
    return np.stack([v[:, 0], -v[:, 2], v[:, 1]], axis=1)


def only_mesh(report: dict) -> dict:
    """The one mesh object an import made (a terrain file holds one mesh)."""
    assert len(report["meshes"]) == 1, [m["name"] for m in report["meshes"]]
    return report["meshes"][0]


def on_grid(mesh: dict, shape, spacing: float, tol: float = 1e-3):
    """Blender vertices (x east, y north, z up) as a rows x cols grid: (heights, index of each sample's vertex).

    Each vertex must sit on the lattice x = col * spacing, y = -row * spacing (row 0 = north at y = 0),
    within `tol`, and each sample must have exactly one vertex.
    """
    v = np.asarray(mesh["vertices"], np.float64)
    col, row = np.rint(v[:, 0] / spacing).astype(int), np.rint(-v[:, 1] / spacing).astype(int)
    rows, cols = shape
    assert np.abs(v[:, 0] - col * spacing).max() <= tol and np.abs(-v[:, 1] - row * spacing).max() <= tol
    assert col.min() == 0 and col.max() == cols - 1 and row.min() == 0 and row.max() == rows - 1
    index = np.full(shape, -1)
    index[row, col] = np.arange(len(v))
    assert len(v) == rows * cols and (index >= 0).all()  # every sample once, no vertex twice
    return v[index, 2], index


def per_vertex_colors(mesh: dict, name: str = "Color") -> dict:
    """A colour attribute as per-vertex arrays {"color": linear RGBA, "color_srgb": sRGB RGBA}."""
    attr = mesh["colors"][name]
    out = {}
    for key in ("color", "color_srgb"):
        values = np.asarray(attr[key], np.float64)
        if attr["domain"] == "CORNER":  # glTF import: one value per face corner, equal at a shared vertex
            per = np.full((len(mesh["vertices"]), 4), np.nan)
            loops = np.asarray(attr["loop_vertex"])
            per[loops] = values
            spread = np.zeros_like(per)
            np.maximum.at(spread, loops, np.abs(values - per[loops]))
            assert spread.max() == 0.0
            values = per
        out[key] = values
    return out


def texel_at_cells(mesh: dict, image: dict, index: np.ndarray) -> np.ndarray:
    """The texel Blender samples at the centre of each grid cell, through the mesh's own UVs: (H-1) x (W-1) x 4."""
    uv = np.asarray(mesh["uv"], np.float64)[index]  # rows x cols x 2, Blender's UVs (v up)
    centre = (uv[:-1, :-1] + uv[1:, :-1] + uv[:-1, 1:] + uv[1:, 1:]) / 4
    w, h = image["size"]
    pixels = np.asarray(image["pixels"], np.float64)  # Blender stores the bottom row first
    px = np.floor(centre[..., 0] * w).astype(int)
    py = np.floor(centre[..., 1] * h).astype(int)
    return pixels[py, px]
