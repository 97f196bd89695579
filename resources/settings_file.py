"""The settings file: the resources' configuration, for settings that change the numbers.

`RETRAIN_SETTINGS=path/to/settings.yaml` names a YAML file with one section per resource, each
a mapping of that resource's fields (`training: {lookback_days: 120}`, `cost_model: {...}`,
`promotion: {...}`, `market_data: {...}`), plus `deployment: {start_date, schedule_cron}` (read,
with `training.timeout_minutes`, by `resources.deployment`). The definitions build their
resources from it, so the CLI, `dg dev`, the daemon's runs and the code versions all see the
same method; a field left out keeps its default (or its environment variable, where the field
has one).

A bad file is one line naming the file and the field (`PermanentError`), checked by the CLI
before any work.
"""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydantic
import yaml

from retrain_assets.core.errors import PermanentError

SETTINGS_VAR = "RETRAIN_SETTINGS"
SECTIONS = ("training", "cost_model", "promotion", "market_data", "deployment")


def settings_sections(environ: Mapping[str, str] = os.environ) -> dict[str, dict[str, Any]]:
    """The file's sections (empty when `RETRAIN_SETTINGS` is unset).

    Raises:
        PermanentError: the file is missing, not YAML, or has a section not in `SECTIONS`.
    """
    name = environ.get(SETTINGS_VAR, "").strip()
    if not name:
        return {}
    path = Path(name).expanduser()
    where = f"{SETTINGS_VAR}={path}"
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise PermanentError(f"{where}: cannot be read ({type(exc).__name__})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark else ""
        raise PermanentError(f"{where}: not valid YAML{line}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise PermanentError(f"{where}: expected sections {', '.join(SECTIONS)}")
    for section, fields in document.items():
        if section not in SECTIONS:
            raise PermanentError(
                f"{where}: unknown section {section!r}: choose from {', '.join(SECTIONS)}"
            )
        if not isinstance(fields, dict):
            raise PermanentError(f"{where}: {section}: expected a mapping of settings")
    return {str(k): dict(v) for k, v in document.items()}


def configured(
    cls: type, section: str, sections: Mapping[str, dict[str, Any]], **defaults: Any
) -> Any:
    """`cls` built from the file's `section` (`defaults`, else its own, where the file says
    nothing).

    Raises:
        PermanentError: a field is unknown or has a value of the wrong kind, named.
    """
    fields = sections.get(section, {})
    unknown = sorted(set(fields) - set(cls.model_fields))
    if unknown:
        raise PermanentError(
            f"{SETTINGS_VAR}={os.environ.get(SETTINGS_VAR, '')}: {section}.{unknown[0]}: "
            f"unknown setting (known: {', '.join(sorted(cls.model_fields))})"
        )
    try:
        return cls(**{**defaults, **fields})
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "?"
        raise PermanentError(
            f"{SETTINGS_VAR}={os.environ.get(SETTINGS_VAR, '')}: {section}.{field}: {first['msg']}"
        ) from None
