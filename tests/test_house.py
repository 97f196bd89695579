"""The house rules, read from the source: public Dagster API, one-way imports, no cycles."""

import ast
import importlib
import importlib.util
import inspect
import re
from pathlib import Path

import yaml

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


def _marked_public(module: str, name: str) -> bool:
    """Whether `module.name` is a class Dagster marks `@public` (some live only in `_core`)."""
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return False
    source = inspect.getsource(found) if inspect.isclass(found) else ""
    return any(line.strip() == "@public" for line in source.split("\nclass ")[0].splitlines())


def _private_dagster_imports(path: Path) -> set[str]:
    """Imports of Dagster's private modules, except of a class Dagster marks `@public`."""
    private = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            private |= {a.name for a in node.names if a.name.startswith("dagster._")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dagster._"):
            private |= {
                f"{node.module}.{a.name}"
                for a in node.names
                if not _marked_public(node.module, a.name)
            }
    return private


def test_no_python_code_imports_private_dagster_modules():
    for package in (*PACKAGES, "bench", "tests"):
        for path in (REPO / package).rglob("*.py"):
            private = _private_dagster_imports(path)
            assert not private, f"{path}: {private}"


def _class_paths(node) -> list[tuple[str, str]]:
    if isinstance(node, dict):
        found = [(node["module"], node["class"])] if {"module", "class"} <= node.keys() else []
        return found + [p for value in node.values() for p in _class_paths(value)]
    if isinstance(node, list):
        return [p for value in node for p in _class_paths(value)]
    return []


def _dagster_default(module: str, name: str) -> bool:
    """Whether Dagster's own default instance config names `module` and `name` (instance/ref.py):
    the SQLite run and schedule storages are configurable under no other path."""
    ref = Path(importlib.util.find_spec("dagster").origin).parent / "_core/instance/ref.py"
    return re.search(rf'"{re.escape(module)}",\s*"{re.escape(name)}"', ref.read_text()) is not None


def test_every_class_the_instance_configs_name_is_ours_public_or_dagsters_own_default():
    for config in (REPO / "dagster.yaml", REPO / "deploy" / "dagster.yaml"):
        for module, name in _class_paths(yaml.safe_load(config.read_text())):
            if module.startswith(PACKAGES):
                assert inspect.isclass(getattr(importlib.import_module(module), name))
            elif "._" in module:
                assert _marked_public(module, name) or _dagster_default(module, name), (
                    f"{config.name}: {module}.{name}"
                )


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


MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60  # the def line to the last line, docstring included
# Temporary: these modules are being split by other work (issue 22); each is allowed past
# MAX_MODULE_LINES until its split lands. Their functions are held to MAX_FUNCTION_LINES.
BEING_SPLIT = frozenset(
    {
        "retrain_assets/launcher/submit.py",
        "retrain_assets/core/lifecycle/production.py",
        "retrain_assets/core/model/training.py",
    }
)


def _oversized(root: Path) -> list[str]:
    """Each module of the product over MAX_MODULE_LINES, each function over MAX_FUNCTION_LINES."""
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            name = path.relative_to(root).as_posix()
            text = path.read_text()
            lines = len(text.splitlines())
            if lines > MAX_MODULE_LINES and name not in BEING_SPLIT:
                found.append(f"{name}: {lines} lines")
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    length = node.end_lineno - node.lineno + 1
                    if length > MAX_FUNCTION_LINES:
                        found.append(f"{name}:{node.lineno} {node.name}: {length} lines")
    return found


def test_no_module_is_over_400_lines_and_no_function_over_60():
    oversized = _oversized(REPO)
    assert not oversized, "split these by concern:\n" + "\n".join(oversized)
