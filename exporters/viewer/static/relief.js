// The viewer's data: heights from base64 uint16 codes (a map payload, exporters/viewer), and the relief colours
// of exporters.colors.relief_rgb, recomputed here (tests/test_viewer.py runs this file in node to compare).

export function heightsOf(p) {
  const n = p.rows * p.columns;
  const bin = atob(p.heights_u16_b64);
  if (bin.length !== 2 * n) throw new Error(`expected ${n} heights, got ${bin.length / 2}`);
  const step = (p.max_height_m - p.min_height_m) / 65535;
  const h = new Float32Array(n);
  for (let i = 0; i < n; i++) h[i] = p.min_height_m + (bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8)) * step;
  return h;
}

function tint(t, pal, out) {
  const s = pal.stops;
  let k = 0;
  if (t <= s[0]) { out[0] = pal.rgb[0][0]; out[1] = pal.rgb[0][1]; out[2] = pal.rgb[0][2]; return; }
  while (k < s.length - 2 && t > s[k + 1]) k++;
  const f = Math.min(1, (t - s[k]) / (s[k + 1] - s[k]));
  for (let c = 0; c < 3; c++) out[c] = pal.rgb[k][c] + f * (pal.rgb[k + 1][c] - pal.rgb[k][c]);
}

// Height tint times (ambient + direct * hillshade), with slopes as numpy.gradient takes them (central
// differences, one-sided at the edges) on the exaggerated heights, so the shading follows the slider.
export function reliefColors(h, p, z, out) {
  const { rows, columns: cols, cell_size_m: cell, palette: pal } = p;
  const [lo, hi] = p.color_range;
  const span = Math.max(hi - lo, 1e-6);
  const az = pal.azimuth_deg * Math.PI / 180, alt = pal.altitude_deg * Math.PI / 180;
  const lx = Math.sin(az) * Math.cos(alt), ly = Math.cos(az) * Math.cos(alt), lz = Math.sin(alt);
  const rgb = [0, 0, 0];
  for (let r = 0; r < rows; r++) {
    const r0 = r > 0 ? r - 1 : r, r1 = r < rows - 1 ? r + 1 : r;
    for (let c = 0; c < cols; c++) {
      const c0 = c > 0 ? c - 1 : c, c1 = c < cols - 1 ? c + 1 : c;
      const i = r * cols + c;
      const dzRow = (h[r1 * cols + c] - h[r0 * cols + c]) * z / ((r1 - r0) * cell);
      const dzCol = (h[r * cols + c1] - h[r * cols + c0]) * z / ((c1 - c0) * cell);
      const nx = -dzCol, ny = dzRow;  // x east, y north
      const shade = Math.min(1, Math.max(0, (nx * lx + ny * ly + lz) / Math.sqrt(nx * nx + ny * ny + 1)));
      tint((h[i] - lo) / span, pal, rgb);
      const k = pal.ambient + pal.direct * shade;
      for (let ch = 0; ch < 3; ch++) out[3 * i + ch] = Math.min(255, Math.floor(rgb[ch] * k)) / 255;
    }
  }
}
