"""Fixtures for the chat connector tests: a fresh store, the local vendor fakes, and
HTTP options whose sleeps are recorded instead of slept."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The reusable vendor fakes live in tests/fakes (also used by bench/ingest_chat.py).
# Appended, not prepended: tests/ itself must not shadow the real packages.
FAKES_DIR = str(Path(__file__).resolve().parents[2] / "fakes")
if FAKES_DIR not in sys.path:
    sys.path.append(FAKES_DIR)

from vendors import FrontFake, IntercomFake, SleepRecorder, ZendeskFake  # noqa: E402

from store import Store  # noqa: E402


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "chat.duckdb")
    yield s
    s.close()


@pytest.fixture()
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture()
def zendesk() -> Iterator[ZendeskFake]:
    with ZendeskFake() as fake:
        yield fake


@pytest.fixture()
def intercom() -> Iterator[IntercomFake]:
    with IntercomFake() as fake:
        yield fake


@pytest.fixture()
def front() -> Iterator[FrontFake]:
    with FrontFake() as fake:
        yield fake
