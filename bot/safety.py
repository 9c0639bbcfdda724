"""Only redacted text leaves for Slack: a last line of defence for short texts.

Excerpts come from `turn_scores.redacted_text`, but a few other texts are built by
analysis from transcript words — a rule flag's summary quotes what matched, e.g.
`Refund promise ("card ending 4111", turn 3)`. Everything of that kind passes through
`safe()` before it is sent: the configured analysis redactor (so the same PII rules,
kinds and phone region apply), else a conservative mask of e-mail addresses and long digit runs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

log = logging.getLogger(__name__)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DIGITS = re.compile(r"\+?\d[\d ().-]{4,}\d")


def redactor() -> Callable[[str], str] | None:
    """The process' configured redactor (`analysis.outbound.redact_text`: the `[redaction]`
    kinds and phone region installed at start), or None when analysis is not installed."""
    try:
        from analysis import outbound
    except ImportError:
        return None
    return outbound.redact_text


def fallback_mask(text: str) -> str:
    return _DIGITS.sub("[PII]", _EMAIL.sub("[PII]", text))


def safe(text: str | None) -> str | None:
    """`text` with PII replaced; never raises (a failing redactor falls back to the mask)."""
    if not text:
        return text
    fn = redactor()
    if fn is not None:
        try:
            return fn(text)
        except Exception:
            log.exception("redactor failed; masking instead")
    return fallback_mask(text)
