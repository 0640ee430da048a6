"""The local server behind `terrain-gan view`: a heightmap file or a world folder as a 3D page on 127.0.0.1.

`open_source(path)` reads and checks everything up front (bad input is one TerrainGanError before any
socket opens) and returns the routes: {url path: bytes, or a function making them on request (world
tiles)}. `serve(routes, port)` runs the stdlib `http.server` on a thread; the page and three.js come
from `exporters.viewer`, so the served page and `--also html` are the same viewer.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import threading
from pathlib import Path

from exporters import viewer
from exporters.errors import ExportError
from exporters.read import read_heightmap
from terrain_gan.errors import TerrainGanError
from terrain_gan.world import manifest as wm

_TYPES = {".html": "text/html; charset=utf-8", ".json": "application/json", ".png": "image/png",
          ".js": "text/javascript; charset=utf-8", ".txt": "text/plain; charset=utf-8"}
# A world tile's heightmap, in the order tried: the files `terrain-gan world --formats ...` writes.
_TILE_SUFFIXES = (".png", ".tif", ".npy", ".exr")


def _json(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _static_routes() -> dict:
    return {f"/static/{name}": (viewer.STATIC_DIR / name).read_bytes() for name in viewer.STATIC_FILES}


def map_routes(path: Path) -> dict:
    """A heightmap file (16-bit PNG + sidecar, .npy, .tif, .exr, ...): the page and /map.json."""
    h, meta = read_heightmap(path)
    if meta.get("cell_size_m") is None:
        raise TerrainGanError(f"{path}: no cell size (cell_size_m) in its sidecar; cannot draw it to scale")
    payload = viewer.map_payload(h, meta["cell_size_m"], viewer.map_facts(h, meta["cell_size_m"], meta))
    source = {"mode": "map", "url": "map.json"}
    return {"/": viewer.page_html(source, path.name), "/map.json": _json(payload), **_static_routes()}


def _read_manifest(folder: Path) -> dict:
    doc = wm.read_manifest(folder, hint="")  # the format; then what the viewer reads
    try:
        nx, nz = (int(n) for n in doc["grid"])
        ok = isinstance(doc["tiles"], dict) and min(nx, nz, int(doc["tile_size"]) - 1) >= 1
    except (KeyError, TypeError, ValueError):
        ok = False
    if not ok:
        raise TerrainGanError(f"{folder / wm.MANIFEST}: not a terrain_gan world manifest (grid, tile_size, tiles)")
    return doc


def _tile_file(folder: Path, key: str) -> Path | None:
    """The heightmap file of tile `key` ("X_Z"), or None when the world holds none for it."""
    return next((p for s in _TILE_SUFFIXES if (p := folder / f"tile_{key}{s}").is_file()), None)


def _tile_json(folder: Path, key: str, cell_size_m: float, color_range) -> bytes:
    h, meta = read_heightmap(_tile_file(folder, key))
    cell = meta.get("cell_size_m") or cell_size_m
    (_, size), (_, heights) = viewer.map_facts(h, cell, {})[:2]
    facts = [["Tile size", size], ["Tile heights", heights]]
    return _json(viewer.map_payload(h, cell, facts, color_range=color_range))


def _color_range(doc: dict, keys: list[str]) -> list[float] | None:
    """One height-tint range for every tile: the made tiles' lowest and highest samples (None: unknown)."""
    try:
        lows, highs = zip(*((float(doc["tiles"][k]["min_m"]), float(doc["tiles"][k]["max_m"])) for k in keys))
    except (KeyError, TypeError, ValueError):
        return None
    return [min(lows), max(highs)]


def world_routes(folder: Path) -> dict:
    """A world folder: the page, /world.json (grid, tiles, facts), /overview.png and /tile/X_Z.json on request."""
    doc = _read_manifest(folder)
    keys = [k for k in doc["tiles"] if re.fullmatch(r"\d+_\d+", k) and _tile_file(folder, k)]
    if not keys:
        raise TerrainGanError(f"{folder}: the world holds no heightmap tiles (tile_X_Z.png / .tif / .npy / .exr); "
                              "make it with `terrain-gan world --formats png16`")
    if not (folder / "overview.png").is_file():
        raise TerrainGanError(f"{folder}: no overview.png; rerun `terrain-gan world` on it to finish the world")
    world, (nx, nz), size = doc["world"], doc["grid"], int(doc["tile_size"])
    cell = float(world.get("cell_size_m", 90.0))
    color_range = _color_range(doc, keys)
    km = lambda n: f"{(n * (size - 1)) * cell / 1000:.3g}"  # noqa: E731
    facts = [["World", f"{nx} x {nz} tiles of {size} samples ({len(keys)} made)"],
             ["World size", f"{km(nx)} x {km(nz)} km"], ["Seed", str(world.get("seed", "?"))],
             ["Model", str(world.get("model_id", "?"))], ["Cell size", f"{cell:g} m"]]
    if color_range:
        facts.insert(2, ["World heights", f"{color_range[0]:.0f} to {color_range[1]:.0f} m"])
    index = dict(grid=[nx, nz], tile_size=size, tiles=sorted(keys), overview="overview.png", tile_url="tile/",
                 facts=facts)
    routes = {"/": viewer.page_html({"mode": "world", "url": "world.json"}, folder.resolve().name),
              "/world.json": _json(index), "/overview.png": (folder / "overview.png").read_bytes(), **_static_routes()}
    for key in keys:
        routes[f"/tile/{key}.json"] = functools.partial(_tile_json, folder, key, cell, color_range)
    return routes


def open_source(path) -> dict:
    """The routes for PATH: a world folder (or its manifest.json) or a heightmap file; checked before serving."""
    path = Path(path)
    if path.name == "manifest.json" and path.is_file():
        path = path.parent
    if path.is_dir():
        if not (path / "manifest.json").is_file():
            raise TerrainGanError(f"{path}: a folder without manifest.json; expected a world folder or a heightmap file")
        return world_routes(path)
    if not path.exists():
        raise TerrainGanError(f"{path}: no such heightmap file or world folder")
    return map_routes(path)


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict = {}
    timeout = 10  # seconds: a browser's idle (pre)connection must not hold a handler thread for ever

    def do_GET(self):  # noqa: N802 - http.server's name
        route = self.routes.get(self.path.split("?")[0].split("#")[0])
        if route is None:
            return self.send_error(404)
        try:
            body = route() if callable(route) else route
        except ExportError as e:  # a tile file broken since start-up: say so in the page, keep serving
            return self.send_error(500, explain=str(e))
        name = self.path.split("?")[0].rstrip("/") or "/index.html"
        self.send_response(200)
        self.send_header("Content-Type", _TYPES.get(Path(name).suffix, "text/html; charset=utf-8"))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # quiet: the terminal shows the URL and errors only
        pass


def start(routes: dict, port: int = 0) -> tuple[http.server.ThreadingHTTPServer, threading.Thread]:
    """Serves `routes` on 127.0.0.1:`port` (0: a free one) from a daemon thread; returns (server, thread)."""
    handler = type("Handler", (_Handler,), {"routes": routes})
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as e:
        raise TerrainGanError(f"cannot serve on 127.0.0.1:{port} ({e.strerror or e})") from None
    server.daemon_threads = True
    server.block_on_close = False  # Ctrl-C stops at once, whatever connections a browser still holds open
    thread = threading.Thread(target=server.serve_forever, name="terrain-gan-view", daemon=True)
    thread.start()
    return server, thread


def url_of(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/"
