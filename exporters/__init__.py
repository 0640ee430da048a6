"""Engine-ready exports of heightmaps in metres: heightmap files, meshes, Unity and Godot terrain, texturing masks.

numpy-only: nothing here imports JAX or the model. Public surface:

  export_files(height_HxW, stem, formats, *, cell_size_m, height_range=None, padded=None,
               tile=None, grid=None, options=None) -> {path: payload}     # pure, writes nothing
  world_files(out_dir, grid, tile_size, cell_size_m, height_range, formats, options) -> {path: bytes}
  write_files({path: payload}) -> [paths]     # the one function that writes: atomic, all or nothing
  ExportOptions(height_scale, scale, lod, skirt_m, colors, texture, resample)
  FORMAT_NAMES, tile_stem(out_dir, (x, z)), padded_tile(tiles, (x, z))
  write_heightmap / read_heightmap / sidecar_path     # single heightmap files
  ExportError      # every failure: one line naming the problem; json_bytes(obj): the JSON of sidecars

Axis convention everywhere: row 0 = north, column 0 = west; meshes +Y up, north = -Z, metres.
"""

from exporters.errors import ExportError
from exporters.export import FORMAT_NAMES, FORMATS, check_formats, export_files
from exporters.files import Payload, join_payload, json_bytes, sidecar_path, write_files
from exporters.heightmap import HEIGHTMAP_FORMATS, encode_heightmap, write_heightmap
from exporters.job import tile_stem
from exporters.options import ExportOptions
from exporters.quantize import dequantize_u16, quantize_u16
from exporters.read import read_heightmap
from exporters.tiles import check_tiles, padded_tile, world_range
from exporters.world import world_files

__all__ = ["FORMAT_NAMES", "FORMATS", "HEIGHTMAP_FORMATS", "ExportError", "ExportOptions", "Payload", "check_formats",
           "dequantize_u16", "encode_heightmap", "export_files", "join_payload", "json_bytes", "quantize_u16",
           "padded_tile", "check_tiles", "world_range", "read_heightmap", "sidecar_path", "tile_stem", "world_files", "write_files", "write_heightmap"]
