"""World-level files of a tiled export: a Godot scene placing every tile, and Unity's multi-tile settings.

They need no heights, only the grid: tiles are exported one by one with `export_files(...,
stem=tile_stem(out_dir, (x, z)), tile=(x, z), grid=grid)`, and these files name them. Tiles share
their border samples, so tile (x, z) starts x * (cols - 1) * cell metres east and z * (rows - 1) *
cell metres south of the world's north-west corner (Unity: z counted north from the south row).
"""

from __future__ import annotations

from pathlib import Path

from exporters.errors import ExportError
from exporters.export import check_formats
from exporters.files import json_bytes
from exporters.godot import world_tscn
from exporters.job import export_job, tile_stem, unity_name
from exporters.options import ExportOptions
from exporters.quantize import check_cell_size
from exporters.unity import unity_resolution, unity_settings


def _tile_shape(tile_size) -> tuple[int, int]:
    """(rows, cols) of every tile from an int or a pair, at least 2 x 2."""
    try:
        rows, cols = (tile_size, tile_size) if isinstance(tile_size, int) else tuple(tile_size)
        rows, cols = int(rows), int(cols)
    except (TypeError, ValueError):
        raise ExportError(f"tile_size must be samples per side or (rows, cols), got {tile_size!r}") from None
    if rows < 2 or cols < 2:
        raise ExportError(f"tiles must be at least 2 x 2 samples, got {rows} x {cols}")
    return rows, cols


def unity_world(out_dir: Path, grid, shape, cell: float, height_range, options: ExportOptions,
                prefix: str) -> dict:
    """{out_dir/unity_terrain.json: bytes}: Terrain Toolbox batch-import settings and every tile's place.

    >>> import json
    >>> doc = json.loads(unity_world(Path("w"), (2, 1), (33, 33), 10.0, (0.0, 9.0), ExportOptions(), "tile")[
    ...     Path("w/unity_terrain.json")])
    >>> [t["file"] for t in doc["tiles"]], doc["toolbox"]["tiles_x"]
    (['tile_unity_0_0.raw', 'tile_unity_1_0.raw'], 2)
    """
    nx, nz = grid
    rows, cols = shape
    res = unity_resolution(shape, resample=options.resample, name=f"{out_dir}: world tiles")
    size = ((cols - 1) * cell, (rows - 1) * cell)
    lo, hi = height_range
    common = unity_settings(res, size, lo, hi, height_scale=options.height_scale, scale=options.scale)
    tiles = []
    for z in range(nz):
        for x in range(nx):
            name = unity_name(tile_stem(out_dir, (x, z), prefix), (x, z), grid)
            zu = nz - 1 - z
            tiles.append({"file": name + ".raw", "x": x, "z": zu,
                          "position": {"x": x * size[0] * options.scale, "y": common["position"]["y"],
                                       "z": zu * size[1] * options.scale}})
    doc = {
        "toolbox": {"import_mode": "Batch", "folder": ".", "tiles_x": nx, "tiles_z": nz,
                    "tile_heightmap_resolution": res, "depth": "Bit 16", "byte_order": "Windows",
                    "flip_axis": "None", "start_position": common["position"]},
        **common,
        "tiles": tiles,
    }
    return {out_dir / "unity_terrain.json": json_bytes(doc)}


def world_files(out_dir, grid, tile_size, cell_size_m, height_range, formats,
                options: ExportOptions | None = None, *, prefix: str = "tile") -> dict[Path, bytes]:
    """World-level files for tiles exported at `tile_stem(out_dir, (x, z), prefix)`; writes nothing.

    Args:
      out_dir: the world's folder.
      grid: (nx, nz) tiles east and south.
      tile_size: samples per tile side, or (rows, cols); neighbours share their border samples.
      cell_size_m: metres between samples.
      height_range: (lo, hi) metres over the whole world (the range every tile was exported with).
      formats: the tiles' formats: "godot" (or "glb" / "gltf") gives `world.tscn`, "unity" gives
        `unity_terrain.json`; other formats need no world file.
      options: the tiles' ExportOptions.

    >>> sorted(p.name for p in world_files("w", (2, 2), 33, 30.0, (0.0, 100.0), "godot,unity"))
    ['unity_terrain.json', 'world.tscn']
    """
    out_dir = Path(out_dir)
    names = check_formats(formats)
    options = ExportOptions() if options is None else options
    shape = _tile_shape(tile_size)
    cell = check_cell_size(cell_size_m, str(out_dir))
    # Check grid, range and options exactly as each tile's export will.
    try:
        lo, hi = (float(v) for v in height_range)
    except (TypeError, ValueError):
        raise ExportError(f"{out_dir}: world files need the world's height_range (lo, hi) metres, "
                              f"got {height_range!r}") from None
    job = export_job([[lo, hi], [lo, hi]], tile_stem(out_dir, (0, 0), prefix), cell_size_m=cell,
                     height_range=height_range, tile=(0, 0), grid=grid, options=options)
    files = {}
    mesh = next((s for f, s in (("glb", ".glb"), ("gltf", ".gltf")) if f in names), None)
    if mesh is not None:
        size = ((shape[1] - 1) * cell, (shape[0] - 1) * cell)
        files.update(world_tscn(out_dir, job.grid, size, options.scale,
                                lambda t: tile_stem(out_dir, t, prefix), mesh))
    if "unity" in names:
        files.update(unity_world(out_dir, job.grid, shape, cell, job.height_range, options, prefix))
    return files

