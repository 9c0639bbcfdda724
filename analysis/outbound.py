"""The one on-the-fly redactor for text that leaves without a stored redacted copy.

Turn text leaves only as `turn_scores.redacted_text` (through the store's `outbound_*`
views). A few short texts are built elsewhere — a rule flag's summary quotes matched words,
a bot excerpt of a turn analysis has not reached yet — and pass through `redact_text`
before they are sent. It is built from the configured `[redaction]` options (kinds, phone
region), which the composition root installs once with `configure()` at start, so the bot,
alerts and digests redact exactly like the analysis job; before `configure()` the defaults
apply (every kind, region US).
"""

from __future__ import annotations

import re
import threading

from analysis.redaction import RedactionOptions, redact

__all__ = ["configure", "current_options", "mined_text", "redact_text"]

_lock = threading.Lock()
_options: RedactionOptions | None = None


def configure(options: RedactionOptions) -> None:
    """Install the configured redaction options for every outbound redaction in this process."""
    global _options
    with _lock:
        _options = options


def current_options() -> RedactionOptions:
    """The installed options (defaults until `configure` runs)."""
    return _options if _options is not None else RedactionOptions()


def redact_text(text: str) -> str:
    """`text` with the configured PII kinds replaced by `[PII:KIND]` markers."""
    if not text:
        return text
    return redact(text, current_options()).text


_MARKER = re.compile(r"\[PII:[A-Z_]+\]")


def mined_text(redacted: str) -> str:
    """What pattern mining reads of a turn: its redacted text without the `[PII:KIND]`
    markers (the SQL twin is `store.patterns._MINED`), so no cluster is named after a marker."""
    return _MARKER.sub("", redacted)
