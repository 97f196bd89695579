"""The HTML texts the retraining job sends to Telegram: escaping, splitting, message builders.

Every dynamic string is escaped, and long texts are split on line boundaries into parts that
are each well-formed HTML within Telegram's 4096-character limit.
"""

import html
import math
import re
from collections.abc import Iterable, Sequence

from retrain_assets.core.redaction import redact

MAX_MESSAGE_CHARS = 4096
FAILURE_REASON_CHARS = 300

# Tags and entities are atomic; text is cut into short runs so a line longer than a whole
# message can still be split near the limit, at worst inside a word.
_HTML_TOKEN = re.compile(r"<[^<>]*>|&#?\w+;|\n|[^<&\n]{1,80}|[<&]")
_PLAIN_TOKEN = re.compile(r"\n|[^\n]{1,80}")
_TAG = re.compile(r"<(/?)([A-Za-z][\w-]*)[^<>]*>")


def escape(s: str) -> str:
    """Escapes a dynamic string for Telegram's HTML parse mode.

    Args:
        s: Any text: a symbol, an exception message, a label.

    Returns:
        The text with ``&``, ``<``, ``>`` and quotes replaced by HTML entities.
    """
    return html.escape(s, quote=True)


def _closing(stack: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def _track(token: str, stack: list[tuple[str, str]]) -> None:
    """Updates the stack of open tags for one token."""
    match = _TAG.fullmatch(token)
    if match is None:
        return
    closing, name = match.group(1) == "/", match.group(2).lower()
    if not closing:
        stack.append((name, token))
    elif stack and stack[-1][0] == name:
        stack.pop()


def split_message(text: str, limit: int = MAX_MESSAGE_CHARS, html_mode: bool = True) -> list[str]:
    """Splits a text into messages of at most `limit` characters, preferably at line ends.

    In HTML mode a cut never falls inside a tag or an entity, and the tags open at a cut are
    closed at the end of one part and opened again at the start of the next, so every part is
    well-formed on its own. A cut falls at the last line end that fits; only a line longer
    than a whole message is cut inside the line.

    Args:
        text: The message text.
        limit: The most characters one part may have.
        html_mode: Whether the text is Telegram HTML.

    Returns:
        The parts, in order; parts with no visible text are dropped.

    Raises:
        ValueError: If the open tags alone leave no room for text.
    """
    tokens = (_HTML_TOKEN if html_mode else _PLAIN_TOKEN).findall(text)
    parts: list[str] = []
    stack: list[tuple[str, str]] = []
    start = 0
    while start < len(tokens):
        prefix = "".join(tag for _, tag in stack)
        end, stack_at_end = _fill(tokens, start, stack, limit - len(prefix), html_mode)
        if end == start:
            raise ValueError("open HTML tags leave no room for text in a message")
        parts.append(prefix + "".join(tokens[start:end]) + _closing(stack_at_end))
        start, stack = end, stack_at_end
    visible = (_TAG.sub("", part) if html_mode else part for part in parts)
    return [part for part, text in zip(parts, visible, strict=True) if text.strip()]


def _fill(
    tokens: list[str], start: int, stack: list[tuple[str, str]], room: int, html_mode: bool
) -> tuple[int, list[tuple[str, str]]]:
    """Finds where the part that begins at `start` ends.

    Returns:
        The index after the part's last token, and the tags still open there.
    """
    stack = list(stack)
    used = 0
    best: tuple[int, list[tuple[str, str]]] = (start, list(stack))
    line_end: tuple[int, list[tuple[str, str]]] | None = None
    for index in range(start, len(tokens)):
        after = list(stack)
        if html_mode:
            _track(tokens[index], after)
        if used + len(tokens[index]) + len(_closing(after)) > room:
            return line_end or best
        used += len(tokens[index])
        stack = after
        best = (index + 1, list(stack))
        if tokens[index] == "\n":
            line_end = best
    return best


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def format_start(label: str, total_symbols: int, mode: str, date: str) -> str:
    """Builds the message sent when a day's retraining starts.

    Args:
        label: The deployment's name, such as ``prod``.
        total_symbols: How many symbols the run covers.
        mode: The scheduling mode (sequential, parallel, hybrid).
        date: The trained day, ``YYYY-MM-DD``.

    Returns:
        The message, in Telegram HTML.
    """
    return (
        f"🚀 <b>{escape(label)}</b> retraining started\n"
        f"Date: <code>{escape(date)}</code> · Symbols: <b>{total_symbols}</b>"
        f" · Mode: <code>{escape(mode)}</code>"
    )


def best_and_worst(
    scores: Sequence[tuple[str, float | None]],
) -> tuple[tuple[str, float] | None, tuple[str, float] | None]:
    """The best and worst of the scored symbols, for `format_completion`.

    Args:
        scores: (name, rankable net bps after costs) of each successful symbol. A None or
            non-finite score is left out: a model with insufficient evidence has no rankable
            figure (`summary_records.run_net_bps`) and is never best or worst.

    Returns:
        (best, worst), or (None, None) with fewer than two ranked scores: one symbol is not
        a ranking.
    """
    ranked = [(name, float(v)) for name, v in scores if v is not None and math.isfinite(v)]
    if len(ranked) < 2:
        return None, None
    return max(ranked, key=lambda s: s[1]), min(ranked, key=lambda s: s[1])


def run_url(ui_base_url: str | None, run_id: str) -> str | None:
    """The link to a run in the Dagster UI, when the UI's address is known."""
    return f"{ui_base_url.rstrip('/')}/runs/{run_id}" if ui_base_url else None


def format_completion(
    label: str,
    date: str,
    succeeded: int,
    failed: int,
    skipped: int,
    duration_s: float,
    best: tuple[str, float] | None,
    worst: tuple[str, float] | None,
    lifecycle: Sequence[str] = (),
    headline: str | None = None,
) -> str:
    """Builds the summary sent when a day's retraining has finished.

    Args:
        label: The deployment's name.
        date: The trained day, ``YYYY-MM-DD``.
        succeeded: Symbols trained and stored.
        failed: Symbols that failed.
        skipped: Symbols skipped, already done or not eligible.
        duration_s: Wall-clock seconds from start to finish.
        best: The best symbol and its score; None shows no ranking (see `best_and_worst`).
        worst: The worst symbol and its score; None shows no ranking.
        lifecycle: Lines from `format_lifecycle` (promoted, kept back, drifted).
        headline: The production table's headline (`core.desk.headline`), when known.

    Returns:
        The message, in Telegram HTML.
    """
    icon = "✅" if failed == 0 else "⚠️"
    lines = [
        f"{icon} <b>{escape(label)}</b> retraining finished",
        f"Date: <code>{escape(date)}</code> · Duration: {_duration(duration_s)}",
        f"Succeeded: <b>{succeeded}</b> · Failed: <b>{failed}</b> · Skipped: <b>{skipped}</b>",
    ]
    if headline:
        lines.append(f"Production: {escape(headline)}")
    for name, entry in (("Best", best), ("Worst", worst)):
        if entry is not None:
            lines.append(f"{name}: <code>{escape(entry[0])}</code> {entry[1]:.4f}")
    return "\n".join([*lines, *lifecycle])


LISTED_SYMBOLS = 12


def format_lifecycle(
    promoted: Sequence[tuple[str, str]],
    kept_back: Sequence[tuple[str, str]],
    drifted: Sequence[tuple[str, str]],
    demoted: Sequence[tuple[str, str]] = (),
) -> list[str]:
    """The lines naming models promoted, kept back (with the failing check) and drifted.

    Nothing is ranked here: a model kept back for insufficient evidence is named with that
    reason, never placed against another. Each list names at most `LISTED_SYMBOLS` symbols
    and counts the rest.

    Args:
        promoted: (symbol, model as of) of each champion that moved.
        kept_back: (symbol, failing gate conditions) of each model not promoted.
        drifted: (symbol, the drift check's severity and description).
        demoted: (symbol, why) of each champion taken out: the symbol now trades flat.
    """
    lines = []
    if demoted:
        names = [f"<code>{escape(s)}</code> ({escape(why[:160])})" for s, why in demoted]
        lines.append(f"Demoted, now flat ({len(demoted)}): " + _listed(names, "; "))
    if promoted:
        names = [f"<code>{escape(s)}</code> → {escape(d)}" for s, d in promoted]
        lines.append(f"Promoted ({len(promoted)}): " + _listed(names))
    if kept_back:
        names = [f"<code>{escape(s)}</code> ({escape(why)})" for s, why in kept_back]
        lines.append(f"Not promoted ({len(kept_back)}): " + _listed(names))
    if drifted:
        names = [f"<code>{escape(s)}</code> {escape(why[:120])}" for s, why in drifted]
        lines.append(f"Drifted ({len(drifted)}): " + _listed(names, "; "))
    return lines


def _listed(names: Sequence[str], sep: str = ", ") -> str:
    shown = sep.join(names[:LISTED_SYMBOLS])
    more = len(names) - LISTED_SYMBOLS
    return shown + (f" and {more} more" if more > 0 else "")


def format_failure(
    symbol: str,
    date: str,
    error_type: str,
    reason: str,
    run_url: str | None,
    *,
    secrets: Iterable[str] = (),
) -> str:
    """Builds the alert sent when one symbol fails.

    Args:
        symbol: The symbol that failed.
        date: The trained day, ``YYYY-MM-DD``.
        error_type: The exception's class name.
        reason: The error message; folded onto one line and cut to about 300 characters.
        run_url: A link to the run in the Dagster UI; only http(s) links become links.
        secrets: Values to mask in the reason, which may quote a URL or a response.

    Returns:
        The message, in Telegram HTML.
    """
    one_line = " ".join(redact(reason, secrets).split())
    if len(one_line) > FAILURE_REASON_CHARS:
        one_line = one_line[: FAILURE_REASON_CHARS - 1].rstrip() + "…"
    lines = [
        f"❌ <b>{escape(symbol)}</b> failed on <code>{escape(date)}</code>",
        f"<code>{escape(error_type)}</code>: {escape(one_line)}",
    ]
    if run_url and run_url.startswith(("http://", "https://")):
        lines.append(f'<a href="{escape(run_url)}">Open the run</a>')
    elif run_url:
        lines.append(f"Run: <code>{escape(run_url)}</code>")
    return "\n".join(lines)
