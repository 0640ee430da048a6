"""`generate`: a heightmap in metres from a trained model, and the files `terrain-gan generate` writes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from terrain_gan import pretrained
from terrain_gan.errors import TerrainGanError
from terrain_gan.world import synth


@dataclasses.dataclass(frozen=True)
class Heightmap:
    """Heights in metres (row 0 north, column 0 west) on square cells of `cell_size_m`."""

    height: np.ndarray
    cell_size_m: float
    seed: int
    model_id: str
    origin: tuple[int, int] = (0, 0)  # world (row, column) of sample [0, 0]

    def sidecar(self) -> dict:
        """What the JSON beside each written file records."""
        return dict(cell_size_m=self.cell_size_m, min_height_m=float(self.height.min()),
                    max_height_m=float(self.height.max()), seed=self.seed, model_id=self.model_id,
                    rows=int(self.height.shape[0]), columns=int(self.height.shape[1]),
                    origin_row=self.origin[0], origin_column=self.origin[1], height_units="m")


def generate(seed: int = 0, size: int | tuple[int, int] = 1025, model="default", *,
             origin: tuple[int, int] = (0, 0)) -> Heightmap:
    """Generates terrain: the region of world `seed` starting at `origin`, `size` samples square.

    Any size works (2^n+1 sizes suit Unity and Godot); the same seed gives identical heights,
    and overlapping requests agree exactly where they overlap.

    >>> hm = generate(seed=42, size=65)
    >>> hm.height.shape, hm.height.dtype.name, hm.cell_size_m
    ((65, 65), 'float32', 90.0)
    """
    model = pretrained.load_model(model)
    rows, cols = (size, size) if np.isscalar(size) else size
    synth.check_size(int(rows), int(cols))
    cache = synth.ChunkCache(model, seed)
    height = cache.region(int(origin[0]), int(origin[1]), int(rows), int(cols))
    return Heightmap(height, model.cell_size_m, cache.seed, model.model_id, (int(origin[0]), int(origin[1])))


# Extra outputs `--also` can ask for, beside the 16-bit PNG: exporter formats, a preview, the 3D viewer
# as one self-contained page (exporters.viewer) and texturing masks with splat maps (exporters.masks).
EXTRA_OUTPUTS = ("npy", "tif", "exr", "r16", "raw16", "preview", "glb", "gltf", "obj", "unity", "godot",
                 "html", "masks")
# Of those, the meshes and engine bundles made by `exporters.export_parts` (default ExportOptions).
MESH_OUTPUTS = ("glb", "gltf", "obj", "unity", "godot")
_PARTS = MESH_OUTPUTS + ("masks",)


@dataclasses.dataclass(frozen=True)
class GeneratePlan:
    """A checked `terrain-gan generate`: what to make and where."""

    seed: int
    size: int
    model: str | Path
    out: Path
    also: tuple[str, ...]


def plan(seed: int = 0, size: int = 1025, model: str | Path = "default", *, out: str | Path,
         also: str | tuple[str, ...] = ()) -> GeneratePlan:
    """Checks every option of a generate run and its output path; nothing is generated or written.

    Args:
      seed, size, model: as `generate` takes them.
      out: the 16-bit .png to write (a .json sidecar goes beside it); its folder must exist.
      also: extra outputs (EXTRA_OUTPUTS), a tuple or a comma-separated string.

    >>> plan(42, 65, out="t.png", also="npy,preview").also
    ('npy', 'preview')
    """
    from exporters.heightmap import require_openexr
    from exporters.unity import UNITY_RESOLUTIONS

    out = Path(out)
    also = tuple(a for a in (also.split(",") if isinstance(also, str) else also) if a)
    if not out.parent.is_dir():
        raise TerrainGanError(f"{out}: output folder {out.parent} does not exist")
    if out.is_dir():
        raise TerrainGanError(f"{out}: is a folder, expected a .png file path")
    _check_outputs(out, also)
    if {"exr", "godot"} & set(also):
        require_openexr()
    if "unity" in also and size not in UNITY_RESOLUTIONS:
        raise TerrainGanError(f"--also unity needs --size 2^n+1 (33, 65, ..., 4097), got {size}; "
                              "or export the PNG later with `terrain-gan export --formats unity --resample`")
    return GeneratePlan(int(seed), int(size), model, out, also)


def run(p: GeneratePlan) -> list[Path]:
    """Generates the plan's heightmap and writes its files atomically; returns the paths written."""
    import exporters

    hm = generate(seed=p.seed, size=p.size, model=p.model)
    return exporters.write_files(output_files(hm, p.out, p.also))


def _check_outputs(out: Path, also: tuple[str, ...]) -> None:
    if out.suffix.lower() != ".png":
        raise TerrainGanError(f"{out}: --out must be a .png file (a 16-bit PNG heightmap)")
    unknown = sorted(set(also) - set(EXTRA_OUTPUTS))
    if unknown:
        raise TerrainGanError(f"unknown output {unknown[0]!r}; choose from {', '.join(EXTRA_OUTPUTS)}")


def output_files(hm: Heightmap, out: str | Path, also: tuple[str, ...] = ()) -> dict[Path, bytes]:
    """Encodes every requested file in memory: {path: bytes or chunk iterator}, nothing written yet."""
    import exporters

    out = Path(out)
    _check_outputs(out, also)
    files, meta = {}, hm.sidecar()
    data, info = exporters.encode_heightmap(hm.height, "png16", cell_size_m=hm.cell_size_m, name=str(out))
    files[out] = data
    meta.update(png16={k: info[k] for k in ("min_height_m", "max_height_m", "height_step_m", "encoding")})
    if "html" in also:  # the map in the 3D viewer, one file: the PNG's own codes, three.js inlined
        from exporters.viewer import viewer_html

        files[out.with_suffix(".html")] = viewer_html(hm.height, hm.cell_size_m, meta, title=out.name)
    for fmt in [f for f in also if f != "html"]:
        if fmt == "preview":
            files[out.with_name(out.stem + "_preview.png")] = _preview_png(hm)
        elif fmt not in _PARTS:
            suffix = exporters.HEIGHTMAP_FORMATS[fmt].suffix
            files[out.with_suffix(suffix)] = exporters.encode_heightmap(
                hm.height, fmt, cell_size_m=hm.cell_size_m, name=str(out.with_suffix(suffix)))[0]
    mesh = [fmt for fmt in also if fmt in _PARTS]
    if mesh:
        from exporters.export import export_parts

        made, sections, _ = export_parts(hm.height, out.with_suffix(""), mesh, cell_size_m=hm.cell_size_m)
        files.update(made)  # "godot" brings its own .exr / .r16: the same bytes as --also exr,r16 would
        meta.update({k: v for k, v in sections.items() if k in _PARTS})
    files[exporters.sidecar_path(out)] = exporters.json_bytes(meta)
    return files


def _preview_png(hm: Heightmap) -> bytes:
    import imageio.v3 as iio

    from exporters.colors import relief_rgb

    return iio.imwrite("<bytes>", relief_rgb(hm.height, hm.cell_size_m), extension=".png")
