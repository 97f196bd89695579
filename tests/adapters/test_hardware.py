"""GPU detection and the concurrency defaults, with fakes of each signal."""

import pytest

from retrain_assets.adapters.hardware import (
    GpuSignals,
    Hardware,
    _nvidia_smi_gpus,
    default_max_concurrent,
    detect_gpus,
    gpu_ram_part,
    thread_count_for,
    trainings_per_gpu,
)


@pytest.mark.parametrize(
    ("signals", "expected"),
    [
        (GpuSignals(None, None, None), (0, "none")),
        (GpuSignals("0,1", None, None), (2, "CUDA_VISIBLE_DEVICES")),
        (GpuSignals("", 4, 4), (0, "CUDA_VISIBLE_DEVICES")),  # empty hides every device
        (GpuSignals("-1", 4, None), (0, "CUDA_VISIBLE_DEVICES")),  # -1 hides them too
        (GpuSignals(None, 3, 8), (3, "nvml")),  # NVML outranks nvidia-smi
        (GpuSignals(None, None, 1), (1, "nvidia-smi")),
        (GpuSignals(None, 0, None), (0, "nvml")),
    ],
)
def test_gpus_are_counted_from_the_most_authoritative_signal(signals, expected):
    assert detect_gpus(signals) == expected


def test_the_cap_defaults_to_twelve_with_a_gpu_and_two_without():
    assert default_max_concurrent(Hardware(1, 16, "nvml")) == 12
    assert default_max_concurrent(Hardware(0, 2, "none")) == 2


@pytest.mark.parametrize(("cores", "concurrent", "threads"), [(2, 2, 1), (16, 2, 8), (2, 5, 1)])
def test_threads_split_the_cores_between_concurrent_trainings(cores, concurrent, threads):
    assert thread_count_for(Hardware(0, cores, "none"), concurrent) == threads


def test_nvidia_smi_absent_reads_as_no_signal():
    assert _nvidia_smi_gpus(which=lambda name: None) is None


def test_nvidia_smi_listing_is_counted(tmp_path):
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'GPU 0: H200 (UUID: x)'\necho 'GPU 1: H200 (UUID: y)'\n")
    fake.chmod(0o755)
    assert _nvidia_smi_gpus(which=lambda name: str(fake)) == 2


@pytest.mark.parametrize(
    ("gpus", "concurrent", "sharing"), [(1, 12, 12), (4, 12, 3), (4, 13, 4), (2, 1, 1)]
)
def test_concurrent_trainings_are_spread_over_the_gpus(gpus, concurrent, sharing):
    assert trainings_per_gpu(Hardware(gpus, 16, "nvml"), concurrent) == sharing


def test_trainings_sharing_a_gpu_split_its_memory_instead_of_each_taking_95_percent():
    assert gpu_ram_part(1) == 0.9
    assert gpu_ram_part(12) == 0.075
    assert 12 * gpu_ram_part(12) <= 0.9
