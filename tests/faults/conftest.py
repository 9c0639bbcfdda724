"""Fixtures for the kill-based fault tests: sources with known items, reused from the
connector tests (message builders, the real Dovecot, the vendor fakes)."""

from __future__ import annotations

import mailbox
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
for extra in (TESTS / "connectors" / "email", TESTS / "fakes"):
    if str(extra) not in sys.path:
        sys.path.append(str(extra))

from mailtesting import Dovecot, launch_dovecot, make_cert, make_mail  # noqa: E402


def write_maildir(folder: Path, n: int, start: int = 0) -> set[str]:
    """`n` one-message threads; returns their Message-IDs (`m{i}@test`)."""
    md = mailbox.Maildir(str(folder), create=True)
    for i in range(start, start + n):
        md.add(make_mail(i))
    return {f"m{i}@test" for i in range(start, start + n)}


def write_mbox(path: Path, n: int, start: int = 0) -> set[str]:
    box = mailbox.mbox(str(path), create=True)
    box.lock()
    try:
        for i in range(start, start + n):
            box.add(make_mail(i))
        box.flush()
    finally:
        box.unlock()
        box.close()
    return {f"m{i}@test" for i in range(start, start + n)}


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
