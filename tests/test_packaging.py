import re
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
