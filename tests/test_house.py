"""The house rules, read from the source: public Dagster API, one-way imports, no cycles."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("retrain_assets", "resources", "sensors")
RUNTIME = (
    "retrain_assets.launcher",
    "retrain_assets.cli",
    "retrain_assets.api",
    "retrain_assets.__main__",
)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imports(path: Path) -> set[str]:
    """Every module this file imports, at any depth (lazy imports count too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return names


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {m: {i for i in _imports(p) if i in modules and i != m} for m, p in modules.items()}


def test_no_python_code_imports_private_dagster_modules():
    for package in (*PACKAGES, "bench", "tests"):
        for path in (REPO / package).rglob("*.py"):
            private = {i for i in _imports(path) if i.startswith("dagster._")}
            assert not private, f"{path}: {private}"


def test_assets_resources_and_sensors_never_import_the_cli_runtime():
    for module, imported in _graph().items():
        if module.startswith(RUNTIME):
            continue
        assert not {i for i in imported if i.startswith(RUNTIME)}, module


def test_there_are_no_import_cycles():
    graph = _graph()
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for child in sorted(graph[module]):
            if state.get(child) == 1:
                cycle = [*path[path.index(child) :], child] if child in path else [module, child]
                raise AssertionError(" -> ".join(cycle))
            if child not in state:
                visit(child, [*path, child])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_the_domain_never_imports_dagster():
    for path in (REPO / "retrain_assets" / "core").rglob("*.py"):
        assert not {i for i in _imports(path) if i.split(".")[0] == "dagster"}, path
