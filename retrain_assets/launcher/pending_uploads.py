"""A rerun of a date completes the uploads its symbol-days' earlier runs left pending.

Without a daemon nothing else uploads them (the pending-uploads sensor runs only under
`dagster dev` or a deployment), so the CLI does, before planning, with the sensor's own retry
(`resources/upload_retry.py`). Only the date and symbols it was asked for: one query per asset,
like the plan's, whatever the instance's size; the sensor covers everything else.
"""

from retrain_assets.launcher.invocation import Invocation


def complete_pending_uploads(inv: Invocation) -> dict[str, object] | None:
    """Upload the invocation's symbol-days' pending files; print one line and return the tally.

    Returns:
        `{"uploaded": {backend: files}, "still_pending": files}` (status.json's
        `pending_uploads`), or None when nothing was pending (always for a dry run's own
        instance: dry runs upload nothing).
    """
    from resources.upload_retry import complete_pending_uploads as complete
    from retrain_assets.defs.assets import symbol_day_assets
    from retrain_assets.vocabulary.keys import symbol_day_key

    assets = tuple(a.key.path[-1] for a in symbol_day_assets)
    keys = [symbol_day_key(inv.date, s) for s in inv.symbols]
    done = complete(inv.instance, inv.layout.root, assets, keys)
    if done is None:
        return None
    print(done.line(), flush=True)
    return done.summary()
