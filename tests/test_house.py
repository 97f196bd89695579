"""The house rules, read from the source: public Dagster API, one-way imports, no cycles."""

import ast
import importlib
import importlib.util
import inspect
import itertools
import re
from pathlib import Path

import pytest
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


# The floors of the house, top first: a module imports only from its own floor or below.
FLOORS = (
    ("retrain_assets.cli", "retrain_assets.api", "retrain_assets.__main__", "retrain_assets"),
    ("retrain_assets.launcher",),
    ("retrain_assets.definitions",),
    ("sensors",),
    ("retrain_assets.defs",),
    ("resources",),
    ("retrain_assets.vocabulary",),
    ("retrain_assets.adapters",),
    ("retrain_assets.core",),
)


def floor_of(module: str) -> int:
    """The floor (0 = top) of a module of the product: its longest matching prefix's."""
    best, found = -1, len(FLOORS)
    for number, prefixes in enumerate(FLOORS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), number
    return found


def test_every_module_sits_on_a_floor():
    assert all(floor_of(m) < len(FLOORS) for m in _modules())


def test_imports_only_point_down_the_floors():
    up = [
        f"{module} -> {child}"
        for module, children in _graph().items()
        for child in children
        if floor_of(child) < floor_of(module)
    ]
    assert not up, "\n".join(sorted(up))


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


CORE = REPO / "retrain_assets" / "core"
# What the pure domain never imports: Dagster, the layers above it, and every library that
# reaches a file, a socket, a process or the training library's files.
NOT_IN_CORE = (
    "dagster",
    "retrain_assets.adapters",
    "retrain_assets.defs",
    "retrain_assets.launcher",
    "resources",
    "sensors",
    "boto3",
    "botocore",
    "dropbox",
    "requests",
    "ccxt",
    "catboost",
    "fcntl",
    "os",
    "subprocess",
    "multiprocessing",
    "shutil",
    "tempfile",
    "socket",
    "http",
    "urllib.request",
    "ctypes",
)
# File-system calls (the bytes the domain works on are handed to it).
FILE_CALLS = {
    "read_text",
    "write_text",
    "read_bytes",
    "write_bytes",
    "unlink",
    "mkdir",
    "rmdir",
    "iterdir",
    "glob",
    "rglob",
    "touch",
    "rmtree",
}


def test_the_domain_imports_no_dagster_no_adapters_and_no_io_library():
    for path in CORE.rglob("*.py"):
        bad = {i for i in _imports(path) for n in NOT_IN_CORE if i == n or i.startswith(n + ".")}
        assert not bad, f"{path.relative_to(REPO)}: {sorted(bad)}"


def test_the_domain_opens_no_file():
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else None
            attr = node.func.attr if isinstance(node.func, ast.Attribute) else None
            assert name != "open" and attr not in FILE_CALLS, (
                f"{path.relative_to(REPO)}:{node.lineno} {name or attr}"
            )


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring constants of a parsed module, its classes and functions."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _strings(tree: ast.AST) -> list[ast.Constant]:
    """Every string constant of a parsed file that is not a docstring (f-string pieces too)."""
    docstrings = _docstrings(tree)
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    ]


def _key_separators(path: Path) -> list[int]:
    """Lines that join or split on `|` by hand: the constant `"|"` itself (a `.split("|")`,
    `"|".join`, `"|" in key`), or an f-string gluing `|` to a value (`f"{date}|{symbol}"`).
    Markdown cells (`" | "`) and regular expressions (`"a|b"`) are neither."""
    tree = ast.parse(path.read_text())
    lines = [s.lineno for s in _strings(tree) if s.value == "|"]
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = node.values
            for i, part in enumerate(parts):
                if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
                    continue
                after_value = i > 0 and isinstance(parts[i - 1], ast.FormattedValue)
                before_value = i + 1 < len(parts) and isinstance(parts[i + 1], ast.FormattedValue)
                if (after_value and part.value.startswith("|")) or (
                    before_value and part.value.endswith("|")
                ):
                    lines.append(node.lineno)
    return sorted(set(lines))


def test_only_the_keys_module_builds_or_parses_partition_keys():
    home = REPO / "retrain_assets" / "vocabulary" / "keys.py"
    found = {
        f"{path.relative_to(REPO)}:{line}"
        for package in PACKAGES
        for path in (REPO / package).rglob("*.py")
        if path != home
        for line in _key_separators(path)
    }
    assert not found, f"build or parse keys with vocabulary/keys.py: {sorted(found)}"


TAG_PREFIXES = ("retrain/", ".dagster/", "dagster/")


def test_only_the_tags_module_names_tags():
    home = REPO / "retrain_assets" / "vocabulary" / "tags.py"
    found = {
        f"{path.relative_to(REPO)}:{s.lineno}: {s.value}"
        for package in (*PACKAGES, "bench")
        for path in (REPO / package).rglob("*.py")
        if path != home
        for s in _strings(ast.parse(path.read_text()))
        if s.value.startswith(TAG_PREFIXES)
    }
    assert not found, f"import the tag keys from vocabulary/tags.py: {sorted(found)}"


_INSTANCE_OWNERS = ("instance", "event_log_storage", "run_storage")


def _dagster_method_is_public(owner: str, name: str) -> bool:
    """Whether Dagster marks the method `@public` (its docs render only those)."""
    import dagster as dg

    if owner == "instance":
        cls = dg.DagsterInstance
    else:  # the storages' base classes live in `_core`; read, not imported by a statement
        module = "dagster._core.storage." + (
            "event_log" if owner == "event_log_storage" else "runs"
        )
        base = "EventLogStorage" if owner == "event_log_storage" else "RunStorage"
        cls = getattr(importlib.import_module(module), base)
    found = getattr(cls, name, None)
    target = getattr(found, "fget", None) or getattr(found, "__func__", None) or found
    return bool(getattr(target, "_is_public", False))


def _owner(node: ast.expr) -> str | None:
    """`instance` / `event_log_storage` / `run_storage` when `node` names one, else None."""
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
    return name if name in _INSTANCE_OWNERS else None


def _private_instance_calls(path: Path) -> list[str]:
    """Calls of a non-public instance or storage method whose function's docstring does not
    name the method and say why no public API does the job."""
    found = []
    tree = ast.parse(path.read_text())
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        doc = " ".join((ast.get_docstring(func) or "").split())
        for node in ast.walk(func):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            owner, method = _owner(node.func.value), node.func.attr
            if owner is None or _dagster_method_is_public(owner, method):
                continue
            if method in doc and "public API" in doc:
                continue
            found.append(f"{path.relative_to(REPO)}:{node.lineno} {owner}.{method}")
    return found


def test_every_call_outside_dagsters_public_instance_api_says_why_none_exists():
    calls = [
        c
        for package in PACKAGES
        for p in (REPO / package).rglob("*.py")
        for c in _private_instance_calls(p)
    ]
    assert not calls, "\n".join(calls)


MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60  # the def line to the last line, docstring included


def _oversized(root: Path) -> list[str]:
    """Each module of the product over MAX_MODULE_LINES, each function over MAX_FUNCTION_LINES."""
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            name = path.relative_to(root).as_posix()
            text = path.read_text()
            lines = len(text.splitlines())
            if lines > MAX_MODULE_LINES:
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


# How `retrain` reaches the trainer and the file model.bin: the modules a symbol-day passes
# through, each importing the next, read top-down.
SYMBOL_WALK = (
    "retrain_assets.cli",
    "retrain_assets.api",
    "retrain_assets.launcher.main",
    "retrain_assets.launcher.session",
    "retrain_assets.definitions",
    "retrain_assets.defs.assets",
    "retrain_assets.defs.assets.model",
    "resources.training",
    "retrain_assets.adapters.catboost_trainer",
    "retrain_assets.core.model.training",
)
MODEL_BIN_WALK = (
    "retrain_assets.defs.assets.model",
    "resources.artifact_io",
    "retrain_assets.adapters.atomic",
)


@pytest.mark.parametrize("chain", [SYMBOL_WALK, MODEL_BIN_WALK], ids=["trainer", "model.bin"])
def test_a_symbol_walks_from_retrain_to_model_bin_top_down(chain: tuple[str, ...]):
    graph = _graph()
    for upper, lower in itertools.pairwise(chain):
        assert lower in graph[upper], f"{upper} does not import {lower}"
        assert floor_of(lower) >= floor_of(upper), f"{upper} -> {lower} climbs up"


if __name__ == "__main__":
    # `python -m tests.test_house`: the floors, then a symbol-day's walk to model.bin.
    modules = _modules()
    for number, prefixes in enumerate(FLOORS):
        members = [m for m in modules if floor_of(m) == number]
        print(f"floor {number}: {', '.join(prefixes)} ({len(members)} modules)")
    for chain in (SYMBOL_WALK, MODEL_BIN_WALK):
        print(" -> ".join(f"{m} [{floor_of(m)}]" for m in chain))
