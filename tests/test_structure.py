"""The house stays easy to live in: each module on a floor, imports only pointing down, short functions."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "colorlib"

# A module imports only from floors below its own (or, within a floor, from modules listed before it).
FLOORS = [
    ["errors", "unpickle", "atomic", "results"],
    ["config", "pixels", "palette", "models"],
    ["data", "runs"],
    ["inference", "metrics", "selection", "plot", "pretrained", "colorize", "export"],
    ["train", "widgets", "exercises"],
    ["cli"],
]
ORDER = {name: (floor, i) for floor, names in enumerate(FLOORS) for i, name in enumerate(names)}


def _imports(path: Path) -> set[str]:
    """colorlib modules that `path` imports, at the top or inside functions (lazy imports count too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("colorlib."):
            found.add(node.module.split(".")[1])
    return found


def test_every_module_has_a_floor():
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    assert modules == set(ORDER), f"give each module a floor: {sorted(modules ^ set(ORDER))}"


def test_imports_only_point_down():
    upward = []
    for name, rank in ORDER.items():
        for imported in _imports(PACKAGE / f"{name}.py") - {name}:
            if imported in ORDER and ORDER[imported] >= rank:
                upward.append(f"{name} (floor {rank[0]}) imports {imported} (floor {ORDER[imported][0]})")
    assert not upward, "\n".join(upward)


def test_nothing_imports_the_shell_or_the_widgets():
    for path in PACKAGE.glob("*.py"):
        if path.stem not in ("cli", "widgets", "__init__", "__main__"):
            assert not _imports(path) & {"cli", "widgets"}, path.name


def test_functions_in_the_busy_modules_stay_short():
    long = []
    for name in ("train", "cli", "metrics", "inference", "runs"):
        for node in ast.walk(ast.parse((PACKAGE / f"{name}.py").read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > 60:
                long.append(f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines")
    assert not long, "\n".join(long)
