"""Feature drift: whether the latest week's features sit where the training rows rarely were.

The population stability index compares two samples of one feature over bins of the
reference: `PSI = sum((a - e) ln(a / e))` with `e` and `a` the reference's and the sample's
share of each bin. The bins are the reference's deciles plus one below its minimum and one
above its maximum (a value the model never saw in training lands in a bin training left
empty), and each bin's count gets half a row (Jeffreys' smoothing), so an empty bin of a
168-row week weighs about 0.3% instead of an arbitrary floor.

A PSI alone is no verdict. A week of a 168-bar feature holds one or two independent values,
so it fills a bin or two and scores about 3 with nothing wrong (at most 11.8, a whole week in
one empty bin), while a week of independent noise scores about 0.06 against 2,600 rows of
the same noise. So each feature's limits come from its own training rows: every complete
week of the training segment is scored against the rest of the segment, as if it were new,
and the median of those PSIs is the feature's typical week. The latest week is an ERROR
when some feature's PSI is above `fail_ratio` times its typical week (and at least
`fail_psi`), a WARN above `warn_ratio` times it (and at least `warn_psi`): one rule, which
the check's description states. A 168-bar feature's error
limit (about 30 on real pairs) is beyond what a week can score: its drift shows in the fast
features of the same quantity (rvol_6, parkinson_24, range_1 for volatility).

The ratios were chosen on the shared real sample (`bench/drift_real.py`; the figures are in
docs/lifecycle.md): over a calm month, 10x the typical week made 0-2% of symbol-days an
ERROR where the rule it replaces made 9-14%, and the same weeks with their price moves five
times as big were an ERROR on 84-90% of those days.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from retrain_assets.core.data.check_outcome import WARN, CheckOutcome, Metadata, graded

RowSelection = range | slice | tuple[int, int]
_CALENDAR = ("hour_sin", "hour_cos", "dow_sin", "dow_cos")


@dataclass(frozen=True)
class DriftPolicy:
    """When a feature's drift is a warning, and when an error.

    Attributes:
        bins: Quantile bins of the reference within its range (fewer where quantiles
            repeat), plus one below its minimum and one above its maximum.
        fail_ratio: A feature's PSI above this many times its typical training-week PSI
            (and at least `fail_psi`) is an error.
        warn_ratio: Above this many times it (and at least `warn_psi`), a warning.
        fail_psi: The least an error limit can be: a major shift by the rule of thumb.
        warn_psi: The least a warning limit can be: a moderate shift by the rule of thumb.
        latest_days: The latest sample, and each training week: this many days.
        min_rows: Fewest finite values on either side for a PSI; fewer is undefined.
        worst: How many features the description names.
        exclude: Features never compared: the calendar features are uniform over whole
            weeks by construction, and a week against a long window is not drift.
    """

    bins: int = 10
    fail_ratio: float = 10.0
    warn_ratio: float = 6.0
    fail_psi: float = 0.25
    warn_psi: float = 0.1
    latest_days: int = 7
    min_rows: int = 48
    worst: int = 3
    exclude: tuple[str, ...] = _CALENDAR


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's latest-week PSI and its limits.

    Attributes:
        name: The feature.
        psi: The latest week's PSI against the training segment.
        typical_week: The median PSI of the training weeks, each against the rest of
            training; None when no training week had enough values.
        warn_limit: A PSI above this is a warning.
        fail_limit: A PSI above this is an error.
    """

    name: str
    psi: float
    typical_week: float | None
    warn_limit: float
    fail_limit: float

    @property
    def level(self) -> int:
        """2 above the error limit, 1 above the warning limit, else 0."""
        return 2 if self.psi > self.fail_limit else 1 if self.psi > self.warn_limit else 0

    def text(self) -> str:
        """`rvol_6 PSI 2.41 (warn 0.80, error 1.20)`."""
        limits = f"warn {self.warn_limit:.2f}, error {self.fail_limit:.2f}"
        return f"{self.name} PSI {self.psi:.2f} ({limits})"


@dataclass(frozen=True)
class DriftReport:
    """Every compared feature's drift, the worst first, and the sample sizes.

    Attributes:
        features: Features with a PSI, ranked by verdict, then by PSI over error limit.
        latest_rows: Rows of the latest week.
        reference_rows: Rows of the training segment.
        weeks: Complete training weeks that set the limits.
        policy: The policy the limits were set by; the check states its rule.
    """

    features: tuple[FeatureDrift, ...]
    latest_rows: int
    reference_rows: int
    weeks: int
    policy: DriftPolicy = field(default_factory=DriftPolicy)

    def psi(self) -> dict[str, float]:
        """`{feature: PSI}` of the ranked features."""
        return {f.name: f.psi for f in self.features}

    def limits(self) -> dict[str, dict[str, float]]:
        """`{feature: {"warn": limit, "error": limit}}` of the ranked features."""
        return {f.name: {"warn": f.warn_limit, "error": f.fail_limit} for f in self.features}


@dataclass(frozen=True)
class _Bins:
    """The reference's inner quantile edges and its range."""

    inner: np.ndarray
    low: float
    high: float

    @classmethod
    def of(cls, reference: np.ndarray, bins: int) -> "_Bins":
        inner = np.unique(np.quantile(reference, np.arange(1, bins) / bins))
        return cls(inner, float(reference.min()), float(reference.max()))

    def shares(self, values: np.ndarray) -> np.ndarray:
        """Each bin's share of `values`, half a row added to every bin."""
        index = 1 + np.searchsorted(self.inner, values, side="right")
        index[values < self.low] = 0
        index[values > self.high] = self.inner.size + 2
        counts = np.bincount(index, minlength=self.inner.size + 3)
        return self._smoothed(counts, values.size)

    def sorted_shares(self, ordered: np.ndarray) -> np.ndarray:
        """`shares` of values sorted ascending: the same counts, from one binary search per
        edge instead of one per value."""
        cuts = np.searchsorted(ordered, np.concatenate(([self.low], self.inner)), side="left")
        high = np.searchsorted(ordered, self.high, side="right")
        counts = np.diff(np.concatenate(([0], cuts, [high, ordered.size])))
        return self._smoothed(counts, ordered.size)

    @staticmethod
    def _smoothed(counts: np.ndarray, rows: int) -> np.ndarray:
        return (counts + 0.5) / (rows + 0.5 * counts.size)


def _psi(bins: _Bins, reference: np.ndarray, sample: np.ndarray) -> float:
    return _psi_of_shares(bins.shares(reference), bins.shares(sample))


def _psi_of_shares(e: np.ndarray, a: np.ndarray) -> float:
    return float(np.sum((a - e) * np.log(a / e)))


def _finite(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values[np.isfinite(values)]


def population_stability(
    reference: np.ndarray, latest: np.ndarray, bins: int = 10, min_rows: int = 48
) -> float | None:
    """The population stability index of `latest` against `reference`.

    Args:
        reference: The reference sample (the training rows' values); NaNs are dropped.
        latest: The sample compared with it; NaNs are dropped.
        bins: Quantile bins of the reference within its range, plus the two outside it.
        min_rows: Fewest finite values on either side.

    Returns:
        The PSI (0 for equal distributions), or None when a side has fewer than `min_rows`
        finite values.
    """
    ref, new = _finite(reference), _finite(latest)
    if ref.size < min_rows or new.size < min_rows:
        return None
    return _psi(_Bins.of(ref, bins), ref, new)


def _reference_slice(train_rows: RowSelection) -> slice:
    if isinstance(train_rows, tuple):
        return slice(*train_rows)
    if isinstance(train_rows, range):
        return slice(train_rows.start, train_rows.stop)
    return train_rows


def _samples(
    frame: pd.DataFrame, train_rows: RowSelection, as_of_end: pd.Timestamp, latest_days: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The training rows and the rows of the `latest_days` before `as_of_end`."""
    reference = frame.iloc[_reference_slice(train_rows)]
    ts = pd.to_datetime(frame["timestamp"], utc=True)
    latest = frame.loc[(ts >= as_of_end - pd.Timedelta(days=latest_days)) & (ts < as_of_end)]
    return reference, latest


def psi_by_feature(
    frame: pd.DataFrame,
    train_rows: RowSelection,
    feature_names: Sequence[str],
    as_of_end: pd.Timestamp,
    policy: DriftPolicy | None = None,
) -> dict[str, float | None]:
    """Each compared feature's PSI, the latest week against the training segment.

    Args:
        frame: The feature frame (`features.build_features`), with `timestamp`; its
            unlabelled tail may be included, only features are read.
        train_rows: The training segment's positional rows: `Splits.row_ranges()["train"]`,
            a `slice`, or a `range`.
        feature_names: The features to compare; those in `policy.exclude` are skipped.
        as_of_end: The exclusive end of the latest sample (the date's close).
        policy: The bins; `DriftPolicy()` by default.

    Returns:
        `{feature: PSI or None}` in `feature_names` order, None where a side is too short.
    """
    policy = policy or DriftPolicy()
    reference, latest = _samples(frame, train_rows, as_of_end, policy.latest_days)
    return {
        name: population_stability(
            reference[name].to_numpy(), latest[name].to_numpy(), policy.bins, policy.min_rows
        )
        for name in feature_names
        if name not in policy.exclude
    }


def training_weeks(reference: pd.DataFrame, days: int) -> list[np.ndarray]:
    """Masks of the reference's complete weeks of `days`, counted back from its last row."""
    # UTC as datetime64: a tz-aware column's plain `to_numpy()` is Timestamp objects, which
    # compare one by one in Python (~1 ms a week).
    ts = pd.to_datetime(reference["timestamp"], utc=True).to_numpy("datetime64[ns]")
    if ts.size == 0:
        return []
    week = np.timedelta64(days, "D")
    end = ts[-1] + np.timedelta64(1, "h")
    masks = []
    while end - week >= ts[0]:
        masks.append((ts >= end - week) & (ts < end))
        end -= week
    return masks


def typical_week_psi(
    values: np.ndarray, weeks: Sequence[np.ndarray], bins: int, min_rows: int
) -> float | None:
    """The median PSI of the training weeks, each against the rest of training.

    Args:
        values: One feature's values over the training segment.
        weeks: Masks of its weeks (`training_weeks`).
        bins, min_rows: As for `population_stability`.

    Returns:
        The median over the weeks with a PSI; None when no week has one. Each week's PSI is
        `population_stability(values[~week], values[week])` to the bit: the values are
        sorted once, so each week's two sides come out sorted and are binned by searching.
    """
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    finite = np.isfinite(ordered)
    found = []
    for week in weeks:
        in_week = week[order]
        ref, new = ordered[finite & ~in_week], ordered[finite & in_week]
        if ref.size < min_rows or new.size < min_rows:
            continue
        edges = _Bins.of(ref, bins)
        found.append(_psi_of_shares(edges.sorted_shares(ref), edges.sorted_shares(new)))
    return float(np.median(found)) if found else None


def _limits(name: str, psi: float, typical: float | None, policy: DriftPolicy) -> FeatureDrift:
    base = 0.0 if typical is None else typical
    return FeatureDrift(
        name=name,
        psi=psi,
        typical_week=typical,
        warn_limit=max(policy.warn_psi, policy.warn_ratio * base),
        fail_limit=max(policy.fail_psi, policy.fail_ratio * base),
    )


def measure_drift(
    frame: pd.DataFrame,
    train_rows: RowSelection,
    feature_names: Sequence[str],
    as_of_end: pd.Timestamp,
    policy: DriftPolicy | None = None,
) -> DriftReport:
    """Each compared feature's latest-week PSI and its limits from the training weeks.

    Args:
        frame, train_rows, feature_names, as_of_end: As for `psi_by_feature`.
        policy: The bins, ratios and floors; `DriftPolicy()` by default.

    Returns:
        The features with a PSI, ranked: above the error limit first, then above the warning
        limit, each by PSI over error limit, largest first.
    """
    policy = policy or DriftPolicy()
    reference, latest = _samples(frame, train_rows, as_of_end, policy.latest_days)
    weeks = training_weeks(reference, policy.latest_days)
    found = []
    for name, psi in psi_by_feature(frame, train_rows, feature_names, as_of_end, policy).items():
        if psi is None:
            continue
        values = reference[name].to_numpy(dtype=float)
        typical = typical_week_psi(values, weeks, policy.bins, policy.min_rows)
        found.append(_limits(name, psi, typical, policy))
    return DriftReport(_ranked(found), len(latest), len(reference), len(weeks), policy)


def _ranked(features: Sequence[FeatureDrift]) -> tuple[FeatureDrift, ...]:
    """Above the error limit first, then above the warning limit, each by PSI over error
    limit, largest first: the first is the one the check names."""
    return tuple(sorted(features, key=lambda f: (f.level, f.psi / f.fail_limit), reverse=True))


def _named(features: Sequence[FeatureDrift]) -> str:
    return ", ".join(f.name for f in features) or "none"


def feature_drift(report: DriftReport) -> CheckOutcome:
    """The `feature_drift` check of a `measure_drift` report, by the report's policy.

    Returns:
        ERROR if a feature's PSI is above its error limit, WARN if above its warning limit,
        else passed; passed ("insufficient rows") when no feature has a PSI. The description
        and `worst_feature` name the same feature, PSI and limits: the first ranked.
    """
    policy = report.policy
    rows = (
        f"{report.latest_rows:,} latest, {report.reference_rows:,} training in {report.weeks} weeks"
    )
    if not report.features:
        text = f"insufficient rows: {rows} (need {policy.min_rows} finite values on each side)"
        return CheckOutcome("feature_drift", True, WARN, text, {"rows": rows})
    ranked = _ranked(report.features)
    fail = [f for f in ranked if f.level == 2]
    warn = [f for f in ranked if f.level == 1]
    metadata: Metadata = {
        "worst_feature": ranked[0].text(),
        "above_error_limit": _named(fail),
        "above_warn_limit": _named(warn),
        "rows": rows,
    }
    named = "; ".join(f.text() for f in ranked[: policy.worst])
    rule = (
        f"limits: error {policy.fail_ratio:g}x, warn {policy.warn_ratio:g}x the feature's "
        f"typical training-week PSI, at least {policy.fail_psi:g} and {policy.warn_psi:g}"
    )
    total = len(ranked)
    return graded(
        "feature_drift",
        metadata,
        errors=[
            f"{named}: {len(fail)} of {total} features above the error limit, "
            f"{len(warn)} more above the warn limit ({rule})"
        ]
        if fail
        else [],
        warnings=[f"{named}: {len(warn)} of {total} features above the warn limit ({rule})"]
        if warn and not fail
        else [],
        clean=f"none of the {total} features is above its limits; nearest: {named} ({rule})",
    )
