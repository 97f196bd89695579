"""The per-symbol deadline: a soft stop at the timeout, a hard one a stated grace later, never
retried, and a message whose seconds are the seconds the training ran."""

import signal
import time
from pathlib import Path

import dagster as dg
import pytest

from retrain_assets.core.errors import TrainingTimeout
from retrain_assets.defs import timeout
from retrain_assets.defs.assets.common import permanent_errors_fail_fast
from retrain_assets.defs.timeout import symbol_deadline, timeout_message


@pytest.fixture
def short_grace(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(timeout, "HARD_GRACE_S", 0.3)
    return 0.3


def test_a_trainer_ignoring_the_deadline_is_stopped_at_the_timeout_plus_the_grace(short_grace):
    started = time.monotonic()
    with pytest.raises(TrainingTimeout) as raised, symbol_deadline("BTCUSDT", 0.2):
        time.sleep(30)  # never looks at the clock
    ran = time.monotonic() - started
    assert 0.5 <= ran < 1.0, ran
    assert str(raised.value) == (
        f"BTCUSDT: training stopped after {ran:.0f} s (timeout 0.2 s + 0.3 s grace: the trainer "
        "ignored the deadline)"
    )
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_a_trainer_stopping_at_the_soft_deadline_says_how_long_it_ran(short_grace):
    with pytest.raises(
        TrainingTimeout, match=r"^ETHUSDT: training stopped after 0 s \(timeout 0.1 s\)$"
    ):
        with symbol_deadline("ETHUSDT", 0.1) as deadline:
            while time.monotonic() <= deadline:  # as CatBoost's callback does
                time.sleep(0.01)
            raise TrainingTimeout("ETHUSDT: training passed its deadline")


def test_catboosts_keyboard_interrupt_form_of_the_alarm_is_a_hard_timeout(short_grace):
    with pytest.raises(TrainingTimeout, match="grace: the trainer ignored the deadline"):
        with symbol_deadline("BTCUSDT", 0.1):
            try:
                time.sleep(30)
            except TrainingTimeout as exc:
                raise KeyboardInterrupt from exc


def test_an_interrupt_before_the_deadline_is_a_cancel_not_a_timeout(short_grace):
    with pytest.raises(KeyboardInterrupt), symbol_deadline("BTCUSDT", 60):
        raise KeyboardInterrupt


def test_the_alarm_is_disarmed_and_its_handler_restored_after_the_block(short_grace):
    before = signal.getsignal(signal.SIGALRM)
    with symbol_deadline("BTCUSDT", 0.1):
        pass
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is before


def test_a_timeout_is_a_failure_the_retry_policy_does_not_retry():
    message = timeout_message("BTCUSDT", 65.2, 60.0, hard=True)
    with pytest.raises(dg.Failure) as raised, permanent_errors_fail_fast():
        raise TrainingTimeout(message)
    assert raised.value.allow_retries is False
    assert raised.value.metadata["error_type"].value == "Timeout"
    assert raised.value.description == (
        "BTCUSDT: training stopped after 65 s (timeout 60 s + 5 s grace: the trainer ignored "
        "the deadline)"
    )


def test_the_readme_states_the_grace_in_force():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `--timeout_minutes`"))
    assert f"is stopped {timeout.HARD_GRACE_S:g} s later" in row
    assert "not retried" in row
