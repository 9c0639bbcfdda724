"""Fixtures for the email connector: a real DuckDB file, message builders, a real Dovecot.

The Dovecot fixture runs Debian's `dovecot` binary with its own configuration on 127.0.0.1
and a free port: passwd-file auth, a Maildir, STARTTLS with a self-signed certificate for
IP 127.0.0.1. As root, Dovecot insists on an unprivileged login user (`dovenull`) and a
non-root mail user (`dovecot`), so its directory lives in a world-traversable temp dir
(pytest's tmp_path is private to root) that the fixture removes afterwards. The server runs
in its own process group, stopped at teardown.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mailtesting import dovecot, tls_cert  # noqa: F401  (fixtures)

from store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "test.duckdb")
    yield s
    s.close()

