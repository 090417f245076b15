"""The static site as a reader meets it: built by web/build.py, served by a plain file server on
127.0.0.1, read in headless Chromium with nothing but 127.0.0.1 reachable.

Needs Chromium and the site's JavaScript (`npm install --prefix web`, which `make test` runs);
skipped when either is missing, or with `-m "not browser"`.
"""

from __future__ import annotations

import base64
import functools
import http.server
import io
import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_browser import _shot, _slide, _visible_frame_srcs  # noqa: E402

if not (REPO / "web" / "node_modules" / "onnxruntime-web" / "dist" / "ort.wasm.min.mjs").is_file():
    pytest.skip(
        "the site's JavaScript is not installed: `make test` fetches it with npm (is npm installed?)", allow_module_level=True
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The built site, served on 127.0.0.1 by Python's plain static file server."""
    out = tmp_path_factory.mktemp("site") / "site"
    subprocess.run(
        [sys.executable, str(REPO / "web" / "build.py"), "--out", str(out)], check=True, capture_output=True, timeout=900
    )

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(out)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", out
    server.shutdown()


def _page(browser, url: str):
    """A page that may reach only the site: anything else is refused and recorded, as are errors."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.problems = []
    host = url.split("//", 1)[1]

    def guard(route) -> None:
        if route.request.url.split("//", 1)[-1].startswith(host) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            page.problems.append(f"outside request: {route.request.url}")
            route.abort()

    page.route("**/*", guard)
    page.on("console", lambda m: page.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: page.problems.append(f"failed: {r.url}"))
    page.on("response", lambda r: page.problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None)
    return page


def test_index_then_next_through_every_chapter_with_no_errors(site, browser):
    url, out = site
    page = _page(browser, url)
    page.goto(f"{url}/index.html")
    chapters = page.eval_on_selector_all(".colorlib-chapters a", "els => els.map(e => e.getAttribute('href'))")
    assert chapters == sorted(p.with_suffix(".html").name for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert page.locator(".colorlib-chapters img").count() == len(chapters)  # one picture each
    sizes = page.eval_on_selector_all(".colorlib-chapters img", "els => els.map(e => [e.naturalWidth, e.naturalHeight])")
    assert all(0 < w <= 2 * h + 1 for w, h in sizes), sizes  # pictures, not strips
    _shot(page, "site-index")
    page.click(f"a[href='{chapters[0]}']")
    visited = []
    while True:
        page.wait_for_load_state("networkidle")
        visited.append(page.url.rsplit("/", 1)[1])
        assert page.locator(".jp-Notebook").count() == 1 and page.locator(".colorlib-nav").count() == 2
        sidebar = page.eval_on_selector_all(".colorlib-sidebar li a", "els => els.map(e => e.getAttribute('href'))")
        assert sidebar == chapters  # the contents on every page, this chapter marked
        assert page.locator(".colorlib-sidebar .colorlib-current a").get_attribute("href") == page.url.rsplit("/", 1)[1]
        boxes = page.locator(".jp-RenderedMarkdown details")  # each Predict's answer, folded until the reader opens it
        assert boxes.count(), "no folded 'Check your prediction' answer"
        answer = boxes.first.locator("p").first
        assert boxes.first.get_attribute("open") is None and not answer.is_visible()
        boxes.first.locator("summary").click()
        assert answer.is_visible()
        if page.locator("script[type='application/vnd.jupyter.widget-view+json']").count():
            page.wait_for_selector(".jupyter-widgets", timeout=60_000)  # saved widgets render without a kernel
        following = page.locator(".colorlib-nav-bottom a.colorlib-next")
        if not following.count():
            break
        following.click()
    assert visited == chapters
    assert not page.problems, page.problems[:5]
    # every script and stylesheet comes from the site itself: no CDN
    for html in out.rglob("*.html"):
        text = html.read_text()
        assert not re.findall(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//', text), html.name
        assert "cdn" not in " ".join(re.findall(r'(?:src|href)="([^"]+\.(?:js|css|mjs))"', text)).lower(), html.name
    page.close()


def test_equations_are_typeset_from_the_site_itself(site, browser):
    """The chapters' TeX ($$…$$) becomes MathJax output (chapter 05's two display equations), with MathJax and its
    fonts served by the site."""
    url, _ = site
    page = _page(browser, url)
    page.goto(f"{url}/05_how_sure_is_a_difference.html")
    page.wait_for_selector("mjx-container[display='true']", timeout=30_000)
    page.wait_for_load_state("networkidle")
    shown = page.locator(".jp-MarkdownOutput").all_inner_texts()
    shown_tex = (REPO / "notebooks" / "05_how_sure_is_a_difference.ipynb").read_text().count("$$") // 2
    assert shown_tex == 2 and page.locator("mjx-container[display='true']").count() == shown_tex  # the standard error; V
    assert not any("$$" in text or "\\frac" in text for text in shown)  # no TeX left as text
    page.locator("mjx-container[display='true']").first.scroll_into_view_if_needed()
    _shot(page, "site-equations")
    assert not page.problems, page.problems[:5]
    page.close()


def test_the_comparison_slider_and_pickers_work_on_the_site(site, browser):
    url, _ = site
    page = _page(browser, url)
    page.goto(f"{url}/04_compare_cnn_unet.html")
    page.wait_for_selector(".widget-slider", timeout=60_000)
    page.wait_for_timeout(1000)
    before = _visible_frame_srcs(page)
    assert len(before) == 2 and _slide(page, 29) == "29"
    after = _visible_frame_srcs(page)
    assert len(after) == 2 and after != before
    page.get_by_role("button", name="cat").first.click()
    page.wait_for_timeout(500)
    assert _visible_frame_srcs(page) not in (after, [])
    _shot(page, "site-04")
    assert not page.problems, page.problems[:5]
    page.close()


def _colourised(page) -> np.ndarray:
    data = page.eval_on_selector("canvas.colorlib-coloured", "c => c.toDataURL('image/png')")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data.split(",", 1)[1]))).convert("RGB"))


@pytest.mark.parametrize(
    "model, decoding, size",
    [
        (None, None, (300, 420)),
        ("unet_horse32", "annealed-mean", (300, 420)),
        ("cnn_cat32", "argmax", (300, 420)),
        (None, None, (30, 41)),
    ],  # the last smaller than the working side: seen at its own size
)
def test_the_in_browser_colouriser_matches_colorlib(site, browser, tmp_path, model, decoding, size):
    """The page's pixels against colorlib.colorize on the same file, in fp32 as the browser computes.

    Tolerance: every pixel within one level per channel, and at least 99% of pixels identical. The
    steps are the same; what differs is float arithmetic (onnxruntime's WASM kernels against
    PyTorch's, float64 against float32 sums), which moves an annealed mean or an upsampled colour
    across a rounding boundary, or an argmax whose two best colours are within 1e-6, now and then.
    """
    import colorlib

    url, _ = site
    from skimage import data

    photo = data.coffee()[: size[0], : size[1]]  # a PNG: the browser and Pillow decode it identically (JPEG decoders differ)
    Image.fromarray(photo).save(tmp_path / "coffee.png")
    page = _page(browser, url)
    page.goto(f"{url}/09_colorize_your_own.html")
    page.wait_for_selector(".colorlib-file", timeout=60_000)
    assert "never leaves your machine" in page.inner_text(".colorlib-colouriser")
    if model is not None:  # None: the page as it opens, which must be colorlib's default model and pipeline
        page.select_option(".colorlib-model", model)
        page.select_option(".colorlib-decoding", decoding)
    page.set_input_files(".colorlib-file", str(tmp_path / "coffee.png"))
    page.wait_for_function("() => document.querySelector('.colorlib-colouriser').dataset.done === '1'", timeout=120_000)
    got = _colourised(page).astype(int)
    if model is None:
        expected = colorlib.colorize(tmp_path / "coffee.png", precision="fp32").astype(int)
    else:
        expected = colorlib.colorize(model, tmp_path / "coffee.png", decoding=decoding, precision="fp32").astype(int)
    assert got.shape == expected.shape == photo.shape
    off = np.abs(got - expected).max(-1)
    assert off.max() <= 1 and (off == 0).mean() >= 0.99, (off.max(), (off == 0).mean())
    _shot(page, f"site-09-{model or 'default'}-{size[1]}")
    assert not page.problems, page.problems[:5]
    page.close()


def _golden() -> dict:
    """What colorlib computes, step by step, on cases chosen to be awkward: odd sizes, exact ties between
    logits, regression outputs outside [0, 1] and on rounding halves, pictures smaller than the working
    side, transparency, colours that cannot keep their chroma at the target lightness."""
    import torch
    import torch.nn.functional as F

    import colorlib
    from colorlib.colorize import read_image, working_size
    from colorlib.palette import decode_output
    from colorlib.pixels import luma, to_grey, with_luma

    rng = np.random.default_rng(0)
    cases: dict = {}
    colours = np.concatenate([rng.integers(0, 256, (200, 3)), [[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 0, 255]]])
    cases["luma"] = {"in": colours.tolist(), "out": luma(colours.astype(np.uint8)).tolist()}
    sizes = [(1, 1), (3, 5), (47, 48), (48, 49), (49, 1000), (427, 640), (600, 512), (7, 3), (97, 145)]
    cases["working_size"] = [{"h": h, "w": w, "side": 48, "out": list(working_size(h, w, 48))} for h, w in sizes]
    cases["area"], cases["bilinear"] = [], []
    for (h, w), (oh, ow) in [((7, 5), (3, 2)), ((13, 17), (5, 6)), ((49, 73), (48, 71)), ((6, 6), (6, 6))]:
        plane = rng.random((h, w), dtype=np.float32)
        area = F.interpolate(torch.from_numpy(plane)[None, None], size=(oh, ow), mode="area")[0, 0]
        cases["area"].append({"h": h, "w": w, "oh": oh, "ow": ow, "in": plane.ravel().tolist(), "out": area.ravel().tolist()})
        small = rng.random((oh, ow, 3), dtype=np.float32) * 255
        up = F.interpolate(torch.from_numpy(small).permute(2, 0, 1)[None], size=(h, w), mode="bilinear")
        cases["bilinear"].append(
            {"h": oh, "w": ow, "oh": h, "ow": w, "in": small.ravel().tolist(), "out": up[0].permute(1, 2, 0).ravel().tolist()}
        )
    cases["decode"] = []
    for name in ("horse32", "horse32-lab"):
        palette = colorlib.load_palette(name)
        logits = rng.normal(0, 3, (5, 7, palette.num_colors)).astype(np.float32)
        logits[0, 0, 3] = logits[0, 0, 5] = logits[0, 0].max() + 1  # an exact tie: the first colour wins
        meta = {"objective": "classify", "palette": {"colors": palette.colors.tolist(), "space": palette.space}}
        for decoding in ("argmax", "annealed-mean"):
            out = palette.decode_logits(torch.from_numpy(logits), decoding, 0.38)
            cases["decode"].append(
                {
                    "meta": meta,
                    "decoding": decoding,
                    "h": 5,
                    "w": 7,
                    "in": logits.transpose(2, 0, 1).ravel().tolist(),
                    "out": out.ravel().tolist(),
                }
            )
    ab = colorlib.load_palette("all-ab")  # the chroma objective: under the input's lightness
    logits = rng.normal(0, 3, (5, 7, ab.num_colors)).astype(np.float32)
    grey = rng.random((5, 7), dtype=np.float32)
    grey[0, :3] = [0.0, 1.0, 0.5 / 255]  # black, white, and a rounding half
    grey[1] = rng.integers(0, 256, 7) / np.float32(255)  # whole levels, as a picture's own luma: exact luma
    for decoding in ("argmax", "annealed-mean"):
        cases["decode"].append(
            {
                "meta": {"objective": "chroma", "palette": {"colors": ab.colors.tolist(), "space": "ab"}},
                "decoding": decoding,
                "h": 5,
                "w": 7,
                "in": logits.transpose(2, 0, 1).ravel().tolist(),
                "grey": grey.ravel().tolist(),
                "out": decode_output(torch.from_numpy(logits), "chroma", ab, decoding, 0.38, grey).ravel().tolist(),
            }
        )
    colour = rng.uniform(-0.2, 1.2, (4, 6, 3)).astype(np.float32)
    colour[0, :3, 0] = np.array([0.5, 1.5, 2.5]) / 255  # halves: round half to even
    cases["decode"].append(
        {
            "meta": {"objective": "regress"},
            "decoding": "argmax",
            "h": 4,
            "w": 6,
            "in": colour.transpose(2, 0, 1).ravel().tolist(),
            "out": decode_output(torch.from_numpy(colour), "regress").ravel().tolist(),
        }
    )
    painted = rng.integers(0, 256, (300, 3), dtype=np.uint8)
    source = np.concatenate([rng.integers(0, 256, (296, 3)), [[0, 0, 0], [255, 255, 255], [0, 0, 0], [255, 255, 255]]])
    source = source.astype(np.uint8)
    cases["with_luma"] = {
        "colour": painted.ravel().tolist(),
        "y": luma(source).tolist(),
        "out": with_luma(painted, source).ravel().tolist(),
    }
    rgba = rng.integers(0, 256, (9, 11, 4), dtype=np.uint8)
    rgba[0, :4, 3] = [0, 255, 1, 128]
    flat = read_image(rgba)
    cases["flatten"] = {
        "in": rgba.ravel().tolist(),
        "rgb": flat.ravel().tolist(),
        "y": luma(flat).ravel().tolist(),
        "grey": to_grey(flat).ravel().tolist(),
    }
    return cases


GOLDEN_JS = """async (g) => {
  const c = await import("./_static/colorize.js");
  const bad = [];
  const near = (a, b, tol) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) <= tol);
  const same = (a, b) => near(Array.from(a), b, 0);
  const lumas = g.luma.in.map(([r, gg, b]) => c.luma(r, gg, b));
  if (!same(lumas, g.luma.out)) bad.push("luma");
  for (const t of g.working_size) if (!same(c.workingSize(t.h, t.w, t.side), t.out)) bad.push(`workingSize ${t.h}x${t.w}`);
  for (const t of g.area)
    if (!near(Array.from(c.areaResize(t.in, t.h, t.w, t.oh, t.ow)), t.out, 1e-5)) bad.push(`areaResize ${t.h}x${t.w}`);
  for (const t of g.bilinear)
    if (!near(Array.from(c.bilinearResize(t.in, t.h, t.w, 3, t.oh, t.ow)), t.out, 5e-3)) bad.push(`bilinearResize ${t.h}x${t.w}`);
  for (const t of g.decode) {
    const grey = t.grey ? Float32Array.from(t.grey) : undefined;
    const got = Array.from(c.decode(Float32Array.from(t.in), t.h, t.w, t.meta, t.decoding, 0.38, grey));
    if (!same(got, t.out)) bad.push(`decode ${t.meta.objective} ${t.meta.palette ? t.meta.palette.space : ""} ${t.decoding}: ` +
      got.filter((v, i) => v !== t.out[i]).length + " values differ");
  }
  const kept = c.withLuma(Uint8Array.from(g.with_luma.colour), Uint8Array.from(g.with_luma.y));
  if (!same(kept, g.with_luma.out)) bad.push("withLuma");
  const f = c.flatten(Uint8Array.from(g.flatten.in), g.flatten.y.length);
  if (!same(f.rgb, g.flatten.rgb)) bad.push("flatten: rgb");
  if (!same(f.y, g.flatten.y)) bad.push("flatten: luma");
  if (!near(Array.from(f.grey), g.flatten.grey, 0)) bad.push("flatten: grey");
  let refused = false;
  try { await c.colorize({ width: 1, height: 1, data: new Uint8ClampedArray(4) }, {}, {}); } catch (e) { refused = true; }
  if (!refused) bad.push("colorize ran without the manifest's settings");
  return bad;
}"""


def test_each_step_of_the_browser_colouriser_equals_colorlibs(site, browser):
    """Function by function, the JS against golden values colorlib writes: luma, the working size, area and
    bilinear resizing, decoding (RGB and Lab palettes, argmax with a tie, annealed mean, regression, ab chroma
    bins under the input's lightness),
    with_luma, and transparency. Exact where colorlib's answer is an integer; resizes within float32 noise (torch
    interpolates in float32, the JS in float64: up to 0.001 of a level on 0..255 here)."""
    url, _ = site
    page = _page(browser, url)
    page.goto(f"{url}/index.html")
    bad = page.evaluate(GOLDEN_JS, _golden())
    assert bad == [], bad
    assert not page.problems, page.problems[:5]
    page.close()


def test_the_page_takes_its_settings_from_the_manifest_colorlib_writes(site):
    """The JS writes no default of its own: the manifest's decoding and working side are colorlib's, and each
    model's temperature is the one chosen with its run (the default run's by experiments/colour.py)."""
    import json

    from colorlib.colorize import PHOTO_DECODING, WORKING_SIDE
    from colorlib.pretrained import resolve
    from colorlib.runs import load_run

    _, out = site
    index = next(out.rglob("index.json"))
    manifest = json.loads(index.read_text())
    assert (manifest["decoding"], manifest["working_side"]) == (PHOTO_DECODING, WORKING_SIDE)
    for model in manifest["models"]:
        meta = json.loads((index.parent / model["meta_url"]).read_text())
        assert meta["temperature"] == load_run(resolve(model["name"])).temperature, model["name"]
    js = (REPO / "web" / "static" / "colorize.js").read_text()
    assert "= 0.38" not in js and "side = " not in js and '= "annealed-mean"' not in js
