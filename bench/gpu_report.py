"""The pure half of `gpu_packing.py`: nvidia-smi's output read, a level's numbers, the advice.

Nothing here touches a GPU or a process, so the tests run it on any machine with nvidia-smi's
output given as text.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from retrain_assets.adapters.hardware import GPU_RAM_BUDGET

NO_GPU_EXIT = 3  # distinct from argparse's 2 and a failed check's 1
HEADROOM = 0.95  # a level whose total peak passes this share of the card is not advised
THROUGHPUT_TOLERANCE = 0.95  # the smallest level within 5% of the best throughput is advised


@dataclass(frozen=True)
class Gpu:
    """One card as `nvidia-smi --query-gpu=index,name,memory.used,memory.total` lists it."""

    index: int
    name: str
    used_mib: float
    total_mib: float


def parse_gpus(text: str) -> list[Gpu]:
    """Rows of `--query-gpu=index,name,memory.used,memory.total --format=csv,noheader,nounits`."""
    gpus = []
    for line in text.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 4:
            gpus.append(Gpu(int(parts[0]), parts[1], float(parts[2]), float(parts[3])))
    return gpus


def parse_apps(text: str) -> dict[int, float]:
    """`{pid: MiB}` from `--query-compute-apps=pid,used_memory --format=csv,noheader,nounits`
    (rows nvidia-smi cannot size, `[N/A]`, count as 0)."""
    apps: dict[int, float] = {}
    for line in text.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 2 and parts[0].isdigit():
            try:
                apps[int(parts[0])] = float(parts[1])
            except ValueError:
                apps[int(parts[0])] = 0.0
    return apps


def no_gpu_reason(smi_path: str | None, gpus: Sequence[Gpu] | None, index: int) -> str | None:
    """The one line to exit with when this machine cannot run the check; None when it can."""
    if smi_path is None:
        return "no GPU: nvidia-smi not found"
    if not gpus:
        return "no GPU: nvidia-smi lists no GPU"
    if index not in {g.index for g in gpus}:
        return f"no GPU: nvidia-smi lists no GPU {index} (it lists {sorted(g.index for g in gpus)})"
    return None


def classify_failure(message: str) -> str:
    """`oom` for CUDA's out-of-memory errors, `timeout`, else `error`."""
    lowered = message.lower()
    if "out of memory" in lowered or "memoryallocation" in lowered or "cudaerrormemory" in lowered:
        return "oom"
    if "timeout" in lowered or "deadline" in lowered or "stopped after" in lowered:
        return "timeout"
    return "error"


@dataclass
class Peaks:
    """Peak memory seen while a level ran: the card's used total and each process's own."""

    baseline_mib: float = 0.0
    total_mib: float = 0.0
    per_pid_mib: dict[int, float] = field(default_factory=dict)

    def add(self, card_used_mib: float, apps: Mapping[int, float], ours: Iterable[int]) -> None:
        """Record one sample: the card's used memory and the apps' (only ours when we can
        tell them apart; in a container nvidia-smi may show host pids, then every app)."""
        self.total_mib = max(self.total_mib, card_used_mib)
        ours = set(ours)
        mine = {pid: mib for pid, mib in apps.items() if pid in ours} or dict(apps)
        for pid, mib in mine.items():
            self.per_pid_mib[pid] = max(self.per_pid_mib.get(pid, 0.0), mib)


@dataclass(frozen=True)
class Level:
    """N trainings at once on one GPU, and what they did."""

    n: int
    gpu_ram_part: float
    wall_s: float
    per_process_peak_mib: tuple[float, ...]
    total_peak_mib: float
    baseline_mib: float
    failures: Mapping[str, int]
    first_failure: str = ""

    @property
    def failed(self) -> int:
        """Trainings that did not end with a model."""
        return sum(self.failures.values())

    @property
    def per_hour(self) -> float:
        """Symbol-days trained per hour at this packing (successful ones)."""
        return 3600.0 * (self.n - self.failed) / self.wall_s if self.wall_s > 0 else 0.0


@dataclass(frozen=True)
class Advice:
    """The trainings per GPU to set, the largest level that ran clean, and why."""

    trainings_per_gpu: int
    largest_clean: int
    reason: str


def advise(levels: Sequence[Level], card_mib: float) -> Advice:
    """The smallest clean level within 5% of the best clean throughput.

    Clean: no failure and a total peak within `HEADROOM` of the card. Packing past the
    throughput's plateau only makes each training slower (and nearer its timeout).
    """
    clean = [lv for lv in levels if not lv.failed and lv.total_peak_mib <= HEADROOM * card_mib]
    if not clean:
        return Advice(0, 0, "no level ran clean: train on CPU or a larger card")
    best = max(lv.per_hour for lv in clean)
    pick = min((lv for lv in clean if lv.per_hour >= THROUGHPUT_TOLERANCE * best), key=_n)
    largest = max(clean, key=_n).n
    reason = f"the fewest within 5% of the best clean throughput ({best:.0f} symbol-days/h)"
    return Advice(pick.n, largest, reason)


def _n(level: Level) -> int:
    return level.n


def context_overhead_mib(level: Level, card_mib: float) -> float | None:
    """What one process holds beyond its `gpu_ram_part` (CUDA context, CatBoost's kernels);
    None when no process was seen on the GPU."""
    if not level.per_process_peak_mib:
        return None
    return max(0.0, max(level.per_process_peak_mib) - level.gpu_ram_part * card_mib)


def contexts_that_fit(card_mib: float, overhead_mib: float) -> int:
    """Processes whose overhead fits in the share `gpu_ram_part` leaves (1 - GPU_RAM_BUDGET)."""
    return math.floor((1.0 - GPU_RAM_BUDGET) * card_mib / overhead_mib) if overhead_mib else 0


def format_report(gpu: Gpu, levels: Sequence[Level], advice: Advice) -> str:
    """The table a person reads, one row per level, then the advice."""
    lines = [
        f"GPU {gpu.index}: {gpu.name}, {gpu.total_mib:.0f} MiB",
        f"{'N':>3} {'ram_part':>8} {'wall_s':>7} {'/hour':>7} {'peak/proc MiB':>13} "
        f"{'peak total MiB':>14} {'failures':<20}",
    ]
    for lv in levels:
        proc = max(lv.per_process_peak_mib, default=0.0)
        failures = ", ".join(f"{k} {v}" for k, v in sorted(lv.failures.items()) if v) or "none"
        lines.append(
            f"{lv.n:>3} {lv.gpu_ram_part:>8.4f} {lv.wall_s:>7.1f} {lv.per_hour:>7.0f} "
            f"{proc:>13.0f} {lv.total_peak_mib:>14.0f} {failures:<20}"
        )
        if lv.first_failure:
            lines.append(f"      first failure: {lv.first_failure}")
    sized = [lv for lv in levels if lv.n == advice.largest_clean] or list(levels)
    overhead = context_overhead_mib(max(sized, key=_n), gpu.total_mib) if sized else None
    if overhead is not None:
        lines.append(
            f"per-process overhead beyond gpu_ram_part: ~{overhead:.0f} MiB; the "
            f"{1 - GPU_RAM_BUDGET:.0%} that gpu_ram_part leaves fits "
            f"{contexts_that_fit(gpu.total_mib, overhead)} such processes"
        )
    if advice.trainings_per_gpu:
        lines.append(
            f"recommended RETRAIN_GPU_TRAININGS_PER_GPU={advice.trainings_per_gpu} "
            f"(largest clean level {advice.largest_clean}; {advice.reason})"
        )
    else:
        lines.append(f"recommended: none ({advice.reason})")
    return "\n".join(lines)
