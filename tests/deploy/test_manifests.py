"""The Kubernetes manifests and settings in deploy/k8s/, checked without a cluster.

Real parts: the `kubernetes` client's models (each manifest through its deserializer, as the
API server's client reads it) and, where the machine has it, `kubectl` building the ConfigMap
and the Secret offline (`--dry-run=client`), exactly as docs/kubernetes.md runs it.
"""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
INSTANCE = REPO / "deploy" / "dagster.yaml"
SECRET_WORDS = ("PASSWORD", "TOKEN", "SECRET", "ACCESS_KEY", "CHAT_ID")


class _Response:
    def __init__(self, data: str) -> None:
        self.data = data


def env_file(path: Path) -> dict[str, str]:
    """NAME=value lines of an env file (comments and blanks skipped)."""
    lines = [line.strip() for line in path.read_text().splitlines()]
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return {name: value for name, value in pairs}


def env_refs(node: Any) -> set[str]:
    """Every `{env: NAME}` the instance config reads."""
    if isinstance(node, dict):
        if set(node) == {"env"}:
            return {node["env"]}
        return set().union(*(env_refs(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(env_refs(v) for v in node)) if node else set()
    return set()


def manifests() -> list[dict]:
    return [yaml.safe_load(p.read_text()) for p in sorted(K8S.glob("*.yaml"))]


SETTINGS = env_file(K8S / "retrain-assets.env")
SECRETS = env_file(K8S / "secrets.env.example")


@pytest.mark.parametrize("manifest", manifests(), ids=lambda m: m["metadata"]["name"])
def test_every_manifest_reads_as_a_kubernetes_object(manifest: dict) -> None:
    client = kubernetes.client.ApiClient()
    kind = f"V1{manifest['kind']}"
    read = client.deserialize(_Response(json.dumps(manifest)), kind)
    assert read.metadata.name == manifest["metadata"]["name"]


def test_the_artifact_volume_is_shared_by_every_pod_at_the_artifact_root() -> None:
    (claim,) = [m for m in manifests() if m["kind"] == "PersistentVolumeClaim"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    launcher = yaml.safe_load(INSTANCE.read_text())["run_launcher"]["config"]
    (mount,) = launcher["volume_mounts"]
    (volume,) = launcher["volumes"]
    assert volume["name"] == mount["name"]
    assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert mount["mountPath"] == SETTINGS["RETRAIN_ARTIFACT_ROOT"]


def test_each_gpu_is_shared_by_as_many_trainings_as_split_its_memory() -> None:
    (slicing,) = [m for m in manifests() if m["kind"] == "ConfigMap"]
    config = yaml.safe_load(slicing["data"]["any"])
    (resource,) = config["sharing"]["timeSlicing"]["resources"]
    assert resource["name"] == "nvidia.com/gpu"
    assert resource["replicas"] == int(SETTINGS["RETRAIN_GPU_TRAININGS_PER_GPU"])


def test_every_variable_the_cluster_instance_reads_is_a_setting_or_a_secret() -> None:
    read = env_refs(yaml.safe_load(INSTANCE.read_text()))
    assert read <= set(SETTINGS) | set(SECRETS), read - set(SETTINGS) - set(SECRETS)
    assert "DAGSTER_PG_PASSWORD" in SECRETS and "DAGSTER_PG_PASSWORD" not in SETTINGS


def test_settings_hold_no_secret_and_the_secret_example_no_value() -> None:
    assert not [name for name in SETTINGS if any(w in name for w in SECRET_WORDS)]
    assert set(SECRETS.values()) == {""}


CONFIGMAP = ["configmap", "retrain-assets-env", f"--from-env-file={K8S}/retrain-assets.env"]
SECRET = ["secret", "generic", "retrain-assets-secrets"]
SECRET += [f"--from-env-file={K8S}/secrets.env.example"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="no kubectl on this machine")
@pytest.mark.parametrize(("kind", "args"), [("ConfigMap", CONFIGMAP), ("Secret", SECRET)])
def test_kubectl_builds_the_settings_and_the_secret_offline(kind: str, args: list[str]) -> None:
    result = subprocess.run(
        ["kubectl", "-n", "retrain", "create", *args, "--dry-run=client", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    built = json.loads(result.stdout)
    assert built["kind"] == kind and built["metadata"]["namespace"] == "retrain"
    expected = SETTINGS if kind == "ConfigMap" else SECRETS
    assert set(built.get("data") or {}) == set(expected)


# Read by the code but not for a deployment's Secret: a temporary STS credential, and Dropbox's
# short-lived token (4 hours, too short for a daily job; configuration.md).
NOT_FOR_THE_SECRET = {"AWS_SESSION_TOKEN", "DROPBOX_ACCESS_TOKEN"}


def test_the_secret_example_names_every_secret_the_code_reads() -> None:
    from resources.storage import DROPBOX_ENV
    from retrain_assets.core.redaction import SECRET_ENV_VARS

    wanted = (set(SECRET_ENV_VARS) | set(DROPBOX_ENV.values())) - NOT_FOR_THE_SECRET
    assert wanted <= set(SECRETS), wanted - set(SECRETS)
