"""Heightmap -> grid mesh arrays (`GridMesh`): the whole mesh in memory, for OBJ, trimesh and tests.

Axes, winding, UVs and normals are those of `exporters.grid` (+Y up, metres, row 0 = north = -Z,
north-west sample at the origin, counter-clockwise faces seen from above).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from exporters.grid import TerrainGrid, fill_vertices, grid_faces, skirt_faces, skirt_vertices, terrain_grid


@dataclass(frozen=True)
class GridMesh:
    """Triangle mesh arrays; `faces_Fx3` is uint16 below 65536 vertices, else uint32."""

    vertices_Vx3: np.ndarray  # float32 metres
    normals_Vx3: np.ndarray  # float32 unit vectors
    uvs_Vx2: np.ndarray  # float32 in [0, 1]
    faces_Fx3: np.ndarray  # uint16 / uint32, CCW seen from outside
    grid_shape: tuple[int, int]  # (rows, cols) of the grid; skirt vertices (if any) follow its rows * cols
    colors_Vx4: np.ndarray | None = None  # uint8 RGBA


def build_mesh(g: TerrainGrid) -> GridMesh:
    """All of a TerrainGrid's vertices and faces as arrays."""
    rows, cols = g.shape
    n, grid_n = g.n_vertices, rows * cols
    pos, nrm, uv = np.empty((n, 3), np.float32), np.empty((n, 3), np.float32), np.empty((n, 2), np.float32)
    rgba = None if g.rgb is None else np.empty((n, 4), np.uint8)
    grid_view = lambda a: None if a is None else a[:grid_n].reshape(rows, cols, -1)  # noqa: E731
    fill_vertices(g, slice(0, rows), slice(0, cols), grid_view(pos), grid_view(nrm), grid_view(uv),
                  grid_view(rgba))
    faces = grid_faces(rows, cols, g.index_dtype)
    if g.skirt_m > 0:
        tail = lambda a: None if a is None else a[grid_n:]  # noqa: E731
        skirt_vertices(g, tail(pos), tail(nrm), tail(uv), tail(rgba))
        faces = np.concatenate([faces, skirt_faces(g)])
    return GridMesh(pos, nrm, uv, faces.reshape(-1, 3), (rows, cols), rgba)


def grid_mesh(height_HxW, *, cell_size_m, height_scale: float = 1.0, scale: float = 1.0, lod: int = 1,
              padded=None, skirt_m: float = 0.0, colors: str | None = None, color_range=None) -> GridMesh:
    """A heightmap in metres as a grid mesh (axes and winding: see `exporters.grid`).

    Args:
      height_HxW: heights in metres, row 0 = north, column 0 = west.
      cell_size_m: metres between samples.
      height_scale: vertical exaggeration (heights only).
      scale: uniform factor on all three axes (fits terrain to a game's units, keeps its shape).
      lod: keep every `lod`-th row and column, plus the last: borders stay on full-res samples,
        so neighbours at the same LOD meet exactly.
      padded: optional (H+2) x (W+2) heights whose ring holds the neighbouring tiles' samples (NaN =
        none), for normals that match across tile borders; see `exporters.tiles.padded_tile`.
      skirt_m: if > 0, a vertical skirt this many metres (times `scale`) below the border.
      colors: None or "height" / "slope" / "relief": RGBA vertex colours (`exporters.colors`).
      color_range: (lo, hi) metres for the height tint (default: the map's own), e.g. a world's.

    Returns:
      A GridMesh of rows' x cols' vertices and 2 (rows' - 1)(cols' - 1) faces, then the skirt's.

    >>> m = grid_mesh(np.array([[0, 1, 2], [1, 2, 3]]), cell_size_m=10)
    >>> m.vertices_Vx3.shape, m.faces_Fx3.shape, m.vertices_Vx3[5].tolist()
    ((6, 3), (4, 3), [20.0, 3.0, 10.0])
    """
    return build_mesh(terrain_grid(height_HxW, cell_size_m=cell_size_m, height_scale=height_scale,
                                   scale=scale, lod=lod, padded=padded, skirt_m=skirt_m, colors=colors,
                                   color_range=color_range))
