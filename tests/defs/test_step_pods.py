"""One pod per step on Kubernetes: the Job specs dagster-k8s builds from this project's config.

No cluster here, and no mock of one: dagster-k8s's own `construct_dagster_k8s_job` builds the
step Jobs from the real definitions' executor config, and the `kubernetes` client's models
check them (a round trip through its serializer and deserializer, as the API server's client
would send and read them).
"""

import json

import dagster as dg
import kubernetes
import pytest
from dagster_k8s.job import (
    DagsterK8sJobConfig,
    UserDefinedDagsterK8sConfig,
    construct_dagster_k8s_job,
)

from retrain_assets.adapters.step_pods import THREADS_ENV, StepPodSettings, light_pod, training_pod
from retrain_assets.core.errors import RetrainError
from retrain_assets.definitions import defs
from retrain_assets.defs.executor import TRAINING_STEP, build_executor, k8s_executor_config

IMAGE = "registry.example/retrain-assets:1.0"
GPU_ENV = {
    "RETRAIN_EXECUTOR": "k8s",
    "RETRAIN_K8S_GPU": "true",
    "RETRAIN_TIMEOUT_MINUTES": "30",
}


class _Response:
    def __init__(self, data: str) -> None:
        self.data = data


def _step_job(pod: dict) -> kubernetes.client.V1Job:
    """The Job dagster-k8s launches for one step, checked by the kubernetes client's models."""
    config = DagsterK8sJobConfig(
        job_image=IMAGE,
        dagster_home="/opt/dagster/dagster_home",
        image_pull_policy="IfNotPresent",
        instance_config_map="dagster-instance",
        env_secrets=["retrain-secrets"],
    )
    job = construct_dagster_k8s_job(
        config,
        ["dagster", "api", "execute_step"],
        "dagster-step-0123456789",
        user_defined_k8s_config=UserDefinedDagsterK8sConfig.from_dict(pod),
    )
    client = kubernetes.client.ApiClient()
    wire = json.dumps(client.sanitize_for_serialization(job))
    return client.deserialize(_Response(wire), "V1Job")


def test_the_training_step_of_the_real_definitions_is_the_one_given_the_training_pod():
    model = defs.resolve_assets_def("model")
    assert model.node_def.name == TRAINING_STEP
    plan = k8s_executor_config(StepPodSettings())
    assert set(plan["per_step_k8s_config"]) == {TRAINING_STEP}


def test_a_gpu_training_pod_asks_for_one_gpu_on_gpu_nodes_with_a_deadline_past_the_timeout():
    settings = StepPodSettings.from_env(GPU_ENV, 30.0)
    job = _step_job(training_pod(settings))
    pod = job.spec.template.spec
    (container,) = pod.containers
    assert container.image == IMAGE
    assert container.resources.limits == {"memory": "4Gi", "nvidia.com/gpu": "1"}
    assert container.resources.requests == {"cpu": "2", "memory": "2Gi"}
    assert pod.node_selector == {"nvidia.com/gpu.present": "true"}
    (toleration,) = pod.tolerations
    assert (toleration.key, toleration.operator, toleration.effect) == (
        "nvidia.com/gpu",
        "Exists",
        "NoSchedule",
    )
    assert job.spec.active_deadline_seconds == 30 * 60 + 300
    assert [e.secret_ref.name for e in container.env_from if e.secret_ref] == ["retrain-secrets"]


def test_a_cpu_training_pod_has_no_gpu_and_the_other_steps_are_small():
    settings = StepPodSettings.from_env({"RETRAIN_K8S_MEMORY_LIMIT": "3Gi"}, 45.0)
    training = _step_job(training_pod(settings)).spec.template.spec
    assert training.containers[0].resources.limits == {"memory": "3Gi"}
    assert training.node_selector is None and training.tolerations is None
    light = _step_job(light_pod(settings)).spec.template.spec.containers[0]
    assert light.resources.requests == {"cpu": "250m", "memory": "512Mi"}


@pytest.mark.parametrize(("request_", "threads"), [("2", "2"), ("1500m", "2"), ("250m", "1")])
def test_the_training_pod_tells_catboost_its_cpu_request_not_the_nodes_cores(request_, threads):
    settings = StepPodSettings.from_env({"RETRAIN_K8S_CPU_REQUEST": request_}, 45.0)
    container = _step_job(training_pod(settings)).spec.template.spec.containers[0]
    assert {e.name: e.value for e in container.env}[THREADS_ENV] == threads


def test_the_executor_is_in_process_unless_kubernetes_is_asked_for():
    assert build_executor({}) is dg.in_process_executor
    executor = build_executor(GPU_ENV)  # config is checked against dagster-k8s's schema here
    assert executor.name == "retrain_k8s"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"RETRAIN_EXECUTOR": "spark"}, "RETRAIN_EXECUTOR must be one of in_process, k8s"),
        ({"RETRAIN_EXECUTOR": "k8s", "RETRAIN_K8S_GPU": "maybe"}, "RETRAIN_K8S_GPU"),
        ({"RETRAIN_EXECUTOR": "k8s", "RETRAIN_TIMEOUT_MINUTES": "soon"}, "RETRAIN_TIMEOUT_MINUTES"),
        # The pods' deadline once had a variable of its own: a deployment still setting it is
        # told where the timeout lives now, rather than silently getting another deadline.
        ({"RETRAIN_EXECUTOR": "k8s", "RETRAIN_K8S_TIMEOUT_MINUTES": "90"}, "no longer read"),
        ({"RETRAIN_EXECUTOR": "k8s", "RETRAIN_K8S_CPU_REQUEST": "two"}, "RETRAIN_K8S_CPU_REQUEST"),
        ({"RETRAIN_EXECUTOR": "k8s", "RETRAIN_K8S_CPU_REQUEST": "0m"}, "RETRAIN_K8S_CPU_REQUEST"),
    ],
)
def test_bad_executor_settings_are_named(env, named):
    with pytest.raises(RetrainError, match=named):
        build_executor(env)
