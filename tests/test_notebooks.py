"""The notebook series as a newcomer meets it: a fresh machine runs chapter 01 with no edits."""

import json
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"


@pytest.mark.slow
def test_chapter_01_runs_from_an_empty_cache_through_the_download(cifar_mirror, tmp_path, monkeypatch):
    """The real path: download (from a mirror on 127.0.0.1) → md5 → unpack into the user cache → load."""
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    url, md5 = cifar_mirror
    work = tmp_path / "project"
    (work / "notebooks").mkdir(parents=True)
    shutil.copytree(REPO / "docs", work / "docs")
    shutil.copy(NOTEBOOKS / "01_palettes_and_saturation.ipynb", work / "notebooks")
    cache = tmp_path / "cache"
    monkeypatch.delenv("COLORLIB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setenv("COLORLIB_CIFAR_URL", url)
    monkeypatch.setenv("COLORLIB_CIFAR_MD5", md5)
    notebook = nbformat.read(work / "notebooks" / "01_palettes_and_saturation.ipynb", as_version=4)
    where = {"metadata": {"path": str(work / "notebooks")}}
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources=where).execute()
    assert (cache / "colorlib" / "cifar-10-batches-py" / "test_batch").is_file()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "downloaded CIFAR-10 from " + url in text and "(md5 checked)" in text  # it said where it went
    assert "20 train and 6 test horses" in text  # the fake archive's pictures, not the real ones


def test_every_chapter_has_the_template_and_a_worked_solution():
    chapters = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    assert len(chapters) >= 9
    for path in chapters:
        cells = json.loads(path.read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        parts = [
            "**What you will learn**",
            "**What you need to know**",
            "**Run time**",
            "## Key takeaways",
            "## Questions",
            "## Exercises",
            "## Further reading",
            "**Next:**" if path.name.startswith("01") else "**Previous:**",
        ]
        for part in parts:
            assert part in text, f"{path.name} lacks {part}"
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        assert "from colorlib.exercises import check_" in code, f"{path.name} has no self-checking exercise"
        solution = NOTEBOOKS / "solutions" / f"{path.name[:2]}_solutions.ipynb"
        assert solution.is_file(), f"{path.name} has no worked solution"
        outputs = "".join(
            "".join(o.get("text", "")) for c in json.loads(solution.read_text())["cells"] for o in c.get("outputs", [])
        )
        assert "✓ Right" in outputs and "✗" not in outputs, f"{solution.name}: a check does not accept its answer"


def _numbered(text: str, heading: str) -> list[int]:
    """The numbers of the list items ("7. ...") in the section under `heading`, up to the next heading."""
    import re

    section = text.split(heading, 1)[1]
    section = re.split(r"\n#{1,3} ", section, maxsplit=1)[0]
    return [int(n) for n in re.findall(r"^(\d+)\. ", section, flags=re.M)]


def test_every_chapter_has_a_questionnaire_and_its_solutions_answer_every_question():
    """8–15 questions per chapter, numbered from 1, and an Answers section in the solutions with one answer each."""
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        markdown = lambda p: "\n".join(  # noqa: E731
            "".join(c["source"]) for c in json.loads(p.read_text())["cells"] if c["cell_type"] == "markdown"
        )
        questions = _numbered(markdown(path), "## Questions")
        assert 8 <= len(questions) <= 15 and questions == list(range(1, len(questions) + 1)), (path.name, questions)
        solution = markdown(NOTEBOOKS / "solutions" / f"{path.name[:2]}_solutions.ipynb")
        assert "## Answers" in solution, f"{path.name[:2]}_solutions has no Answers section"
        assert _numbered(solution, "## Answers") == questions, f"{path.name[:2]}_solutions does not answer every question once"


def _model_outputs_in(cells: list[str]) -> list[tuple[int, set[str]]]:
    """For each code cell, the names it reads that hold a network's raw fp32 output: assigned from a
    direct `model(...)` / `run.model(...)` call, or computed from such a name in any earlier cell."""
    import ast

    def calls_model(node) -> bool:
        return any(
            isinstance(n, ast.Call)
            and (
                (isinstance(n.func, ast.Attribute) and n.func.attr == "model")
                or (isinstance(n.func, ast.Name) and n.func.id == "model")
            )
            for n in ast.walk(node)
        )

    tainted: set[str] = set()
    out = []
    for source in cells:
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        tree = ast.parse("\n".join(lines))
        read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        uses = (read & tainted) | ({"model(...)"} if calls_model(tree) else set())
        out.append((len(out), uses))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For)):
                value = node.iter if isinstance(node, ast.For) else node.value
                names = {n.id for n in ast.walk(value) if isinstance(n, ast.Name)}
                if calls_model(value) or names & tainted:
                    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", node)]
                    tainted |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return out


def test_no_checked_output_depends_on_the_cpus_rounding():
    """Issue 22 (15): nbval compares every NBVAL_CHECK_OUTPUT cell's output with the saved one, so it must be
    the same on every CPU. A network run directly in fp32 rounds differently on AVX2, AVX-512 and AMX
    (colorlib.metrics scores in float64 on CPUs for this reason: tests/test_metrics.py checks it), so a
    checked cell may not print anything computed from a direct model call."""
    assert _model_outputs_in(["logits = run.model(x)\nbest = logits.argmax(1)", "print(best.sum())", "print(1)"]) == [
        (0, {"model(...)"}),
        (1, {"best"}),
        (2, set()),
    ]
    offenders = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")) + sorted((NOTEBOOKS / "solutions").glob("*.ipynb")):
        cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
        sources = ["".join(c["source"]) for c in cells]
        for i, uses in _model_outputs_in(sources):
            if "NBVAL_CHECK_OUTPUT" in sources[i] and uses:
                offenders.append(f"{path.name} code cell {i}: {sorted(uses)}")
    assert not offenders, "checked cells that print a direct fp32 model output:\n" + "\n".join(offenders)


def test_every_link_between_notebooks_resolves_and_carries_its_own_number():
    """Relative .ipynb links point at files that exist; a chapter's title, its solutions link and its
    solutions' title carry the chapter's own number (renumbering chapters must leave none behind)."""
    import re

    for path in sorted(NOTEBOOKS.glob("*.ipynb")) + sorted((NOTEBOOKS / "solutions").glob("*.ipynb")):
        text = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown")
        for target in re.findall(r"\]\(([^)#]+\.ipynb)", text):
            if not target.startswith("http"):
                assert (path.parent / target).is_file(), f"{path.name} links to {target}, which does not exist"
        number = path.name[:2]
        title = re.search(r"^# (?:Solutions · )?(\d\d) · ", text, flags=re.M)
        assert title and title.group(1) == number, f"{path.name}: its title does not carry {number}"
        if path.parent == NOTEBOOKS:
            linked = set(re.findall(r"solutions/(\d\d)_solutions", text))
            assert linked == {number}, f"{path.name} links to another chapter's solutions: {linked}"
