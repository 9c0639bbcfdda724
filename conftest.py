"""Shared by every test folder: the local fakes (tests/fakes) are importable by name."""

from __future__ import annotations

import sys
from pathlib import Path

FAKES = Path(__file__).resolve().parent / "tests" / "fakes"
if str(FAKES) not in sys.path:
    sys.path.append(str(FAKES))
