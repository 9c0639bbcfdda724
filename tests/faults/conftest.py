"""Fixtures for the kill-based fault tests: sources with known items, reused from the
connector tests (message builders, the real Dovecot, the vendor fakes)."""

from __future__ import annotations

import importlib.util
import mailbox
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parents[1]
for extra in (TESTS / "connectors" / "email", TESTS / "fakes"):
    if str(extra) not in sys.path:
        sys.path.append(str(extra))

from mailtesting import Dovecot, launch_dovecot, make_cert, make_mail  # noqa: E402


def load_fake_slack() -> Any:
    """tests/fakes/slack.py under its own name (a plain `import slack` finds the
    deprecated `slack` package of slack_sdk instead)."""
    name = "convoscope_fake_slack"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, TESTS / "fakes" / "slack.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


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
