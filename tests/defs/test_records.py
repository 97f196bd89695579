"""How a run's failure reads in one line: `failure_of` on runs of a test instance."""

import dagster as dg
import pytest

from retrain_assets.defs.records import failure_of


@dg.op
def crashes() -> None:
    raise RuntimeError("the trainer crashed\nsecond line")


@dg.op
def interrupted(context: dg.OpExecutionContext) -> None:
    # What Ctrl-C does: the launcher marks the run CANCELING, then the step is interrupted.
    context.instance.report_run_canceling(context.dagster_run, message="interrupted (Ctrl-C)")
    raise dg.DagsterExecutionInterruptedError()


@dg.op
def declares_its_cancel(context: dg.OpExecutionContext) -> None:
    context.instance.report_run_canceling(context.dagster_run, message="interrupted (Ctrl-C)")
    raise dg.Failure(
        description="training interrupted by a cancel; its snapshot is kept",
        metadata={"error_type": "Canceled"},
        allow_retries=False,
    )


def _run(instance: dg.DagsterInstance, op: dg.OpDefinition) -> str:
    job = dg.GraphDefinition(name=f"{op.name}_job", node_defs=[op]).to_job(
        executor_def=dg.in_process_executor
    )
    return job.execute_in_process(instance=instance, raise_on_error=False).run_id


def _idle_run(instance: dg.DagsterInstance) -> dg.DagsterRun:
    """A run created and never executed: its end comes from outside, as a launcher's would."""
    return instance.create_run_for_job(dg.GraphDefinition(name="idle", node_defs=[]).to_job())


@pytest.fixture
def instance():
    with dg.instance_for_test() as test_instance:
        yield test_instance


def test_a_failed_step_reads_as_its_root_cause_and_first_line(instance):
    failure = failure_of(instance, _run(instance, crashes))
    assert (failure.error_type, failure.message) == ("RuntimeError", "the trainer crashed")
    assert "in crashes" in failure.stack


def test_an_interrupted_step_of_a_canceled_run_reads_as_the_cancel_and_its_reason(instance):
    run_id = _run(instance, interrupted)
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.CANCELED
    failure = failure_of(instance, run_id)
    # Not "DagsterExecutionInterruptedError: dagster._core.errors.DagsterExecutionInterrupt...".
    assert (failure.error_type, failure.message) == ("Canceled", "interrupted (Ctrl-C)")


def test_a_step_that_says_why_it_was_canceled_keeps_its_words(instance):
    failure = failure_of(instance, _run(instance, declares_its_cancel))
    assert failure.error_type == "Canceled"
    assert failure.message == "training interrupted by a cancel; its snapshot is kept"


def test_a_run_canceled_outside_any_step_reads_as_the_cancellation_message(instance):
    run = _idle_run(instance)
    instance.report_run_canceled(run, message="interrupted; the worker was stopped")
    failure = failure_of(instance, run.run_id)
    assert (failure.error_type, failure.message) == (
        "Canceled",
        "interrupted; the worker was stopped",
    )


def test_a_cancel_with_only_dagsters_generic_words_reads_as_canceled(instance):
    run = _idle_run(instance)
    instance.report_run_canceling(run)  # "Sending run termination request."
    instance.report_run_canceled(run)  # "This run has been marked as canceled from outside ..."
    failure = failure_of(instance, run.run_id)
    assert (failure.error_type, failure.message) == ("Canceled", "the run was canceled")


def test_a_run_failed_outside_any_step_reads_as_its_message(instance):
    run = _idle_run(instance)
    instance.report_run_failed(run, message="its worker process died (killed or OOM)\nmore")
    failure = failure_of(instance, run.run_id)
    assert (failure.error_type, failure.message) == (
        "RunFailure",
        "its worker process died (killed or OOM)",
    )
