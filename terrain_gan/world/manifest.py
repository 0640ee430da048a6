"""A world folder's bookkeeping: manifest.json, per-tile records (resume), and the overview image.

`manifest.json` names the world (its identity: seed, model, grid, tile size, layout, export options,
height range) and lists every finished tile with the sha256 of each of its files. Each tile also
has a record, `.tiles/X_Z.json`, written atomically together with the tile's files (and its overview
thumbnail `.tiles/X_Z.npy`), so a crash leaves whole tiles only, jobs splitting one world can share
a folder, and a re-run skips every tile whose files still match their checksums. Unity and Godot
ignore the hidden `.tiles` folder.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np

from terrain_gan import fileio
from terrain_gan.errors import TerrainGanError

FORMAT = "terrain_gan/world-v1"
MANIFEST, OVERVIEW, RECORDS = "manifest.json", "overview.png", ".tiles"
OVERVIEW_PX = 512  # the overview's longer side, at most (its shading peaks at ~100 bytes a pixel)
_TEMP = re.compile(rf"\.{re.escape(MANIFEST)}~.*\.part")  # a first run killed while writing the manifest


def digest(identity: dict) -> str:
    """A short, stable checksum of a world's identity (records carry it)."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def thumb_size(size: int, grid: tuple[int, int]) -> int:
    """Samples per tile side in the overview: a power of two dividing size - 1."""
    t = 1
    while t * 2 <= min(size - 1, OVERVIEW_PX // max(grid)):
        t *= 2
    return t


def read_manifest(out: Path, hint: str = "; choose another --out") -> dict | None:
    """The folder's manifest, None without one; one-line error (ending in `hint`) if it is not a world's."""
    path = out / MANIFEST
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TerrainGanError(f"{path}: unreadable manifest ({e}){hint}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("world"), dict):
        raise TerrainGanError(f"{path}: not a terrain_gan world manifest{hint}")
    return doc


def check_same_world(doc: dict, identity: dict, out: Path) -> None:
    """Refuses a folder holding another world, naming the first difference."""
    theirs = doc["world"]
    for key in identity:
        if theirs.get(key) != identity[key]:
            raise TerrainGanError(f"{out}: holds another world ({key} {_short(theirs.get(key))}, not "
                                  f"{_short(identity[key])}); choose another --out or delete that world")


def _short(value) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def check_no_strangers(out: Path) -> None:
    """Without a manifest, refuses a folder that is not empty: a world writes only into its own folder."""
    clash = sorted(p.name for p in out.iterdir() if not _TEMP.match(p.name))
    if clash:
        raise TerrainGanError(f"{out}: holds {clash[0]} but no {MANIFEST}; a world writes only into a new "
                              "or empty folder (or its own), choose another --out")


def record_paths(out: Path, x: int, z: int) -> tuple[Path, Path]:
    """(record JSON, overview thumbnail .npy) of tile (x, z)."""
    return out / RECORDS / f"{x}_{z}.json", out / RECORDS / f"{x}_{z}.npy"


def read_records(out: Path, world_digest: str) -> dict[tuple[int, int], dict]:
    """Every readable tile record of this world in the folder, keyed (x, z)."""
    records = {}
    folder = out / RECORDS
    if not folder.is_dir():
        return records
    for path in sorted(folder.glob("*.json")):
        rec = _record(path, world_digest)
        if rec is not None:
            records[(rec["x"], rec["z"])] = rec
    return records


def read_record(out: Path, world_digest: str, x: int, z: int) -> dict | None:
    """Tile (x, z)'s record if it is readable and of this world, else None."""
    rec = _record(record_paths(out, x, z)[0], world_digest)
    return rec if rec is not None and (rec["x"], rec["z"]) == (x, z) else None


def _record(path: Path, world_digest: str) -> dict | None:
    try:
        rec = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None  # an unreadable record only means the tile is made again
    return rec if isinstance(rec, dict) and rec.get("world") == world_digest else None


def is_finished(out: Path, record: dict | None, formats: tuple[str, ...]) -> bool:
    """True when a record covers `formats` and every file it lists is on disk with its checksum."""
    if record is None or not set(formats) <= set(record.get("formats", ())):
        return False
    for name, checksum in record["files"].items():
        try:
            if sha256((out / name).read_bytes()) != checksum:
                return False
        except OSError:
            return False
    return True


def manifest(identity: dict, height_range, formats, records: dict, grid, tile_size: int,
             recipe: dict | None = None) -> dict:
    """The manifest document for the tiles in `records` (and the recipe the world was made from, if any)."""
    tiles = {f"{x}_{z}": {k: rec[k] for k in ("x", "z", "files", "min_m", "max_m", "clipped")}
             for (x, z), rec in sorted(records.items(), key=lambda kv: (kv[0][1], kv[0][0]))}
    doc = dict(format=FORMAT, world=identity, world_digest=digest(identity), height_range_m=list(height_range),
                formats=list(formats), tile_size=tile_size, grid=list(grid), overview=OVERVIEW,
                tiles_total=grid[0] * grid[1], tiles_done=len(tiles), tiles=tiles)
    return doc if recipe is None else dict(doc, recipe=recipe)


def write_manifest(out: Path, doc: dict) -> None:
    fileio.write_json(out / MANIFEST, doc)


def overview_png(out: Path, records: dict, grid, tile_size: int, cell_size_m: float) -> bytes:
    """A shaded-relief picture of the whole grid from the tiles' thumbnails (missing tiles black)."""
    from exporters.colors import relief_rgb
    from exporters.png import png_bytes

    nx, nz = grid
    t = thumb_size(tile_size, grid)
    image = np.full((nz * t, nx * t), np.nan, np.float32)
    for (x, z) in records:
        try:
            thumb = np.load(record_paths(out, x, z)[1], allow_pickle=False)
        except (OSError, ValueError):
            continue
        if thumb.shape == (t, t):
            image[z * t:(z + 1) * t, x * t:(x + 1) * t] = thumb
    missing = np.isnan(image)
    if missing.all():
        return png_bytes(np.zeros(image.shape + (3,), np.uint8))
    filled = np.where(missing, np.nanmin(image), image)
    rgb = relief_rgb(filled, cell_size_m * (tile_size - 1) / t)
    rgb[missing] = 0
    return png_bytes(rgb)
