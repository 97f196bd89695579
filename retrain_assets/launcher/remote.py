"""Running an invocation's symbol-days on a deployment (`--submit URL`).

The runs go to the deployment's run queue through its GraphQL API, so its run launcher (a
Kubernetes job per run, say) executes them; this process only submits, at most
`max_concurrent` in flight, and follows them: same progress, same status.json, same codes.
"""

import time
from collections.abc import Callable

from retrain_assets.launcher.interrupts import ExitNow, Interrupts
from retrain_assets.launcher.invocation import Invocation
from retrain_assets.launcher.ledger import StatusFile, initial_statuses
from retrain_assets.launcher.plan import SymbolPlan
from retrain_assets.launcher.progress import ProgressFn
from retrain_assets.launcher.runs import RunSpec
from retrain_assets.launcher.status import SymbolStatus
from retrain_assets.launcher.submit import Deployment

POLL_S = 1.0


def execute_remotely(
    inv: Invocation,
    plans: list[SymbolPlan],
    deployment: Deployment,
    specs_for: Callable[..., list[RunSpec]],
    progress: ProgressFn | None,
) -> dict[str, SymbolStatus]:
    """Submit every planned symbol-day, keep at most the cap in flight, follow to the end."""
    todo = [p for p in plans if not p.skipped]
    workers = inv.config.workers(inv.hardware, len(todo), max(len(todo), 1))
    specs = specs_for(inv.run_tags(plans, workers, None))
    statuses = initial_statuses(plans)
    status_file = StatusFile(inv.layout.status_file(inv.date), inv.header(workers))
    waiting, submitted = list(specs), []
    with Interrupts() as interrupts:
        try:
            while True:
                statuses.update(
                    {
                        s: v.with_run(
                            assets=statuses[s].assets,
                            reused=statuses[s].reused,
                            repaired=statuses[s].repaired,
                        )
                        for s, v in deployment.statuses(inv.invocation_id).items()
                        if s in statuses
                    }
                )
                in_flight = [s for s in submitted if not statuses[s].final]
                while waiting and len(in_flight) < workers and not interrupts.requested:
                    spec = waiting.pop(0)
                    deployment.submit(spec)
                    submitted.append(spec.symbol)
                    in_flight.append(spec.symbol)
                status_file.write(statuses)
                if progress is not None:
                    progress(statuses, time.monotonic() - inv.started)
                if interrupts.requested:
                    _cancel(deployment, statuses, submitted)
                    break
                if not waiting and not in_flight:
                    break
                time.sleep(POLL_S)
        except ExitNow:
            _cancel(deployment, statuses, submitted)
        inv.interrupted = interrupts.requested
    status_file.write(statuses, final=True)
    return statuses


def _cancel(
    deployment: Deployment, statuses: dict[str, SymbolStatus], submitted: list[str]
) -> None:
    """Ask the deployment to terminate the runs still in flight."""
    run_ids = [statuses[s].run_id for s in submitted if not statuses[s].final]
    deployment.cancel([r for r in run_ids if r])
