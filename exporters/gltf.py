"""TerrainGrid -> glTF 2.0: binary GLB, or .gltf JSON plus a .bin buffer. Pure functions, no files.

Written directly rather than through trimesh: the mesh is built in cache-sized blocks of rows
that are written out as they are made, so a GLB costs little more than writing its bytes, and
every byte is chosen to pass the Khronos glTF-Validator with no errors and no warnings:
interleaved POSITION / NORMAL / TEXCOORD_0 (/ COLOR_0) in one bufferView with its target and
stride, POSITION min/max equal to the float32 data, unit normals, uint16 indices below 65536
vertices (so never the restart value 65535), and a matte material (glTF's default is metallic).
Vertex colours are linear light, as glTF defines COLOR_0 (the colour maps are sRGB; Blender, Godot
and three.js convert COLOR_0 back to sRGB for display), in normalized 16 bits: in 8 bits, linear
values would merge dark sRGB steps into bands.
UVs are kept without a texture, for the engine's own terrain material; the validator reports
that as an info (UNUSED_OBJECT), not a warning.

Chunks are yielded from reused buffers: each is valid until the next one is asked for, so
consumers write (or copy) each chunk before advancing, as `exporters.files.write_files` does.
"""

from __future__ import annotations

import json
import struct
import urllib.parse
from typing import Iterator

import numpy as np

from exporters.errors import ExportError
from exporters.grid import TerrainGrid, fill_vertices, grid_faces, position_bounds, skirt_faces, skirt_vertices

GLB_LIMIT = 2**32 - 1  # a GLB's total length is a uint32
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_FLOAT, _USHORT, _UINT = 5126, 5123, 5125
_BLOCK_BYTES = 1 << 21  # ~2 MiB of vertices per block: stays in cache between making and writing


def _pad4(n: int) -> int:
    """Bytes of padding to the next multiple of 4."""
    return -n % 4


def _stride(g: TerrainGrid) -> int:
    """Bytes per interleaved vertex: position 12, normal 12, uv 8, and 16-bit RGBA 8 with colours."""
    return 32 if g.rgb is None else 40


def _sizes(g: TerrainGrid, texture_png: bytes | None) -> tuple[int, int, int]:
    """(vertex bytes, index bytes, image bytes) of the binary buffer, each before 4-byte padding."""
    return (g.n_vertices * _stride(g), g.n_faces * 3 * g.index_dtype.itemsize,
            0 if texture_png is None else len(texture_png))


def gltf_document(g: TerrainGrid, *, name: str = "terrain", texture_png: bytes | None = None,
                  extras: dict | None = None) -> tuple[dict, int]:
    """The glTF JSON (without `buffers`) for `g`, and the binary buffer's length in bytes."""
    vbytes, ibytes, tbytes = _sizes(g, texture_png)
    stride, ioff = _stride(g), vbytes + _pad4(vbytes)
    views = [{"buffer": 0, "byteOffset": 0, "byteLength": vbytes, "byteStride": stride, "target": _ARRAY_BUFFER},
             {"buffer": 0, "byteOffset": ioff, "byteLength": ibytes, "target": _ELEMENT_ARRAY_BUFFER}]
    lo, hi = position_bounds(g)
    n = g.n_vertices
    accessors = [{"bufferView": 0, "byteOffset": 0, "componentType": _FLOAT, "count": n, "type": "VEC3",
                  "min": lo, "max": hi},
                 {"bufferView": 0, "byteOffset": 12, "componentType": _FLOAT, "count": n, "type": "VEC3"},
                 {"bufferView": 0, "byteOffset": 24, "componentType": _FLOAT, "count": n, "type": "VEC2"},
                 {"bufferView": 1, "componentType": _USHORT if g.index_dtype == np.uint16 else _UINT,
                  "count": g.n_faces * 3, "type": "SCALAR"}]
    attributes = {"POSITION": 0, "NORMAL": 1, "TEXCOORD_0": 2}
    if g.rgb is not None:
        accessors.append({"bufferView": 0, "byteOffset": 32, "componentType": _USHORT, "normalized": True,
                          "count": n, "type": "VEC4"})
        attributes["COLOR_0"] = 4
    pbr = {"metallicFactor": 0.0, "roughnessFactor": 1.0}
    doc = {"asset": {"version": "2.0", "generator": "terrain_gan exporters"},
           "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0, "name": name}],
           "meshes": [{"name": name, "primitives": [
               {"attributes": attributes, "indices": 3, "material": 0, "mode": 4}]}],
           "materials": [{"name": f"{name}_material", "pbrMetallicRoughness": pbr}],
           "accessors": accessors, "bufferViews": views}
    if texture_png is not None:
        views.append({"buffer": 0, "byteOffset": ioff + ibytes + _pad4(ibytes), "byteLength": tbytes})
        doc["images"] = [{"bufferView": 2, "mimeType": "image/png", "name": f"{name}_texture"}]
        doc["samplers"] = [{"magFilter": 9729, "minFilter": 9987, "wrapS": 33071, "wrapT": 33071}]
        doc["textures"] = [{"sampler": 0, "source": 0}]
        pbr["baseColorTexture"] = {"index": 0}
    if extras:
        doc["nodes"][0]["extras"] = extras
    return doc, ioff + ibytes + _pad4(ibytes) + tbytes + _pad4(tbytes)


def _vertex_views(buf: np.ndarray):
    """(pos, nrm, uv, rgba) views into an interleaved ... x stride uint8 buffer (rgba: linear uint16)."""
    rgba = buf[..., 32:40].view(np.uint16) if buf.shape[-1] == 40 else None
    return (buf[..., 0:12].view(np.float32), buf[..., 12:24].view(np.float32),
            buf[..., 24:32].view(np.float32), rgba)


def bin_chunks(g: TerrainGrid, texture_png: bytes | None = None) -> Iterator:
    """The binary buffer of `gltf_document(g)`, made and yielded block by block (reused buffers)."""
    rows, cols = g.shape
    stride, dtype = _stride(g), g.index_dtype
    block = max(1, min(rows, _BLOCK_BYTES // (cols * stride)))
    buf = np.empty((block, cols, stride), np.uint8)
    for r0 in range(0, rows, block):
        n = min(block, rows - r0)
        fill_vertices(g, slice(r0, r0 + n), slice(0, cols), *_vertex_views(buf[:n]), columns_done=r0 > 0)
        yield buf[:n]
    if g.skirt_m > 0:
        tail = np.empty((g.n_vertices - rows * cols, stride), np.uint8)
        skirt_vertices(g, *_vertex_views(tail))
        yield tail
    vbytes, ibytes, tbytes = _sizes(g, texture_png)
    yield b"\0" * _pad4(vbytes)
    base = grid_faces(block + 1, cols, dtype)  # faces of `block` cell rows starting at row 0
    out = np.empty_like(base)
    for r0 in range(0, rows - 1, block):
        m = min(block, rows - 1 - r0) * (cols - 1)
        np.add(base[:m], dtype.type(r0 * cols), out=out[:m])  # same cells, r0 rows further on
        yield out[:m]
    if g.skirt_m > 0:
        yield skirt_faces(g)
    yield b"\0" * _pad4(ibytes)
    if texture_png is not None:
        yield texture_png
        yield b"\0" * _pad4(tbytes)


def check_glb_size(g: TerrainGrid, texture_png: bytes | None, name: str) -> None:
    """Refuses, before anything is built, a mesh whose GLB would pass the format's 4 GiB limit."""
    total = sum(n + _pad4(n) for n in _sizes(g, texture_png)) + 28 + 4096  # + header and JSON
    if total > GLB_LIMIT:
        raise ExportError(f"{name}: mesh of {g.n_vertices} vertices needs {total / 2**30:.1f} GiB, beyond "
                              "GLB's 4 GiB limit; use --lod, split the map into tiles, or export .gltf")


def glb_chunks(g: TerrainGrid, *, name: str = "terrain", texture_png: bytes | None = None,
               extras: dict | None = None) -> Iterator:
    """A GLB file as an iterator of byte chunks (header and JSON first, then the binary buffer).

    >>> from exporters.grid import terrain_grid
    >>> from exporters.files import join_payload
    >>> glb = join_payload(glb_chunks(terrain_grid(np.zeros((2, 2)), cell_size_m=1)))
    >>> glb[:4], struct.unpack("<I", glb[8:12])[0] == len(glb)
    (b'glTF', True)
    """
    check_glb_size(g, texture_png, name)
    doc, length = gltf_document(g, name=name, texture_png=texture_png, extras=extras)
    doc["buffers"] = [{"byteLength": length}]
    text = json.dumps(doc, separators=(",", ":")).encode()
    text += b" " * _pad4(len(text))  # the JSON chunk is padded with spaces
    total = 12 + 8 + len(text) + 8 + length
    head = (struct.pack("<4sII", b"glTF", 2, total) + struct.pack("<I4s", len(text), b"JSON") + text
            + struct.pack("<I4s", length, b"BIN\0"))
    return _prepend(head, bin_chunks(g, texture_png))


def _prepend(first, rest: Iterator) -> Iterator:
    """`first`, then everything in `rest`."""
    yield first
    yield from rest


def gltf_files(g: TerrainGrid, bin_name: str, *, name: str = "terrain", texture_png: bytes | None = None,
               extras: dict | None = None) -> tuple[bytes, Iterator]:
    """A .gltf (JSON bytes naming `bin_name`, the .bin beside it) and the .bin's chunks."""
    doc, length = gltf_document(g, name=name, texture_png=texture_png, extras=extras)
    doc["buffers"] = [{"byteLength": length, "uri": urllib.parse.quote(bin_name)}]  # URIs are %-encoded
    return json.dumps(doc, indent=1).encode() + b"\n", bin_chunks(g, texture_png)
