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
    _shot(page, "site-index")
    page.click(f"a[href='{chapters[0]}']")
    visited = []
    while True:
        page.wait_for_load_state("networkidle")
        visited.append(page.url.rsplit("/", 1)[1])
        assert page.locator(".jp-Notebook").count() == 1 and page.locator(".colorlib-nav").count() == 2
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


@pytest.mark.parametrize("model, decoding", [(None, None), ("unet_horse32", "annealed-mean"), ("cnn_cat32", "argmax")])
def test_the_in_browser_colouriser_matches_colorlib(site, browser, tmp_path, model, decoding):
    """The page's pixels against colorlib.colorize on the same file, in fp32 as the browser computes.

    Tolerance: every pixel within one level per channel, and at least 99% of pixels identical. The
    steps are the same; what differs is float arithmetic (onnxruntime's WASM kernels against
    PyTorch's, float64 against float32 sums), which moves an annealed mean or an upsampled colour
    across a rounding boundary, or an argmax whose two best colours are within 1e-6, now and then.
    """
    import colorlib

    url, _ = site
    from skimage import data

    photo = data.coffee()[:300, :420]  # a PNG: the browser and Pillow decode it identically (JPEG decoders differ)
    Image.fromarray(photo).save(tmp_path / "coffee.png")
    page = _page(browser, url)
    page.goto(f"{url}/05_colorize_your_own.html")
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
    _shot(page, f"site-05-{model or 'default'}")
    assert not page.problems, page.problems[:5]
    page.close()
