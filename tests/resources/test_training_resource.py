"""The training resource's parameters for a machine (threads per training, GPU sharing) and its
trainer."""

import pytest

from resources.settings_file import SETTINGS_VAR, configured, settings_sections
from resources.training import GPU_SHARING_ENV, TrainingResource
from retrain_assets.adapters.catboost_trainer import CatBoostTrainer, load_trainer
from retrain_assets.adapters.hardware import Hardware
from retrain_assets.adapters.step_pods import THREADS_ENV
from retrain_assets.core.errors import PermanentError
from retrain_assets.core.model.training import TrainingParams, gpu_options

ONE_GPU = Hardware(1, 16, "nvml")


def test_twelve_trainings_on_one_gpu_each_get_a_twelfth_of_its_memory(monkeypatch):
    monkeypatch.delenv(GPU_SHARING_ENV, raising=False)
    params = TrainingResource().params(ONE_GPU, concurrent=12, dry_run=False)
    assert params.task_type == "GPU" and params.gpu_ram_part == 0.075
    assert gpu_options(params) == {"gpu_ram_part": 0.075}


def test_the_time_slicing_replicas_set_the_share_of_a_pod_that_sees_one_gpu(monkeypatch):
    monkeypatch.setenv(GPU_SHARING_ENV, "4")
    params = TrainingResource().params(ONE_GPU, concurrent=48, dry_run=False)
    assert params.gpu_ram_part == 0.225
    configured = TrainingResource(gpu_trainings_per_gpu=2).params(ONE_GPU, 48, dry_run=False)
    assert configured.gpu_ram_part == 0.45  # the resource's config wins over the variable


def test_cpu_training_passes_no_gpu_option():
    params = TrainingResource().params(Hardware(0, 2, "none"), concurrent=2, dry_run=False)
    assert params.task_type == "CPU" and gpu_options(params) == {}
    assert gpu_options(TrainingParams()) == {}


@pytest.mark.parametrize("value", ["0", "twelve", "-3"])
def test_a_bad_sharing_value_is_named_in_the_error(monkeypatch, value):
    monkeypatch.setenv(GPU_SHARING_ENV, value)
    with pytest.raises(PermanentError, match=GPU_SHARING_ENV):
        TrainingResource().params(ONE_GPU, concurrent=12, dry_run=False)


def test_a_training_pod_uses_as_many_threads_as_its_cpu_request(monkeypatch):
    monkeypatch.setenv(THREADS_ENV, "3")
    node = Hardware(0, 64, "none")  # a pod sees all the node's cores
    assert TrainingResource().params(node, concurrent=32, dry_run=False).thread_count == 3
    monkeypatch.delenv(THREADS_ENV)
    assert TrainingResource().params(node, concurrent=32, dry_run=False).thread_count == 2


def test_a_bad_thread_count_is_named_in_the_error(monkeypatch):
    monkeypatch.setenv(THREADS_ENV, "lots")
    with pytest.raises(PermanentError, match=THREADS_ENV):
        TrainingResource().params(Hardware(0, 2, "none"), concurrent=2, dry_run=False)


def test_the_default_trainer_is_the_catboost_adapter(monkeypatch):
    monkeypatch.delenv("RETRAIN_TRAINER", raising=False)
    path = TrainingResource().trainer_path()
    assert path == "retrain_assets.adapters.catboost_trainer:CatBoostTrainer"
    assert isinstance(load_trainer(path), CatBoostTrainer)


@pytest.mark.parametrize(
    "former",
    [
        "retrain_assets.core.training:CatBoostTrainer",
        "retrain_assets.core.model.training:CatBoostTrainer",
    ],
)
def test_a_settings_file_or_variable_of_an_earlier_version_names_the_same_catboost_method(
    tmp_path, monkeypatch, former
):
    monkeypatch.delenv("RETRAIN_TRAINER", raising=False)
    settings = tmp_path / "settings.yaml"
    settings.write_text(f"training:\n  trainer: {former}\n")
    sections = settings_sections({SETTINGS_VAR: str(settings)})
    from_file = configured(TrainingResource, "training", sections).trainer_path()
    # one trainer, one method in the records: models made under either path stay current
    assert from_file == "retrain_assets.adapters.catboost_trainer:CatBoostTrainer"
    assert isinstance(load_trainer(from_file), CatBoostTrainer)
    assert isinstance(load_trainer(former), CatBoostTrainer)
    monkeypatch.setenv("RETRAIN_TRAINER", former)
    assert TrainingResource().trainer_path() == from_file
