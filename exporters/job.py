"""`ExportJob`: one heightmap's export request, checked once, plus the file names every format shares.

Tile coordinates follow the public API: `tile = (x, z)`, x counting tiles east from the west column,
z counting tile rows south from the north row (the row index); `grid = (nx, nz)` tiles. Neighbouring
tiles share their border samples, so tile (x, z)'s north-west sample sits at
x * (cols - 1) * cell metres east and z * (rows - 1) * cell metres south of the world's origin.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from exporters.errors import ExportError
from exporters.grid import TerrainGrid, pad_heightmap, terrain_grid
from exporters.options import ExportOptions
from exporters.quantize import check_cell_size, check_heightmap, height_range_of


def file_path(stem: Path, suffix: str) -> Path:
    """`stem` plus `suffix`, keeping any dots already in the stem's name.

    >>> file_path(Path("out/my.map"), ".glb").as_posix()
    'out/my.map.glb'
    """
    return stem.with_name(stem.name + suffix)


def tile_stem(out_dir, tile: tuple[int, int], prefix: str = "tile") -> Path:
    """The stem `world_files` expects for world tile (x, z): `out_dir/tile_X_Z` (z = row from the north).

    >>> tile_stem("world", (3, 5)).as_posix()
    'world/tile_3_5'
    """
    x, z = tile
    return Path(out_dir) / f"{prefix}_{x}_{z}"


def unity_name(stem: Path, tile: tuple[int, int] | None, grid: tuple[int, int] | None) -> str:
    """Unity file name (no suffix): `<base>_unity`, or `<base>_unity_X_Z` for world tiles.

    `<base>` is the stem's name without a trailing `_x_z` of its own tile. Unity's Terrain Toolbox
    batch import reads the last two numbers as the tile's X (east) and Z (north) index, and Unity's
    +Z is north, so Z counts tile rows up from the southernmost row.

    >>> unity_name(Path("w/tile_3_0"), (3, 0), (4, 2)), unity_name(Path("t"), None, None)
    ('tile_unity_3_1', 't_unity')
    """
    if tile is None:
        return f"{stem.name}_unity"
    x, z = tile
    base = re.sub(rf"_{x}_{z}$", "", stem.name)
    return f"{base}_unity_{x}_{grid[1] - 1 - z}"


def _check_tile(tile, grid) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """(tile, grid) as int pairs, checked: a tile needs its grid and lies inside it."""
    def pair(name, v):
        try:
            a, b = v
            if all(isinstance(t, (int, np.integer)) and not isinstance(t, bool) for t in (a, b)):
                return int(a), int(b)
        except (TypeError, ValueError):
            pass
        raise ExportError(f"{name} must be a pair of whole numbers, got {v!r}")

    tile = None if tile is None else pair("tile", tile)
    grid = None if grid is None else pair("grid", grid)
    if grid is not None and min(grid) < 1:
        raise ExportError(f"grid must hold at least 1 x 1 tiles, got {grid}")
    if tile is not None:
        if grid is None:
            raise ExportError(f"tile {tile} needs grid=(nx, nz), the world's size in tiles")
        if not (0 <= tile[0] < grid[0] and 0 <= tile[1] < grid[1]):
            raise ExportError(f"tile {tile} lies outside the {grid[0]} x {grid[1]} tile grid")
    return tile, grid


def _check_padded(padded, name: str) -> np.ndarray:
    """The ring-padded heights as float32: 2-D numbers, NaN (no neighbour there) or finite."""
    try:
        p = np.asarray(padded, np.float32)
    except (TypeError, ValueError):
        raise ExportError(f"{name}: padded heights must be a 2-D array of numbers") from None
    if p.ndim != 2 or np.isinf(p).any():
        raise ExportError(f"{name}: padded heights must be a 2-D array of finite numbers (NaN = no neighbour)")
    return p


def _split_surround(padded: np.ndarray, h: np.ndarray, name: str):
    """(1-sample ring, wide surround or None, its width): a `padded` wider than one ring is a surround.

    A surround (`halo` > 1 samples of real neighbours on every side, as a world gives) feeds the masks;
    meshes take its innermost ring.
    """
    halo = (padded.shape[0] - h.shape[0]) // 2
    if halo <= 1 or padded.shape != (h.shape[0] + 2 * halo, h.shape[1] + 2 * halo):
        return padded, None, None
    if np.isnan(padded).any():
        raise ExportError(f"{name}: a surround wider than one sample must hold real heights (no NaN)")
    if not np.array_equal(padded[halo:-halo, halo:-halo], h):
        raise ExportError(f"{name}: padded heightmap's interior differs from the tile's heights")
    k = halo - 1
    return padded[k:-k, k:-k], padded, halo


@dataclass(frozen=True)
class ExportJob:
    """A checked export request: heights, names, height range, options. Make one with `export_job`."""

    height: np.ndarray  # H x W float32 metres, row 0 = north
    padded: np.ndarray  # (H + 2) x (W + 2): `height` in its ring (neighbours' samples, else extrapolated)
    stem: Path
    cell_size_m: float
    height_range: tuple[float, float]  # (lo, hi): 16-bit codes 0 / 65535 and the height tint's ends
    tile: tuple[int, int] | None
    grid: tuple[int, int] | None
    options: ExportOptions
    surround: np.ndarray | None = None  # (H + 2 halo) x (W + 2 halo) real samples around the map, or None
    halo: int = 0  # the surround's ring width

    def path(self, suffix: str) -> Path:
        """This export's file with `suffix` (".glb", "_texture.png", ...)."""
        return file_path(self.stem, suffix)

    @property
    def size_m(self) -> tuple[float, float]:
        """(x, z) extent in metres, first sample to last."""
        rows, cols = self.height.shape
        return (cols - 1) * self.cell_size_m, (rows - 1) * self.cell_size_m

    @property
    def origin_m(self) -> tuple[float, float]:
        """(x east, z south) metres of this tile's north-west sample in its world (0, 0 alone)."""
        if self.tile is None:
            return 0.0, 0.0
        w, l = self.size_m
        return self.tile[0] * w, self.tile[1] * l

    @functools.cached_property
    def mesh_grid(self) -> TerrainGrid:
        """The mesh of every mesh format: options applied, normals from the ring, tints over the range."""
        o = self.options
        return terrain_grid(self.height, cell_size_m=self.cell_size_m, height_scale=o.height_scale,
                            scale=o.scale, lod=o.lod, padded=self.padded, skirt_m=o.skirt_m, colors=o.colors,
                            color_range=self.height_range)

    @functools.cached_property
    def texture_png(self) -> bytes | None:
        """The baked texture (one pixel per cell: 1025 samples give 1024 pixels, north up) as PNG bytes."""
        if self.options.texture is None:
            return None
        from exporters.colors import cell_colors, tile_color_map
        from exporters.png import png_bytes

        rgb = tile_color_map(self.padded, self.cell_size_m, self.options.texture, self.height_range)
        return png_bytes(cell_colors(rgb))


def export_job(height_HxW, stem, *, cell_size_m, height_range=None, padded=None, tile=None, grid=None,
               options: ExportOptions | None = None) -> ExportJob:
    """Checks every input of an export (one-line ExportError on the first problem) and bundles them.

    Arguments are those of `exporters.export_files`.

    >>> job = export_job([[0, 1], [2, 3]], "w/tile_1_0", cell_size_m=10, tile=(1, 0), grid=(2, 1))
    >>> job.origin_m, job.height_range, job.path(".glb").as_posix()
    ((10.0, 0.0), (0.0, 3.0), 'w/tile_1_0.glb')
    >>> export_job([[0, 1], [2, 3]], "t", cell_size_m=10, tile=(1, 0))
    Traceback (most recent call last):
    ...
    exporters.errors.ExportError: tile (1, 0) needs grid=(nx, nz), the world's size in tiles
    """
    stem = Path(stem)
    name = str(stem)
    if not stem.name or stem.name in (".", ".."):
        raise ExportError(f"{name!r}: export stem must name a file, e.g. out/terrain")
    h = check_heightmap(height_HxW, name)
    cell = check_cell_size(cell_size_m, name)
    lo, hi = height_range_of(h, height_range, name)
    surround = halo = None
    if padded is not None:
        padded, surround, halo = _split_surround(_check_padded(padded, name), h, name)
    tile, grid = _check_tile(tile, grid)
    if options is None:
        options = ExportOptions()
    elif not isinstance(options, ExportOptions):
        raise ExportError(f"options must be an exporters.ExportOptions, got {type(options).__name__}")
    try:
        p = pad_heightmap(h, padded)
    except ExportError as e:
        raise ExportError(f"{name}: {e}") from None
    return ExportJob(h, p, stem, cell, (lo, hi), tile, grid, options, surround, halo or 0)
