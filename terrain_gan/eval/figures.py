"""Side-by-side shaded relief of real regions and generated maps, at one scale and one colour ramp.

Every panel is the same number of kilometres wide at the same pixels per kilometre (a crop smaller
than the panel leaves a margin, never a zoom), and every height gets the same colour in every panel
(`exporters.colors.relief_rgb` over one shared height range), so what differs between panels is the
terrain, not the rendering. Voids (masked sea) are drawn in `VOID_RGB`.
"""

from __future__ import annotations

import dataclasses
import io

import numpy as np

from exporters.colors import relief_rgb
from terrain_gan.errors import TerrainGanError

# Real regions shown by default, by dataset region name, with what a reader knows them as.
REGIONS = (("N50E011", "Thuringian Forest (held out)"),
           ("SRTMGL3_39.83400503127928_-105.81599496872073_40.465994968720715_-105.18400503127927",
            "Colorado Front Range (held out)"),
           ("N44E005", "Mont Ventoux"), ("mt_everest_90m", "Everest"), ("mt_rainier_90m", "Rainier"),
           ("N55W003", "Southern Uplands"))
VOID_RGB = (200, 215, 230)
MARGIN_RGB = (255, 255, 255)
PANEL_INCHES = 2.6
DPI = 160


@dataclasses.dataclass(frozen=True)
class Panel:
    """One map in metres (NaN = void) and its title."""

    title: str
    height: np.ndarray


def centre_crop(height_HxW: np.ndarray, size: int) -> np.ndarray:
    """The centred crop of at most size x size cells (the whole axis where it is shorter).

    >>> centre_crop(np.zeros((10, 3)), 4).shape
    (4, 3)
    """
    r0, c0 = (max(0, (n - size) // 2) for n in height_HxW.shape)
    return height_HxW[r0:r0 + size, c0:c0 + size]


def real_panels(datasets, size: int = 1025, regions=REGIONS) -> list[Panel]:
    """Centred crops of the `regions` ((name, label) pairs) found in `datasets`, in that order.

    Raises:
      TerrainGanError: none of the regions is in the datasets.
    """
    found = {name: h for data in datasets for name, h in zip(data.names, data.heights)}
    panels = [Panel(label, centre_crop(found[name], size)) for name, label in regions if name in found]
    if not panels:
        raise TerrainGanError(f"none of the figure's regions ({', '.join(n for n, _ in regions)}) is in the datasets")
    return panels


def model_panels(model, label: str, seeds, size: int = 1025) -> list[Panel]:
    """One generated size² map per seed, titled with the model's label and the seed."""
    from terrain_gan import generation

    return [Panel(f"{label}, seed {s}", generation.generate(seed=int(s), size=size, model=model).height)
            for s in seeds]


def panel_rgb(height_HxW: np.ndarray, cell_size_m: float, height_range: tuple[float, float]) -> np.ndarray:
    """Relief colouring over `height_range` metres, voids in VOID_RGB; uint8 (H, W, 3)."""
    void = ~np.isfinite(height_HxW)
    filled = np.where(void, np.float32(np.nanmin(height_HxW)) if (~void).any() else 0.0, height_HxW)
    rgb = relief_rgb(filled, cell_size_m, height_range)
    rgb[void] = VOID_RGB
    return rgb


def shared_range(rows) -> tuple[float, float]:
    """(lowest, highest) height over every panel of every row, metres."""
    heights = [p.height for _, panels in rows for p in panels if np.isfinite(p.height).any()]
    return min(float(np.nanmin(h)) for h in heights), max(float(np.nanmax(h)) for h in heights)


def relief_figure(rows, *, cell_size_m: float, panel_cells: int = 1025, height_range=None) -> bytes:
    """A PNG of shaded relief panels: one figure row per (row label, [Panel, ...]) in `rows`.

    Args:
      rows: [(label, panels)], e.g. [("real", real_panels(...)), ("default", model_panels(...))].
      cell_size_m: the cell size of every panel's heights.
      panel_cells: panel side in cells; every panel spans panel_cells * cell_size_m metres.
      height_range: (lo, hi) metres of the colour ramp (default: `shared_range` of all panels).
    """
    from matplotlib.figure import Figure  # no pyplot: no global figure state, no GUI backend

    lo, hi = shared_range(rows) if height_range is None else height_range
    side_km = panel_cells * cell_size_m / 1000.0
    cols = max(len(panels) for _, panels in rows)
    fig = Figure(figsize=(cols * PANEL_INCHES, len(rows) * (PANEL_INCHES + 0.3) + 0.5), dpi=DPI)
    axes = fig.subplots(len(rows), cols, squeeze=False)
    for r, (label, panels) in enumerate(rows):
        for c, ax in enumerate(axes[r]):
            ax.set_xticks([]), ax.set_yticks([])
            ax.set_facecolor(np.array(MARGIN_RGB) / 255)
            for spine in ax.spines.values():
                spine.set_visible(c < len(panels))
            if c < len(panels):
                _draw(ax, panels[c], cell_size_m, (lo, hi), side_km)
        axes[r][0].set_ylabel(label, fontsize=10)
    fig.suptitle(f"every panel {side_km:.0f} km wide at {cell_size_m:g} m cells; one colour ramp, "
                 f"{lo:.0f} m (green) to {hi:.0f} m (white)", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _draw(ax, panel: Panel, cell_size_m: float, height_range, side_km: float) -> None:
    """One panel at its true size in km inside a side_km square, titled with its name."""
    rows, cols = panel.height.shape
    km = cell_size_m / 1000.0
    ax.imshow(panel_rgb(panel.height, cell_size_m, height_range), extent=(0, cols * km, rows * km, 0),
              interpolation="antialiased")
    ax.set_xlim(0, side_km), ax.set_ylim(side_km, 0)
    ax.set_title(panel.title, fontsize=8)
