"""The 3D viewer: `terrain-gan view` serves a map or a world folder on 127.0.0.1, `--also html` writes one
self-contained page; both draw every sample of the map (counted by the page itself, in headless Chromium)
and the picture shows terrain, not an empty canvas.

The browser tests skip only when chromium is absent (`.ci/run` installs it)."""

from __future__ import annotations

import base64
import json
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from exporters import dequantize_u16, read_heightmap, write_files
from exporters.colors import relief_rgb
from exporters.viewer import STATIC_DIR, map_payload
from terrain_gan import generation
from terrain_gan.cli import main, view_server

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
SIZE = 129
BACKGROUND = (0x1D, 0x24, 0x30)  # the page's background, where no terrain is drawn


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """t.png, t.json and t.html of a real 129 x 129 map (a corner of samples/seed42) via `--also html`."""
    h, meta = read_heightmap(REPO / "samples" / "seed42.png")
    hm = generation.Heightmap(h[:SIZE, :SIZE], meta["cell_size_m"], meta["seed"], meta["model_id"])
    out = tmp_path_factory.mktemp("view") / "t.png"
    write_files(generation.output_files(hm, out, ("html",)))
    return out


def chromium(url: str, *args: str, tmp_path: Path) -> str:
    """Headless Chromium (software WebGL) on `url` with `args`; returns its stdout."""
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'chromium-profile'}", "--enable-unsafe-swiftshader",
           "--use-angle=swiftshader", "--window-size=800,600", "--virtual-time-budget=30000", *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=True).stdout


def body_of(url: str, tmp_path: Path) -> dict:
    """The attributes the page wrote on <body> once loaded (status, vertices, tiles, error)."""
    dom = chromium(url, "--dump-dom", tmp_path=tmp_path)
    tag = re.search(r"<body([^>]*)>", dom).group(1)
    return dict(re.findall(r'data-([a-z]+)="([^"]*)"', tag)) | {"dom": dom}


def assert_terrain_in_the_middle(url: str, tmp_path: Path) -> None:
    """A screenshot whose centre is nearly all drawn (not background) in many colours: a shaded surface."""
    shot = tmp_path / "shot.png"
    chromium(url, f"--screenshot={shot}", tmp_path=tmp_path)
    rgb = iio.imread(shot)[..., :3].astype(int)
    centre = rgb[260:440, 250:600].reshape(-1, 3)  # below and right of the facts panel: the framed map
    drawn = np.abs(centre - BACKGROUND).sum(axis=1) > 12
    assert drawn.mean() > 0.9, f"only {drawn.mean():.0%} of the centre is terrain"
    assert len(np.unique(centre, axis=0)) > 1000  # relief shading, not a flat fill


def test_html_holds_the_pngs_codes_and_fetches_nothing(made):
    page = made.with_suffix(".html").read_text()
    source = json.loads(re.search(r'id="terrain-source">(.*?)</script>', page).group(1))["payload"]
    codes = np.frombuffer(base64.b64decode(source["heights_u16_b64"]), "<u2").reshape(source["rows"], -1)
    assert np.array_equal(codes, iio.imread(made))  # bit for bit the 16-bit PNG beside it
    side = json.loads(made.with_suffix(".json").read_text())
    assert [source["min_height_m"], source["max_height_m"]] == [side["min_height_m"], side["max_height_m"]]
    assert ["Seed", "42"] in source["facts"] and ["Cell size", "90 m"] in source["facts"]
    imports = json.loads(re.search(r'type="importmap">(.*?)</script>', page).group(1))["imports"]
    assert sorted(imports) == ["terrain-gan/relief.js", "three", "three/addons/controls/OrbitControls.js"]
    assert all(v.startswith("data:text/javascript;base64,") for v in imports.values())
    assert base64.b64decode(imports["three"].split(",", 1)[1]) == (STATIC_DIR / "three.module.min.js").read_bytes()
    assert not re.search(r"\b(src|href)=|url\(", page)  # nothing else to fetch: it opens from file://


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_pages_relief_colours_are_the_previews(made, tmp_path):
    """static/relief.js (run in node) colours a map as exporters.colors.relief_rgb does, at 1 x exaggeration."""
    payload = map_payload(read_heightmap(made)[0][:65, :65], 90.0)
    (tmp_path / "p.json").write_text(json.dumps(payload))
    script = (f"import {{heightsOf, reliefColors}} from '{(STATIC_DIR / 'relief.js').as_uri()}';\n"
              f"import {{readFileSync}} from 'node:fs';\n"
              f"const p = JSON.parse(readFileSync('{tmp_path / 'p.json'}', 'utf8'));\n"
              "const h = heightsOf(p), out = new Float32Array(3 * h.length);\n"
              "reliefColors(h, p, 1, out);\n"
              "console.log(JSON.stringify(Array.from(out, (v) => Math.round(v * 255))));\n")
    run = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60)
    js = np.array(json.loads(run.stdout), np.int64).reshape(65, 65, 3)
    codes = np.frombuffer(base64.b64decode(payload["heights_u16_b64"]), "<u2").reshape(65, 65)
    h = dequantize_u16(codes, payload["min_height_m"], payload["max_height_m"])  # what the page draws
    py = relief_rgb(h, 90.0, payload["color_range"]).astype(np.int64)
    assert js.std() > 10 and np.array_equal(js, py)  # the same float64 steps in the same order: the same bytes


def test_plan_takes_html(tmp_path):
    assert generation.plan(42, 65, out=tmp_path / "t.png", also="html,preview").also == ("html", "preview")


@needs_chromium
def test_self_contained_html_draws_every_sample_from_file_url(made, tmp_path):
    url = made.with_suffix(".html").as_uri()
    body = body_of(url, tmp_path)
    assert (body.get("status"), body.get("vertices")) == ("ready", str(SIZE * SIZE)), body.get("error")
    model_id = json.loads((REPO / "samples" / "seed42.json").read_text())["model_id"]
    assert "11.5 x 11.5 km (129 x 129 samples)" in body["dom"] and model_id in body["dom"]
    assert_terrain_in_the_middle(url, tmp_path)


@needs_chromium
def test_served_map_draws_every_sample_and_ctrl_c_stops_cleanly(made, tmp_path):
    # Started with SIGINT ignored, as a script's background job is: Ctrl-C must stop it all the same.
    # (through sh, not preexec_fn: forking this process, which has JAX loaded, is unsafe)
    proc = subprocess.Popen(["sh", "-c", 'trap "" INT; exec "$0" -m terrain_gan.cli view "$1" --no-browser',
                             sys.executable, str(made)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        body = body_of(url, tmp_path)
        assert (body.get("status"), body.get("vertices")) == ("ready", str(SIZE * SIZE)), body.get("error")
        assert "Seed" in body["dom"] and "42" in body["dom"]
        assert_terrain_in_the_middle(url, tmp_path)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()  # still serving: Ctrl-C did not stop it
            raise
    assert proc.returncode == 0 and "Traceback" not in err and "stopped" in err


# Once the page is ready, a click on the overview in tile (3, 0), the north-east corner.
_CLICK_NE_CORNER = b"""<script>
new MutationObserver((_, observer) => {
  if (document.body.dataset.status !== 'ready') return;
  observer.disconnect();
  document.body.dataset.first = document.body.dataset.tiles;
  const img = document.getElementById('overview');
  const click = () => {
    const r = img.getBoundingClientRect();
    img.dispatchEvent(new MouseEvent('click', { bubbles: true, clientX: r.left + r.width * 3.5 / 4,
                                                clientY: r.top + r.height * 0.5 / 4 }));
  };
  if (img.complete) click(); else img.addEventListener('load', click);
}).observe(document.body, { attributes: true });
</script>
"""


@needs_chromium
def test_world_folder_loads_a_tile_and_its_neighbours_then_a_clicked_one(tmp_path):
    routes = view_server.open_source(REPO / "samples" / "world7")
    routes["/click"] = routes["/"].replace(b"</body>", _CLICK_NE_CORNER + b"</body>")
    server, _ = view_server.start(routes)
    url = view_server.url_of(server)
    try:
        body = body_of(url + "click", tmp_path)
        with pytest.raises(urllib.error.HTTPError, match="404"):
            urllib.request.urlopen(url + "tile/9_9.json", timeout=10)
    finally:
        server.shutdown()
        server.server_close()
    # First the middle tile (1, 1) of the 4 x 4 world with its 8 neighbours, then the clicked corner with 3.
    assert sorted(body["first"].split(",")) == [f"{x}_{z}" for x in range(3) for z in range(3)]
    assert (body.get("status"), body.get("vertices")) == ("ready", str(4 * 257 * 257)), body.get("error")
    assert sorted(body["tiles"].split(",")) == ["2_0", "2_1", "3_0", "3_1"]
    assert 'src="overview.png"' in body["dom"] and "4 x 4 tiles of 257 samples" in body["dom"]
    assert "3, 0 (x east, z south)" in body["dom"]


def test_world_index_and_tiles_are_served_without_a_browser():
    server, _ = view_server.start(view_server.open_source(REPO / "samples" / "world7"))
    url = view_server.url_of(server)
    try:
        index = json.loads(urllib.request.urlopen(url + "world.json", timeout=10).read())
        tile = json.loads(urllib.request.urlopen(url + "tile/1_2.json", timeout=10).read())
        page = urllib.request.urlopen(url, timeout=10).read()
    finally:
        server.shutdown()
        server.server_close()
    assert index["grid"] == [4, 4] and len(index["tiles"]) == 16 and index["tile_size"] == 257
    h, _ = read_heightmap(REPO / "samples" / "world7" / "tile_1_2.png")
    codes = np.frombuffer(base64.b64decode(tile["heights_u16_b64"]), "<u2")
    lo, hi = tile["min_height_m"], tile["max_height_m"]
    assert np.allclose(lo + codes * (hi - lo) / 65535, h.ravel(), atol=(hi - lo) / 65535)
    tiles = json.loads((REPO / "samples" / "world7" / "manifest.json").read_text())["tiles"].values()
    assert tile["color_range"] == [min(t["min_m"] for t in tiles), max(t["max_m"] for t in tiles)]  # one for all
    assert b'"./static/three.module.min.js"' in page


def run_error(capsys, argv) -> str:
    """Runs the CLI expecting a user error: exit 2 and exactly one line on stderr, which it returns."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("terrain-gan: error: ") and "Traceback" not in err
    return err


def test_view_bad_path_is_one_line_exit_2(tmp_path, capsys):
    assert "no such heightmap file or world folder" in run_error(capsys, ["view", str(tmp_path / "nope.png")])
    assert "without manifest.json" in run_error(capsys, ["view", str(tmp_path)])
    (tmp_path / "t.png").write_bytes(b"not a png")
    assert "sidecar" in run_error(capsys, ["view", str(tmp_path / "t.png")])
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "manifest.json").write_text("{}")
    assert "not a terrain_gan world manifest" in run_error(capsys, ["view", str(tmp_path / "w")])
    (tmp_path / "w" / "manifest.json").write_text(json.dumps(dict(format="terrain_gan/world-v1", grid=[2, 2],
                                                                  tile_size=65, world={}, tiles={"0_0": "x"})))
    assert "holds no heightmap tiles" in run_error(capsys, ["view", str(tmp_path / "w" / "manifest.json")])
    assert "--port" in run_error(capsys, ["view", str(REPO / "samples" / "seed7.png"), "--port", "70000"])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        assert "cannot serve on 127.0.0.1:" in run_error(capsys, ["view", str(REPO / "samples" / "seed7.png"),
                                                                  "--port", port, "--no-browser"])
