"""Run by Blender's Python (bpy), not by pytest: imports files the way a user would, reports what Blender got.

    python blender_probe.py jobs.json report.json

`jobs.json` is a list of {"path": ..., "kind": "glb" | "gltf" | "obj" | "exr"}. Each mesh file is imported
into an empty scene with the importer's default options (File > Import); an EXR is loaded as an image.
`report.json` maps each path to what Blender holds afterwards: every mesh object's world-space vertex
positions (Blender axes: +Z up), polygon sizes, per-vertex UVs, colour attributes, the image wired into
each material's Base Color, and every image's size and pixels (Blender's order: bottom row first).
Only bpy, numpy (Blender's own) and the standard library: this runs in its own venv (see engine_support.py).
"""

import json
import sys

import bpy
import numpy as np


def _import(path: str, kind: str) -> None:
    """Imports `path` into an empty scene with the defaults of Blender's File > Import menu."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    if kind in ("glb", "gltf"):
        bpy.ops.import_scene.gltf(filepath=path)
    elif kind == "obj":
        bpy.ops.wm.obj_import(filepath=path)  # defaults: forward -Z, up Y
    elif kind == "exr":
        bpy.data.images.load(path)
    else:
        raise ValueError(f"unknown kind {kind!r}")


def _floats(seq, attr: str, n: int, width: int) -> np.ndarray:
    """`attr` of every item of a bpy collection as an n x width float array."""
    out = np.empty(n * width, np.float64)
    seq.foreach_get(attr, out)
    return out.reshape(n, width)


def _base_color_image(material):
    """Name of the image feeding the material's Principled BSDF Base Color (through any nodes), or None."""
    if material is None or material.node_tree is None:
        return None
    bsdf = next((n for n in material.node_tree.nodes if n.type == "BSDF_PRINCIPLED"), None)
    if bsdf is None:
        return None
    todo = [link.from_node for link in bsdf.inputs["Base Color"].links]
    while todo:
        node = todo.pop()
        if node.type == "TEX_IMAGE" and node.image is not None:
            return node.image.name
        todo += [link.from_node for socket in node.inputs for link in socket.links]
    return None


def _mesh(obj) -> dict:
    """What Blender holds for one mesh object, positions in world space."""
    mesh = obj.data
    nv, nl = len(mesh.vertices), len(mesh.loops)
    co = _floats(mesh.vertices, "co", nv, 3)
    m = np.array(obj.matrix_world, np.float64)
    world = co @ m[:3, :3].T + m[:3, 3]
    loop_vertex = np.empty(nl, np.int64)
    mesh.loops.foreach_get("vertex_index", loop_vertex)
    uv = None
    if mesh.uv_layers.active is not None:
        per_loop = _floats(mesh.uv_layers.active.data, "uv", nl, 2)
        uv = np.full((nv, 2), np.nan)
        uv[loop_vertex] = per_loop  # a grid has one UV per vertex (no seams)
    colors = {}
    for attr in mesh.color_attributes:
        n = nv if attr.domain == "POINT" else nl
        colors[attr.name] = {"domain": attr.domain, "data_type": attr.data_type,
                             "color": _floats(attr.data, "color", n, 4).tolist(),
                             "color_srgb": _floats(attr.data, "color_srgb", n, 4).tolist()}
        if attr.domain == "CORNER":
            colors[attr.name]["loop_vertex"] = loop_vertex.tolist()
    sizes = np.empty(len(mesh.polygons), np.int64)
    mesh.polygons.foreach_get("loop_total", sizes)
    return {"name": obj.name, "location": list(obj.location), "vertices": world.tolist(),
            "polygon_sizes": np.bincount(sizes).tolist(), "n_polygons": len(mesh.polygons),
            "uv": None if uv is None else uv.tolist(), "colors": colors,
            "base_color_images": [_base_color_image(s.material) for s in obj.material_slots]}


def _image(image) -> dict:
    """An image's size, channels and pixels (rows bottom to top, as Blender stores them)."""
    w, h = image.size
    pixels = np.empty(w * h * image.channels, np.float32)
    image.pixels.foreach_get(pixels)
    return {"name": image.name, "size": [w, h], "channels": image.channels, "is_float": image.is_float,
            "colorspace": image.colorspace_settings.name,
            "pixels": pixels.reshape(h, w, image.channels).tolist()}


def probe(path: str, kind: str) -> dict:
    """Imports one file and reports its meshes and images."""
    _import(path, kind)
    return {"blender": bpy.app.version_string,
            "meshes": [_mesh(o) for o in bpy.context.scene.objects if o.type == "MESH"],
            "images": [_image(i) for i in bpy.data.images if i.size[0] > 0]}


def main(jobs_path: str, report_path: str) -> None:
    with open(jobs_path) as f:
        jobs = json.load(f)
    report = {job["path"]: probe(job["path"], job["kind"]) for job in jobs}
    with open(report_path, "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main(*sys.argv[1:])
