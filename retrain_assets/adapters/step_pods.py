"""The Kubernetes pods of the symbol-day steps when runs execute one pod per step.

Plain data in the shape of dagster-k8s's `UserDefinedDagsterK8sConfig` (container, pod spec
and job spec config), so the wiring hands it to `k8s_job_executor` unchanged. The training
step gets the spec's memory budget (2-4 GB per worker), a GPU with its node selector and
tolerations when GPU training is configured, and an active deadline just past the per-symbol
timeout, so Kubernetes reaps a pod the in-step timeout could not stop. The other steps are
small CPU pods.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from retrain_assets.core.errors import RetrainError
from retrain_assets.core.model.training import DEFAULT_TIMEOUT_MINUTES

GPU_RESOURCE = "nvidia.com/gpu"
# A pod sees the node's cores (os.cpu_count ignores its CPU request), so the training pod says
# how many threads CatBoost should use: its CPU request, rounded up.
THREADS_ENV = "RETRAIN_TRAINING_THREADS"
# The in-step hard timeout fires 30 s after the soft one; the pod also needs time to start
# and to upload its files.
DEADLINE_MARGIN_S = 300


@dataclass(frozen=True)
class StepPodSettings:
    """What the step pods ask of the cluster.

    Attributes:
        cpu_request / memory_request / memory_limit: The training pod's requests and limit.
        light_cpu_request / light_memory_request / light_memory_limit: The other steps'.
        gpu: Whether training runs on a GPU (one `nvidia.com/gpu` per training pod).
        gpu_node_selector: Labels of the GPU nodes.
        gpu_tolerations: Tolerations of the GPU nodes' taints.
        timeout_minutes: The per-symbol training timeout the deadline follows: the
            deployment's (`resources.deployment`), the same the training resource and the
            schedule use. A longer `--timeout_minutes` of one invocation does not reach the
            pods (dagster-k8s gives step pods no run tags): Kubernetes stops it here.
    """

    cpu_request: str = "2"
    memory_request: str = "2Gi"
    memory_limit: str = "4Gi"
    light_cpu_request: str = "250m"
    light_memory_request: str = "512Mi"
    light_memory_limit: str = "1Gi"
    gpu: bool = False
    gpu_node_selector: Mapping[str, str] = field(
        default_factory=lambda: {"nvidia.com/gpu.present": "true"}
    )
    gpu_tolerations: tuple[Mapping[str, str], ...] = (
        {"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"},
    )
    timeout_minutes: float = DEFAULT_TIMEOUT_MINUTES

    @classmethod
    def from_env(cls, environ: Mapping[str, str], timeout_minutes: float) -> "StepPodSettings":
        """Settings from `RETRAIN_K8S_*` variables (unset: the defaults above), with the
        deployment's training timeout.

        Raises:
            RetrainError: A variable that does not parse, named with what it expects.
        """
        values: dict[str, Any] = {}
        for name in ("cpu_request", "memory_request", "memory_limit"):
            if environ.get(f"RETRAIN_K8S_{name.upper()}"):
                values[name] = environ[f"RETRAIN_K8S_{name.upper()}"]
        cpu_threads(values.get("cpu_request", cls.cpu_request))  # a bad quantity fails here
        gpu = environ.get("RETRAIN_K8S_GPU", "").strip().lower()
        if gpu not in ("", "0", "1", "true", "false"):
            raise RetrainError(f"RETRAIN_K8S_GPU must be true or false, got {gpu!r}")
        values["gpu"] = gpu in ("1", "true")
        return cls(**values, timeout_minutes=timeout_minutes)

    @property
    def deadline_seconds(self) -> int:
        """The training pod's active deadline: the timeout plus `DEADLINE_MARGIN_S`."""
        return int(self.timeout_minutes * 60) + DEADLINE_MARGIN_S


def cpu_threads(quantity: str) -> int:
    """Whole cores of a Kubernetes CPU quantity ("2", "1.5", "500m"), at least 1.

    Raises:
        RetrainError: A quantity that is not one, or not above 0.
    """
    text = quantity.strip()
    try:
        cores = float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        cores = 0.0
    if cores <= 0:
        raise RetrainError(f"RETRAIN_K8S_CPU_REQUEST must be a CPU quantity above 0: {quantity!r}")
    return max(1, -int(-cores // 1))


def training_pod(settings: StepPodSettings) -> dict[str, Any]:
    """The training step's pod: its memory budget, a GPU when configured, the deadline."""
    limits: dict[str, str] = {"memory": settings.memory_limit}
    pod_spec: dict[str, Any] = {}
    if settings.gpu:
        limits[GPU_RESOURCE] = "1"
        pod_spec = {
            "node_selector": dict(settings.gpu_node_selector),
            "tolerations": [dict(t) for t in settings.gpu_tolerations],
        }
    return {
        "container_config": {
            "resources": {
                "requests": {"cpu": settings.cpu_request, "memory": settings.memory_request},
                "limits": limits,
            },
            "env": [{"name": THREADS_ENV, "value": str(cpu_threads(settings.cpu_request))}],
        },
        "pod_spec_config": pod_spec,
        "job_spec_config": {"active_deadline_seconds": settings.deadline_seconds},
    }


def light_pod(settings: StepPodSettings) -> dict[str, Any]:
    """Every other step's pod: a little CPU and memory, never a GPU."""
    return {
        "container_config": {
            "resources": {
                "requests": {
                    "cpu": settings.light_cpu_request,
                    "memory": settings.light_memory_request,
                },
                "limits": {"memory": settings.light_memory_limit},
            }
        }
    }
