"""Helpers for the export tests: test surfaces, an independent glTF / OBJ reader, the Khronos validator.

The readers here are written from the file format specs, not from `exporters`, so a round trip
through them checks the bytes, not the writer's own idea of them. The few tests at the bottom
check the readers themselves on files built by hand.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import urllib.parse
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
VALIDATOR = REPO / ".gl" / "node_modules" / "gltf-validator"
INSTALL = "npm install --no-save --prefix .gl gltf-validator@2.0.0-dev.3.10"

_COMPONENTS = {5120: "i1", 5121: "u1", 5122: "<i2", 5123: "<u2", 5125: "<u4", 5126: "<f4"}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}


def surface(rows=33, cols=33, seed=0) -> np.ndarray:
    """A real-looking surface in metres with ridges, noise and a below-sea corner."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:rows, 0:cols] / 11.0
    h = 700 * np.sin(x) * np.cos(0.7 * y) + 250 * np.sin(2.3 * x + y) + 15 * rng.standard_normal((rows, cols))
    return (h - 120).astype(np.float32)


def _accessor(doc: dict, buffer: bytes, index: int) -> np.ndarray:
    """Accessor `index` as a count x width array, honouring byteOffset and byteStride."""
    acc = doc["accessors"][index]
    view = doc["bufferViews"][acc["bufferView"]]
    dtype = np.dtype(_COMPONENTS[acc["componentType"]])
    width = _WIDTH[acc["type"]]
    start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
    stride = view.get("byteStride", dtype.itemsize * width)
    raw = np.frombuffer(buffer, np.uint8, count=view["byteLength"] - acc.get("byteOffset", 0),
                        offset=start)
    rows = np.lib.stride_tricks.as_strided(raw, (acc["count"], dtype.itemsize * width), (stride, 1))
    return np.ascontiguousarray(rows).view(dtype).reshape(acc["count"], width)


def _mesh(doc: dict, buffer: bytes) -> dict:
    """The first primitive's attributes and indices, plus the document and any embedded image."""
    prim = doc["meshes"][0]["primitives"][0]
    out = {name: _accessor(doc, buffer, i) for name, i in prim["attributes"].items()}
    out["indices"] = _accessor(doc, buffer, prim["indices"]).reshape(-1, 3)
    out["index_type"] = _COMPONENTS[doc["accessors"][prim["indices"]]["componentType"]]
    out["doc"] = doc
    if doc.get("images"):
        view = doc["bufferViews"][doc["images"][0]["bufferView"]]
        out["image"] = buffer[view.get("byteOffset", 0):view.get("byteOffset", 0) + view["byteLength"]]
    return out


def read_glb(path) -> dict:
    """A GLB's first primitive as arrays (keys POSITION, NORMAL, TEXCOORD_0, COLOR_0, indices, doc)."""
    data = Path(path).read_bytes()
    magic, version, length = struct.unpack_from("<4sII", data, 0)
    assert (magic, version, length) == (b"glTF", 2, len(data))
    json_len, json_type = struct.unpack_from("<I4s", data, 12)
    assert json_type == b"JSON" and json_len % 4 == 0
    doc = json.loads(data[20:20 + json_len])
    bin_at = 20 + json_len
    bin_len, bin_type = struct.unpack_from("<I4s", data, bin_at)
    assert bin_type == b"BIN\0" and bin_at + 8 + bin_len == len(data)
    assert doc["buffers"][0]["byteLength"] <= bin_len
    return _mesh(doc, data[bin_at + 8:bin_at + 8 + bin_len])


def read_gltf(path) -> dict:
    """A .gltf (JSON) and its external .bin, as `read_glb`."""
    path = Path(path)
    doc = json.loads(path.read_text())
    buffer = (path.parent / urllib.parse.unquote(doc["buffers"][0]["uri"])).read_bytes()
    assert len(buffer) == doc["buffers"][0]["byteLength"]
    return _mesh(doc, buffer)


def read_obj(path) -> dict:
    """An OBJ's v / vt / vn / f records as arrays (faces 0-based, each corner's v, vt, vn must agree)."""
    records = {"v": [], "vt": [], "vn": [], "f": []}
    other = []
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        if parts[0] in records:
            records[parts[0]].append(parts[1:])
        else:
            other.append(parts)
    f = np.array([[c.split("/") for c in face] for face in records["f"]], np.int64)
    assert (f[..., 0] == f[..., 1]).all() and (f[..., 0] == f[..., 2]).all()
    v = np.array(records["v"], np.float64)
    return {"v": v[:, :3], "rgb": v[:, 3:] if v.shape[1] == 6 else None,
            "vt": np.array(records["vt"], np.float64), "vn": np.array(records["vn"], np.float64),
            "f": f[..., 0] - 1, "other": other}


def srgb_to_linear(c) -> np.ndarray:
    """sRGB values in [0, 1] to linear light, IEC 61966-2-1 (written from the standard, not from exporters)."""
    c = np.asarray(c, np.float64)
    return np.where(c <= 0.04045, c / 12.92, ((np.maximum(c, 0.04045) + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(v) -> np.ndarray:
    """Linear light in [0, 1] to sRGB values, IEC 61966-2-1."""
    v = np.asarray(v, np.float64)
    return np.where(v <= 0.0031308, 12.92 * v, 1.055 * np.power(np.maximum(v, 0.0031308), 1 / 2.4) - 0.055)


def validate(paths) -> list[dict]:
    """Runs the Khronos glTF-Validator on each file; returns its reports. Fails (never skips) without it."""
    node = shutil.which("node")
    assert node is not None, f"node is not installed; the glTF tests need Node.js and then: {INSTALL}"
    assert VALIDATOR.is_dir(), f"Khronos glTF-Validator missing at {VALIDATOR}; install it with: {INSTALL}"
    run = subprocess.run([node, str(REPO / "tests" / "gltf_validate.js"), str(VALIDATOR), *map(str, paths)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    reports = [json.loads(line)["report"] for line in run.stdout.splitlines()]
    assert len(reports) == len(paths)
    return reports


def face_normals_y(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """The +Y component of each face's (unnormalised) normal from its winding."""
    a, b, c = (vertices[faces[:, k]].astype(np.float64) for k in range(3))
    return np.cross(b - a, c - a)[:, 1]


def test_read_glb_reads_a_hand_built_triangle(tmp_path):
    pos = np.array([[0, 0, 0], [0, 0, 1], [1, 0, 0]], "<f4").tobytes()
    idx = np.array([0, 1, 2, 0], "<u2").tobytes()  # 3 indices + padding
    doc = {"asset": {"version": "2.0"}, "buffers": [{"byteLength": 40}],
           "bufferViews": [{"buffer": 0, "byteLength": 36}, {"buffer": 0, "byteOffset": 36, "byteLength": 6}],
           "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3"},
                         {"bufferView": 1, "componentType": 5123, "count": 3, "type": "SCALAR"}],
           "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}]}
    text = json.dumps(doc).encode()
    text += b" " * (-len(text) % 4)
    body = pos + idx
    glb = struct.pack("<4sII", b"glTF", 2, 28 + len(text) + len(body)) + struct.pack("<I4s", len(text), b"JSON")
    glb += text + struct.pack("<I4s", len(body), b"BIN\0") + body
    (tmp_path / "t.glb").write_bytes(glb)
    m = read_glb(tmp_path / "t.glb")
    assert m["POSITION"].tolist() == [[0, 0, 0], [0, 0, 1], [1, 0, 0]]
    assert m["indices"].tolist() == [[0, 1, 2]] and m["index_type"] == "<u2"
    assert face_normals_y(m["POSITION"], m["indices"]).tolist() == [1.0]  # CCW from above


def test_read_obj_reads_a_hand_written_file(tmp_path):
    (tmp_path / "t.obj").write_text("# c\nmtllib t.mtl\nv 0 1 2 1 0 0\nv 1 1 2 0 1 0\nv 0 1 3 0 0 1\n"
                                    "vt 0 1\nvt 1 1\nvt 0 0\nvn 0 1 0\nvn 0 1 0\nvn 0 1 0\nf 1/1/1 3/3/3 2/2/2\n")
    m = read_obj(tmp_path / "t.obj")
    assert m["f"].tolist() == [[0, 2, 1]] and m["rgb"][1].tolist() == [0, 1, 0]
    assert m["other"] == [["mtllib", "t.mtl"]]
