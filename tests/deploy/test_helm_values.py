"""The Helm values say what the cluster instance says, in the chart's own keys.

The official chart renders its own dagster.yaml from deploy/helm/values.yaml, so every setting of
deploy/dagster.yaml must have its value there, under the chart's name for it. No helm binary and no
cluster here: the values are read as data, next to the instance, the Dockerfile and the project.
"""

import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml

from tests.deploy.test_image import command_of, env_of, flag, parse_dockerfile

REPO = Path(__file__).resolve().parents[2]
VALUES = yaml.safe_load((REPO / "deploy" / "helm" / "values.yaml").read_text())
INSTANCE = yaml.safe_load((REPO / "deploy" / "dagster.yaml").read_text())
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
CLUSTER_ENV = REPO / "deploy" / "k8s" / "retrain-assets.env"
TARGETS = {s.name for s in parse_dockerfile((REPO / "Dockerfile").read_text())} & {"cpu", "cuda"}

DAEMON = VALUES["dagsterDaemon"]
LAUNCHER = VALUES["runLauncher"]["config"]["k8sRunLauncher"]
(DEPLOYMENT,) = VALUES["dagster-user-deployments"]["deployments"]
# Where each top-level setting of deploy/dagster.yaml lives in the chart's values.
CHART_HOME = {
    "telemetry": "telemetry",
    "nux": "additionalInstanceConfig.nux",
    "storage": "postgresql",
    "run_launcher": "runLauncher",
    "concurrency": "concurrency",
    "run_queue": "dagsterDaemon.runCoordinator.config.queuedRunCoordinator",
    "run_monitoring": "dagsterDaemon.runMonitoring",
    "run_retries": "dagsterDaemon.runRetries",
    "compute_logs": "computeLogManager",
}
SECRET_WORDS = ("password", "passwd", "token", "secret", "key", "credential")
LABEL_KEY = re.compile(r"([a-z0-9.-]+/)?[A-Za-z0-9._-]+")


def camel(name: str) -> str:
    """`max_concurrent_runs` -> `maxConcurrentRuns`: the chart's spelling of an instance key."""
    first, *rest = name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def camel_keys(node: Any) -> Any:
    """A piece of instance config with every mapping key in the chart's spelling."""
    if isinstance(node, dict):
        return {camel(k): camel_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [camel_keys(v) for v in node]
    return node


def at(path: str) -> Any:
    """The value at a dotted path of the values."""
    node: Any = VALUES
    for part in path.split("."):
        node = node[part]
    return node


def names(refs: list[Mapping[str, str]] | None) -> list[str]:
    """The names of a list of `{name: ...}` Secret or ConfigMap references."""
    return [ref["name"] for ref in refs or []]


def cluster_settings() -> dict[str, str]:
    """The ConfigMap's settings file (deploy/k8s/retrain-assets.env); skip where it is absent."""
    if not CLUSTER_ENV.is_file():
        pytest.skip(f"{CLUSTER_ENV.relative_to(REPO)} is not in this checkout")
    lines = [line.strip() for line in CLUSTER_ENV.read_text().splitlines()]
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return {key: value for key, value in pairs}


def strings(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Every `(key, string value)` of a document; list items carry their list's key."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from strings(v, str(k))
    elif isinstance(node, list):
        for item in node:
            yield from strings(item, key)
    elif isinstance(node, str):
        yield key, node


def looks_like_a_credential(value: str) -> bool:
    """An AWS key id, a PEM block, a URL with a password, or a long high-entropy token."""
    if re.search(r"AKIA[0-9A-Z]{16}|-----BEGIN |://[^/\s:@]+:[^/\s@]+@", value):
        return True
    token = re.fullmatch(r"[A-Za-z0-9+/=_-]{24,}", value)
    classes = [r"[a-z]", r"[A-Z]", r"[0-9]"]
    return bool(token) and all(re.search(c, value) for c in classes)


def literal_secrets(document: Any) -> list[tuple[str, str]]:
    """The `(key, value)` pairs of a document that write a secret instead of naming one.

    A key that speaks of a password, token, secret or key may hold a flag or the *name* of a
    Secret (`...SecretName`), or, for `key` itself, a label or tag key; any other string there is
    a literal. Any string anywhere that looks like a credential is one too.
    """
    found = []
    for key, value in strings(document):
        lowered = key.lower()
        if value and any(word in lowered for word in SECRET_WORDS):
            if lowered.endswith("secretname"):
                continue
            if key == "key" and LABEL_KEY.fullmatch(value):
                continue
            found.append((key, value))
        elif looks_like_a_credential(value):
            found.append((key, value))
    return found


def test_every_setting_of_the_cluster_instance_has_its_place_in_the_values() -> None:
    assert set(INSTANCE) == set(CHART_HOME), "map the new instance setting to its chart key"
    for path in CHART_HOME.values():
        assert at(path) is not None, path


def test_the_queue_limits_match_the_cluster_instance() -> None:
    concurrency = VALUES["concurrency"]
    assert concurrency["enabled"] is True  # the chart renders the block only when enabled
    assert concurrency["runs"] == camel_keys(INSTANCE["concurrency"]["runs"])
    # The daemon dequeues, with no limits of its own: the chart fails on limits in both places.
    coordinator = DAEMON["runCoordinator"]
    assert coordinator["enabled"] is True and coordinator["type"] == "QueuedRunCoordinator"
    queued = coordinator["config"]["queuedRunCoordinator"] or {}
    assert not {"maxConcurrentRuns", "tagConcurrencyLimits"} & set(queued)
    assert queued == camel_keys(INSTANCE["run_queue"])  # how fast it dequeues, the same


def test_the_partition_tag_limit_allows_one_run_per_symbol_day() -> None:
    (limit,) = VALUES["concurrency"]["runs"]["tagConcurrencyLimits"]
    per_value = {"applyLimitPerUniqueValue": True}
    assert limit == {"key": "dagster/partition", "value": per_value, "limit": 1}


def test_the_pool_default_matches_the_cluster_instance() -> None:
    assert VALUES["concurrency"]["pools"] == camel_keys(INSTANCE["concurrency"]["pools"])


def test_run_monitoring_timeouts_match_the_cluster_instance() -> None:
    assert DAEMON["enabled"] is True
    assert DAEMON["runMonitoring"] == camel_keys(INSTANCE["run_monitoring"])


def test_run_retries_match_the_cluster_instance() -> None:
    assert DAEMON["runRetries"] == camel_keys(INSTANCE["run_retries"])


def test_the_run_launcher_gets_the_cluster_instances_secrets_and_settings() -> None:
    assert VALUES["runLauncher"]["type"] == INSTANCE["run_launcher"]["class"]
    config = INSTANCE["run_launcher"]["config"]
    assert names(LAUNCHER["envSecrets"]) == config["env_secrets"]
    assert names(LAUNCHER["envConfigMaps"]) == config["env_config_maps"]
    assert LAUNCHER["imagePullPolicy"] == config["image_pull_policy"]
    assert LAUNCHER.get("volumeMounts", []) == config.get("volume_mounts", [])
    assert LAUNCHER.get("volumes", []) == config.get("volumes", [])
    # One service account for every pod, made by the chart. The instance ConfigMap is the
    # chart's own (`instance_config_map` names the one a deployment without the chart makes).
    assert VALUES["global"]["serviceAccountName"] == config["service_account_name"]
    assert VALUES["serviceAccount"]["create"] is True
    assert "name" not in VALUES["serviceAccount"]  # global.serviceAccountName wins anyway
    # The release's namespace: deploy/dagster.yaml reads it from DAGSTER_K8S_NAMESPACE.
    assert LAUNCHER["jobNamespace"] is None
    assert config["job_namespace"] == {"env": "DAGSTER_K8S_NAMESPACE"}


def test_the_code_server_gets_the_same_secret_and_settings_and_passes_them_to_its_runs() -> None:
    assert names(DEPLOYMENT["envSecrets"]) == names(LAUNCHER["envSecrets"])
    assert names(DEPLOYMENT["envConfigMaps"]) == names(LAUNCHER["envConfigMaps"])
    assert DEPLOYMENT["includeConfigInLaunchedRuns"] == {"enabled": True}
    assert DEPLOYMENT["resources"]["requests"] and DEPLOYMENT["resources"]["limits"]["memory"]


class _Response:
    def __init__(self, data: str) -> None:
        self.data = data


def kubernetes_objects() -> Iterator[tuple[str, Any]]:
    """`(model, object)` of every Kubernetes object the values spell out."""
    for part in (DEPLOYMENT, LAUNCHER, VALUES["dagsterWebserver"], DAEMON):
        yield from (("V1VolumeMount", m) for m in part.get("volumeMounts", []))
        yield from (("V1Volume", v) for v in part.get("volumes", []))
        yield from (("V1SecretEnvSource", r) for r in part.get("envSecrets", []))
        yield from (("V1ConfigMapEnvSource", r) for r in part.get("envConfigMaps", []))
        if "resources" in part:
            yield "V1ResourceRequirements", part["resources"]


OBJECTS = list(kubernetes_objects())


@pytest.mark.parametrize(
    ("model", "obj"), OBJECTS, ids=[f"{m}-{i}" for i, (m, _) in enumerate(OBJECTS)]
)
def test_the_kubernetes_objects_in_the_values_read_as_kubernetes_models(
    model: str, obj: Any
) -> None:
    # The client's deserializer drops keys it does not know: a misspelt key comes back missing.
    client = kubernetes.client.ApiClient()
    read = client.deserialize(_Response(json.dumps(obj)), model)
    assert client.sanitize_for_serialization(read) == obj
    if model == "V1ResourceRequirements":  # resource names are map keys: the model takes any
        named = {name for amounts in obj.values() for name in amounts}
        assert named <= {"cpu", "memory", "ephemeral-storage"} | {n for n in named if "/" in n}


def test_the_code_server_and_the_runs_share_the_artifact_root_the_image_names() -> None:
    # The sensors in the code server (pending uploads, summaries) read what the runs write.
    assert DEPLOYMENT.get("volumeMounts") == LAUNCHER.get("volumeMounts")
    assert DEPLOYMENT.get("volumes") == LAUNCHER.get("volumes")
    mounts = [m["mountPath"] for m in LAUNCHER.get("volumeMounts", [])]
    if mounts:
        assert env_of(image_target())["RETRAIN_ARTIFACT_ROOT"] in mounts


def test_the_chart_starts_the_code_server_with_the_images_own_command() -> None:
    # The chart prefers dagsterApiGrpcArgs when both are set; only codeServerArgs is.
    assert "dagsterApiGrpcArgs" not in DEPLOYMENT
    port = DEPLOYMENT["port"]
    rendered = ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", str(port)]
    rendered += DEPLOYMENT["codeServerArgs"]
    image = command_of(image_target())
    assert rendered == image
    assert flag(rendered, "-m") == PYPROJECT["tool"]["dagster"]["module_name"]


def image_target() -> str:
    """The Dockerfile target the user deployment's tag names (`<version>-<target>`)."""
    version, _, target = str(DEPLOYMENT["image"]["tag"]).rpartition("-")
    assert version == PYPROJECT["project"]["version"], DEPLOYMENT["image"]["tag"]
    assert target in TARGETS, DEPLOYMENT["image"]["tag"]
    return target


def test_runs_use_the_pinned_image_of_the_code_location() -> None:
    image = DEPLOYMENT["image"]
    assert image["repository"] and ":" not in image["repository"].rsplit("/", 1)[-1]
    assert image["tag"] not in ("", None, "latest")
    image_target()
    # No image on the launcher: the chart sets job_image only when this key is there; without
    # it each run's Job takes the image the code server reports (DAGSTER_CURRENT_IMAGE).
    assert "image" not in LAUNCHER
    assert image["pullPolicy"] == LAUNCHER["imagePullPolicy"] == "IfNotPresent"


def test_gpu_training_runs_the_cuda_image_when_the_cluster_asks_for_gpus() -> None:
    gpu = cluster_settings().get("RETRAIN_K8S_GPU", "").strip().lower() in ("1", "true")
    assert (image_target() == "cuda") is gpu
    if gpu:
        assert env_of("cuda")["RETRAIN_K8S_GPU"] == "true"


def test_the_pool_holds_the_trainings_the_gpus_take() -> None:
    settings = cluster_settings()
    if "RETRAIN_GPU_TRAININGS_PER_GPU" not in settings:
        pytest.skip("the cluster settings do not size the GPUs")
    per_gpu = int(settings["RETRAIN_GPU_TRAININGS_PER_GPU"])
    assert VALUES["concurrency"]["pools"]["defaultLimit"] % per_gpu == 0


def test_compute_logs_go_to_the_same_bucket_and_prefix_as_the_cluster_instance() -> None:
    logs = VALUES["computeLogManager"]
    assert logs["type"] == INSTANCE["compute_logs"]["class"] == "S3ComputeLogManager"
    assert logs["config"]["s3ComputeLogManager"] == camel_keys(INSTANCE["compute_logs"]["config"])
    assert logs["config"]["s3ComputeLogManager"]["prefix"] == "retrain-assets/compute-logs"


def test_postgres_is_external_and_its_password_comes_from_an_existing_secret() -> None:
    postgres = VALUES["postgresql"]
    assert postgres["enabled"] is False
    assert VALUES["generatePostgresqlPasswordSecret"] is False
    assert VALUES["global"]["postgresqlSecretName"]
    assert "postgresqlPassword" not in postgres
    database = INSTANCE["storage"]["postgres"]["postgres_db"]
    assert postgres["postgresqlScheme"] == database["scheme"]
    assert database["password"] == {"env": "DAGSTER_PG_PASSWORD"}  # what the chart sets too


def test_the_database_is_the_one_the_cluster_settings_name() -> None:
    settings = cluster_settings()
    postgres = VALUES["postgresql"]
    assert postgres["postgresqlHost"] == settings["DAGSTER_PG_HOST"]
    assert postgres["postgresqlDatabase"] == settings["DAGSTER_PG_DB"]
    assert postgres["postgresqlUsername"] == settings["DAGSTER_PG_USER"]
    assert str(postgres["service"]["port"]) == settings["DAGSTER_PG_PORT"]


def test_telemetry_and_the_welcome_popup_are_off_as_in_the_cluster_instance() -> None:
    assert VALUES["telemetry"] == INSTANCE["telemetry"] == {"enabled": False}
    assert VALUES["additionalInstanceConfig"]["nux"] == INSTANCE["nux"]
    # Only what the chart has no key for goes in verbatim, never a block it renders itself.
    assert set(VALUES["additionalInstanceConfig"]) == {"nux"}


def test_the_webserver_and_the_daemon_run_the_projects_dagster_version() -> None:
    (dagster,) = [d for d in PYPROJECT["project"]["dependencies"] if d.startswith("dagster==")]
    version = dagster.removeprefix("dagster==")
    for part in ("dagsterWebserver", "dagsterDaemon"):
        image = VALUES[part]["image"]
        assert str(image["tag"]) == version, part
        assert image["pullPolicy"] == "IfNotPresent", part


def test_the_charts_dagster_home_is_the_images() -> None:
    assert VALUES["global"]["dagsterHome"] == env_of(image_target())["DAGSTER_HOME"]


def test_no_value_writes_a_secret() -> None:
    assert literal_secrets(VALUES) == []


@pytest.mark.parametrize(
    "document",
    [
        {"postgresql": {"postgresqlPassword": "hunter2"}},
        {"dagsterWebserver": {"env": {"TELEGRAM_TOKEN": "123456:abc"}}},
        {"env": [{"name": "X", "value": "wJalrXUtnFEMI7K7MDENGbPxRfiCYEXAMPLEKEY"}]},
        {"computeLogManager": {"config": {"endpointUrl": "https://user:pw@s3.example"}}},
        {"aws": {"id": "AKIAIOSFODNN7EXAMPLE"}},
    ],
)
def test_the_secret_check_catches_a_written_secret(document: dict) -> None:
    assert literal_secrets(document)
