"""Hardware detection: is there a GPU, and how many trainings should share the CPU.

Detection is a pure function of its signals so it can be tested with fakes of each one.
"""

import ctypes
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass

GPU_MAX_CONCURRENT = 12
CPU_MAX_CONCURRENT = 2


@dataclass(frozen=True)
class GpuSignals:
    """The three places a GPU can announce itself; each is None when it is absent."""

    cuda_visible_devices: str | None
    nvml_device_count: int | None
    nvidia_smi_gpus: int | None


@dataclass(frozen=True)
class Hardware:
    """What this machine offers to training."""

    gpu_count: int
    cpu_count: int
    detected_by: str

    @property
    def has_gpu(self) -> bool:
        """True when at least one CUDA device is usable."""
        return self.gpu_count > 0


def detect_gpus(signals: GpuSignals) -> tuple[int, str]:
    """Count usable GPUs from the signals, in order of authority.

    `CUDA_VISIBLE_DEVICES` wins when set, because it is how an operator restricts or hides
    devices (an empty value or `-1` hides every device). Then NVML, then `nvidia-smi`.

    Returns:
        The GPU count and the name of the signal that decided it.
    """
    cvd = signals.cuda_visible_devices
    if cvd is not None:
        ids = [d.strip() for d in cvd.split(",") if d.strip()]
        if not ids or ids[0].startswith("-"):
            return 0, "CUDA_VISIBLE_DEVICES"
        return len(ids), "CUDA_VISIBLE_DEVICES"
    if signals.nvml_device_count is not None:
        return signals.nvml_device_count, "nvml"
    if signals.nvidia_smi_gpus is not None:
        return signals.nvidia_smi_gpus, "nvidia-smi"
    return 0, "none"


def default_max_concurrent(hardware: Hardware) -> int:
    """The spec's default cap: 12 trainings at once with a GPU, 2 without."""
    return GPU_MAX_CONCURRENT if hardware.has_gpu else CPU_MAX_CONCURRENT


# The share of a GPU's memory its trainings split between them; the rest is for CUDA contexts.
GPU_RAM_BUDGET = 0.9


def trainings_per_gpu(hardware: Hardware, concurrent: int) -> int:
    """How many of `concurrent` trainings share one GPU when they are spread over its GPUs."""
    return max(1, -(-max(1, concurrent) // max(1, hardware.gpu_count)))


def gpu_ram_part(sharing: int) -> float:
    """CatBoost's `gpu_ram_part` for one of `sharing` trainings on a GPU.

    CatBoost reserves 95% of the GPU's memory by default, so a second training on the same GPU
    fails to allocate; the spec packs 12 trainings per GPU, so each gets its slice.
    """
    return round(GPU_RAM_BUDGET / max(1, sharing), 4)


def thread_count_for(hardware: Hardware, concurrent: int) -> int:
    """CPU threads per training so concurrent trainings do not oversubscribe the cores."""
    return max(1, hardware.cpu_count // max(1, concurrent))


def _nvml_device_count() -> int | None:
    try:
        lib = ctypes.CDLL("libnvidia-ml.so.1")
    except OSError:
        return None
    if lib.nvmlInit_v2() != 0:
        return None
    count = ctypes.c_uint(0)
    try:
        ok = lib.nvmlDeviceGetCount_v2(ctypes.byref(count)) == 0
    finally:
        lib.nvmlShutdown()
    return int(count.value) if ok else None


def _nvidia_smi_gpus(which: Callable[[str], str | None] = shutil.which) -> int | None:
    exe = which("nvidia-smi")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return sum(1 for line in out.stdout.splitlines() if line.startswith("GPU "))


def read_gpu_signals(environ: Mapping[str, str] = os.environ) -> GpuSignals:
    """Read the real signals from this machine (called at run time, never at import)."""
    return GpuSignals(
        cuda_visible_devices=environ.get("CUDA_VISIBLE_DEVICES"),
        nvml_device_count=_nvml_device_count(),
        nvidia_smi_gpus=_nvidia_smi_gpus(),
    )


def detect_hardware(environ: Mapping[str, str] = os.environ) -> Hardware:
    """Detect this machine's GPUs and CPU cores."""
    gpus, source = detect_gpus(read_gpu_signals(environ))
    return Hardware(gpu_count=gpus, cpu_count=os.cpu_count() or 1, detected_by=source)
