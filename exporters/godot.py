"""Godot 4: a `.tscn` scene that places terrain meshes, and the numbers the terrain plugins ask for.

The scene instances each tile's GLB (a PackedScene once Godot has imported it) under one Node3D at
its position in metres (times `scale`): Godot is +Y up with -Z forward, the same axes as the GLB, so
north stays -Z. Resource paths are relative to the scene file, which Godot resolves against the
scene's own folder, so a world folder can be copied anywhere inside a project.

Beside each GLB goes its import settings, `NAME.glb.import`, as Godot's editor would write them but
holding only what differs from Godot's defaults: *Force Disable Mesh Compression*. Godot's default
import stores vertex positions in 16 bits over the mesh's bounds (a 5.76 km wide map's vertices move by
up to 9 cm); with this file beside the GLB, Godot imports it with our setting, fills in its defaults for
the rest, and rewrites the file in full (adding its uid and the imported file's path).

For the heightmap plugins the export also writes a float32 EXR (channel R, metres: Terrain3D) and a
little-endian R16 (HTerrain, Terrain3D); `godot_section` records what to type into their importers.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Sequence

from exporters.job import ExportJob, file_path

HTERRAIN_RESOLUTIONS = (65, 129, 257, 513, 1025, 2049, 4097)  # HTerrain's SUPPORTED_RESOLUTIONS
# Godot 4's ConfigFile text, as its editor writes a scene's `.import`: the scene importer, our one setting.
GLB_IMPORT = b'[remap]\n\nimporter="scene"\n\n[params]\n\nmeshes/force_disable_compression=true\n'


def _node_name(name: str) -> str:
    """A valid Godot node name: characters Godot reserves in node paths become '_'.

    >>> _node_name("tile.3:5")
    'tile_3_5'
    """
    return re.sub(r'[.:@/"%\\]', "_", name) or "terrain"


def _num(v: float) -> str:
    """A float as Godot's text formats write it (shortest repr, no exponent for normal sizes)."""
    return repr(float(v)).replace("e+", "e")


def tscn_bytes(instances: Sequence[tuple[str, str, tuple[float, float, float]]], root: str = "Terrain") -> bytes:
    """A Godot 4 text scene: a Node3D `root` with one instanced scene per (node name, path, position).

    >>> print(tscn_bytes([("tile_0_0", "tile_0_0.glb", (0.0, 0.0, 960.0))]).decode())
    [gd_scene load_steps=2 format=3]
    <BLANKLINE>
    [ext_resource type="PackedScene" path="tile_0_0.glb" id="1_tile"]
    <BLANKLINE>
    [node name="Terrain" type="Node3D"]
    <BLANKLINE>
    [node name="tile_0_0" parent="." instance=ExtResource("1_tile")]
    transform = Transform3D(1, 0, 0, 0, 1, 0, 0, 0, 1, 0.0, 0.0, 960.0)
    <BLANKLINE>
    """
    lines = [f"[gd_scene load_steps={len(instances) + 1} format=3]", ""]
    for i, (_, path, _) in enumerate(instances, 1):
        lines += [f'[ext_resource type="PackedScene" path={json.dumps(path)} id="{i}_tile"]']
    lines += ["", f'[node name="{_node_name(root)}" type="Node3D"]', ""]
    for i, (name, _, (x, y, z)) in enumerate(instances, 1):
        lines += [f'[node name="{_node_name(name)}" parent="." instance=ExtResource("{i}_tile")]',
                  f"transform = Transform3D(1, 0, 0, 0, 1, 0, 0, 0, 1, {_num(x)}, {_num(y)}, {_num(z)})", ""]
    return "\n".join(lines).encode()


def godot_section(job: ExportJob) -> dict:
    """Sidecar section "godot": the scene, the mesh, and the Terrain3D / HTerrain import settings."""
    o = job.options
    k, s = o.height_scale * o.scale, o.scale
    lo, hi = job.height_range
    rows, cols = job.height.shape
    (x0, z0), (w, l) = job.origin_m, job.size_m
    section = {
        "mesh": job.path(".glb").name,
        "mesh_import": job.path(".glb.import").name,  # Force Disable Mesh Compression, for Godot's importer
        "position": [x0 * s, 0.0, z0 * s],  # the GLB's node position (its north-west sample) in the world
        "terrain3d": {
            "height_file": job.path(".exr").name, "r16_file": job.path(".r16").name,
            "r16_range": [lo, hi], "r16_size": [cols, rows],  # Terrain3D asks for these with R16 files
            "height_scale": k, "height_offset": 0.0, "vertex_spacing": job.cell_size_m * s,
            # Terrain3D centres an imported map on this location (rounded to its region size).
            "import_position": [(x0 + w / 2) * s, 0.0, (z0 + l / 2) * s],
        },
        "hterrain": {
            "heightmap": job.path(".r16").name, "raw_endianness": "little",
            "min_height": lo * k, "max_height": hi * k, "map_scale": [job.cell_size_m * s, 1.0, job.cell_size_m * s],
            "position": [x0 * s, 0.0, z0 * s],
            # HTerrain takes square 2^n + 1 maps of 65 .. 4097 samples only (it crops others).
            "size_ok": rows == cols and rows in HTERRAIN_RESOLUTIONS,
        },
    }
    if job.tile is None:
        section["scene"] = job.path(".tscn").name
    return section


def godot_files(job: ExportJob) -> tuple[dict, dict]:
    """The Godot extras beyond the GLB, EXR and R16: the GLB's import settings, and a one-tile `.tscn`
    when this is not a world tile.

    >>> from exporters.job import export_job
    >>> files, section = godot_files(export_job([[0, 1], [2, 3]], "out/t", cell_size_m=4))
    >>> [p.name for p in files], section["terrain3d"]["import_position"]
    (['t.glb.import', 't.tscn'], [2.0, 0.0, 2.0])
    """
    files = {job.path(".glb.import"): GLB_IMPORT}
    if job.tile is None:
        files[job.path(".tscn")] = tscn_bytes([(job.stem.name, job.path(".glb").name, (0.0, 0.0, 0.0))])
    return files, godot_section(job)


def world_tscn(out_dir, grid: tuple[int, int], tile_size_m: tuple[float, float], scale: float,
               stem_of, suffix: str = ".glb") -> dict:
    """{out_dir/world.tscn: bytes} placing every tile's mesh (`stem_of((x, z))` + suffix) in metres x scale.

    >>> files = world_tscn("w", (2, 1), (320.0, 320.0), 1.0, lambda t: Path("w") / f"tile_{t[0]}_{t[1]}")
    >>> files[Path("w/world.tscn")].decode().count("instance=ExtResource")
    2
    """
    out_dir = Path(out_dir)
    nx, nz = grid
    w, l = tile_size_m
    instances = []
    for z in range(nz):
        for x in range(nx):
            stem = stem_of((x, z))
            rel = Path(os.path.relpath(file_path(stem, suffix), out_dir)).as_posix()
            instances.append((stem.name, rel, (x * w * scale, 0.0, z * l * scale)))
    return {out_dir / "world.tscn": tscn_bytes(instances, root="World")}
