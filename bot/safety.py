"""Only redacted text leaves for Slack: a last line of defence for short texts.

Excerpts come from `turn_scores.redacted_text`, but a few other texts are built by
analysis from transcript words — a rule flag's summary quotes what matched, e.g.
`Refund promise ("card ending 4111", turn 3)`. Everything of that kind passes through
`safe()` before it is sent: the analysis redactor when installed (so the same PII rules
apply), else a conservative mask of e-mail addresses and long digit runs.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable

log = logging.getLogger(__name__)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DIGITS = re.compile(r"\+?\d[\d ().-]{4,}\d")


@functools.lru_cache(maxsize=1)
def redactor() -> Callable[[str], str] | None:
    """analysis.redaction.redact as text -> text, or None when that module is absent."""
    try:
        from analysis import redaction  # type: ignore[attr-defined]
    except ImportError:
        return None
    fn = getattr(redaction, "redact", None)
    if fn is None:
        return None

    def run(text: str) -> str:
        out = fn(text)
        return out if isinstance(out, str) else str(getattr(out, "text", ""))

    return run


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
