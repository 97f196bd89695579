"""`bench/gpu_packing.py` without a GPU: no GPU here, so only its CPU-testable parts run.

nvidia-smi is the one thing mocked (a script printing canned CSV); the arguments, the no-GPU
exit, nvidia-smi's output read, the report and the advice are the bench's own code. Training
N processes on a GPU, the memory it really takes and what fails are measured only by running
the bench on a GPU node (docs/sizing.md).
"""

import os
import stat
from pathlib import Path

import pytest

from bench import gpu_packing
from bench.gpu_report import (
    NO_GPU_EXIT,
    Gpu,
    Level,
    Peaks,
    advise,
    classify_failure,
    context_overhead_mib,
    contexts_that_fit,
    format_report,
    no_gpu_reason,
    parse_apps,
    parse_gpus,
)

CARD = 24_576.0  # MiB of a 24 GB card

GPU_CSV = "0, NVIDIA A10, 1200, 24576\n1, NVIDIA A10, 10, 24576\n"
APPS_CSV = "4242, 2100\n4243, [N/A]\n"


def _fake_smi(folder: Path, gpus: str, apps: str = "") -> Path:
    """An `nvidia-smi` that prints canned CSV for the two queries the bench makes."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "nvidia-smi"
    script.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        f"  *--query-gpu*) printf '{gpus}' ;;\n"
        f"  *--query-compute-apps*) printf '{apps}' ;;\n"
        "esac\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_arguments_have_the_documented_defaults_and_read_lists():
    args = gpu_packing.parse_args([])
    assert args.n == [1, 4, 8, 12, 16] and args.iterations == 1000 and args.gpu == 0
    assert args.symbols[0] == "BTCUSDT" and args.deadline_check is None
    args = gpu_packing.parse_args(
        ["--n", "2,6", "--symbols", "btcusdt, ethusdt", "--iterations", "50"]
    )
    assert (args.n, args.symbols, args.iterations) == ([2, 6], ["BTCUSDT", "ETHUSDT"], 50)


@pytest.mark.parametrize("bad", [["--n", "0,4"], ["--n", "four"], ["--symbols", ","]])
def test_a_bad_argument_exits_2_with_one_line(bad, capsys):
    with pytest.raises(SystemExit) as exited:
        gpu_packing.parse_args(bad)
    assert exited.value.code == 2
    assert "error: argument" in capsys.readouterr().err.strip().splitlines()[-1]


def test_without_nvidia_smi_the_bench_exits_3_naming_why(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # no nvidia-smi on it
    assert gpu_packing.main(["--n", "1"]) == NO_GPU_EXIT == 3
    assert capsys.readouterr().err.strip() == "no GPU: nvidia-smi not found"


def test_an_nvidia_smi_listing_no_gpu_exits_3(monkeypatch, tmp_path, capsys):
    _fake_smi(tmp_path / "bin", gpus="")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert gpu_packing.main(["--n", "1"]) == NO_GPU_EXIT
    assert capsys.readouterr().err.strip() == "no GPU: nvidia-smi lists no GPU"


def test_no_gpu_reason_names_a_missing_index():
    gpus = parse_gpus(GPU_CSV)
    assert no_gpu_reason("/usr/bin/nvidia-smi", gpus, 0) is None
    assert "no GPU 3" in (no_gpu_reason("/usr/bin/nvidia-smi", gpus, 3) or "")


def test_nvidia_smi_csv_is_read():
    assert parse_gpus(GPU_CSV)[0] == Gpu(0, "NVIDIA A10", 1200.0, 24576.0)
    assert parse_apps(APPS_CSV) == {4242: 2100.0, 4243: 0.0}  # [N/A] counts as 0
    assert parse_gpus("") == [] and parse_apps("No running processes found") == {}


def test_a_sample_from_nvidia_smi_keeps_the_peaks_of_our_processes(tmp_path):
    smi = _fake_smi(tmp_path / "bin", GPU_CSV, APPS_CSV + "999, 5000\n")
    peaks = Peaks()
    gpu_packing._sample(str(smi), 0, peaks, {4242, 4243})
    assert peaks.total_mib == 1200.0
    assert peaks.per_pid_mib == {4242: 2100.0, 4243: 0.0}  # pid 999 is not ours
    peaks.add(900.0, {4242: 1500.0}, {4242})
    assert peaks.total_mib == 1200.0 and peaks.per_pid_mib[4242] == 2100.0  # peaks, not last


def test_pids_hidden_by_a_container_count_every_app():
    peaks = Peaks()
    peaks.add(3000.0, {77: 1400.0, 78: 1300.0}, {4242})  # host pids: none match
    assert peaks.per_pid_mib == {77: 1400.0, 78: 1300.0}


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("CatBoostError: cuda_manager.cpp: CUDA error 2: out of memory", "oom"),
        ("cudaErrorMemoryAllocation", "oom"),
        ("BTCUSDT: training stopped after 2705 s (timeout 2700 s)", "timeout"),
        ("CatBoostError: Input data contains invalid values", "error"),
    ],
)
def test_failures_are_classified(message, kind):
    assert classify_failure(message) == kind


def test_a_worker_that_died_without_a_word_is_a_crash():
    class Dead:
        pid, exitcode = 4244, -9

    heard = [{"pid": 4242, "ok": True}]
    assert gpu_packing._silent([Dead()], heard) == [
        {"pid": 4244, "ok": False, "kind": "crash", "message": "exit code -9"}
    ]
    outcomes = [*heard, {"pid": 4243, "ok": False, "kind": "oom", "message": "out of memory"}]
    level = gpu_packing._level(2, 0.45, 10.0, Peaks(0.0, 5000.0, {1: 2000.0}), outcomes)
    assert level.failures == {"oom": 1} and level.failed == 1
    assert level.first_failure == "oom: out of memory"
    assert level.per_hour == pytest.approx(360.0)  # one success in 10 s


def _level(
    n: int, wall: float, per_process: float, failures: dict[str, int] | None = None, total=None
) -> Level:
    total = 300.0 + n * per_process if total is None else total
    return Level(n, round(0.9 / n, 4), wall, (per_process,) * n, total, 300.0, failures or {})


def test_the_advice_is_the_fewest_trainings_near_the_best_clean_throughput():
    levels = [
        _level(1, 10.0, 9000.0, total=9300.0),  # 360/h
        _level(4, 12.0, 3000.0, total=12300.0),  # 1200/h
        _level(8, 20.0, 1500.0, total=12300.0),  # 1440/h: within 5% of 12's
        _level(12, 29.0, 1000.0, total=12300.0),  # 1490/h, the best clean
        _level(16, 40.0, 800.0, {"oom": 3}, total=13100.0),
    ]
    advice = advise(levels, CARD)
    assert (advice.trainings_per_gpu, advice.largest_clean) == (8, 12)


def test_no_clean_level_advises_none():
    advice = advise([_level(1, 10.0, 100.0, {"oom": 1})], CARD)
    assert advice.trainings_per_gpu == 0 and "no level ran clean" in advice.reason


def test_a_level_past_the_cards_headroom_is_not_clean():
    full = Level(4, 0.225, 10.0, (6000.0,) * 4, 0.97 * CARD, 0.0, {})
    assert advise([full], CARD).trainings_per_gpu == 0


def test_the_overhead_beyond_gpu_ram_part_says_how_many_contexts_fit():
    level = _level(12, 29.0, 0.075 * CARD + 450)
    assert context_overhead_mib(level, CARD) == pytest.approx(450.0)
    # the 10% gpu_ram_part leaves: 2,457 MiB of a 24 GB card hold 5 such processes, not 12
    assert contexts_that_fit(CARD, 450.0) == 5
    assert context_overhead_mib(Level(1, 0.9, 1.0, (), 0.0, 0.0, {}), CARD) is None


def test_the_report_has_a_row_per_level_and_the_recommendation():
    levels = [_level(1, 10.0, 0.9 * CARD + 450), _level(12, 29.0, 0.075 * CARD + 450, {"oom": 2})]
    levels[1] = Level(**{**levels[1].__dict__, "first_failure": "oom: CUDA error 2: out of memory"})
    report = format_report(Gpu(0, "NVIDIA A10", 300.0, CARD), levels, advise(levels, CARD))
    lines = report.splitlines()
    assert lines[0] == "GPU 0: NVIDIA A10, 24576 MiB"
    assert lines[2].split()[:3] == ["1", "0.9000", "10.0"]
    assert lines[3].split()[:2] == ["12", "0.0750"] and "oom 2" in lines[3]
    assert "first failure: oom: CUDA error 2" in lines[4]
    assert "per-process overhead beyond gpu_ram_part: ~450 MiB" in report
    assert lines[-1].startswith("recommended RETRAIN_GPU_TRAININGS_PER_GPU=1 ")


def test_the_bench_drops_inherited_settings_before_it_trains(monkeypatch, tmp_path):
    _fake_smi(tmp_path / "bin", GPU_CSV)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("RETRAIN_GPU_TRAININGS_PER_GPU", "12")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    seen = {}
    monkeypatch.setattr(gpu_packing, "run_level", lambda n, args, smi: seen.update(
        n=n, sharing=os.environ.get("RETRAIN_GPU_TRAININGS_PER_GPU"),
        cuda=os.environ.get("CUDA_VISIBLE_DEVICES")) or _level(n, 10.0, 100.0))  # fmt: skip
    assert gpu_packing.main(["--n", "2", "--gpu", "1"]) == 0
    assert seen == {"n": 2, "sharing": None, "cuda": "1"}
