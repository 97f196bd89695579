"""Which executor runs a symbol-day's steps: in the run's process, or one Kubernetes pod each.

Structural, like the partitions' first date, so it is read once when the code location loads:
`RETRAIN_EXECUTOR=in_process` (the default: a symbol-day's short steps share one process) or
`k8s` (dagster-k8s's `k8s_job_executor`, for a cluster: the training step gets its own pod
with the memory budget, the GPU and the deadline of `core.step_pods`, the other steps small
CPU pods). Nothing secret is read here: the pods get their secrets from the run launcher's
`env_secrets`.
"""

import os
from collections.abc import Mapping

import dagster as dg

from resources.deployment import deployment_settings
from retrain_assets.adapters.step_pods import StepPodSettings, light_pod, training_pod
from retrain_assets.core.errors import RetrainError

EXECUTORS = ("in_process", "k8s")
TRAINING_STEP = "model"


def k8s_executor_config(settings: StepPodSettings) -> dict:
    """The `k8s_job_executor` config: small pods by default, the training pod for `model`."""
    return {
        "step_k8s_config": light_pod(settings),
        "per_step_k8s_config": {TRAINING_STEP: training_pod(settings)},
    }


def k8s_config_from_env(environ: Mapping[str, str]) -> dict:
    """The `k8s_job_executor` config of this deployment: `RETRAIN_K8S_*` and its one training
    timeout (`resources.deployment`), which the training pod's deadline follows."""
    timeout = deployment_settings(environ).timeout_minutes
    return k8s_executor_config(StepPodSettings.from_env(environ, timeout))


def build_executor(environ: Mapping[str, str] = os.environ) -> dg.ExecutorDefinition:
    """The executor `RETRAIN_EXECUTOR` names (default `in_process`).

    Raises:
        RetrainError: An unknown executor, a `RETRAIN_K8S_*` setting that does not parse, or a
            training timeout that does not (the pod deadline follows the deployment's).
    """
    chosen = environ.get("RETRAIN_EXECUTOR", "in_process").strip() or "in_process"
    if chosen not in EXECUTORS:
        raise RetrainError(
            f"RETRAIN_EXECUTOR must be one of {', '.join(EXECUTORS)}, got {chosen!r}"
        )
    if chosen == "in_process":
        return dg.in_process_executor
    # Imported only here: dagster-k8s and the kubernetes client cost every run process ~0.3 s.
    from dagster_k8s import k8s_job_executor

    return k8s_job_executor.configured(k8s_config_from_env(environ), name="retrain_k8s")
