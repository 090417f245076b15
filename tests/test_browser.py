"""A reader's view: real JupyterLab in headless Chromium runs the notebooks and uses their widgets.

Needs Chromium (Debian's `chromium`, or CHROMIUM=/path) and the `playwright` Python package;
skipped when either is missing, or with `-m "not browser"`. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
if CHROMIUM is None:
    pytest.skip("Chromium not found (apt-get install chromium, or set CHROMIUM)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 over a copy of notebooks/ (and docs/ beside it), stopped in every case.

    Its Jupyter data folder (where trust is kept) is fresh, and `make trust` (what `make lab` runs
    first) has trusted the project's notebooks in it. `untrusted.ipynb` is 04 with one byte of
    metadata changed, so its signature is unknown: a notebook from elsewhere.
    """
    root = tmp_path_factory.mktemp("lab")
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(root / "config"), "JUPYTER_DATA_DIR": str(root / "data")}
    subprocess.run(
        ["make", "-s", "trust", f"BIN={Path(sys.executable).parent}"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    served = root / "notebooks"  # beside a copy of docs/, which the chapters read as ../docs/
    served.mkdir()
    shutil.copytree(REPO / "docs", root / "docs")
    for nb in (REPO / "notebooks").glob("*.ipynb"):
        shutil.copy(nb, served / nb.name)
    comparison = json.loads((REPO / "notebooks" / "04_compare_cnn_unet.ipynb").read_text())
    comparison["metadata"]["colorlib_copy"] = 1
    (served / "untrusted.ipynb").write_text(json.dumps(comparison))
    # the project's JupyterLab settings, as `make lab` installs them into the venv
    (root / "settings").mkdir()
    shutil.copy(REPO / "jupyterlab" / "overrides.json", root / "settings" / "overrides.json")
    port, token = _free_port(), secrets.token_hex(16)
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={served}",
        "--allow-root",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--LabApp.app_settings_dir={root / 'settings'}",
        "--LabApp.expose_app_in_browser=True",
    ]
    log = open(root / "server.log", "w")
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError((root / "server.log").read_text()[-2000:]) from None
                time.sleep(0.5)
        yield url, token, served
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


IDLE = "Python 3 (ipykernel) | Idle"


def _run_all(page) -> None:
    """Run every cell through JupyterLab's own Run menu, then wait until the kernel is idle again."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-InputArea-prompt')].every(p => !p.textContent.includes('*'))"
        " && [...document.querySelectorAll('.jp-InputArea-prompt')].some(p => /[0-9]/.test(p.textContent))",
        timeout=240_000,
        polling=500,
    )
    page.get_by_text(IDLE).first.wait_for(timeout=240_000)


def _open(page, url: str, token: str, name: str, wait_idle: bool = True) -> None:
    # A workspace of its own, reset: otherwise JupyterLab reopens the previous test's notebook too.
    page.goto(f"{url}/lab/workspaces/{Path(name).stem}/tree/{name}?token={token}&reset")
    page.wait_for_selector(".jp-Notebook", timeout=120_000)
    if wait_idle:
        page.get_by_text(IDLE).first.wait_for(timeout=120_000)  # the kernel has started
    page.keyboard.press("Escape")


def _visible_frame_srcs(page) -> list[str]:
    """The sources of the CNN/UNet frame images currently shown."""
    return page.eval_on_selector_all(
        "img[alt='CNN'], img[alt='UNet']",
        "els => els.filter(e => e.offsetParent !== null).map(e => e.src)",
    )


LAYOUT_JS = """() => {
  const plot = [...document.querySelectorAll('.widget-gridbox img')].find(i => i.offsetParent !== null);
  const box = plot.getBoundingClientRect();
  const marker = [...plot.closest('.widget-gridbox').querySelectorAll('div[style*="border-left"]')]
    .find(d => d.offsetParent !== null);
  const rows = [...document.querySelectorAll('.widget-html table')].filter(t => t.offsetParent !== null);
  const cut = rows.flatMap(t => [...t.querySelectorAll('img')]).filter(im => {
    const area = im.closest('.jp-OutputArea-output, .output_area, .widget-vbox').getBoundingClientRect();
    return im.getBoundingClientRect().right > area.right + 1;
  }).length;
  return {drawn: marker.getBoundingClientRect().left - box.left, meant: parseFloat(marker.style.left),
          pictures: rows.reduce((n, t) => n + t.querySelectorAll('img').length, 0), cut};
}"""


def _check_layout(page) -> dict:
    """The loss-curve marker is drawn where its epoch is on the curve, and no picture is cut at the right."""
    layout = page.evaluate(LAYOUT_JS)
    assert abs(layout["drawn"] - layout["meant"]) <= 1, layout  # px from the plot's left edge
    assert layout["pictures"] > 0 and layout["cut"] == 0, layout
    return layout


def _no_errors(page) -> None:
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
    errors = [e for e in errors if "Traceback" in e or "Error" in e]
    assert not errors, errors[:2]


def test_make_lab_shows_the_saved_slider_on_opening_before_any_cell_runs(lab, browser):
    url, token, _ = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _open(page, url, token, "04_compare_cnn_unet.ipynb")
    page.wait_for_selector(".widget-slider", timeout=60_000)  # from the saved widget state: nothing was run
    prompts = page.locator(".jp-InputArea-prompt").all_inner_texts()
    assert not any("*" in p for p in prompts)
    slider = page.locator(".widget-slider").first
    slider.scroll_into_view_if_needed()
    before = _visible_frame_srcs(page)
    assert len(before) == 2
    handle = slider.locator(".noUi-handle")
    handle.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.wait_for_timeout(500)
    assert page.locator(".widget-readout").first.inner_text() == "5"
    assert _visible_frame_srcs(page) not in (before, [])  # the jslinked frames switch in the browser
    at_five = _check_layout(page)  # a 1,400 px window with JupyterLab's side bar: ten pictures a row still fit
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    page.wait_for_timeout(500)
    assert _check_layout(page)["drawn"] > at_five["drawn"]  # epoch 15: further right, still on its epoch
    _shot(page, "04-opened-trusted")
    # the control: the same notebook, not trusted, shows the widget as text until it is run
    _open(page, url, token, "untrusted.ipynb")
    page.wait_for_timeout(3000)
    assert page.locator(".widget-slider").count() == 0
    assert page.get_by_text("VBox(children=").count() > 0
    page.close()


def _same_text(node):
    """A notebook's JSON with multi-line strings joined (JupyterLab keeps them whole, files as lists of lines)."""
    if isinstance(node, dict):
        return {
            k: "".join(v) if isinstance(v, list) and all(isinstance(x, str) for x in v) and k != "tags" else _same_text(v)
            for k, v in node.items()
            if k != "trusted"
        }
    return [_same_text(x) for x in node] if isinstance(node, list) else node


def test_opening_a_chapter_changes_nothing_in_it(lab, browser):
    """Opened, a chapter's content in JupyterLab is its file. A chapter without widgets is not marked as
    modified; one with saved widgets is, by the widget manager (it marks every restored widget as a change
    when saving widget state is on): the README says so, and this checks that the mark changes nothing."""
    url, token, root = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    for name, marked in [("01_palettes_and_saturation.ipynb", False), ("04_compare_cnn_unet.ipynb", True)]:
        _open(page, url, token, name)
        page.wait_for_timeout(3000)
        held = page.evaluate("() => JSON.stringify(window.jupyterapp.shell.currentWidget.context.model.toJSON())")
        assert _same_text(json.loads(held)) == _same_text(json.loads((root / name).read_text())), name
        assert (page.locator(".jp-mod-dirty").count() > 0) == marked, name
    page.close()


def test_make_lab_installs_the_project_settings():
    dry = subprocess.run(["make", "-n", "lab"], cwd=REPO, capture_output=True, text=True, timeout=60).stdout
    assert (
        "cp jupyterlab/overrides.json .venv/share/jupyter/lab/settings/overrides.json" in dry
        or (REPO / ".venv/share/jupyter/lab/settings/overrides.json").is_file()
    )
    assert "jupyter trust notebooks/*.ipynb" in dry


def test_widget_state_is_saved_with_the_notebook(lab, browser):
    """With the project's settings, re-running a chapter and saving keeps its widgets for kernel-less readers."""
    url, token, root = lab
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": "import ipywidgets as W\nW.IntSlider(value=7, description='saved')",
    }
    kernel = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    notebook = {"cells": [cell], "metadata": {"kernelspec": kernel}, "nbformat": 4, "nbformat_minor": 5}
    (root / "save_state.ipynb").write_text(json.dumps(notebook))
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    _open(page, url, token, "save_state.ipynb")
    _run_all(page)
    page.wait_for_selector(".widget-slider", timeout=60_000)
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')", timeout=30_000)
    page.wait_for_timeout(1000)
    saved = json.loads((root / "save_state.ipynb").read_text())
    state = saved["metadata"].get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    sliders = [m for m in state.values() if m["model_name"] == "IntSliderModel"]
    assert sliders and sliders[0]["state"]["value"] == 7 and sliders[0]["state"]["description"] == "saved"
    page.close()


def test_comparison_notebook_slider_and_picker_in_jupyterlab(lab, browser):
    url, token, _ = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _open(page, url, token, "04_compare_cnn_unet.ipynb")
    _run_all(page)
    page.wait_for_selector(".widget-slider", timeout=60_000)
    page.wait_for_timeout(1000)
    _no_errors(page)
    slider = page.locator(".widget-slider").first
    slider.scroll_into_view_if_needed()
    before_frames = _visible_frame_srcs(page)
    # textContent, not innerText: that is empty while JupyterLab's windowed notebook has the cell off screen
    before_label = page.locator(".widget-readout").first.text_content().strip()
    assert len(before_frames) == 2, before_frames
    _shot(page, "04-before")
    handle = slider.locator(".noUi-handle")
    handle.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    page.wait_for_timeout(500)
    after_label = page.locator(".widget-readout").first.text_content().strip()
    after_frames = _visible_frame_srcs(page)
    assert (before_label, after_label) == ("0", "10")
    assert len(after_frames) == 2 and after_frames != before_frames
    page.get_by_role("button", name="cat").first.click()  # ToggleButtons render as buttons
    page.wait_for_timeout(500)
    cat_frames = _visible_frame_srcs(page)
    assert len(cat_frames) == 2 and cat_frames != after_frames
    _shot(page, "04-after")
    page.close()


def test_upload_colourises_a_picture(lab, browser):
    url, token, root = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _open(page, url, token, "09_colorize_your_own.ipynb")
    _run_all(page)
    _no_errors(page)
    picture = root / "mine.png"
    rgb = np.zeros((48, 64, 3), np.uint8)
    rgb[:, :, 1] = np.linspace(0, 255, 64, dtype=np.uint8)
    Image.fromarray(rgb).save(picture)
    page.locator(".widget-upload").last.wait_for(timeout=60_000)
    with page.expect_file_chooser() as chooser:  # the reader clicks the widget and picks a file
        page.locator(".jupyter-widgets button", has_text="Upload image").last.click()
    chooser.value.set_files(str(picture))
    result = page.locator(".colorlib-upload-result")
    result.wait_for(timeout=60_000)
    images = result.locator("img")
    assert images.count() == 5  # original, grey input, the default, the Lab UNet and the horse model
    src = images.nth(2).get_attribute("src")
    coloured = np.asarray(Image.open(io.BytesIO(__import__("base64").b64decode(src.split(",", 1)[1]))).convert("RGB"))
    assert coloured.shape[:2] == (48, 64)
    _shot(page, "09-upload")
    page.close()


def _widget_js() -> Path:
    """Local copies of the widget renderer a static HTML page loads from a CDN (npm packages
    @jupyter-widgets/html-manager and requirejs); `make test` installs them with npm into web/node_modules."""
    modules = REPO / "web" / "node_modules"
    if not (modules / "@jupyter-widgets" / "html-manager" / "dist" / "embed-amd.js").is_file():
        pytest.skip("the widget renderer JS is not installed: `make test` fetches it with npm (is npm installed?)")
    return modules


def _static_page(browser, tmp_path, name: str):
    """The committed notebook rendered by nbconvert to HTML, open in the browser with no kernel and no internet."""
    modules = _widget_js()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "html",
            str(REPO / "notebooks" / name),
            "--output-dir",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    dist = modules / "@jupyter-widgets" / "html-manager" / "dist"

    def offline(route) -> None:
        # This machine has no internet: answer the page's CDN requests from the local npm copies.
        url = route.request.url.split("?")[0]
        if "@jupyter-widgets/html-manager" in url:
            route.fulfill(path=str(dist / url.rsplit("/", 1)[1]))
        elif url.endswith(("require.min.js", "require.js")):
            route.fulfill(path=str(modules / "requirejs" / "require.js"))
        else:
            route.abort()

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.route("http*://**/*", offline)
    page.goto((tmp_path / name.replace(".ipynb", ".html")).as_uri())
    page.wait_for_selector(".widget-slider", timeout=60_000)
    page.wait_for_timeout(1000)
    return page


def _slide(page, steps: int) -> str:
    """Move the first slider `steps` to the right with the keyboard; returns its readout."""
    page.locator(".widget-slider .noUi-handle").first.focus()
    for _ in range(steps):
        page.keyboard.press("ArrowRight")
    page.wait_for_timeout(500)
    return page.locator(".widget-readout").first.inner_text()


def test_static_render_slider_switches_epochs_without_a_kernel(browser, tmp_path):
    page = _static_page(browser, tmp_path, "04_compare_cnn_unet.ipynb")
    before_frames, before_label = _visible_frame_srcs(page), page.locator(".widget-readout").first.inner_text()
    assert len(before_frames) == 2 and before_label == "0"
    first = _check_layout(page)
    assert _slide(page, 29) == "29"
    after_frames = _visible_frame_srcs(page)
    assert len(after_frames) == 2 and after_frames != before_frames
    assert _check_layout(page)["drawn"] > first["drawn"]
    _shot(page, "04-static-html")
    page.close()


def test_static_render_temperature_slider_without_a_kernel(browser, tmp_path):
    page = _static_page(browser, tmp_path, "07_rebalancing_and_decoding.ipynb")
    shown = "els => els.filter(e => e.offsetParent !== null).map(e => [e.alt, e.src])"
    before = page.eval_on_selector_all("img[alt*=' T=']", shown)
    assert [alt for alt, _ in before] == ["RGB T=0.01", "Lab T=0.01"], before
    assert page.locator(".widget-readout").first.inner_text() == "0.01"
    assert _slide(page, 3) == "0.38"
    after = page.eval_on_selector_all("img[alt*=' T=']", shown)
    assert [alt for alt, _ in after] == ["RGB T=0.38", "Lab T=0.38"]
    assert {src for _, src in after}.isdisjoint(src for _, src in before)
    _shot(page, "07-static-html")
    page.close()
