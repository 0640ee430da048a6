"""Mesh formats of an export: GLB, .gltf + .bin, and OBJ (+ MTL and texture PNG when textured).

Each encoder is pure: `(ExportJob) -> ({path: payload}, sidecar section)`. The mesh is the job's
`mesh_grid` (see `exporters.grid` for axes: +Y up, metres times `scale`, north = -Z, north-west
sample at the origin, counter-clockwise faces from above); a world tile's mesh is local to the tile
and is placed by the engine (Godot `.tscn`, see `exporters.godot`) at `ExportJob.origin_m`.
"""

from __future__ import annotations

from exporters.gltf import glb_chunks, gltf_files
from exporters.job import ExportJob
from exporters.mesh import build_mesh
from exporters.obj import mtl_bytes, obj_chunks


def mesh_section(job: ExportJob) -> dict:
    """What a sidecar records of a mesh: its counts, index type and placement."""
    g = job.mesh_grid
    s = job.options.scale
    return {"vertices": g.n_vertices, "faces": g.n_faces, "index_type": g.index_dtype.name,
            "grid": list(g.shape), "up": "+Y", "north": "-Z", "units": f"metres x {s:g}",
            "position": [job.origin_m[0] * s, 0.0, job.origin_m[1] * s]}


def _extras(job: ExportJob) -> dict:
    """glTF node extras: where the mesh came from, for tools that read them."""
    extras = {"cell_size_m": job.cell_size_m, "height_range_m": list(job.height_range),
              "options": job.options.as_json()}
    if job.tile is not None:
        extras.update(tile=list(job.tile), grid=list(job.grid))
    return extras


def glb_files(job: ExportJob) -> tuple[dict, dict]:
    """`stem.glb`: binary glTF 2.0, streamed block by block; the texture (if any) embedded.

    >>> from exporters.job import export_job
    >>> files, section = glb_files(export_job([[0, 1], [2, 3]], "out/t", cell_size_m=1))
    >>> [p.as_posix() for p in files], section["vertices"], section["index_type"]
    (['out/t.glb'], 4, 'uint16')
    """
    path = job.path(".glb")
    chunks = glb_chunks(job.mesh_grid, name=job.stem.name, texture_png=job.texture_png, extras=_extras(job))
    return {path: chunks}, {"file": path.name, **mesh_section(job)}


def gltf_text_files(job: ExportJob) -> tuple[dict, dict]:
    """`stem.gltf` (JSON) and `stem.bin` (its buffer; the texture, if any, inside it)."""
    gltf, bin_ = job.path(".gltf"), job.path(".bin")
    text, chunks = gltf_files(job.mesh_grid, bin_.name, name=job.stem.name, texture_png=job.texture_png,
                              extras=_extras(job))
    return {gltf: text, bin_: chunks}, {"file": gltf.name, "buffer": bin_.name, **mesh_section(job)}


def obj_files(job: ExportJob) -> tuple[dict, dict]:
    """`stem.obj`; with --texture also `stem.mtl` and `stem_texture.png` (OBJ cannot embed images).

    >>> from exporters.job import export_job
    >>> from exporters.options import ExportOptions
    >>> job = export_job([[0, 1], [2, 3]], "t", cell_size_m=1, options=ExportOptions(texture="height"))
    >>> sorted(p.name for p in obj_files(job)[0])
    ['t.mtl', 't.obj', 't_texture.png']
    """
    obj = job.path(".obj")
    comment = (f"terrain_gan export: {job.stem.name}, +Y up, north = -Z, metres x {job.options.scale:g}, "
               f"cell {job.cell_size_m:g} m")
    files, section = {}, {"file": obj.name}
    mtl_name = None
    if job.texture_png is not None:
        mtl, png = job.path(".mtl"), job.path("_texture.png")
        files[mtl] = mtl_bytes(png.name)
        files[png] = job.texture_png
        mtl_name = mtl.name
        section.update(mtl=mtl.name, texture=png.name)
    files = {obj: obj_chunks(build_mesh(job.mesh_grid), mtl_name=mtl_name, comment=comment), **files}
    return files, {**section, **mesh_section(job)}

