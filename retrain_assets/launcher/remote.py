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
    workers: int,
) -> dict[str, SymbolStatus]:
    """Submit every planned symbol-day, keep at most `workers` in flight, follow to the end."""
    specs = specs_for(inv.run_tags(plans, workers, None))
    statuses = initial_statuses(plans)
    status_file = StatusFile(inv.layout.status_file(inv.date), inv.header(workers))
    waiting, submitted = list(specs), {}
    if specs:
        deployment.check([specs[0].job_name])
        deployment.add_symbols([s.symbol for s in specs])
    with Interrupts() as interrupts:
        try:
            while True:
                statuses = deployment.statuses(inv.invocation_id, statuses)
                in_flight = [s for s in submitted if not statuses[s].final]
                while waiting and len(in_flight) < workers and not interrupts.requested:
                    spec = waiting.pop(0)
                    submitted[spec.symbol] = deployment.submit(spec)
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
            inv.exit_now = True
            _cancel(deployment, statuses, submitted)
        inv.interrupted = interrupts.requested
    if inv.interrupted:
        statuses = deployment.statuses(inv.invocation_id, statuses)
    status_file.write(statuses, final=True)
    return statuses


def _cancel(
    deployment: Deployment, statuses: dict[str, SymbolStatus], submitted: dict[str, str]
) -> None:
    """Ask the deployment to terminate the runs it was given and has not finished."""
    deployment.cancel([run for s, run in submitted.items() if not statuses[s].final])
