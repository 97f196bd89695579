"""SchedulerConfig refuses numbers a run cannot honour, and sizes the invocation."""

import pytest

from retrain_assets.adapters.hardware import Hardware
from retrain_assets.core.errors import PermanentError
from retrain_assets.launcher.config import SchedulerConfig, TrainingMode, concurrency_ceiling

CPU = Hardware(gpu_count=0, cpu_count=2, detected_by="none")
GPU = Hardware(gpu_count=1, cpu_count=16, detected_by="nvml")
GIB = 1024**3


@pytest.mark.parametrize("minutes", [float("nan"), float("inf"), 1e9, 0.5, 0.0, -3.0, 1441.0])
def test_timeouts_outside_one_minute_to_a_day_are_refused(minutes):
    with pytest.raises(PermanentError, match="--timeout_minutes"):
        SchedulerConfig(timeout_minutes=minutes)


def test_a_timeout_within_bounds_is_kept():
    assert SchedulerConfig(timeout_minutes=1.0).timeout_minutes == 1.0


def test_the_ceiling_comes_from_cores_and_memory():
    assert concurrency_ceiling(CPU, memory_bytes=24 * GIB) == 8
    assert concurrency_ceiling(CPU, memory_bytes=4 * GIB) == 2
    assert concurrency_ceiling(GPU, memory_bytes=128 * GIB) == 64


def test_max_concurrent_above_the_ceiling_is_refused_naming_the_machine():
    with pytest.raises(PermanentError, match=r"--max_concurrent 100000: at most 8"):
        SchedulerConfig(max_concurrent=100000).check_ceiling(8, CPU)


def test_parallel_mode_is_bounded_by_the_ceiling_and_sequential_is_one():
    assert SchedulerConfig(mode=TrainingMode.PARALLEL).workers(CPU, todo=500, ceiling=8) == 8
    assert SchedulerConfig(mode=TrainingMode.SEQUENTIAL).workers(CPU, todo=5, ceiling=8) == 1
    assert SchedulerConfig(max_concurrent=4).workers(CPU, todo=3, ceiling=8) == 3
    assert SchedulerConfig().workers(GPU, todo=40, ceiling=64) == 12
