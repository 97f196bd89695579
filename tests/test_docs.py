"""Every shell command in the README and docs/ is one this suite can vouch for.

Each command of a ```bash block is checked against the real thing it names: `make` targets in
the Makefile; `retrain` flags through the CLI's own parser; `dg launch` / `dagster` asset,
job and schedule names in the real definitions (with the run config the page writes validated
against the job); `dagster` subcommands through the real CLI; `dagster-webserver`'s options
through its own `--help` and its workspace file in the repo; `kubectl create` through kubectl
itself, offline; files named by `kubectl apply`, `docker build` and `helm` in the repo, the
Dockerfile's targets, the chart version equal to the project's Dagster. A command of any other
program fails the test until a check for it is written. Commands that need a cluster
(`kubectl get`, `rollout`, `port-forward`, `exec`, `patch`, `helm upgrade`) cannot run here:
their verbs are checked with `kubectl VERB --help`, their object names against the chart's
naming, their payloads parsed.
"""

import functools
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
import yaml

from retrain_assets.cli import build_parser
from retrain_assets.definitions import defs

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BIN = Path(sys.executable).parent
VALUES = yaml.safe_load((REPO / "deploy" / "helm" / "values.yaml").read_text())
RELEASE = "retrain-assets"  # the Helm release of docs/kubernetes.md
# The chart's `dagster.fullname`: the release, with "-dagster" unless its name has it already.
FULLNAME = RELEASE if "dagster" in RELEASE else f"{RELEASE}-dagster"
CHART_OBJECTS = {f"svc/{FULLNAME}-webserver", f"deploy/{FULLNAME}-daemon"}
CHART_OBJECTS |= {f"deploy/{FULLNAME}-webserver"}
# The Postgres Service docs/kubernetes.md creates: the first label of the settings' host.
_SETTINGS = (REPO / "deploy" / "k8s" / "retrain-assets.env").read_text()
PG_HOST = re.search(r"^DAGSTER_PG_HOST=(.+)$", _SETTINGS, re.M).group(1)
CHART_OBJECTS |= {f"svc/{PG_HOST.split('.')[0]}"}
NEEDS_A_CLUSTER = {"get", "rollout", "port-forward", "exec", "patch", "describe", "logs"}


@dataclass(frozen=True)
class Command:
    """One command line of a page, with the heredoc bodies written before it on that page."""

    page: str
    argv: tuple[str, ...]
    heredocs: dict[str, str]

    def __str__(self) -> str:
        return f"{self.page}: {shlex.join(self.argv)}"


def _blocks(text: str) -> list[list[str]]:
    blocks, current = [], None
    for line in text.splitlines():
        fence = line.strip()
        if current is None and fence in ("```bash", "```sh"):
            current = []
        elif current is not None and fence == "```":
            blocks.append(current)
            current = None
        elif current is not None:
            current.append(line.strip())
    return blocks


def _logical_lines(block: list[str]) -> list[str]:
    lines, pending = [], ""
    for line in block:
        pending += line[:-1] + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            lines.append(pending)
            pending = ""
    return lines


def page_commands(page: Path) -> list[Command]:
    """The commands of `page`'s bash blocks: comments dropped, pipes and `&` split."""
    found: list[Command] = []
    heredocs: dict[str, str] = {}
    for block in _blocks(page.read_text()):
        lines = iter(_logical_lines(block))
        for line in lines:
            words = shlex.split(line, comments=True)
            if not words:
                continue
            marker = re.search(r"<<'?(\w+)'?", line)
            if marker and words[0] == "cat":
                body = []
                for inner in lines:
                    if inner == marker.group(1):
                        break
                    body.append(inner)
                heredocs[line.split(">")[1].split("<<")[0].strip()] = "\n".join(body)
                continue
            start = 0
            for end in [*(i for i, w in enumerate(words) if w == "|"), len(words)]:
                argv = tuple(w for w in words[start:end] if w != "&")
                found.append(Command(page.name, argv, dict(heredocs)))
                start = end + 1
    return found


COMMANDS = [c for page in PAGES for c in page_commands(page)]


def _program(argv: tuple[str, ...]) -> tuple[str, list[str]]:
    words = list(argv)
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
        words.pop(0)
    return (Path(words[0]).name, words[1:]) if words else ("", [])


def _run(args: list[str]) -> subprocess.CompletedProcess:
    return _run_once(tuple(args))


@functools.cache
def _run_once(args: tuple[str, ...]) -> subprocess.CompletedProcess:
    """Each command is run once per test process: the docs name the same `--help` pages many
    times, and every start of the `dagster` CLI imports Dagster (1-3 CPU-s)."""
    return subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=REPO)


def _assets_exist(selection: str) -> None:
    for name in selection.split(","):
        defs.resolve_assets_def(dg.AssetKey(name.split("/")))


def _partition_is_a_symbol_day(partition: str) -> None:
    date, symbol = partition.split("|")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) and re.fullmatch(r"[A-Z0-9]+", symbol)


def _option(args: list[str], *names: str) -> str | None:
    for i, word in enumerate(args):
        if word in names:
            return args[i + 1]
    return None


def check_make(command: Command, args: list[str]) -> None:
    targets = set(re.findall(r"^([a-z][\w-]*):", (REPO / "Makefile").read_text(), re.M))
    target = next(a for a in args if "=" not in a)
    assert target in targets, f"no make target {target!r}"
    for assignment in (a for a in args if a.startswith("ARGS=")):
        build_parser().parse_args(shlex.split(assignment.removeprefix("ARGS=")))


def check_retrain(command: Command, args: list[str]) -> None:
    build_parser().parse_args(args)  # exits (fails the test) on an unknown or bad flag


def check_python(command: Command, args: list[str]) -> None:
    if args[0] == "-m":
        module = args[1].replace(".", "/")
        assert (REPO / f"{module}.py").exists() or (REPO / module).is_dir(), args[1]
    else:
        assert (REPO / args[0]).exists(), args[0]


def check_dg(command: Command, args: list[str]) -> None:
    if args[:2] in (["check", "defs"], ["list", "defs"]) or args[0] == "dev":
        return  # run as written by tests/e2e/test_dg.py
    assert args[0] == "launch", f"dg {args[0]} is not exercised by a test"
    if _option(args, "--assets"):
        _assets_exist(_option(args, "--assets"))
        _partition_is_a_symbol_day(_option(args, "--partition"))
        return
    job = defs.resolve_job_def(_option(args, "--job"))
    config = yaml.safe_load(command.heredocs[_option(args, "--config", "-c")])
    assert dg.validate_run_config(job, config)


def check_dagster(command: Command, args: list[str]) -> None:
    words = [a for a in args if not a.startswith("-")]
    if words[:2] == ["asset", "materialize"]:
        _assets_exist(_option(args, "--select"))
        _partition_is_a_symbol_day(_option(args, "--partition"))
    elif words[:2] == ["schedule", "start"]:
        assert defs.resolve_schedule_def(words[2])
    elif words[:3] == ["instance", "concurrency", "set"]:
        from retrain_assets.defs.partitions import TRAIN_POOL

        assert words[3] == TRAIN_POOL and int(words[4]) > 0
    elif words[:3] == ["instance", "concurrency", "get"]:
        from retrain_assets.defs.partitions import TRAIN_POOL

        assert words[3] == TRAIN_POOL
    else:
        raise AssertionError(f"dagster {' '.join(words[:2])} is not checked here")
    verb = [w for w in words if not re.fullmatch(r"[\w.]+_\w+|\d+|train", w)]
    result = _run([str(BIN / "dagster"), *verb[:3], "--help"])
    assert result.returncode == 0, result.stderr


def check_dagster_webserver(command: Command, args: list[str]) -> None:
    assert (REPO / _option(args, "-w", "--workspace")).exists()
    result = _run([str(BIN / "dagster-webserver"), "--help"])
    assert result.returncode == 0, result.stderr
    for flag in (a for a in args if a.startswith("-")):
        assert re.search(rf"(^|[\s,]){re.escape(flag)}[\s,]", result.stdout, re.M), flag


def check_kubectl(command: Command, args: list[str]) -> None:
    args = args[2:] if args[:1] == ["-n"] else args
    verb = args[0]
    if verb == "create":
        _kubectl_create_offline(args)
    elif verb == "apply":
        path = _option(args, "-f")
        assert path == "-" or (REPO / path).exists(), path  # read by tests/deploy/test_manifests
    elif verb in NEEDS_A_CLUSTER:
        named = [a for a in args if "/" in a and not a.startswith("-") and "=" not in a]
        chart_named = [a for a in named if a.startswith(("svc/", "deploy/"))]
        assert set(chart_named) <= CHART_OBJECTS, chart_named
        if verb == "patch":
            json.loads(_option(args, "-p"))
        if verb == "exec":
            check_dagster(command, args[args.index("--") + 2 :])
        if shutil.which("kubectl"):
            assert _run(["kubectl", verb, "--help"]).returncode == 0
    else:
        raise AssertionError(f"kubectl {verb} is not checked here")


def _kubectl_create_offline(args: list[str]) -> None:
    example = str(REPO / "deploy" / "k8s" / "secrets.env.example")
    args = [a.replace("=secrets.env", f"={example}") for a in args]
    args = [a.replace("$DAGSTER_PG_PASSWORD", "not-a-password") for a in args]
    args = [a for a in args if a not in ("--dry-run=client", "-o", "yaml")]
    if not shutil.which("kubectl"):
        pytest.skip("no kubectl on this machine")
    result = _run(["kubectl", "-n", "retrain", *args, "--dry-run=client", "-o", "json"])
    assert result.returncode == 0, result.stderr


def check_helm(command: Command, args: list[str]) -> None:
    if args[:2] == ["repo", "add"]:
        assert args[2:] == ["dagster", "https://dagster-io.github.io/helm"]
    elif args[0] in ("upgrade", "rollback") or args[:2] == ["repo", "update"]:
        if args[0] in ("upgrade", "rollback"):
            assert next(a for a in args[1:] if not a.startswith("-")) == RELEASE
        if args[0] == "upgrade":
            dagster = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
            pinned = next(d for d in dagster["dependencies"] if d.startswith("dagster=="))
            assert _option(args, "--version") == pinned.split("==")[1]
            assert (REPO / _option(args, "-f")).exists()
            for i in (i for i, a in enumerate(args) if a == "--set"):
                _value_at(args[i + 1].split("=")[0])  # a key the values file has
    else:
        raise AssertionError(f"helm {args[0]} is not checked here")


def _value_at(path: str) -> object:
    node: object = VALUES
    for key, index in re.findall(r"([\w-]+)(?:\[(\d+)\])?", path):
        node = node[key] if not index else node[key][int(index)]  # type: ignore[index]
    return node


def check_test(command: Command, args: list[str]) -> None:
    assert args[0] == "-n" and re.fullmatch(r"\$[A-Z_]+", args[1]), 'only `test -n "$VAR"`'


def check_cp(command: Command, args: list[str]) -> None:
    assert (REPO / args[0]).exists(), args[0]  # copies a file of the repo


def check_docker(command: Command, args: list[str]) -> None:
    stages = re.findall(r"^FROM \S+ AS (\w+)", (REPO / "Dockerfile").read_text(), re.M)
    if args[0] == "build":
        assert _option(args, "--target") in stages and args[-1] == "."
    else:
        assert args[0] == "push" and args[1].startswith(VALUES_IMAGE)


VALUES_IMAGE = VALUES["dagster-user-deployments"]["deployments"][0]["image"]["repository"]
CHECKS = {
    "make": check_make,
    "retrain": check_retrain,
    "python": check_python,
    "dg": check_dg,
    "dagster": check_dagster,
    "dagster-webserver": check_dagster_webserver,
    "kubectl": check_kubectl,
    "helm": check_helm,
    "docker": check_docker,
    "export": lambda command, args: None,  # variables only
    "mkdir": lambda command, args: None,  # a folder of the reader's
    "test": check_test,
    "cp": check_cp,
}


def test_the_pages_have_commands_to_check() -> None:
    programs = {_program(c.argv)[0] for c in COMMANDS}
    assert {"make", "retrain", "dg", "kubectl", "helm", "docker"} <= programs


@pytest.mark.parametrize("command", COMMANDS, ids=str)
def test_each_documented_command_is_checked_against_the_real_thing(command: Command) -> None:
    program, args = _program(command.argv)
    assert program in CHECKS, f"{command}: no check for {program!r}; write one"
    CHECKS[program](command, args)


def _anchors(page: Path) -> set[str]:
    headings = re.findall(r"^#+ (.+)$", page.read_text(), re.M)
    return {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_between_the_pages_lands_on_a_file_and_heading(page: Path) -> None:
    for target in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]+))?\)", page.read_text()):
        path, anchor = target
        if path.startswith("http"):
            continue
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name}: {path}"
        if anchor:
            assert anchor in _anchors(linked), f"{page.name}: {path}#{anchor}"


# --- Subcommands: every `dagster ...` / `dg ...` of a page names a command the installed CLI has.

INLINE_COMMAND = re.compile(r"`((?:dagster|dg) [a-z][^`]*)`")


def _cli_uses() -> list[tuple[str, list[str]]]:
    """Each `dagster`/`dg` command of the pages: the bash blocks' ones and inline `code` ones."""
    uses = []
    for command in COMMANDS:
        program, args = _program(command.argv)
        if program in ("dagster", "dg"):
            uses.append((f"{command}", [program, *args]))
        if program == "kubectl" and "--" in args and _program(args)[0] != "kubectl":
            inner = list(args[args.index("--") + 1 :])
            if inner and inner[0] in ("dagster", "dg"):
                uses.append((f"{command}", inner))
    for page in PAGES:
        for text in INLINE_COMMAND.findall(page.read_text()):
            uses.append((f"{page.name}: `{text}`", shlex.split(text)))
    return uses


def _command_path(program: str, words: list[str]) -> list[str]:
    """The subcommand words of `words`, walking the installed CLI (`dagster`: its own `--help`,
    its public face; `dg`: its click group, whose `--help` prints only the usage off a
    terminal); fails on a subcommand it lacks."""
    path: list[str] = []
    for word in words:
        known = _subcommands(program, path)
        if known is None or word.startswith("-"):
            break
        assert word in known, f"{program} {' '.join([*path, word])}: no such command"
        path.append(word)
    return path


def _subcommands(program: str, path: list[str]) -> set[str] | None:
    """The subcommands of `program PATH` (None: it takes no subcommand)."""
    if program == "dg":
        import click
        from dagster_dg_cli.cli import cli

        node: click.Command | None = cli
        for word in path:
            assert isinstance(node, click.Group)
            node = node.get_command(click.Context(node), word)
        return (
            set(node.list_commands(click.Context(node))) if isinstance(node, click.Group) else None
        )
    result = _run([str(BIN / program), *path, "--help"])
    assert result.returncode == 0, f"{program} {' '.join(path)}: {result.stderr}"
    _, found, commands = result.stdout.partition("Commands:")
    if not found:
        return None
    # click lists one command a line, indented; its own help wraps deeper or follows it.
    return {line.split()[0] for line in commands.splitlines() if re.match(r"^  \S", line)}


@pytest.mark.parametrize("use", _cli_uses(), ids=lambda use: use[0])
def test_each_dagster_and_dg_subcommand_exists_in_the_installed_cli(
    use: tuple[str, list[str]],
) -> None:
    _, (program, *words) = use
    path = _command_path(program, words)
    result = _run([str(BIN / program), *path, "--help"])
    assert result.returncode == 0, result.stderr


# --- Settings: every environment variable the code reads is documented in configuration.md.

CODE_DIRS = ("retrain_assets", "resources", "sensors", "deploy")
# A quoted name with one of the prefixes the product's variables have: os.environ[...],
# environ.get(...), dg.EnvVar(...), setting(..., "NAME", ...) and the *_ENV / *_VAR constants
# all name the variable in such a literal.
QUOTED_NAME = re.compile(
    r"[\"']((?:RETRAIN|DAGSTER|DROPBOX|AWS|TELEGRAM|STRUCTLOG|CUDA)_[A-Z0-9_]*[A-Z0-9])[\"']"
)
# The instance files' `env: NAME`, and the names the deploy env files set (they also carry
# the RETRAIN_K8S_* names that step_pods.py builds as f"RETRAIN_K8S_{name.upper()}").
YAML_ENV = re.compile(r"\benv: ([A-Z][A-Z0-9_]+)")
ENV_FILE_LINE = re.compile(r"^([A-Z][A-Z0-9_]+)=", re.M)
NOT_SETTINGS = {
    "RETRAIN_EXCHANGE_API_URL": "test hook: points the exchange client at a loopback fake",
    "RETRAIN_DROPBOX_API_URL": "test hook: points the Dropbox client at a loopback fake",
}


def variables_the_code_reads() -> dict[str, str]:
    """Each variable name found by the patterns above, with the first file naming it."""
    found: dict[str, str] = {}
    for folder in CODE_DIRS:
        for path in sorted((REPO / folder).rglob("*.py")):
            for name in QUOTED_NAME.findall(path.read_text()):
                found.setdefault(name, str(path.relative_to(REPO)))
    for path in [REPO / "dagster.yaml", REPO / "deploy" / "dagster.yaml"]:
        for name in YAML_ENV.findall(path.read_text()):
            found.setdefault(name, str(path.relative_to(REPO)))
    for path in sorted((REPO / "deploy" / "k8s").glob("*.env*")):
        for name in ENV_FILE_LINE.findall(path.read_text()):
            found.setdefault(name, str(path.relative_to(REPO)))
    return found


def test_the_scanner_finds_the_variables_it_should() -> None:
    found = variables_the_code_reads()
    expected = {"RETRAIN_EXECUTOR", "RETRAIN_K8S_CPU_REQUEST", "DAGSTER_PG_HOST", "TELEGRAM_TOKEN"}
    assert expected <= set(found)
    assert set(NOT_SETTINGS) <= set(found), "an allow-listed name the code no longer has"


def test_every_variable_the_code_reads_is_in_configuration_md() -> None:
    documented = set(
        re.findall(r"`([A-Z][A-Z0-9_]+)`", (REPO / "docs/configuration.md").read_text())
    )
    missing = {
        name: where
        for name, where in variables_the_code_reads().items()
        if name not in documented and name not in NOT_SETTINGS
    }
    assert not missing, f"read by the code, not in docs/configuration.md: {missing}"
