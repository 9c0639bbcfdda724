"""Fixtures for the kill-based fault tests: the real Dovecot of the connector tests.
(The source builders are in faultkit.py: `from conftest import` is ambiguous across test
folders.)"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
for extra in (TESTS / "connectors" / "email", TESTS / "fakes"):
    if str(extra) not in sys.path:
        sys.path.append(str(extra))

from mailtesting import Dovecot, launch_dovecot, make_cert  # noqa: E402


@pytest.fixture(scope="session")
def tls_cert() -> Iterator[tuple[Path, Path]]:
    if shutil.which("openssl") is None:
        pytest.fail("openssl is missing: install it (make sysdeps-test)")
    folder, cert, key = make_cert()
    yield cert, key
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def dovecot(tls_cert: tuple[Path, Path]) -> Iterator[Dovecot]:
    if shutil.which("dovecot") is None or shutil.which("doveadm") is None:
        pytest.fail("dovecot-imapd is missing: install it (make sysdeps-test)")
    server = launch_dovecot(*tls_cert)
    yield server
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)
