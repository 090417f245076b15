import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"torch": "pytorch"}  # PyPI name → conda-forge name where they differ


def _split(req: str) -> tuple[str, str]:
    name, spec = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req).groups()
    return name.lower(), spec.replace(" ", "")


def test_pyproject_and_environment_yml_agree():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for reqs in project["optional-dependencies"].values():
        wanted += [r for r in reqs if not r.startswith("colorlib")]
    pip_side = {CONDA_NAMES.get(n, n): s for n, s in map(_split, wanted)}
    conda_side = {}
    text = (REPO / "environment.yml").read_text()
    for line in text[text.index("dependencies:") :].splitlines():
        m = re.match(r"^  - ([A-Za-z][^\s#]*)\s*$", line)  # top-level conda dependencies only
        if m and not m.group(1).startswith(("python", "pip")):
            name, spec = _split(m.group(1))
            conda_side[name] = spec
    assert conda_side == pip_side


def test_console_script_and_shipped_palettes_are_declared():
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert config["project"]["scripts"]["colorlib"] == "colorlib.cli:main"
    assert config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]["palettes"] == "colorlib/palettes"


def _make_dry_run(*args: str) -> list[str]:
    """The commands `make -n` would run for a fresh venv (nothing is run or installed)."""
    venv = REPO / "build" / "no-such-venv"
    result = subprocess.run(["make", "-n", *args, f"VENV={venv}"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_test_prints_why_tests_skip_and_offers_a_cpu_only_torch():
    """`make test` reports each skip's reason (-rs); TORCH_INDEX installs PyTorch from that index first, unset none."""
    pytest_line = [line for line in _make_dry_run("test") if " -m pytest " in line]
    assert len(pytest_line) == 1 and " -rs " in pytest_line[0], pytest_line
    plain = [line for line in _make_dry_run("install") if "pip install" in line]
    assert len(plain) == 1 and "--index-url" not in plain[0]  # the default needs only the usual index
    cpu = "https://download.pytorch.org/whl/cpu"
    routed = [line for line in _make_dry_run("install", f"TORCH_INDEX={cpu}") if "pip install" in line]
    assert len(routed) == 2 and f"--index-url {cpu} torch torchvision" in routed[0] and "-e '.[dev]'" in routed[1]


def test_the_wheel_carries_every_result_a_chapter_reads():
    """colorlib.load_results reads docs/NAME.json in a checkout, and the wheel carries each as colorlib/results/."""
    tomllib = pytest.importorskip("tomllib")
    import json

    from colorlib import ColorlibError, load_results
    from colorlib.results import NAMES

    included = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    for name in NAMES:
        assert included[f"docs/{name}.json"] == f"colorlib/results/{name}.json"
        assert load_results(name) == json.loads((REPO / "docs" / f"{name}.json").read_text())
    with pytest.raises(ColorlibError, match="did you mean photos"):
        load_results("foto")
    chapters = "".join(p.read_text() for p in (REPO / "notebooks").rglob("*.ipynb"))
    links = chapters.replace("](../../docs/", "").replace("](../docs/", "")  # links, from a chapter or a solution
    assert "../docs/" not in links  # links to docs/ are fine; reading from it is not
