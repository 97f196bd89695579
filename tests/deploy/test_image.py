"""The image: the Dockerfile's stages, its pinned dependencies, and its command really serving.

No Docker engine here, so the Dockerfile is read with a small parser (stages, their inherited
ENV and USER, the JSON-form CMD); the one real check runs the image's own command line with this
venv and asks the server over gRPC whether it is serving, as the chart's probes do.
"""

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from retrain_assets.adapters.step_pods import StepPodSettings

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
LOCK = REPO / "deploy" / "requirements.lock"
DOCKERIGNORE = REPO / ".dockerignore"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
DEV_ONLY = ("pytest", "moto", "ruff")
SERVE_DEADLINE_S = 60.0
STOP_DEADLINE_S = 30.0


@dataclass
class Stage:
    """One `FROM ... AS name` stage and its instructions, `(INSTRUCTION, arguments)` in order."""

    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)


def logical_lines(text: str) -> Iterator[str]:
    """The Dockerfile's instructions, comments dropped and `\\` continuations joined."""
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield pending + line
        pending = ""
    if pending:
        yield pending


def parse_dockerfile(text: str) -> list[Stage]:
    """The stages of a Dockerfile, in order."""
    stages: list[Stage] = []
    for line in logical_lines(text):
        instruction, _, args = line.partition(" ")
        instruction, args = instruction.upper(), args.strip()
        if instruction == "FROM":
            words = args.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else str(len(stages))
            stages.append(Stage(name=name, base=words[0]))
        elif stages:
            stages[-1].instructions.append((instruction, args))
    return stages


STAGES = parse_dockerfile(DOCKERFILE.read_text())
BY_NAME = {s.name: s for s in STAGES}


def chain(name: str) -> list[Stage]:
    """A stage and the stages it is built `FROM`, the first ancestor first."""
    stage = BY_NAME[name]
    return [*chain(stage.base), stage] if stage.base in BY_NAME else [stage]


def effective(name: str, instruction: str) -> list[str]:
    """Every argument of `instruction` a stage has, its ancestors' included, in build order."""
    return [args for s in chain(name) for i, args in s.instructions if i == instruction]


def env_of(name: str) -> dict[str, str]:
    """The environment a stage's containers start with (its own and inherited ENV)."""
    env: dict[str, str] = {}
    for args in effective(name, "ENV"):
        for pair in shlex.split(args):
            key, _, value = pair.partition("=")
            env[key] = value
    return env


def command_of(name: str) -> list[str]:
    """The stage's CMD, which must be in JSON (exec) form."""
    return json.loads(effective(name, "CMD")[-1])


def flag(argv: list[str], name: str) -> str:
    """The value after `name` in a command line."""
    return argv[argv.index(name) + 1]


def lock_pins() -> dict[str, str]:
    """`name -> version` of every `name==version` line of the lock (names canonical)."""
    pins: dict[str, str] = {}
    for line in LOCK.read_text().splitlines():
        if line and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep, f"not pinned with ==: {line!r}"
            pins[canonical(name)] = version
    return pins


def canonical(name: str) -> str:
    """A distribution name as PEP 503 compares it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_image_has_a_cpu_and_a_cuda_target_and_cpu_is_the_default() -> None:
    names = [s.name for s in STAGES]
    assert {"builder", "cpu", "cuda"} <= set(names)
    assert names[-1] == "cpu"  # a plain `docker build .` builds the last stage
    # Multi-stage: the final images copy the venv from the builder instead of building in place.
    runtime = chain("cpu")[0]
    assert any(i == "COPY" and "--from=builder" in a for i, a in runtime.instructions)
    assert not [a for s in chain("cpu") for i, a in s.instructions if "pip install" in a]


def test_every_base_image_is_pinned_to_a_tag_of_a_supported_python() -> None:
    images = [s.base for s in STAGES if s.base not in BY_NAME]
    assert images
    supported = SpecifierSet(PYPROJECT["project"]["requires-python"])
    for image in images:
        repository, sep, tag = image.partition(":")
        assert sep and tag and tag != "latest", image
        assert repository == "python", image
        version = re.match(r"\d+\.\d+", tag)
        assert version and Version(version.group()) in supported, image


@pytest.mark.parametrize("target", ["cpu", "cuda"])
def test_the_final_stages_run_as_a_non_root_user(target: str) -> None:
    users = effective(target, "USER")
    assert users, f"{target} runs as root"
    uid, _, gid = users[-1].partition(":")
    # Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
    assert uid.isdigit() and int(uid) == 10001
    assert not gid or (gid.isdigit() and int(gid) != 0)


@pytest.mark.parametrize("target", ["cpu", "cuda"])
def test_the_command_is_the_grpc_code_server_of_the_definitions(target: str) -> None:
    # The chart, the run launcher and the step executor set the container's args: an
    # ENTRYPOINT would be prepended to theirs.
    assert not effective(target, "ENTRYPOINT")
    argv = command_of(target)
    assert argv[:3] == ["dagster", "code-server", "start"]
    assert flag(argv, "-m") == PYPROJECT["tool"]["dagster"]["module_name"]
    assert flag(argv, "-h") == "0.0.0.0"
    assert effective(target, "EXPOSE") == [flag(argv, "-p")]
    (health,) = effective(target, "HEALTHCHECK")
    probe = json.loads(health[health.index("CMD") + 3 :].strip())
    assert probe == ["dagster", "api", "grpc-health-check", "-p", flag(argv, "-p")]


def test_the_cuda_target_asks_for_the_gpu_and_the_cpu_target_does_not() -> None:
    cuda, cpu = env_of("cuda"), env_of("cpu")
    assert "compute" in cuda["NVIDIA_DRIVER_CAPABILITIES"].split(",")
    assert cuda["NVIDIA_VISIBLE_DEVICES"] == "all"
    # Exactly the variables the project reads: the k8s executor's training pod asks for a GPU.
    assert StepPodSettings.from_env(cuda, 45.0).gpu is True
    assert StepPodSettings.from_env(cpu, 45.0).gpu is False
    assert "CUDA_VISIBLE_DEVICES" not in cuda  # it would claim devices a CPU node does not have
    assert {k: v for k, v in cuda.items() if k in cpu} == cpu


def test_the_lock_pins_every_runtime_dependency_at_the_version_pyproject_asks() -> None:
    pins = lock_pins()
    for line in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(line)
        name = canonical(requirement.name)
        assert name in pins, f"{requirement.name} is not in {LOCK.name}"
        assert requirement.specifier.contains(pins[name], prereleases=True), line
        exact = [s.version for s in requirement.specifier if s.operator == "=="]
        if exact:  # the Dagster family and the other exact pins, to the letter
            assert pins[name] == exact[0], line
    assert not set(DEV_ONLY) & set(pins)


def test_the_image_installs_the_lock_without_resolving_anything_else() -> None:
    builder = BY_NAME["builder"]
    runs = [a for i, a in builder.instructions if i == "RUN"]
    assert any("pip install --no-deps -r deploy/requirements.lock" in r for r in runs)
    assert any(re.search(r"pip install --no-deps \.(\s|$)", r) for r in runs)
    assert all("pip check" in r for r in runs if "pip install" in r)


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether a context path is excluded by .dockerignore patterns (the subset used here)."""
    for pattern in patterns:
        regex = re.escape(pattern).replace(r"\*\*/", "(.*/)?").replace(r"\*", "[^/]*")
        if re.fullmatch(f"{regex}(/.*)?", path):
            return True
    return False


def test_dockerignore_keeps_the_venv_git_and_dagster_home_out_not_what_is_copied() -> None:
    patterns = [p.strip() for p in DOCKERIGNORE.read_text().splitlines()]
    patterns = [p for p in patterns if p and not p.startswith("#")]
    for private in (".venv", ".git", ".dagster_home", "tests", "artifacts", "retrain_assets/x.pyc"):
        assert dockerignored(private, patterns), private
    copied = [
        a.split()[:-1]
        for s in STAGES
        for i, a in s.instructions
        if i == "COPY" and "--from=" not in a
    ]
    sources = [src for sources in copied for src in sources]
    assert "deploy/requirements.lock" in sources
    for src in sources:
        assert (REPO / src).exists(), src
        assert not dockerignored(src, patterns), f"{src} is copied but ignored"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def local_command(argv: list[str], port: int) -> list[str]:
    """The image's command for this machine: this venv's `dagster`, 127.0.0.1, a free port."""
    local = list(argv)
    local[0] = str(Path(sys.executable).with_name(argv[0]))
    local[local.index("-h") + 1] = "127.0.0.1"
    local[local.index("-p") + 1] = str(port)
    return local


@contextmanager
def interruptible_children() -> Iterator[None]:
    """Children that start with SIGINT at its default, even under a shell that ignores it.

    Dagster maps SIGTERM to the SIGINT handler it inherits; a pytest started in the background
    ignores SIGINT, and so would the server's SIGTERM (a container's PID 1 never does).
    """
    before = signal.getsignal(signal.SIGINT)
    if before is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def serving(port: int) -> bool:
    """Whether the gRPC server on the port answers the health check (the chart's probe)."""
    dagster = str(Path(sys.executable).with_name("dagster"))
    probe = [dagster, "api", "grpc-health-check", "-h", "127.0.0.1", "-p", str(port)]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=15)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


@pytest.mark.slow
def test_the_image_command_serves_the_code_location_over_grpc(tmp_path: Path) -> None:
    port = free_port()
    command = local_command(command_of("cpu"), port)
    env = {**os.environ, **env_of("cpu")}
    # The image's paths do not exist here: same variables, folders of this test.
    env |= {
        "PATH": os.environ["PATH"],
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "RETRAIN_ARTIFACT_ROOT": str(tmp_path / "artifacts"),
    }
    (tmp_path / "dagster_home").mkdir()
    log = tmp_path / "server.log"
    with log.open("w") as out, interruptible_children():
        server = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVE_DEADLINE_S
        while not serving(port):
            assert server.poll() is None, f"the server exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"not serving in time:\n{log.read_text()[-3000:]}"
            time.sleep(0.5)
        # The proxy serves even when the code fails to import: the log says it loaded.
        text = log.read_text()
        for failure in ("Error while importing code", "Failure while loading code"):
            assert failure not in text, text[-3000:]
        assert "Started Dagster code server for module retrain_assets.definitions" in text
        server.send_signal(signal.SIGTERM)  # what `docker stop` and the kubelet send
        assert server.wait(timeout=STOP_DEADLINE_S) == 0, log.read_text()[-3000:]
        assert not serving(port)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
