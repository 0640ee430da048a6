"""One reader per DEM file format: path → (raw heights in metres with NaN voids, (dy, dx) metres or None).

`dem.core.read_dem` chooses the reader, wraps library exceptions and validates the
result; a reader raises `TerrainGanError` for problems it can name precisely
(a header that lies about the file size, a PNG that is not 16-bit).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import zipfile
from pathlib import Path

import numpy as np

from terrain_gan.dem.units import geographic_cell_m, to_metres
from terrain_gan.errors import TerrainGanError

# EPSG linear unit codes → metres per unit.
_LINEAR_UNITS = {9001: 1.0, 9002: 0.3048, 9003: 1200.0 / 3937.0, 9005: 0.3047972654, 9036: 1000.0}
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_NETCDF_MAGIC = (b"CDF\x01", b"CDF\x02", b"\x89HDF\r\n\x1a\n")  # NetCDF-3 classic / 64-bit, NetCDF-4 (HDF5)


@contextlib.contextmanager
def _quiet(logger_name: str):
    """Silences a library's logger (tifffile logs unparsable GDAL_NODATA tags; we parse them ourselves)."""
    log = logging.getLogger(logger_name)
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)


def _check_magic(path: Path, magics: tuple[bytes, ...], kind: str) -> None:
    """Raises unless the file starts with one of `magics`."""
    with open(path, "rb") as f:
        head = f.read(8)
    if not any(head.startswith(m) for m in magics):
        raise TerrainGanError(f"{path}: not a {kind} file (unexpected leading bytes)")


def read_geotiff(path: Path):
    """GeoTIFF: nodata from GDAL_NODATA, cell size from ModelPixelScale and the geokeys."""
    import tifffile

    _check_magic(path, _TIFF_MAGIC, "TIFF")
    with _quiet("tifffile"), tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        raw = page.asarray()
        tag = page.tags.get(42113)
        geo = tif.geotiff_metadata or {}
    if raw.ndim == 3 and raw.shape[0] == 1:
        raw = raw[0]
    elif raw.ndim == 3 and raw.shape[-1] == 1:
        raw = raw[..., 0]
    if raw.ndim != 2:
        raise TerrainGanError(f"{path}: expected a single-band elevation raster, got shape {raw.shape}")
    nodata = _parse_nodata(tag.value) if tag is not None else None
    return to_metres(raw, nodata), _geotiff_cell(path, geo, raw.shape)


def _parse_nodata(value) -> float | None:
    """GDAL_NODATA is an ASCII string ('-32768', '1.70141e+38', 'nan')."""
    try:
        return float(str(value).strip().strip("\x00"))
    except ValueError:
        return None


def _geotiff_cell(path: Path, geo: dict, shape) -> tuple[float, float] | None:
    """(dy, dx) in metres from ModelPixelScale (or ModelTransformation) and the geokeys."""
    scale = geo.get("ModelPixelScale")
    if scale is None and geo.get("ModelTransformation") is not None:
        m = np.asarray(geo["ModelTransformation"], float).reshape(4, 4)
        scale = (float(np.hypot(m[0, 0], m[1, 0])), float(np.hypot(m[0, 1], m[1, 1])))
    if scale is None:
        return None
    sx, sy = float(scale[0]), float(scale[1])
    model = int(geo.get("GTModelTypeGeoKey", 0) or 0)
    projected_keys = "ProjectedCSTypeGeoKey" in geo or "ProjLinearUnitsGeoKey" in geo
    geographic = model == 2 or (model != 1 and not projected_keys and "GeographicTypeGeoKey" in geo)
    if geographic:
        tie = geo.get("ModelTiepoint") or [0, 0, 0, 0, 0, 0]
        lat_centre = float(tie[4]) - (shape[0] / 2.0 - float(tie[1])) * sy
        return geographic_cell_m(sy, sx, lat_centre)
    unit = int(geo.get("ProjLinearUnitsGeoKey", 9001) or 9001)
    if unit not in _LINEAR_UNITS:
        raise TerrainGanError(f"{path}: unsupported projected linear unit (EPSG {unit}); pass a cell size")
    return sy * _LINEAR_UNITS[unit], sx * _LINEAR_UNITS[unit]


def read_hgt(path: Path):
    """SRTM .hgt (or .hgt.zip): square big-endian int16, latitude from the name (N38W029)."""
    if path.name.lower().endswith(".zip"):
        with zipfile.ZipFile(path) as z:
            members = [n for n in z.namelist() if n.lower().endswith(".hgt")]
            if not members:
                raise TerrainGanError(f"{path}: zip archive holds no .hgt file")
            data = z.read(members[0])
    else:
        data = path.read_bytes()
    sides = {1201 * 1201 * 2: 1201, 3601 * 3601 * 2: 3601}
    if len(data) not in sides:
        raise TerrainGanError(f"{path}: SRTM .hgt of wrong length ({len(data)} bytes; expected "
                              f"{1201 * 1201 * 2} for 3\" or {3601 * 3601 * 2} for 1\" tiles)")
    n = sides[len(data)]
    raw = np.frombuffer(data, ">i2").reshape(n, n).astype(np.int16)
    match = re.search(r"([NS])(\d{1,2})([EW])(\d{1,3})", path.name, re.IGNORECASE)
    if match is None:
        return to_metres(raw), None
    lat = int(match.group(2)) * (1 if match.group(1).upper() == "N" else -1)
    step = 1.0 / (n - 1)
    return to_metres(raw), geographic_cell_m(step, step, lat + 0.5)


def read_envi(path: Path):
    """ENVI .bil with its .hdr: first band, `data ignore value` as nodata, size checked against the header."""
    hdr_path = next((p for p in (path.with_suffix(".hdr"), Path(str(path) + ".hdr")) if p.is_file()), None)
    if hdr_path is None:
        raise TerrainGanError(f"{path}: ENVI header {path.with_suffix('.hdr').name} not found beside it")
    hdr = _parse_envi_header(hdr_path)
    dtypes = {1: "u1", 2: "i2", 3: "i4", 4: "f4", 5: "f8", 12: "u2", 13: "u4", 14: "i8", 15: "u8"}
    try:
        rows, cols = int(hdr["lines"]), int(hdr["samples"])
        bands, offset = int(hdr.get("bands", 1)), int(hdr.get("header offset", 0))
        dtype = np.dtype(dtypes[int(hdr["data type"])]).newbyteorder(">" if int(hdr.get("byte order", 0)) else "<")
    except (KeyError, ValueError):
        raise TerrainGanError(f"{hdr_path}: ENVI header lacks or garbles samples/lines/data type") from None
    expected = offset + rows * cols * bands * dtype.itemsize
    size = path.stat().st_size
    if size != expected or min(rows, cols, bands) < 1:
        raise TerrainGanError(f"{path}: ENVI header {hdr_path.name} says {rows}x{cols}x{bands} {dtype.name} "
                              f"({expected} bytes) but the file has {size} bytes")
    flat = np.fromfile(path, dtype, count=rows * cols * bands, offset=offset)
    band0 = {"bsq": lambda a: a[: rows * cols].reshape(rows, cols),
             "bil": lambda a: a.reshape(rows, bands, cols)[:, 0],
             "bip": lambda a: a.reshape(rows, cols, bands)[..., 0]}
    interleave = hdr.get("interleave", "bsq").strip().lower()
    if interleave not in band0:
        raise TerrainGanError(f"{hdr_path}: unknown ENVI interleave {interleave!r}")
    raw = band0[interleave](flat).astype(dtype.newbyteorder("="))
    nodata = _parse_nodata(hdr["data ignore value"]) if "data ignore value" in hdr else None
    return to_metres(raw, nodata), _envi_cell(hdr, rows)


def _parse_envi_header(path: Path) -> dict[str, str]:
    """ENVI header → {lower-case key: value}, with braced values joined across lines."""
    text = path.read_text(errors="replace")
    if not text.lstrip().startswith("ENVI"):
        raise TerrainGanError(f"{path}: not an ENVI header (first word is not 'ENVI')")
    text = re.sub(r"\{([^}]*)\}", lambda m: m.group(1).replace("\n", " "), text)
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {k.strip().lower(): v.strip() for k, v in pairs}


def _envi_cell(hdr: dict[str, str], rows: int) -> tuple[float, float] | None:
    """(dy, dx) in metres from `map info` = {proj, ref x, ref y, easting, northing, dx, dy, ...}."""
    if "map info" not in hdr:
        return None
    parts = [p.strip() for p in hdr["map info"].split(",")]
    dx, dy = float(parts[5]), float(parts[6])
    if parts[0].lower().startswith("geographic"):
        lat_centre = float(parts[4]) - (rows / 2.0 - (float(parts[2]) - 1.0)) * dy
        return geographic_cell_m(dy, dx, lat_centre)
    units = next((p.split("=", 1)[1].strip().lower() for p in parts if p.lower().startswith("units")), "meters")
    factor = {"meters": 1.0, "metres": 1.0, "km": 1000.0, "feet": 0.3048, "us feet": 1200.0 / 3937.0}
    return dy * factor.get(units, 1.0), dx * factor.get(units, 1.0)


def read_ascii_grid(path: Path):
    """ESRI ASCII grid: six-or-so `key value` header lines, then rows north to south."""
    with open(path, "r", errors="replace") as f:
        head: dict[str, str] = {}
        line = f.readline()
        while line and re.match(r"\s*[A-Za-z_]+\s+[-+0-9.eE]+\s*$", line):
            key, value = line.split()
            head[key.lower()] = value
            line = f.readline()
        rest = line + f.read()
    if "ncols" not in head or "nrows" not in head:
        raise TerrainGanError(f"{path}: not an ESRI ASCII grid (no ncols/nrows header)")
    rows, cols = int(head["nrows"]), int(head["ncols"])
    values = np.array(rest.split(), dtype=np.float64)
    if values.size != rows * cols:
        raise TerrainGanError(f"{path}: header says {rows}x{cols} = {rows * cols} values but the file has "
                              f"{values.size}")
    nodata = float(head["nodata_value"]) if "nodata_value" in head else None
    height = to_metres(values.reshape(rows, cols), nodata)
    return height, _ascii_cell(head, rows)


def _ascii_cell(head: dict[str, str], rows: int) -> tuple[float, float] | None:
    """Cell size; a tiny cell with lon/lat-range corner coordinates is taken as degrees."""
    if "cellsize" in head:
        dx = dy = float(head["cellsize"])
    elif "dx" in head and "dy" in head:
        dx, dy = float(head["dx"]), float(head["dy"])
    else:
        return None
    x = float(head.get("xllcorner", head.get("xllcenter", 0.0)))
    y = float(head.get("yllcorner", head.get("yllcenter", 0.0)))
    if max(dx, dy) < 0.1 and abs(x) <= 180 and abs(y) <= 90:
        return geographic_cell_m(dy, dx, y + rows * dy / 2.0)
    return dy, dx


def read_numpy(path: Path):
    """.npy: a 2-D array, no cell size. .npz: `elevation`-like key or first 2-D array; optional cell keys."""
    if path.suffix.lower() == ".npy":
        return to_metres(np.load(io.BytesIO(path.read_bytes()), allow_pickle=False)), None  # no leak on a zip
    # From memory: numpy leaves the file open when the archive is corrupt.
    with np.load(io.BytesIO(path.read_bytes()), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    preferred = ("elevation", "height", "heights", "height_m", "dem", "z", "data")
    key = next((k for k in preferred if k in arrays and arrays[k].ndim == 2), None)
    key = key or next((k for k, a in arrays.items() if a.ndim == 2), None)
    if key is None:
        raise TerrainGanError(f"{path}: .npz holds no 2-D elevation array (keys: {', '.join(arrays) or 'none'})")
    height = to_metres(arrays[key])
    return height, _npz_cell(arrays)


def _npz_cell(arrays: dict[str, np.ndarray]) -> tuple[float, float] | None:
    """`cell_size_m` (scalar or (dy, dx)), or `dx`/`dy` in degrees with `ymin`/`ymax` (matplotlib's jacksboro)."""
    if "cell_size_m" in arrays:
        c = np.broadcast_to(np.asarray(arrays["cell_size_m"], float).ravel(), (2,))
        return float(c[0]), float(c[-1])
    if "dx" in arrays and "dy" in arrays:
        dx, dy = float(arrays["dx"]), float(arrays["dy"])
        if "ymin" in arrays and "ymax" in arrays and max(dx, dy) < 0.1:
            lat = (float(arrays["ymin"]) + float(arrays["ymax"])) / 2.0
            return geographic_cell_m(dy, dx, lat)
        return dy, dx
    return None


def read_png16(path: Path):
    """16-bit grayscale PNG; a sidecar `X.json` may give `cell_size_m` and the 0..65535 height range."""
    import imageio.v3 as iio

    _check_magic(path, (_PNG_MAGIC,), "PNG")
    raw = np.asarray(iio.imread(path))
    if raw.dtype != np.uint16:
        raise TerrainGanError(f"{path}: PNG is {raw.dtype.itemsize * 8}-bit; heightmaps need 16-bit grayscale")
    if raw.ndim != 2:
        raise TerrainGanError(f"{path}: PNG has {raw.shape[-1]} channels; heightmaps need 1 (grayscale)")
    side = path.with_suffix(".json")
    if not side.is_file():
        return raw.astype(np.float32), None
    try:
        meta = json.loads(side.read_text())
        lo, hi = float(meta.get("min_height_m", 0.0)), float(meta.get("max_height_m", 65535.0))
        cell = meta.get("cell_size_m")
        cell = None if cell is None else tuple(np.broadcast_to(np.asarray(cell, float).ravel(), (2,)))
    except (ValueError, TypeError, AttributeError):
        raise TerrainGanError(f"{side}: sidecar is not valid JSON with cell_size_m/min_height_m/max_height_m") \
            from None
    height = (lo + raw.astype(np.float64) * ((hi - lo) / 65535.0)).astype(np.float32)
    return height, cell


def _read_usgs(path: Path):
    """USGS ASCII DEM (lazy import keeps this module focused)."""
    from terrain_gan.dem.usgs import read_usgs_dem

    return read_usgs_dem(path)


def read_netcdf(path: Path):
    """NetCDF-3 or -4 grid (GMT .grd, ETOPO, GEBCO): the 2-D height variable on lon/lat or x/y axes.

    Uses netCDF4 (Unidata's maintained binding, the one reader of both NetCDF-3 and NetCDF-4
    files, which is what GMT grids come as). Rows are flipped to put north first when the latitude
    axis increases. Geographic cells are converted at the grid's centre latitude, so a whole-Earth
    grid gets the equator's cell size: fine for reading, too coarse to train a 90 m model on.
    """
    _check_magic(path, _NETCDF_MAGIC, "NetCDF")
    try:
        import netCDF4
    except ImportError:
        raise TerrainGanError(f"{path}: reading NetCDF grids needs the netcdf extra "
                              "(pip install 'terrain-gan[netcdf]')") from None
    with netCDF4.Dataset(path) as nc:
        grids = [v for v in nc.variables.values() if v.ndim == 2 and v.dtype.kind in "fiu"]
        if not grids:
            raise TerrainGanError(f"{path}: no 2-D height variable in this NetCDF file")
        var = grids[0]
        var.set_auto_mask(False)
        raw = np.asarray(var[:])
        fill = var.getncattr("_FillValue") if "_FillValue" in var.ncattrs() else None
        axes = [np.asarray(nc.variables[d][:], np.float64) if d in nc.variables else None for d in var.dimensions]
        units = [str(getattr(nc.variables.get(d), "units", "")) for d in var.dimensions]
    height = to_metres(raw, nodata=fill)
    if any(a is None or a.size < 2 for a in axes):
        return height, None
    ys, xs = axes
    if ys[1] > ys[0]:
        height = height[::-1]
    dy, dx = abs(ys[1] - ys[0]), abs(xs[1] - xs[0])
    if "degree" in units[0].lower():
        return height, geographic_cell_m(dy, dx, float(np.clip((ys[0] + ys[-1]) / 2, -89.0, 89.0)))
    return height, (dy, dx)


READERS = {
    ".tif": read_geotiff, ".tiff": read_geotiff, ".hgt": read_hgt, ".hgt.zip": read_hgt,
    ".bil": read_envi, ".asc": read_ascii_grid, ".npy": read_numpy, ".npz": read_numpy,
    ".png": read_png16, ".dem": _read_usgs, ".nc": read_netcdf, ".grd": read_netcdf,
}
