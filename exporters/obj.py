"""GridMesh -> Wavefront OBJ text (+ MTL when textured). Pure functions, no files.

Same axes as glTF (+Y up, -Z north, metres). Text precision: positions `decimals` places
(default 4: 0.1 mm), normals 5, UVs 6, vertex colours 4; numbers are rounded half to even.
OBJ's texture origin is the bottom-left, so vt = (u, 1 - v) and the baked PNG keeps north on top.
Vertex colours, when present, use the common `v x y z r g b` extension (Blender, MeshLab, trimesh).
Lines are made in blocks of rows and yielded as they are made (see `exporters.text`).
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from exporters.mesh import GridMesh
from exporters.text import fixed_point, index_tokens, lines

_BLOCK = 1 << 16  # lines per block


def _blocks(n: int) -> Iterator[slice]:
    """Consecutive slices of at most _BLOCK out of range(n)."""
    for start in range(0, n, _BLOCK):
        yield slice(start, min(n, start + _BLOCK))


def _section(prefix: bytes, values: np.ndarray, decimals: int) -> Iterator[np.ndarray]:
    """`prefix` lines of `values`, block by block, every column as wide as its widest number."""
    # Per-column min / max: a strided 1-D reduction is far faster than min(axis=0) on V x 3.
    widths = [fixed_point(np.array([values[:, k].min(), values[:, k].max()]), decimals).shape[1]
              for k in range(values.shape[1])]
    for s in _blocks(values.shape[0]):
        yield lines(prefix, [fixed_point(values[s, k], decimals, w) for k, w in enumerate(widths)])


def obj_chunks(mesh: GridMesh, *, mtl_name: str | None = None, material: str = "terrain",
               comment: str = "", decimals: int = 4) -> Iterator:
    """An OBJ file as an iterator of byte chunks.

    >>> from exporters.mesh import grid_mesh
    >>> from exporters.files import join_payload
    >>> text = join_payload(obj_chunks(grid_mesh(np.zeros((2, 2)), cell_size_m=1))).decode()
    >>> [line.split()[0] for line in text.splitlines()].count("v"), text.count("\\nf ")
    (4, 2)
    """
    head = "".join(f"# {line}\n" for line in comment.splitlines())
    if mtl_name:
        head += f"mtllib {mtl_name}\n"
    yield head.encode()
    if mesh.colors_Vx4 is None:
        yield from _section(b"v", mesh.vertices_Vx3, decimals)
    else:
        xyzrgb = np.concatenate([mesh.vertices_Vx3.astype(np.float64), mesh.colors_Vx4[:, :3] / 255.0], axis=1)
        yield from _section(b"v", xyzrgb, decimals)
    uv = mesh.uvs_Vx2.astype(np.float64)
    uv[:, 1] = 1.0 - uv[:, 1]  # OBJ's v runs bottom to top
    yield from _section(b"vt", uv, 6)
    yield from _section(b"vn", mesh.normals_Vx3, 5)
    yield (f"usemtl {material}\n" if mtl_name else "").encode() + b"s 1\n"
    tokens = index_tokens(mesh.vertices_Vx3.shape[0])
    faces = mesh.faces_Fx3
    for s in _blocks(faces.shape[0]):
        yield lines(b"f", [tokens[faces[s, k]] for k in range(3)])


def mtl_bytes(texture_name: str | None, material: str = "terrain") -> bytes:
    """A matte MTL material, with `map_Kd` set when there is a texture.

    >>> mtl_bytes("tile.png").splitlines()[-1]
    b'map_Kd tile.png'
    """
    text = f"newmtl {material}\nKa 0 0 0\nKd 1 1 1\nKs 0 0 0\nNs 0\nillum 1\n"
    if texture_name:
        text += f"map_Kd {texture_name}\n"
    return text.encode()
