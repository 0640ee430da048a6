// terrain_gan 3D viewer: a heightmap, or a world's tile and its neighbours, as relief-coloured three.js meshes.
// Scene units are kilometres; +Y up, north = -Z, row 0 north, column 0 west (the exporters' convention).
// The page reports what it drew on <body>: data-status (loading | ready | error), data-vertices, data-tiles.
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { heightsOf, reliefColors } from 'terrain-gan/relief.js';

const $ = (id) => document.getElementById(id);
const KM = 1000;
const body = document.body;
const source = JSON.parse($('terrain-source').textContent);

function setStatus(text, state) {
  $('status').textContent = text;
  $('status').className = state === 'error' ? 'error' : '';
  body.dataset.status = state;
}

function fail(err) {
  const message = String(err && err.message ? err.message : err);
  body.dataset.error = message;
  setStatus(message, 'error');
}
window.addEventListener('error', (e) => fail(e.message));
window.addEventListener('unhandledrejection', (e) => fail(e.reason));

// --- three.js: one mesh per heightmap, redrawn only when something changes ---

let renderer;
try {
  renderer = new THREE.WebGLRenderer({ canvas: $('view'), antialias: true, preserveDrawingBuffer: true });
} catch (e) {
  throw new Error('WebGL is not available in this browser');
}
renderer.outputColorSpace = THREE.LinearSRGBColorSpace;  // the vertex colours are final sRGB values: no re-encoding
renderer.setPixelRatio(window.devicePixelRatio || 1);
const scene = new THREE.Scene();
scene.background = new THREE.Color().setRGB(0x1d / 255, 0x24 / 255, 0x30 / 255, THREE.LinearSRGBColorSpace);  // the page's
const camera = new THREE.PerspectiveCamera(45, 1, 0.01, 20000);
const controls = new OrbitControls(camera, renderer.domElement);
const render = () => renderer.render(scene, camera);
controls.addEventListener('change', render);
let meshes = [];
let exaggeration = parseFloat($('exaggeration').value);

function resize() {
  const w = window.innerWidth, hgt = window.innerHeight;
  renderer.setSize(w, hgt, false);
  camera.aspect = w / Math.max(hgt, 1);
  camera.updateProjectionMatrix();
  render();
}
window.addEventListener('resize', resize);

function terrainMesh(p, offsetXKm, offsetZKm) {
  const { rows, columns: cols, cell_size_m: cell } = p;
  const n = rows * cols;
  const pos = new Float32Array(3 * n);
  const x0 = offsetXKm - (cols - 1) * cell / KM / 2, z0 = offsetZKm - (rows - 1) * cell / KM / 2;
  for (let r = 0, i = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++, i++) { pos[3 * i] = x0 + c * cell / KM; pos[3 * i + 2] = z0 + r * cell / KM; }
  }
  const index = new Uint32Array(6 * (rows - 1) * (cols - 1));
  for (let r = 0, k = 0; r < rows - 1; r++) {
    for (let c = 0; c < cols - 1; c++) {
      const a = r * cols + c, b = a + 1, d = a + cols, e = d + 1;  // b east of a, d south of a
      index[k++] = a; index[k++] = d; index[k++] = b;  // counter-clockwise seen from above
      index[k++] = b; index[k++] = d; index[k++] = e;
    }
  }
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.BufferAttribute(pos, 3));
  geometry.setAttribute('color', new THREE.BufferAttribute(new Float32Array(3 * n), 3));
  geometry.setIndex(new THREE.BufferAttribute(index, 1));
  const mesh = new THREE.Mesh(geometry, new THREE.MeshBasicMaterial({ vertexColors: true, side: THREE.DoubleSide }));
  mesh.userData = { h: heightsOf(p), p };
  exaggerate(mesh);
  return mesh;
}

function exaggerate(mesh) {
  const { h, p } = mesh.userData;
  const pos = mesh.geometry.attributes.position, col = mesh.geometry.attributes.color;
  for (let i = 0; i < h.length; i++) pos.array[3 * i + 1] = h[i] * exaggeration / KM;
  reliefColors(h, p, exaggeration, col.array);
  pos.needsUpdate = true;
  col.needsUpdate = true;
  mesh.geometry.computeBoundingBox();
  mesh.geometry.computeBoundingSphere();
}

function show(newMeshes) {
  for (const m of meshes) { scene.remove(m); m.geometry.dispose(); m.material.dispose(); }
  meshes = newMeshes;
  for (const m of meshes) scene.add(m);
  const box = new THREE.Box3();
  for (const m of meshes) box.expandByObject(m);
  const centre = box.getCenter(new THREE.Vector3()), size = box.getSize(new THREE.Vector3());
  const d = Math.max(size.x, size.z, 1e-3);
  controls.target.copy(centre);
  camera.position.set(centre.x, centre.y + 0.9 * d, centre.z + 1.2 * d);  // from the south, looking north
  camera.near = d / 1000; camera.far = d * 20;
  camera.updateProjectionMatrix();
  controls.update();
  body.dataset.vertices = String(meshes.reduce((s, m) => s + m.geometry.attributes.position.count, 0));
  resize();
}

$('exaggeration').addEventListener('input', () => {
  exaggeration = parseFloat($('exaggeration').value);
  $('exaggeration-value').textContent = exaggeration.toFixed(1);
  for (const m of meshes) exaggerate(m);
  render();
});

function showFacts(rows) {
  const dl = $('facts');
  dl.replaceChildren();
  for (const [label, value] of rows) {
    const dt = document.createElement('dt'), dd = document.createElement('dd');
    dt.textContent = label; dd.textContent = value;
    dl.append(dt, dd);
  }
}

async function getJson(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status} ${r.statusText}`);
  return r.json();
}

// --- a heightmap ---

async function showMap() {
  const p = source.payload || await getJson(source.url);
  showFacts(p.facts);
  show([terrainMesh(p, 0, 0)]);
  setStatus(`${p.columns} x ${p.rows} samples. Drag to orbit, scroll to zoom, right-drag to pan.`, 'ready');
}

// --- a world: the overview is a map; a click loads that tile and its neighbours (up to 3 x 3) ---

function tileFromHash(w) {
  const m = /tile=(\d+)_(\d+)/.exec(location.hash);
  if (m && w.tiles.includes(`${m[1]}_${m[2]}`)) return [Number(m[1]), Number(m[2])];
  const centre = `${Math.floor((w.grid[0] - 1) / 2)}_${Math.floor((w.grid[1] - 1) / 2)}`;
  return (w.tiles.includes(centre) ? centre : w.tiles[0]).split('_').map(Number);
}

function markTiles(w, keys, selected) {
  for (const el of document.querySelectorAll('.mark')) el.remove();
  for (const key of keys) {
    const [x, z] = key.split('_').map(Number);
    const el = document.createElement('div');
    el.className = key === selected ? 'mark selected' : 'mark';
    Object.assign(el.style, { left: `${100 * x / w.grid[0]}%`, top: `${100 * z / w.grid[1]}%`,
                              width: `${100 / w.grid[0]}%`, height: `${100 / w.grid[1]}%` });
    $('world').append(el);
  }
}

let loading = 0;
async function loadTiles(w) {
  const [x, z] = tileFromHash(w);
  const ticket = ++loading;
  setStatus(`Loading tile ${x}, ${z} and its neighbours...`, 'loading');
  const keys = [];
  for (let dz = -1; dz <= 1; dz++) {
    for (let dx = -1; dx <= 1; dx++) if (w.tiles.includes(`${x + dx}_${z + dz}`)) keys.push(`${x + dx}_${z + dz}`);
  }
  const payloads = await Promise.all(keys.map((k) => getJson(`${w.tile_url}${k}.json`)));
  if (ticket !== loading) return;  // a later click won
  const made = payloads.map((p, i) => {
    const [tx, tz] = keys[i].split('_').map(Number);
    const spanKm = (p.columns - 1) * p.cell_size_m / KM;  // neighbouring tiles share their border samples
    return terrainMesh(p, (tx - x) * spanKm, (tz - z) * spanKm);
  });
  showFacts([...w.facts, ['Tile', `${x}, ${z} (x east, z south)`], ...payloads[keys.indexOf(`${x}_${z}`)].facts]);
  markTiles(w, keys, `${x}_${z}`);
  show(made);
  body.dataset.tiles = keys.join(',');
  setStatus(`Tile ${x}, ${z} and ${keys.length - 1} neighbours. Click the map for another tile.`, 'ready');
}

async function showWorld() {
  const w = await getJson(source.url);
  $('world').hidden = false;
  $('overview').src = w.overview;
  $('overview').addEventListener('click', (e) => {
    const rect = e.target.getBoundingClientRect();
    const x = Math.min(w.grid[0] - 1, Math.floor((e.clientX - rect.left) / rect.width * w.grid[0]));
    const z = Math.min(w.grid[1] - 1, Math.floor((e.clientY - rect.top) / rect.height * w.grid[1]));
    location.hash = `tile=${x}_${z}`;
  });
  window.addEventListener('hashchange', () => loadTiles(w).catch(fail));
  await loadTiles(w);
}

(source.mode === 'world' ? showWorld() : showMap()).catch(fail);
