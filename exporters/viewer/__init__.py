"""A 3D viewer page for heightmaps: three.js meshes in relief colours, orbit and zoom, height exaggeration.

One page (static/viewer.html running static/viewer.js, with static/relief.js) comes out two ways:

  viewer_html(height_HxW, cell_size_m, meta) -> bytes   ONE self-contained file: three.js inlined as data:
                                                        URLs, heights as base64 uint16; opens from file://
  page_html(source, title) -> bytes                     the page `terrain-gan view` serves: three.js from
                                                        static/, the heights fetched from `source["url"]`
  map_payload(height_HxW, cell_size_m, facts) -> dict   what the page draws: heights, colour range, facts

Heights travel as the exact 16-bit codes of the PNG16 format (`quantize_u16` over the map's own range), so
the page draws what `terrain-gan generate` wrote. The vendored three.js (r170, MIT, static/LICENSE-three.txt)
is `STATIC_FILES`; the relief colours are `exporters.colors.relief_rgb`'s, recomputed in JavaScript.
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

import numpy as np

from exporters.colors import relief_palette
from exporters.quantize import check_cell_size, check_heightmap, quantize_u16

STATIC_DIR = Path(__file__).resolve().parent / "static"
# What a served page may fetch from static/ (the page itself inlines viewer.js).
STATIC_FILES = ("three.module.min.js", "OrbitControls.js", "relief.js", "LICENSE-three.txt")
_MODULES = {"three": "three.module.min.js", "three/addons/controls/OrbitControls.js": "OrbitControls.js",
            "terrain-gan/relief.js": "relief.js"}


def map_facts(height_HxW: np.ndarray, cell_size_m: float, meta: dict) -> list[list[str]]:
    """[label, value] rows the page shows: size in km, height range, seed, model, cell size.

    >>> map_facts(np.array([[0.0, 10.0], [5.0, 20.0]]), 90.0, {"seed": 42, "model_id": "default-b8a8"})
    [['Size', '0.09 x 0.09 km (2 x 2 samples)'], ['Heights', '0 to 20 m'], ['Seed', '42'], ['Model', 'default-b8a8'], ['Cell size', '90 m']]
    """
    rows, cols = height_HxW.shape
    km = lambda n: f"{(n - 1) * cell_size_m / 1000:.3g}"  # noqa: E731 - the span between the outer samples
    facts = [["Size", f"{km(cols)} x {km(rows)} km ({cols} x {rows} samples)"],
             ["Heights", f"{float(np.min(height_HxW)):.0f} to {float(np.max(height_HxW)):.0f} m"]]
    facts += [[label, str(meta[key])] for label, key in (("Seed", "seed"), ("Model", "model_id")) if key in meta]
    return facts + [["Cell size", f"{cell_size_m:g} m"]]


def map_payload(height_HxW, cell_size_m: float, facts=(), color_range=None) -> dict:
    """The JSON the page draws: heights as base64 little-endian uint16 codes over their own min / max.

    Args:
      height_HxW: heights in metres, row 0 north.
      cell_size_m: sample spacing in metres.
      facts: [label, value] rows shown beside the view.
      color_range: (lo, hi) metres of the height tint (default: the map's own), so world tiles match.

    >>> p = map_payload(np.array([[0.0, 1.0], [2.0, 3.0]]), 30.0)
    >>> p["rows"], p["columns"], p["min_height_m"], p["max_height_m"], p["heights_u16_b64"]
    (2, 2, 0.0, 3.0, 'AABVVaqq//8=')
    """
    h = check_heightmap(height_HxW)
    cell = check_cell_size(cell_size_m)
    lo, hi = float(h.min()), float(h.max())
    codes = quantize_u16(h, lo, hi).astype("<u2")
    return dict(rows=int(h.shape[0]), columns=int(h.shape[1]), cell_size_m=cell, min_height_m=lo, max_height_m=hi,
                heights_u16_b64=base64.b64encode(codes.tobytes()).decode("ascii"),
                color_range=[lo, hi] if color_range is None else [float(v) for v in color_range],
                facts=[[str(a), str(b)] for a, b in facts], palette=relief_palette())


def _script_json(obj) -> str:
    """JSON safe inside a <script> element (no '<', so no '</script>')."""
    return json.dumps(obj, separators=(",", ":")).replace("<", "\\u003c")


def _data_url(name: str) -> str:
    return "data:text/javascript;base64," + base64.b64encode((STATIC_DIR / name).read_bytes()).decode("ascii")


def _page(source: dict, title: str, imports: dict) -> bytes:
    """static/viewer.html with its four @@SLOTS@@ filled in one pass (a slot's text is never rescanned)."""
    viewer_js = (STATIC_DIR / "viewer.js").read_text("utf-8")
    slots = dict(TITLE=html.escape(title), IMPORTMAP=_script_json({"imports": imports}), SOURCE=_script_json(source),
                 VIEWER_JS=viewer_js, LICENSE=html.escape((STATIC_DIR / "LICENSE-three.txt").read_text("utf-8")))
    template = (STATIC_DIR / "viewer.html").read_text("utf-8")
    return re.sub(r"@@([A-Z_]+)@@", lambda m: slots[m.group(1)], template).encode("utf-8")


def page_html(source: dict, title: str) -> bytes:
    """The served page: three.js from `static/<name>` beside it; `source` says where the data is.

    `source` is {"mode": "map", "url": ...} (a `map_payload`) or {"mode": "world", "url": ...} (a world's
    index: grid, tiles, overview; each tile a `map_payload` at `tile/X_Z.json`).
    """
    return _page(source, title, {spec: f"./static/{name}" for spec, name in _MODULES.items()})


def viewer_html(height_HxW, cell_size_m: float, meta: dict | None = None, *, title: str = "terrain") -> bytes:
    """ONE self-contained HTML file showing the heightmap in 3D: no server, no network, opens from file://.

    Args:
      height_HxW: heights in metres, row 0 north.
      cell_size_m: sample spacing in metres.
      meta: the sidecar (seed, model_id) whose facts the page shows.
      title: the page title.

    >>> page = viewer_html(np.zeros((3, 3)), 90.0, {"seed": 1})
    >>> page.startswith(b"<!doctype html>"), b" src=" in page, len(page) > 500_000  # three.js inside, nothing fetched
    (True, False, True)
    """
    h = check_heightmap(height_HxW)
    payload = map_payload(h, cell_size_m, map_facts(h, check_cell_size(cell_size_m), meta or {}))
    return _page({"mode": "map", "payload": payload}, title, {spec: _data_url(name) for spec, name in _MODULES.items()})
