"""The launcher's entry: every input checked, then plan, execute, summarize, notify.

Checks come first and create nothing: numbers, the symbol list, the date, the start date, the
log level, the settings file, the Dagster home and artifact root (writable), the instance
database (readable), the market-data source (it answers and has every listed symbol) and the
storage driver. Only then is the instance opened (once, under a lock), symbols registered and
work begun. A dry run's home and root are its own (`environment.dry_run_places`), chosen here.
"""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from retrain_assets.adapters.hardware import detect_hardware
from retrain_assets.adapters.symbol_files import read_symbol_file
from retrain_assets.core.data.dates import last_complete_utc_day, validate_date
from retrain_assets.core.data.symbols import parse_selection
from retrain_assets.core.errors import PermanentError
from retrain_assets.core.model.provenance import ASSET_SETTINGS
from retrain_assets.launcher import environment
from retrain_assets.launcher.config import MAX_SYMBOLS, SchedulerConfig, concurrency_ceiling
from retrain_assets.launcher.endpoint import parse_url
from retrain_assets.launcher.outcome import Checked, InvocationResult
from retrain_assets.launcher.progress import ProgressFn

# A dry run's instance is a folder of this machine's real one; a deployment has neither.
DRY_RUN_SUBMIT = "--dry_run runs locally on its own instance; it cannot be combined with --submit"


def check_inputs(spec: str, config: SchedulerConfig, now: datetime) -> Checked:
    """Every input, before any work; raises PermanentError naming the flag or variable."""
    from resources.settings import artifact_root

    environment.check_settings_text()
    environment.check_text("--symbols", spec)
    environment.check_text("--date", config.date)
    first = environment.check_deployment_settings()
    environment.check_log_level()
    # The symbols and the date before the market source and the definitions load (~2.5 CPU-s):
    # a mistyped flag is refused at once.
    selection = parse_selection(spec, read_symbol_file)
    if len(selection.symbols) > MAX_SYMBOLS or (selection.top_n or 0) > MAX_SYMBOLS:
        raise PermanentError(f"--symbols: at most {MAX_SYMBOLS} symbols per invocation")
    date = validate_date(config.date or last_complete_utc_day(now), first, now)
    from retrain_assets.launcher.market_check import check_market_data, checked_source

    # Before the definitions load (they build the source too), so the error names its setting.
    source = checked_source()
    check_settings_file()
    home = environment.dagster_home()
    root = environment.writable_folder(artifact_root(None), "RETRAIN_ARTIFACT_ROOT")
    if config.dry_run:
        home, root = environment.dry_run_places(home, root)
        environment.writable_folder(home, "the dry-run DAGSTER_HOME")
        environment.writable_folder(root, "the dry-run RETRAIN_ARTIFACT_ROOT")
    if home.exists():
        environment.check_instance_database(environment.storage_dir(home))
    check_market_data(selection, source)
    hardware = detect_hardware()
    config.check_ceiling(concurrency_ceiling(hardware), hardware)
    return Checked(home, root, date, selection)


def check_settings_file() -> None:
    """`RETRAIN_SETTINGS`, when set, is a readable file whose every setting the resources know.

    The definitions build their resources from it: importing them is the check.
    """
    import retrain_assets.definitions  # noqa: F401 - a bad file raises PermanentError here


def check_same_method(url: str, deployed: Mapping[str, str]) -> None:
    """`--submit` judges what is done by this machine's configuration, and the deployment's
    code makes the runs: both must be the same method and data source, or every rerun would
    rebuild what the deployment just made (or skip what it would make differently).

    Raises:
        PermanentError: an asset's code version differs (named, with both versions).
    """
    from retrain_assets.definitions import current_configuration

    current = current_configuration()
    for asset in ASSET_SETTINGS:  # upstream first: the first that differs is named
        there = deployed.get(asset)
        if there is not None and there != (here := current.code_version(asset)):
            raise PermanentError(
                f"--submit {url}: {asset} is made another way there (code version {there}) "
                f"than here ({here}): run with the deployment's RETRAIN_SETTINGS, "
                "RETRAIN_TRAINER and data source"
            )


def check_storage(config: SchedulerConfig, root: Path) -> None:
    """Prove the chosen driver's credentials and bucket/folder work; dry runs upload nothing,
    so their driver is not used and not checked."""
    if config.dry_run:
        return
    from resources.storage import StorageResource
    from retrain_assets.adapters.storage import StorageConfigError
    from retrain_assets.core.errors import RetrainError

    try:
        StorageResource().check_access(config.driver, root)
    except RetrainError as exc:  # messages name the store, never a secret
        raise StorageConfigError(
            f"--driver {config.driver}: the store is not usable, nothing was trained: {exc}"
        ) from None


def run_invocation(
    spec: str,
    config: SchedulerConfig,
    *,
    now: datetime | None = None,
    progress: ProgressFn | None = None,
    source: str = "cli",
    submit_url: str | None = None,
    announce: Callable[[str], None] | None = None,
) -> InvocationResult:
    """Retrain one date for the symbols `spec` names; see the module docstring.

    `announce` is called with the checked date once every input passed its check, so nothing
    is printed for an invocation that is refused.
    """
    now = now or datetime.now(UTC)
    if submit_url:
        if config.dry_run:
            raise PermanentError(DRY_RUN_SUBMIT)
        environment.check_text("--submit", submit_url)
        parse_url(submit_url)
    checked = check_inputs(spec, config, now)
    deployment = None
    if submit_url:
        from retrain_assets.launcher.submit import Deployment

        deployment = Deployment(submit_url)
        check_same_method(submit_url, deployment.check().code_versions)
    check_storage(config, checked.artifact_root)
    if announce is not None:
        announce(checked.date)
    from retrain_assets.launcher.session import execute_invocation

    return execute_invocation(checked, config, progress, source, deployment)
