"""Every GLB / .gltf variant passes the Khronos glTF-Validator with 0 errors and 0 warnings.

Needs Node.js and the validator in .gl/ (CI installs it): without them these tests fail, saying how
to install it, rather than skip.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_export_support import surface, validate

from exporters import ExportOptions, export_files, padded_tile, write_files

CELL = 30.0

VARIANTS = {
    "plain": (surface(33, 33), ExportOptions()),
    "non_square": (surface(17, 40), ExportOptions()),
    "colors": (surface(33, 33), ExportOptions(colors="relief")),
    "texture": (surface(33, 33), ExportOptions(texture="height")),
    "colors_texture": (surface(20, 33), ExportOptions(colors="slope", texture="relief")),
    "skirt": (surface(33, 33), ExportOptions(skirt_m=25.0)),
    "lod": (surface(33, 33), ExportOptions(lod=4)),
    "lod_uneven": (surface(30, 23), ExportOptions(lod=7, skirt_m=5.0)),
    "scaled": (surface(33, 33), ExportOptions(scale=0.01, height_scale=2.0)),
    "uint32": (surface(257, 257), ExportOptions(colors="height")),  # 66049 vertices
    "flat": (np.full((9, 9), 12.5, np.float32), ExportOptions(texture="slope")),
    "tiny": (np.array([[0.0, 1.0], [2.0, 3.0]], np.float32), ExportOptions(skirt_m=1.0)),
    "name with spaces & 100%": (surface(5, 5), ExportOptions()),  # the .gltf's buffer URI is %-encoded
}


def world_tiles(tmp_path):
    """A 2 x 2 world of 33-sample tiles cut from one map, exported as GLB with rings and a world range."""
    big = surface(65, 65, seed=3)
    tiles = {(x, z): big[32 * z:32 * z + 33, 32 * x:32 * x + 33] for x in range(2) for z in range(2)}
    paths = []
    for (x, z), h in tiles.items():
        files = export_files(h, tmp_path / f"tile_{x}_{z}", "glb,gltf", cell_size_m=CELL,
                             height_range=(float(big.min()), float(big.max())),
                             padded=padded_tile(tiles, (x, z)), tile=(x, z), grid=(2, 2),
                             options=ExportOptions(colors="height", texture="relief", skirt_m=10))
        paths += [p for p in write_files(files) if p.suffix in (".glb", ".gltf")]
    return paths


def test_every_variant_has_no_errors_and_no_warnings(tmp_path):
    paths = []
    for name, (h, options) in VARIANTS.items():
        written = write_files(export_files(h, tmp_path / name, "glb,gltf", cell_size_m=CELL, options=options))
        paths += [p for p in written if p.suffix in (".glb", ".gltf")]
    paths += world_tiles(tmp_path)
    reports = validate(paths)
    problems = {str(p.name): [(m["code"], m.get("pointer"), m["message"]) for m in r["issues"]["messages"]
                              if m["severity"] <= 1]
                for p, r in zip(paths, reports) if r["issues"]["numErrors"] or r["issues"]["numWarnings"]}
    assert problems == {}
    assert len(reports) == 2 * len(VARIANTS) + 8
    # The validator really read the meshes: it counts every vertex and the index type.
    by_name = {p.name: r for p, r in zip(paths, reports)}
    info = by_name["uint32.glb"]["info"]
    assert info["totalVertexCount"] == 257 * 257 and info["totalTriangleCount"] == 2 * 256 * 256
    assert by_name["texture.glb"]["info"]["resources"][-1]["image"]["width"] == 32  # one pixel per cell


def test_validator_reports_a_broken_file(tmp_path):
    h = surface(5, 5)
    (path,) = write_files({k: v for k, v in export_files(h, tmp_path / "t", "glb", cell_size_m=CELL).items()})
    data = bytearray(path.read_bytes())
    # Corrupt the POSITION max (a JSON number) so the bounds no longer match the data.
    text = data.decode("latin-1")
    at = text.index('"max":[') + len('"max":[')
    data[at] = ord("9") if data[at] != ord("9") else ord("8")
    path.write_bytes(bytes(data))
    (report,) = validate([path])
    assert report["issues"]["numErrors"] > 0


def test_missing_validator_fails_with_the_install_command(monkeypatch, tmp_path):
    import test_export_support

    monkeypatch.setattr(test_export_support, "VALIDATOR", tmp_path / "nowhere")
    with pytest.raises(AssertionError, match="npm install --no-save --prefix .gl gltf-validator@2.0.0-dev.3.10"):
        test_export_support.validate([tmp_path / "t.glb"])
