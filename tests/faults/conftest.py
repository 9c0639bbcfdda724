"""Fixtures for the kill-based fault tests: the real Dovecot of the connector tests.
(The source builders are in faultkit.py: `from conftest import` is ambiguous across test
folders.)"""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for extra in (TESTS / "connectors" / "email", TESTS / "fakes"):
    if str(extra) not in sys.path:
        sys.path.append(str(extra))

from mailtesting import dovecot, tls_cert  # noqa: E402, F401  (fixtures)

