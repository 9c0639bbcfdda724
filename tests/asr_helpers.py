"""Shared pieces of the ASR tests (tests/analysis/test_asr*.py)."""

from __future__ import annotations

from analysis.asr.options import options_changed as options

# `options(transcriber, **changes)`: run a block with some [asr] options changed on the
# session's one Transcriber (the model loads once per session). It lives in
# analysis/asr/options.py, shared with bench/asr_ab.py, so the bench needs nothing from tests/.
__all__ = ["options"]
