"""Build the static site: every chapter as a page with its outputs and working widgets, and a
colouriser that runs the shipped models in the reader's browser. `make site` runs this.

    python web/build.py [--out site]

nbconvert's HTML exporter with a template of our own (web/template/colorlib): JupyterLab's look,
previous/next navigation, and every script served from the site itself — the widget renderer
(@jupyter-widgets/html-manager), RequireJS, onnxruntime-web and MathJax come from web/node_modules
(`npm install --prefix web`), so the pages work offline and behind firewalls, from any static file
server. Chapter 09's upload control becomes the in-browser colouriser (web/static/colorize.js).
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import json
import re
import shutil
import sys
import time
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
NODE = WEB / "node_modules"
# The models the colouriser offers after the default for photographs (pretrained.DEFAULT_RUN).
MODELS = {
    "unet_all32_lab": "the previous default: a Lab palette over all ten classes",
    "unet_horse32": "UNet trained on horses",
    "cnn_horse32": "CNN trained on horses",
    "unet_cat32": "UNet trained on cats",
    "cnn_cat32": "CNN trained on cats",
}
UPLOAD_TAG = "colorlib-upload"  # the cell whose widget the site replaces with the in-browser colouriser


def chapters() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def title(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return "untitled"


THUMBNAIL_TAG = "colorlib-thumbnail"  # a chapter's cell whose picture the contents page shows (else its first)
THUMBNAIL_ASPECT = 2.0  # wider pictures (strips of swatches or of a dozen thumbnails) are cut to their left part


def first_picture(nb) -> bytes | None:
    """The contents page's PNG for a chapter: its tagged cell's picture, else its first, cut to at most 2:1."""
    from PIL import Image

    tagged = [c for c in nb.cells if THUMBNAIL_TAG in c.get("metadata", {}).get("tags", [])]
    for cell in tagged + list(nb.cells):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            kind = next((k for k in ("image/png", "image/jpeg") if k in data), None)
            if kind is None:
                continue
            picture = Image.open(io.BytesIO(base64.b64decode(data[kind])))
            width, height = picture.size
            if width > THUMBNAIL_ASPECT * height:
                picture = picture.crop((0, 0, round(THUMBNAIL_ASPECT * height), height))
            buf = io.BytesIO()
            picture.save(buf, format="PNG")  # chapters of photographs save JPEG figures: the page shows PNG
            return buf.getvalue()
    return None


def local_links(page: str) -> str:
    """Links between notebooks point at their pages: foo.ipynb → foo.html (not absolute URLs)."""
    return re.sub(r'href="(?!https?:)([^"#]*?)\.ipynb(#[^"]*)?"', r'href="\1.html\2"', page)


def copy_assets(out: Path) -> None:
    static = out / "_static"
    static.mkdir(parents=True, exist_ok=True)
    for name in ("site.css", "colorize.js"):
        shutil.copy(WEB / "static" / name, static / name)
    missing = [
        p
        for p in (
            "@jupyter-widgets/html-manager/dist/embed-amd.js",
            "requirejs/require.js",
            "onnxruntime-web/dist/ort.wasm.min.mjs",
            "mathjax/es5/tex-chtml.js",
        )
        if not (NODE / p).is_file()
    ]
    if missing:
        sys.exit(f"web/node_modules lacks {', '.join(missing)}: run `npm install --prefix web` (make site does)")
    shutil.copy(NODE / "requirejs" / "require.js", static / "require.js")
    manager = NODE / "@jupyter-widgets" / "html-manager" / "dist"
    shutil.copytree(
        manager,
        static / "html-manager",
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("*.map", "embed.js", "libembed-amd.js"),
    )
    # MathJax: the TeX-to-HTML bundle and its fonts (the chapters' equations), no CDN
    mathjax = NODE / "mathjax" / "es5"
    (static / "mathjax").mkdir(exist_ok=True)
    shutil.copy(mathjax / "tex-chtml.js", static / "mathjax" / "tex-chtml.js")
    fonts = Path("output") / "chtml" / "fonts" / "woff-v2"
    shutil.copytree(mathjax / fonts, static / "mathjax" / fonts, dirs_exist_ok=True)
    (static / "ort").mkdir(exist_ok=True)
    for name in ("ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"):
        shutil.copy(NODE / "onnxruntime-web" / "dist" / name, static / "ort" / name)


def export_models(out: Path) -> None:
    """The colouriser's models as ONNX, with what the page needs to decode them."""
    from colorlib.colorize import PHOTO_DECODING, WORKING_SIDE
    from colorlib.export import export_onnx, metadata
    from colorlib.pretrained import DEFAULT_RUN, resolve
    from colorlib.runs import load_run

    folder = out / "models"
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    offered = {DEFAULT_RUN: f"the default for photographs ({DEFAULT_RUN}, all ten classes)", **MODELS}
    for name, label in offered.items():
        run = load_run(resolve(name))  # a shipped run missing is an error: the page would offer less
        export_onnx(run, folder / f"{name}.onnx")
        (folder / f"{name}.json").write_text(json.dumps(metadata(run)))
        entries.append({"name": name, "label": label, "url": f"{name}.onnx", "meta_url": f"{name}.json"})
    manifest = {
        "default": DEFAULT_RUN,
        "working_side": WORKING_SIDE,
        "decoding": PHOTO_DECODING,
        "models": entries,
    }
    (folder / "index.json").write_text(json.dumps(manifest, indent=1))


COLOURISER = """
<script type="module">
  import {{ mount }} from "{root}_static/colorize.js";
  mount(document.getElementById("colorlib-colouriser"), "{root}models/index.json").catch((e) => {{
    document.getElementById("colorlib-colouriser").textContent = `The colouriser could not start: ${{e.message || e}}`;
  }});
</script>
"""


def build_page(path: Path, nb, out: Path, previous, following, contents: list[dict] | None = None) -> str:
    """One notebook as a page of the site; returns the page's file name."""
    name = path.with_suffix(".html").name
    root = "../" if path.parent.name == "solutions" else ""
    upload = any(UPLOAD_TAG in c.get("metadata", {}).get("tags", []) for c in nb.cells)
    exporter = HTMLExporter(template_name="colorlib", extra_template_basedirs=[str(WEB / "template")])
    exporter.widget_renderer_url = f"{root}_static/html-manager/embed-amd.js"
    resources = {
        "metadata": {"name": title(nb), "path": str(path.parent)},
        "colorlib": {
            "root": root,
            "previous": previous,
            "next": following,
            # the contents sidebar: every chapter, this one marked, links relative to this page
            "contents": [{**c, "href": root + c["href"], "current": c["href"] == name} for c in contents or []],
            "extra_html": COLOURISER.format(root=root or "./") if upload else "",
        },
    }
    page, _ = exporter.from_notebook_node(nb, resources=resources)
    (out / name).write_text(local_links(page))
    return name


def build_index(out: Path, pages: list[dict]) -> None:
    items = []
    for page in pages:
        picture = f'<img src="figures/{page["stem"]}.png" alt="">' if page["picture"] else ""
        items.append(
            f'<li><a href="{page["href"]}">{picture}<h2>{html.escape(page["title"])}</h2></a>'
            f"<p>{html.escape(page['summary'])}</p></li>"
        )
    (out / "index.html").write_text(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>colorlib: automatic colourisation, chapter by chapter</title>
<link rel="icon" href="data:,"><link rel="stylesheet" href="_static/site.css"></head>
<body class="colorlib-contents">
<h1>colorlib</h1>
<p>Automatic colourisation of greyscale pictures, taught chapter by chapter with PyTorch: every
training picture is saturated to a small palette, and a network learns to classify each pixel of
the grey picture into one of its colours. These pages are the notebook series with its outputs;
the sliders work without a running kernel, and chapter 09 colours your own photo in your browser
(nothing is uploaded). To run the chapters yourself: <code>make lab</code> in a clone of the
repository.</p>
<ol class="colorlib-chapters">
{chr(10).join(items)}
</ol>
</body></html>
""")


def summary(nb) -> str:
    """The first bullet of the chapter's "What you will learn"."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "**What you will learn**" in cell.source:
            bullets = [line[2:].strip() for line in cell.source.splitlines() if line.startswith("- ")]
            if bullets:
                text = bullets[0].rstrip(";.")
                return re.sub(r"[`*]", "", text[0].upper() + text[1:]) + "."
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "site"))
    args = parser.parse_args()
    start, out = time.perf_counter(), Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    (out / "figures").mkdir(parents=True)
    (out / "solutions").mkdir()
    copy_assets(out)
    export_models(out)
    paths = chapters()
    notebooks = [nbformat.read(p, as_version=4) for p in paths]
    pages = []
    contents = [{"href": p.with_suffix(".html").name, "title": title(nb)} for p, nb in zip(paths, notebooks, strict=True)]
    for i, (path, nb) in enumerate(zip(paths, notebooks, strict=True)):
        link = lambda j: {"href": paths[j].with_suffix(".html").name, "title": title(notebooks[j])}  # noqa: E731
        name = build_page(path, nb, out, link(i - 1) if i else None, link(i + 1) if i + 1 < len(paths) else None, contents)
        picture = first_picture(nb)
        if picture:
            (out / "figures" / f"{path.stem}.png").write_bytes(picture)
        pages.append({"href": name, "stem": path.stem, "title": title(nb), "summary": summary(nb), "picture": bool(picture)})
        solution = ROOT / "notebooks" / "solutions" / f"{path.name[:2]}_solutions.ipynb"
        if solution.is_file():
            back = {"href": f"../{name}", "title": title(nb)}
            build_page(solution, nbformat.read(solution, as_version=4), out / "solutions", back, None, contents)
    build_index(out, pages)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"wrote {out}: {len(pages)} chapters, {size / 1e6:.1f} MB, in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
