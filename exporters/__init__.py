"""Engine-ready exports of heightmaps in metres: heightmap files, meshes, Unity and Godot terrain.

numpy-only: nothing here imports JAX or the model. Public surface:

  write_heightmap(height_HxW, path, fmt=None, *, cell_size_m, height_range=None) -> dict
  read_heightmap(path, fmt=None) -> (height_HxW, meta)
  sidecar_path(path) -> Path          # tile.png -> tile.json

Axis convention everywhere: row 0 = north, column 0 = west.
"""

from exporters.files import sidecar_path, write_files
from exporters.heightmap import HEIGHTMAP_FORMATS, encode_heightmap, write_heightmap
from exporters.quantize import dequantize_u16, quantize_u16
from exporters.read import read_heightmap

__all__ = ["HEIGHTMAP_FORMATS", "dequantize_u16", "encode_heightmap", "quantize_u16", "read_heightmap",
           "sidecar_path", "write_files", "write_heightmap"]
