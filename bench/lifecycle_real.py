"""How the model lifecycle behaves on the shared real data: checks, gate and champions.

Reads an instance that `bench.walk_forward_real` filled (real Binance bars, the product's CLI,
point-in-time top15) and prints, over every symbol-day it ran: each check's count of passed,
WARN and ERROR verdicts; the gate's failing conditions; how many champions moved; and the
decision history of each symbol that ever had a champion.

    .venv/bin/python -m bench.walk_forward_real --first 2021-05-31 --last 2021-07-02 \\
        --home /tmp/real/home --artifacts /tmp/real/artifacts
    DAGSTER_HOME=/tmp/real/home .venv/bin/python -m bench.lifecycle_real \\
        --artifacts /tmp/real/artifacts
"""

import argparse
import collections
from pathlib import Path

import dagster as dg

from retrain_assets.adapters.production_store import ProductionStore
from retrain_assets.core.lifecycle.production import live_history
from retrain_assets.defs.records import check_evaluations_of


def main() -> None:
    """Print the lifecycle tables of the instance in $DAGSTER_HOME."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifacts", type=Path, required=True)
    args = parser.parse_args()
    verdicts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    failing: collections.Counter = collections.Counter()
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(dg.RunsFilter(job_name="retrain_symbol_day"))
        for run in runs:
            for check in check_evaluations_of(instance, run.run_id):
                verdict = "passed" if check["passed"] else check["severity"]
                verdicts[check["check"]][verdict] += 1
                if check["check"] == "promotion_gate" and not check["passed"]:
                    reasons = check["description"].split(":", 1)[0].removeprefix("failed ")
                    failing[reasons] += 1
    print(f"{len(runs)} symbol-day runs\n")
    print("| check | passed | WARN | ERROR |\n|---|---|---|---|")
    for name in sorted(verdicts):
        v = verdicts[name]
        print(f"| {name} | {v['passed']} | {v['WARN']} | {v['ERROR']} |")
    print("\n| gate failed on | symbol-days |\n|---|---|")
    for reasons, count in failing.most_common():
        print(f"| {reasons} | {count} |")
    store = ProductionStore(args.artifacts)
    symbols = sorted(p.name for p in (args.artifacts / "production").glob("*") if p.is_dir())
    moved = {s: [d for d in store.decisions(s) if d.moved] for s in symbols}
    print(f"\n{sum(len(m) for m in moved.values())} promotions over {len(symbols)} symbols")
    for symbol, promotions in moved.items():
        if promotions:
            live = live_history(store.decisions(symbol))
            days = sum(1 for d in live if d.model_as_of is not None)
            print(f"- {symbol}: promoted on {[d.date for d in promotions]}, {days} days live")


if __name__ == "__main__":
    main()
