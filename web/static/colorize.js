// colorlib in the browser: colour a picture the way colorlib.colorize does (scale="auto"), client-side.
//
// The same steps, in the same order, with the same constants as colorlib/colorize.py and
// colorlib/pixels.py: BT.601 luma in 16-bit fixed point (Pillow's "L"), the working size (shorter side
// WORKING_SIDE, Python's round-half-to-even), area averaging down, edge padding to a multiple of 4,
// the network (onnxruntime-web, the ONNX file `colorlib export-onnx` writes), argmax or annealed-mean
// decoding in the palette's own space, bilinear upsampling (align_corners=False), and the input's own
// luma put back exactly (with_luma). The picture never leaves the page: nothing is uploaded.

import * as ort from "./ort/ort.wasm.min.mjs";

ort.env.wasm.wasmPaths = new URL("./ort/", import.meta.url).href;
ort.env.wasm.numThreads = 1; // a plain static server is not cross-origin isolated: no shared memory

const W = [19595, 38470, 7471]; // BT.601 luma weights × 65536, exactly as Pillow's convert("L")

export const luma = (r, g, b) => (W[0] * r + W[1] * g + W[2] * b + 32768) >>> 16;

// Python's round(): halves go to the even neighbour (JavaScript's Math.round goes up).
export function roundHalfEven(x) {
  const f = Math.floor(x), d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export function workingSize(h, w, side) {
  if (Math.min(h, w) <= side) return [h, w];
  const f = side / Math.min(h, w);
  return [Math.max(1, roundHalfEven(h * f)), Math.max(1, roundHalfEven(w * f))];
}

// torch.nn.functional.interpolate(mode="area"), i.e. adaptive average pooling, on one H×W plane.
export function areaResize(src, h, w, oh, ow) {
  const out = new Float32Array(oh * ow);
  for (let i = 0; i < oh; i++) {
    const y0 = Math.floor((i * h) / oh), y1 = Math.ceil(((i + 1) * h) / oh);
    for (let j = 0; j < ow; j++) {
      const x0 = Math.floor((j * w) / ow), x1 = Math.ceil(((j + 1) * w) / ow);
      let sum = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += src[y * w + x];
      out[i * ow + j] = sum / ((y1 - y0) * (x1 - x0));
    }
  }
  return out;
}

// torch.nn.functional.interpolate(mode="bilinear", align_corners=False) of C interleaved channels.
export function bilinearResize(src, h, w, c, oh, ow) {
  const out = new Float32Array(oh * ow * c);
  const sy = h / oh, sx = w / ow;
  for (let i = 0; i < oh; i++) {
    const fy = Math.max(sy * (i + 0.5) - 0.5, 0);
    const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, h - 1), ly = fy - y0;
    for (let j = 0; j < ow; j++) {
      const fx = Math.max(sx * (j + 0.5) - 0.5, 0);
      const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, w - 1), lx = fx - x0;
      for (let k = 0; k < c; k++) {
        const a = src[(y0 * w + x0) * c + k], b = src[(y0 * w + x1) * c + k];
        const d = src[(y1 * w + x0) * c + k], e = src[(y1 * w + x1) * c + k];
        out[(i * ow + j) * c + k] = (1 - ly) * ((1 - lx) * a + lx * b) + ly * ((1 - lx) * d + lx * e);
      }
    }
  }
  return out;
}

// scikit-image's lab2rgb (D65, 2° observer) for one colour: Lab → sRGB in [0, 1], clipped.
export function lab2rgb(L, a, b) {
  let y = (L + 16) / 116, x = a / 500 + y, z = y - b / 200;
  if (z < 0) z = 0;
  const f = (t) => (t > 0.2068966 ? t * t * t : (t - 16 / 116) / 7.787);
  const X = f(x) * 0.95047, Y = f(y) * 1.0, Z = f(z) * 1.08883;
  const lin = [
    3.24048134 * X - 1.53715152 * Y - 0.49853633 * Z,
    -0.96925495 * X + 1.87599 * Y + 0.04155593 * Z,
    0.05564664 * X - 0.20404134 * Y + 1.05731107 * Z,
  ];
  return lin.map((v) => {
    const g = v > 0.0031308 ? 1.055 * Math.pow(v, 1 / 2.4) - 0.055 : v * 12.92;
    return Math.min(Math.max(g, 0), 1);
  });
}

// CIELAB of sRGB colours in 0..255 (scikit-image's rgb2lab), for annealed means of Lab palettes.
export const rgb2lab = (r, g, b) => unitToLab(r / 255, g / 255, b / 255);

// CIELAB of sRGB values in [0, 1] (scikit-image's rgb2lab on floats).
export function unitToLab(r, g, b) {
  const lin = [r, g, b].map((v) => (v > 0.04045 ? Math.pow((v + 0.055) / 1.055, 2.4) : v / 12.92));
  const X = 0.412453 * lin[0] + 0.35758 * lin[1] + 0.180423 * lin[2];
  const Y = 0.212671 * lin[0] + 0.71516 * lin[1] + 0.072169 * lin[2];
  const Z = 0.019334 * lin[0] + 0.119193 * lin[1] + 0.950227 * lin[2];
  const f = (t) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  const fx = f(X / 0.95047), fy = f(Y / 1.0), fz = f(Z / 1.08883);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

// Decode the network's output (C×h×w, planar) into uint8 RGB (h·w×3): Palette.decode_logits / rgb_from_unit.
// An "ab" palette (the chroma objective) holds chroma only: its colour goes under `grey`, the network's
// input (h·w floats in [0, 1]), as palette.under_lightness does.
export function decode(output, h, w, meta, decoding, temperature, grey) {
  const n = h * w, rgb = new Float32Array(n * 3);
  if (meta.objective === "regress") {
    for (let p = 0; p < n; p++)
      for (let k = 0; k < 3; k++) rgb[p * 3 + k] = roundHalfEven(Math.fround(Math.min(Math.max(output[k * n + p], 0), 1) * 255)); // float32, as torch
    return rgb;
  }
  if (meta.palette.space === "ab") return decodeChroma(output, h, w, meta.palette.colors, decoding, temperature, grey);
  const colors = meta.palette.colors, K = colors.length, lab = meta.palette.space === "lab";
  const labColors = lab ? colors.map(([r, g, b]) => rgb2lab(r, g, b)) : null;
  const probs = new Float64Array(K);
  for (let p = 0; p < n; p++) {
    if (decoding === "argmax") {
      let best = 0;
      for (let k = 1; k < K; k++) if (output[k * n + p] > output[best * n + p]) best = k;
      for (let c = 0; c < 3; c++) rgb[p * 3 + c] = colors[best][c];
      continue;
    }
    let top = -Infinity;
    for (let k = 0; k < K; k++) top = Math.max(top, output[k * n + p] / temperature);
    let total = 0;
    for (let k = 0; k < K; k++) total += probs[k] = Math.exp(output[k * n + p] / temperature - top);
    const mean = [0, 0, 0];
    for (let k = 0; k < K; k++) {
      const q = probs[k] / total, src = lab ? labColors[k] : colors[k];
      for (let c = 0; c < 3; c++) mean[c] += q * src[c];
    }
    const out = lab ? lab2rgb(...mean).map((v) => v * 255) : mean;
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.min(Math.max(roundHalfEven(out[c]), 0), 255);
  }
  return rgb;
}

// The chroma objective's decoding (palette.under_lightness): argmax or annealed mean over the bins' (a*, b*),
// at the L* of the input's grey, to sRGB; where the grey is a whole level, withLuma makes the luma that level.
const LEVEL_TOLERANCE = 1e-4; // palette.LEVEL_TOLERANCE
function decodeChroma(output, h, w, colors, decoding, temperature, grey) {
  if (!grey || grey.length !== h * w) throw new Error("an ab palette decodes under the input's lightness: pass the grey input");
  const n = h * w, K = colors.length, ab = colors.map(([r, g, b]) => rgb2lab(r, g, b).slice(1));
  const y = new Uint8Array(n), whole = new Uint8Array(n), rgb = new Float32Array(n * 3), probs = new Float64Array(K);
  for (let p = 0; p < n; p++) {
    const g = Math.min(Math.max(grey[p], 0), 1), level = g * 255;
    y[p] = roundHalfEven(level);
    whole[p] = Math.abs(level - y[p]) <= LEVEL_TOLERANCE ? 1 : 0;
    let mean = [0, 0];
    if (decoding === "argmax") {
      let best = 0;
      for (let k = 1; k < K; k++) if (output[k * n + p] > output[best * n + p]) best = k;
      mean = ab[best];
    } else {
      let top = -Infinity, total = 0;
      for (let k = 0; k < K; k++) top = Math.max(top, output[k * n + p] / temperature);
      for (let k = 0; k < K; k++) total += probs[k] = Math.exp(output[k * n + p] / temperature - top);
      for (let k = 0; k < K; k++) for (let c = 0; c < 2; c++) mean[c] += (probs[k] / total) * ab[k][c];
    }
    const out = lab2rgb(unitToLab(g, g, g)[0], mean[0], mean[1]);
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.min(Math.max(roundHalfEven(out[c] * 255), 0), 255);
  }
  const exact = withLuma(rgb, y);
  return rgb.map((v, i) => (whole[Math.floor(i / 3)] ? exact[i] : v));
}

// data.with_luma: each pixel's luma becomes y exactly; its chroma is kept, or shrunk toward grey to fit.
export function withLuma(colour, y) {
  const n = y.length, out = new Uint8ClampedArray(n * 3);
  for (let p = 0; p < n; p++) {
    const c = [colour[p * 3], colour[p * 3 + 1], colour[p * 3 + 2]], Y = y[p];
    if (luma(c[0], c[1], c[2]) === Y) {
      out.set(c, p * 3);
      continue;
    }
    const own = (W[0] * c[0] + W[1] * c[1] + W[2] * c[2]) / 65536;
    const chroma = c.map((v) => v - own);
    let s = 1;
    for (const d of chroma) {
      if (d > 0) s = Math.min(s, (255 - Y) / d);
      else if (d < 0) s = Math.min(s, -Y / d);
    }
    const target = chroma.map((d) => Math.min(Math.max(Y + s * d, 0), 255));
    let best = null, bestDistance = Infinity;
    const plain = target.map((v) => roundHalfEven(v));
    if (luma(...plain) === Y) best = plain;
    else {
      const low = target.map(Math.floor);
      for (let k = 0; k < 8; k++) { // the 8 ways to round down or up: one of them has luma Y exactly
        const cand = [low[0] + ((k >> 2) & 1), low[1] + ((k >> 1) & 1), low[2] + (k & 1)].map((v) => Math.min(v, 255));
        if (luma(...cand) !== Y) continue;
        const dist = cand.reduce((acc, v, i) => acc + (v - target[i]) ** 2, 0);
        if (dist < bestDistance) [best, bestDistance] = [cand, dist];
      }
    }
    out.set(best, p * 3);
  }
  return out;
}

const sessions = new Map();

async function session(url) {
  if (!sessions.has(url)) sessions.set(url, ort.InferenceSession.create(url, { executionProviders: ["wasm"] }));
  return sessions.get(url);
}

// RGBA pixels (n×4) as colorlib.colorize.read_image reads them: transparency composited over white,
// then the luma of each pixel (uint8) and the network's grey input (float32 in [0, 1]).
export function flatten(data, n) {
  const y = new Uint8Array(n), grey = new Float32Array(n), rgb = new Uint8ClampedArray(n * 3);
  for (let p = 0; p < n; p++) {
    const a = data[p * 4 + 3] / 255;
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = Math.round(data[p * 4 + c] * a + 255 * (1 - a));
    y[p] = luma(rgb[p * 3], rgb[p * 3 + 1], rgb[p * 3 + 2]);
    grey[p] = Math.fround(y[p] / 255);
  }
  return { rgb, y, grey };
}

// Colour RGBA pixels (an ImageData) with a model; returns {rgb: Uint8ClampedArray h·w×3, working: [h, w]}.
// decoding and side come from the site's manifest (colorlib's PHOTO_DECODING and WORKING_SIDE), the temperature
// from the model's metadata (the one chosen with the run, Run.temperature), never from a default written here.
export async function colorize(image, model, { decoding, temperature, side }) {
  if (decoding === undefined || temperature === undefined || side === undefined)
    throw new Error("colorize needs decoding, temperature and side: the site's manifest and model metadata give them");
  const { width: w, height: h, data } = image;
  const { y, grey } = flatten(data, h * w);
  const [hw, ww] = workingSize(h, w, side);
  const small = hw === h && ww === w ? grey : areaResize(grey, h, w, hw, ww);
  const hp = hw + ((4 - (hw % 4)) % 4), wp = ww + ((4 - (ww % 4)) % 4); // edge-padded to a multiple of 4
  const input = new Float32Array(hp * wp);
  for (let i = 0; i < hp; i++) for (let j = 0; j < wp; j++) input[i * wp + j] = small[Math.min(i, hw - 1) * ww + Math.min(j, ww - 1)];
  const net = await session(model.url);
  const result = await net.run({ grey: new ort.Tensor("float32", input, [1, 1, hp, wp]) });
  const full = result.output.data, channels = result.output.dims[1];
  const cropped = new Float32Array(channels * hw * ww);
  for (let k = 0; k < channels; k++)
    for (let i = 0; i < hw; i++) for (let j = 0; j < ww; j++) cropped[(k * hw + i) * ww + j] = full[(k * hp + i) * wp + j];
  let colour = decode(cropped, hw, ww, model.meta, decoding, temperature, small);
  if (hw !== h || ww !== w) colour = bilinearResize(colour, hw, ww, 3, h, w).map((v) => Math.min(Math.max(roundHalfEven(v), 0), 255));
  return { rgb: withLuma(colour, y), working: [hw, ww] };
}

// The page's control: pick a picture, pick a model, see it coloured; nothing leaves the page.
export async function mount(element, manifestUrl) {
  const manifest = await (await fetch(manifestUrl)).json();
  const base = new URL(".", new URL(manifestUrl, location.href)).href;
  element.innerHTML = `
    <h2>Colour your own photo, here in the page</h2>
    <p class="privacy">The photo never leaves your machine: it is read and coloured in this page, by the same
    steps as <code>colorlib.colorize</code> running on <a href="https://onnxruntime.ai/docs/tutorials/web/">onnxruntime-web</a>;
    nothing is uploaded.</p>
    <div class="controls">
      <input type="file" accept="image/*" class="colorlib-file">
      <label>model <select class="colorlib-model">${manifest.models
        .map((m) => `<option value="${m.name}"${m.name === manifest.default ? " selected" : ""}>${m.label}</option>`)
        .join("")}</select></label>
      <label>decoding <select class="colorlib-decoding">${[["annealed-mean", "annealed mean"], ["argmax", "argmax"]]
        .map(([v, label]) => `<option value="${v}"${v === manifest.decoding ? " selected" : ""}>${label}</option>`)
        .join("")}</select></label>
    </div>
    <p class="status">Choose a picture.</p>
    <div class="results"></div>`;
  const file = element.querySelector(".colorlib-file"), status = element.querySelector(".status");
  const results = element.querySelector(".results");
  const run = async () => {
    if (!file.files.length) return;
    const model = manifest.models.find((m) => m.name === element.querySelector(".colorlib-model").value);
    const decoding = element.querySelector(".colorlib-decoding").value;
    status.textContent = "Colouring…";
    const bitmap = await createImageBitmap(file.files[0]);
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext("2d");
    context.drawImage(bitmap, 0, 0);
    const image = context.getImageData(0, 0, bitmap.width, bitmap.height);
    const meta = model.meta || (model.meta = await (await fetch(base + model.meta_url)).json());
    const started = performance.now();
    const { rgb, working } = await colorize(image, { url: base + model.url, meta }, { decoding, side: manifest.working_side,
      temperature: meta.temperature });
    const seconds = (performance.now() - started) / 1000;
    results.innerHTML = "";
    for (const [label, pixels] of [["original", null], ["coloured", rgb]]) {
      const shown = document.createElement("canvas");
      shown.width = image.width;
      shown.height = image.height;
      const out = new ImageData(image.width, image.height);
      for (let p = 0; p < image.width * image.height; p++) {
        for (let c = 0; c < 3; c++) out.data[p * 4 + c] = pixels ? pixels[p * 3 + c] : image.data[p * 4 + c];
        out.data[p * 4 + 3] = 255;
      }
      shown.getContext("2d").putImageData(out, 0, 0);
      shown.className = `colorlib-${label}`;
      const figure = document.createElement("figure");
      figure.append(shown, Object.assign(document.createElement("figcaption"), { textContent: label }));
      results.append(figure);
    }
    status.textContent = `${file.files[0].name}: ${image.width}×${image.height}, seen by ${model.label} at ${working[1]}×${working[0]}, ` +
      `${decoding === "argmax" ? "argmax" : "annealed mean"}, in ${seconds.toFixed(2)} s.`;
    element.dataset.seconds = seconds.toFixed(3);
    element.dataset.done = String(Number(element.dataset.done || 0) + 1);
  };
  for (const control of element.querySelectorAll("input, select")) control.addEventListener("change", () => run().catch((e) => {
    status.textContent = `Could not colour this picture: ${e.message || e}`;
  }));
}
