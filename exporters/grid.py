"""A heightmap prepared for meshing (`TerrainGrid`), and the vectorised fills that build any block of it.

Axis convention (glTF / Godot: right-handed, +Y up, metres):
  x = column * cell_size_m * scale            east
  y = height * height_scale * scale           up; absolute heights, so bounds = the map's min / max
  z = row * cell_size_m * scale               south: row 0 = north = -Z, Godot's "forward"
The tile's north-west sample sits at the origin. Faces are counter-clockwise seen from above (+Y).
Grid vertex (r, c) has index r * cols + c and UV (c / (W - 1), r / (H - 1)): v = 0 on the north
edge, the top row of a baked texture image, as glTF expects. A skirt's vertices follow the grid's.

Normals are central differences of the heightmap. At the tile's edges they read a 1-sample ring of
the neighbouring tiles' heights (`padded`), so two tiles sharing a border get bit-identical border
normals; where there is no neighbour the ring is extrapolated linearly (a one-sided difference).

Encoders build a mesh block by block (cache-sized, written straight out) from a TerrainGrid, so a
GLB is produced at close to the speed of writing its bytes; `exporters.mesh.grid_mesh` fills it all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from exporters.colors import linear_rgb16
from exporters.errors import ExportError
from exporters.quantize import check_cell_size, check_heightmap


@dataclass(frozen=True)
class TerrainGrid:
    """Everything needed to build any rows of a tile's mesh. Make one with `terrain_grid`."""

    height: np.ndarray  # H x W float32 metres, full resolution
    padded: np.ndarray  # (H + 2) x (W + 2): `height` inside a ring of neighbour samples
    row_idx: np.ndarray  # full-res rows kept by the level of detail (first and last always)
    col_idx: np.ndarray
    cell_size_m: float
    height_scale: float
    scale: float
    skirt_m: float
    rgb: np.ndarray | None  # H x W x 3 uint8 vertex colours, or None

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the mesh grid after the level of detail."""
        return self.row_idx.size, self.col_idx.size

    @property
    def n_vertices(self) -> int:
        rows, cols = self.shape
        return rows * cols + (2 * (rows + cols) - 4 if self.skirt_m > 0 else 0)

    @property
    def n_faces(self) -> int:
        rows, cols = self.shape
        return 2 * (rows - 1) * (cols - 1) + (2 * (2 * (rows + cols) - 4) if self.skirt_m > 0 else 0)

    @property
    def index_dtype(self) -> np.dtype:
        return index_dtype(self.n_vertices)


def index_dtype(n_vertices: int) -> np.dtype:
    """uint16 below 65536 vertices (65535 is glTF's primitive-restart value, so never an index), else uint32.

    >>> index_dtype(65535), index_dtype(65536)
    (dtype('uint16'), dtype('uint32'))
    """
    return np.dtype(np.uint16 if n_vertices < 65536 else np.uint32)


def lod_indices(n: int, lod: int) -> np.ndarray:
    """Every `lod`-th index of 0..n-1, always keeping the last (border) sample.

    >>> lod_indices(10, 4).tolist()
    [0, 4, 8, 9]
    """
    if isinstance(lod, bool) or not isinstance(lod, (int, np.integer)) or lod < 1:
        raise ExportError(f"level of detail must be a whole number >= 1, got {lod!r}")
    idx = np.arange(0, n, int(lod))
    return idx if idx[-1] == n - 1 else np.append(idx, n - 1)


def pad_heightmap(height_HxW: np.ndarray, padded=None) -> np.ndarray:
    """The (H+2) x (W+2) map: `padded`'s ring of neighbour samples (NaN = none), else extrapolated.

    >>> pad_heightmap(np.array([[0.0, 1.0], [0.0, 1.0]], np.float32))[1].tolist()
    [-1.0, 0.0, 1.0, 2.0]
    """
    h = np.asarray(height_HxW, np.float32)
    p = np.full((h.shape[0] + 2, h.shape[1] + 2), np.nan, np.float32)
    if padded is not None:
        padded = np.asarray(padded, np.float32)
        if padded.shape != p.shape:
            raise ExportError(f"padded heightmap must be {p.shape} for a {h.shape} tile, got {padded.shape}")
        if not np.array_equal(padded[1:-1, 1:-1], h):
            raise ExportError("padded heightmap's interior differs from the tile's heights")
        p[:] = padded
    p[1:-1, 1:-1] = h
    # Linear extrapolation makes the central difference at the edge equal the one-sided one.
    for ring, edge, inner in (((0, slice(1, -1)), h[0], h[1]), ((-1, slice(1, -1)), h[-1], h[-2]),
                              ((slice(1, -1), 0), h[:, 0], h[:, 1]), ((slice(1, -1), -1), h[:, -1], h[:, -2])):
        missing = ~np.isfinite(p[ring])
        p[ring] = np.where(missing, 2 * edge - inner, p[ring])
    # Corners are never read by the normals; fill them (bilinearly) so every sample is finite.
    for r, c, dr, dc in ((0, 0, 1, 1), (0, -1, 1, -1), (-1, 0, -1, 1), (-1, -1, -1, -1)):
        if not np.isfinite(p[r, c]):
            p[r, c] = p[r + dr, c] + p[r, c + dc] - p[r + dr, c + dc]
    return p


def _positive(name: str, value) -> float:
    """`value` as a positive finite float, or a one-line error naming the option."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = float("nan")
    if not np.isfinite(x) or x <= 0:
        raise ExportError(f"{name} must be a positive number, got {value!r}")
    return x


def terrain_grid(height_HxW, *, cell_size_m, height_scale: float = 1.0, scale: float = 1.0, lod: int = 1,
                 padded=None, skirt_m: float = 0.0, colors: str | None = None,
                 color_range=None) -> TerrainGrid:
    """Checks the options and prepares a heightmap for meshing (see `exporters.mesh.grid_mesh` for Args).

    >>> terrain_grid(np.zeros((5, 9)), cell_size_m=1.0, lod=4).shape
    (2, 3)
    """
    h = check_heightmap(height_HxW)
    cell = check_cell_size(cell_size_m)
    try:
        skirt = float(skirt_m)
    except (TypeError, ValueError):
        skirt = float("nan")
    if not np.isfinite(skirt) or skirt < 0:
        raise ExportError(f"skirt depth must be >= 0 metres, got {skirt_m!r}")
    p = pad_heightmap(h, padded)
    rgb = None
    if colors is not None:
        from exporters.colors import tile_color_map

        rgb = tile_color_map(p, cell, colors, (h.min(), h.max()) if color_range is None else color_range)
    return TerrainGrid(h, p, lod_indices(h.shape[0], lod), lod_indices(h.shape[1], lod),
                       cell, _positive("height_scale", height_scale), _positive("scale", scale), skirt, rgb)


def _take(a: np.ndarray, rows, cols, dr: int = 0, dc: int = 0) -> np.ndarray:
    """a[rows + dr, cols + dc] (outer product); contiguous `slice` selections stay cheap views."""
    if isinstance(rows, slice) and isinstance(cols, slice):
        return a[rows.start + dr:rows.stop + dr, cols.start + dc:cols.stop + dc]
    as_idx = lambda s: np.arange(s.start, s.stop) if isinstance(s, slice) else s  # noqa: E731
    return a[np.ix_(as_idx(rows) + dr, as_idx(cols) + dc)]


def _full_res(idx: np.ndarray, sel):
    """Full-res indices of LOD-grid selection `sel` (a slice when they are contiguous)."""
    if isinstance(sel, slice):
        start, stop, _ = sel.indices(idx.size)
        if stop > start and idx[stop - 1] - idx[start] == stop - 1 - start:
            return slice(int(idx[start]), int(idx[stop - 1]) + 1)
    return idx[sel]


def fill_vertices(g: TerrainGrid, rsel, csel, pos, nrm, uv, rgba=None, *, columns_done: bool = False) -> None:
    """Writes grid vertices rsel x csel (LOD-grid slices or index arrays) into n x m x k output views.

    `rgba` is uint8 for sRGB colours as the colour map holds them, or uint16 for linear ones (glTF).

    `columns_done`: x and u, which depend on the column only, are already in the views (a reused
    buffer filled for the same `csel` before) and are not written again.
    """
    rows, cols = _full_res(g.row_idx, rsel), _full_res(g.col_idx, csel)
    cell, s = g.cell_size_m * g.scale, np.float32(g.height_scale * g.scale)
    if not columns_done:
        pos[..., 0] = (g.col_idx[csel] * cell).astype(np.float32)
        uv[..., 0] = (g.col_idx[csel] / (g.height.shape[1] - 1)).astype(np.float32)
    np.multiply(_take(g.height, rows, cols), s, out=pos[..., 1])
    pos[..., 2] = (g.row_idx[rsel] * cell).astype(np.float32)[:, None]
    p, k = g.padded, np.float32(g.height_scale / (2.0 * g.cell_size_m))  # `scale` cancels in a normal
    gx = _take(p, rows, cols, 1, 2) - _take(p, rows, cols, 1, 0)
    gz = _take(p, rows, cols, 2, 1) - _take(p, rows, cols, 0, 1)
    gx *= k
    gz *= k
    t = np.square(gx)  # in place from here: this runs on every vertex of every GLB
    t += np.square(gz)
    t += np.float32(1.0)
    np.sqrt(t, out=t)
    np.divide(np.float32(-1.0), t, out=t)  # -1 / |(-dy/dx, 1, -dy/dz)|
    np.multiply(gx, t, out=nrm[..., 0])  # the normal of y(x, z) is (-dy/dx, 1, -dy/dz), normalised
    np.negative(t, out=nrm[..., 1])
    np.multiply(gz, t, out=nrm[..., 2])
    uv[..., 1] = (g.row_idx[rsel] / (g.height.shape[0] - 1)).astype(np.float32)[:, None]
    if rgba is not None:  # uint8: the sRGB bytes (OBJ); uint16: linear light (glTF's COLOR_0 is linear)
        rgb = _take(g.rgb, rows, cols)
        rgba[..., :3] = linear_rgb16(rgb) if rgba.dtype == np.uint16 else rgb
        rgba[..., 3] = np.iinfo(rgba.dtype).max


def grid_faces(rows: int, cols: int, dtype, first_row: int = 0) -> np.ndarray:
    """Faces of cell rows first_row.. of a rows x cols grid, two per cell, CCW from above, as N x 6.

    Cell (a = NW, b = SW, c = NE, d = SE) gives (a, b, c) and (c, b, d).

    >>> grid_faces(2, 2, np.uint16).tolist()
    [[0, 2, 1, 1, 2, 3]]
    """
    a = (np.arange(first_row, first_row + rows)[:, None] * cols + np.arange(cols)).astype(dtype)
    f = np.empty((rows - 1, cols - 1, 6), dtype)
    f[..., 0] = a[:-1, :-1]
    f[..., 1] = f[..., 4] = a[1:, :-1]
    f[..., 2] = f[..., 3] = a[:-1, 1:]
    f[..., 5] = a[1:, 1:]
    return f.reshape(-1, 6)


def border_loop(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) around the grid's edge: north W->E, east N->S, south E->W, west S->N.

    >>> r, c = border_loop(3, 3)
    >>> (r * 3 + c).tolist()
    [0, 1, 2, 5, 8, 7, 6, 3]
    """
    r, c = np.arange(rows), np.arange(cols)
    return (np.concatenate([np.zeros(cols - 1, int), r[:-1], np.full(cols - 1, rows - 1), r[:0:-1]]),
            np.concatenate([c[:-1], np.full(rows - 1, cols - 1), c[:0:-1], np.zeros(rows - 1, int)]))


def skirt_vertices(g: TerrainGrid, pos, nrm, uv, rgba=None) -> None:
    """Writes the skirt's L x k vertices: the border loop's, `skirt_m * scale` lower, same normals / UVs."""
    rows, cols = g.shape
    edges = ((np.array([0]), np.arange(cols - 1)), (np.arange(rows - 1), np.array([cols - 1])),
             (np.array([rows - 1]), np.arange(cols - 1, 0, -1)), (np.arange(rows - 1, 0, -1), np.array([0])))
    start = 0
    for rsel, csel in edges:  # four edges, each one vectorised fill
        n, m = rsel.size, csel.size
        view = lambda a: None if a is None else a[start:start + n * m].reshape(n, m, -1)  # noqa: E731
        fill_vertices(g, rsel, csel, view(pos), view(nrm), view(uv), view(rgba))
        start += n * m
    pos[:, 1] -= np.float32(g.skirt_m * g.scale)


def skirt_faces(g: TerrainGrid) -> np.ndarray:
    """The skirt's faces (L x 6: two triangles per border segment), facing outward."""
    rows, cols = g.shape
    r, c = border_loop(rows, cols)
    dtype = g.index_dtype
    top = (r * cols + c).astype(dtype)
    bottom = np.arange(rows * cols, rows * cols + top.size).astype(dtype)
    nxt_top, nxt_bottom = np.roll(top, -1), np.roll(bottom, -1)
    return np.stack([top, nxt_top, bottom, nxt_top, nxt_bottom, bottom], axis=1)


def position_bounds(g: TerrainGrid) -> tuple[list[float], list[float]]:
    """Exact float32 (min, max) of every vertex position, without building the mesh (for glTF)."""
    rows, cols = g.shape
    full = (rows, cols) == g.height.shape
    h = g.height if full else _take(g.height, g.row_idx, g.col_idx)
    s = np.float32(g.height_scale * g.scale)
    y = [np.float32(h.min()) * s, np.float32(h.max()) * s]  # rounding is monotonic: min(h * s) = min(h) * s
    if g.skirt_m > 0:
        n = g.n_vertices - rows * cols
        low = np.empty((n, 3), np.float32)
        skirt_vertices(g, low, np.empty_like(low), np.empty((n, 2), np.float32))
        y[0] = min(y[0], low[:, 1].min())
    cell = g.cell_size_m * g.scale
    x1, z1 = (np.float32(g.col_idx[-1] * cell), np.float32(g.row_idx[-1] * cell))
    return [0.0, float(y[0]), 0.0], [float(x1), float(y[1]), float(z1)]
