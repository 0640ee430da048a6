"""Building a training dataset file from a folder (or list) of real DEM files.

Each file is read, checked (not too coarse: upsampling beyond `max_upsample`
would invent smoothness the GAN would then learn; at least one usable window
after resampling), resampled to the target cell size and quantised into one
compressed `.npz`, with an attribution markdown beside it listing the sources.
"""

from __future__ import annotations

import dataclasses
import io
import os
from pathlib import Path

import numpy as np

from terrain_gan import fileio
from terrain_gan.dataset import core as ds
from terrain_gan.dataset.windows import valid_origins
from terrain_gan.dem.core import dem_suffix, mask_sea, read_dem
from terrain_gan.dem.resample import resample, upsample_factor
from terrain_gan.errors import TerrainGanError

QUANTUM_M = 0.25
# Files beside DEMs that are read with them or are documentation: listed as ignored, never as failures.
_COMPANIONS = {".hdr": "ENVI header (read with its .bil)", ".json": "sidecar (read with its .png)"}


@dataclasses.dataclass(frozen=True)
class FileReport:
    """What `build` did with one file: status is 'used', 'skipped' (a DEM it could not use) or 'ignored'."""

    path: str
    status: str
    reason: str = ""
    shape: tuple[int, int] | None = None
    cell_in_m: tuple[float, float] | None = None
    windows: int = 0


def expand_paths(paths) -> list[tuple[Path, str]]:
    """Files and folders → sorted [(file, name relative to its folder argument)]."""
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith("."))
            out.extend((f, f.relative_to(p).as_posix()) for f in files)
        elif p.is_file():
            out.append((p, p.name))
        else:
            raise TerrainGanError(f"{p}: no such file or folder")
    return out


def _prepare(path: Path, cell_size_m: float, window: int, max_upsample: float, flat: float, keep_sea: bool):
    """Reads and resamples one file → (FileReport, resampled height or None)."""
    suffix = dem_suffix(path)
    if suffix is None:
        reason = _COMPANIONS.get(path.suffix.lower(), f"not a DEM file ({path.suffix or 'no suffix'})")
        return FileReport(str(path), "ignored", reason), None
    try:
        dem = read_dem(path)
    except TerrainGanError as e:
        return FileReport(str(path), "skipped", str(e).replace(f"{path}: ", "")), None
    factor = upsample_factor(dem, cell_size_m)
    if factor > max_upsample:
        reason = (f"too coarse: {max(dem.cell_size_m):.0f} m cells need x{factor:.2f} upsampling to "
                  f"{cell_size_m:g} m (max x{max_upsample:g})")
        return FileReport(str(path), "skipped", reason, cell_in_m=dem.cell_size_m), None
    if not keep_sea:
        dem = dataclasses.replace(dem, height=mask_sea(dem.height))
    try:
        height = resample(dem, cell_size_m).height
    except TerrainGanError as e:
        return FileReport(str(path), "skipped", str(e).replace(f"{path}: ", ""), cell_in_m=dem.cell_size_m), None
    if min(height.shape) < window:
        reason = f"smaller than a {window}-cell window after resampling ({height.shape[0]}x{height.shape[1]})"
        return FileReport(str(path), "skipped", reason, height.shape, dem.cell_size_m), None
    count = int(valid_origins(height, window, flat).sum())
    if count == 0:
        reason = f"no {window}x{window} window without voids and with >= {flat:g} m relief"
        return FileReport(str(path), "skipped", reason, height.shape, dem.cell_size_m), None
    return FileReport(str(path), "used", "", height.shape, dem.cell_size_m, count), height


def build(paths, out_path, *, cell_size_m: float = 90.0, window: int = 64, max_upsample: float = 1.25,
          flat_relief_m: float = 5.0, keep_sea: bool = False, attribution_path=None) -> dict:
    """Builds a dataset `.npz` from DEM files and folders.

    Args:
      paths: a folder, a file, or a list of them (folders are searched recursively).
      out_path: the `.npz` to write (atomically).
      cell_size_m: target square cell size in metres.
      window: training window side in cells.
      max_upsample: largest allowed enlargement of the input grid.
      flat_relief_m: windows with less relief than this are not used.
      keep_sea: keep cells at or below 0 m that touch the map edge (by default they are the sea, made
        void: see `dem.mask_sea`); for a deliberate coastal or island model.
      attribution_path: markdown listing the sources (default: `<out stem>.attribution.md` beside it).

    Returns:
      A summary dict: `files` (list of FileReport), `regions`, `valid_windows`, statistics, `bytes`.

    Raises:
      TerrainGanError: no usable DEM among the inputs, or bad arguments.
    """
    if not (cell_size_m > 0 and window >= 2 and max_upsample >= 1.0):
        raise TerrainGanError(f"{out_path}: need cell size > 0, window >= 2 and max upsample >= 1")
    reports, heights, names, sources = [], [], [], []
    for path, rel in expand_paths(paths):
        report, height = _prepare(path, cell_size_m, window, max_upsample, flat_relief_m, keep_sea)
        reports.append(report)
        if height is not None:
            heights.append(height)
            names.append(_unique_name(rel, names))
            sources.append(rel)
    if not heights:
        why = next((f"; {Path(r.path).name}: {r.reason}" for r in reports if r.status == "skipped"), "")
        raise TerrainGanError(f"{out_path}: none of the {len(reports)} input files is a usable DEM{why}")
    arrays, heights = _encode(heights, names, sources, cell_size_m, window, flat_relief_m)
    data = ds.Dataset(heights, names, sources, cell_size_m=cell_size_m, window=window, flat_relief_m=flat_relief_m)
    counts = iter(data.window_counts())  # after quantisation, so the table matches `dataset info`
    reports = [dataclasses.replace(r, windows=int(next(counts))) if r.status == "used" else r for r in reports]
    arrays.update({k: np.float64(v) for k, v in dataclasses.asdict(data.stats).items()})
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    fileio.write_bytes(out_path, buf.getvalue())
    attribution = Path(attribution_path) if attribution_path else Path(out_path).with_suffix(".attribution.md")
    fileio.write_bytes(attribution, attribution_markdown(reports, names, sources, cell_size_m).encode())
    return {"files": reports, "regions": len(names), "valid_windows": int(data.window_counts().sum()),
            **dataclasses.asdict(data.stats), "bytes": len(buf.getvalue()), "out": str(out_path),
            "attribution": str(attribution)}


def coarsen(in_path, out_path, *, factor: int = 4, window: int = 64) -> dict:
    """Writes the dataset at `in_path` seen at `factor` x coarser cells: the means of factor x factor blocks.

    This is what a cascade's coarse level trains on: the detail level's condition is the same block
    mean of the full-resolution heights, so the two levels meet on exactly one low-pass filter. A block
    with any void is void; regions left without a usable window are dropped.
    """
    if not (isinstance(factor, int) and factor >= 2 and window >= 2):
        raise TerrainGanError(f"{out_path}: need an integer factor >= 2 and a window >= 2")
    data = ds.Dataset.load(in_path)
    kept = [(block_mean(h, factor), n, s) for h, n, s in zip(data.heights, data.names, data.sources)]
    kept = [(h, n, s) for h, n, s in kept if min(h.shape) >= window]
    cell = data.cell_size_m * factor
    kept = [(h, n, s) for h, n, s in kept
            if valid_origins(h, window, data.flat_relief_m).any()]
    if not kept:
        raise TerrainGanError(f"{in_path}: no region holds a {window}-cell window at {cell:g} m")
    heights, names, sources = (list(x) for x in zip(*kept))
    arrays, heights = _encode(heights, names, sources, cell, window, data.flat_relief_m)
    coarse = ds.Dataset(heights, names, sources, cell_size_m=cell, window=window, flat_relief_m=data.flat_relief_m)
    arrays.update({k: np.float64(v) for k, v in dataclasses.asdict(coarse.stats).items()})
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    fileio.write_bytes(out_path, buf.getvalue())
    return {"regions": len(names), "valid_windows": int(coarse.window_counts().sum()), "out": str(out_path),
            "bytes": len(buf.getvalue()), **dataclasses.asdict(coarse.stats)}


def block_mean(height: np.ndarray, factor: int) -> np.ndarray:
    """Means of factor x factor blocks from the top-left (a partial last row/column of blocks is dropped).

    >>> block_mean(np.arange(16, dtype=np.float32).reshape(4, 4), 2).tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    """
    h, w = (s // factor * factor for s in height.shape)
    blocks = height[:h, :w].reshape(h // factor, factor, w // factor, factor)
    return blocks.mean(axis=(1, 3), dtype=np.float64).astype(np.float32)  # NaN anywhere in a block: void


def _unique_name(rel: str, taken: list[str]) -> str:
    """Region name: the file name without its DEM suffix, qualified by its folder if already taken."""
    name = Path(rel).name
    suffix = dem_suffix(name) or ""
    stem = name[: len(name) - len(suffix)]
    return stem if stem not in taken else rel[: len(rel) - len(suffix)]


def _encode(heights, names, sources, cell_size_m, window, flat_relief_m):
    """Quantises regions → (npz arrays, dequantised heights so stats match what `load` sees)."""
    arrays = {"format": np.str_(ds.FORMAT), "format_version": np.int64(ds.FORMAT_VERSION),
              "cell_size_m": np.float64(cell_size_m), "window": np.int64(window),
              "flat_relief_m": np.float64(flat_relief_m), "quantum_m": np.float64(QUANTUM_M),
              "names": np.array(names, dtype=str), "sources": np.array(sources, dtype=str)}
    offsets, decoded = [], []
    for i, (h, src) in enumerate(zip(heights, sources)):
        try:
            codes, offset = ds.quantise(h, QUANTUM_M)
        except ValueError as e:
            raise TerrainGanError(f"{src}: cannot quantise: {e}") from None
        arrays[f"region_{i:03d}"] = codes
        offsets.append(offset)
        decoded.append(ds.dequantise(codes, offset, QUANTUM_M))
    arrays["offsets_m"] = np.array(offsets, np.float64)
    return arrays, decoded


def attribution_markdown(reports, names, sources, cell_size_m) -> str:
    """Markdown listing the source file of every region and the files left out."""
    lines = [f"# Sources of this terrain dataset ({cell_size_m:g} m cells)", "",
             "Each region was resampled from the file named; cite the original data providers when publishing.",
             "", "| region | source file |", "|---|---|"]
    lines += [f"| {n} | {s} |" for n, s in zip(names, sources)]
    skipped = [r for r in reports if r.status == "skipped"]
    if skipped:
        lines += ["", "## Not used", ""] + [f"- {Path(r.path).name}: {r.reason}" for r in skipped]
    return "\n".join(lines) + "\n"
