"""Disk full and read-only media: the command stops with one clear line, no cursor moves
past data that was not written, and the run after space is freed completes with nothing
lost and nothing twice.

The failures are the kernel's, not mocks: a per-process file size limit (RLIMIT_FSIZE,
works for any user: writes past it fail with EFBIG, "File too large"), and, where the
tests run as root, a real 2 MB tmpfs that fills up (ENOSPC) and a read-only remount.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from faultkit import (
    cli,
    cli_env,
    opens_without_help,
    tally_items,
    write_maildir,
    write_mbox,
)

from store import Store


def _limit_file_size(max_bytes: int):  # type: ignore[no-untyped-def]
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return apply


def _config(tmp_path: Path, db: Path) -> tuple[Path, set[str], set[str]]:
    ids = write_maildir(tmp_path / "mail", 800)
    mids = write_mbox(tmp_path / "archive.mbox", 400, start=5000)
    cfg = tmp_path / "convoscope.toml"
    cfg.write_text(f'[store]\npath = "{db}"\n[email]\nagent_domains = ["acme.test"]\n'
                   '[[email.local]]\nkind = "maildir"\npath = "mail"\n'
                   '[[email.local]]\nkind = "mbox"\npath = "archive.mbox"\n')
    return cfg, ids, mids


def _run(cfg: Path, *args: str, preexec=None) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run(cli(cfg, *args), env=cli_env(), cwd=cfg.parent, capture_output=True,
                          text=True, timeout=300, preexec_fn=preexec)


def _nothing_lost(db: Path, ids: set[str], mids: set[str]) -> None:
    ok, err = opens_without_help(db)
    assert ok, err
    for source, expected in (("maildir:%", ids), ("mbox:%", mids)):
        t = tally_items(db, source, expected, key_sql="trim(message_id, '<>')", table="email_messages")
        assert (t.stored, t.lost, t.duplicated, t.problems) == (len(expected), 0, 0, []), (source, t)


def _assert_clear_stop(done: subprocess.CompletedProcess[str], db: Path, words: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("convoscope:")]
    assert len(lines) == 1 and str(db) in lines[0] and words in lines[0], done.stderr


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_file_size_limit_stops_ingest_and_the_next_run_completes(tmp_path: Path) -> None:
    db = tmp_path / "full.duckdb"
    cfg, ids, mids = _config(tmp_path, db)
    # The limit follows the migrated file's size (it grows with every migration) and leaves
    # 20 KB: the file's free blocks already absorb a good part of the mail (+100 KB let all
    # 1,200 messages through), so the margin must be small for ingest to hit the limit.
    Store.open(db).close()
    limit = db.stat().st_size + 20_000
    first = _run(cfg, "ingest", preexec=_limit_file_size(limit))
    _assert_clear_stop(first, db, "is full")
    assert "free some space" in first.stderr
    again = _run(cfg, "ingest", preexec=_limit_file_size(limit))  # still full: same answer
    _assert_clear_stop(again, db, "is full")
    ok, err = opens_without_help(db)
    assert ok, err
    done = _run(cfg, "ingest")  # space freed
    assert done.returncode == 0, done.stderr
    _nothing_lost(db, ids, mids)


@pytest.fixture
def small_fs() -> Iterator[Path]:
    """A real 2 MB tmpfs (root only: mounting needs CAP_SYS_ADMIN)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root; the RLIMIT_FSIZE test covers "
                    "the same path for other users")
    mnt = Path(f"/tmp/convoscope-smallfs-{uuid.uuid4().hex[:8]}")
    mnt.mkdir()
    got = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
                         capture_output=True, text=True)
    if got.returncode != 0:
        mnt.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {got.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)
        mnt.rmdir()


def _remount(mnt: Path, opts: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{opts}", str(mnt)], check=True)


@pytest.mark.slow
def test_a_full_filesystem_stops_ingest_and_the_next_run_completes(tmp_path: Path, small_fs: Path) -> None:
    db = small_fs / "full.duckdb"
    cfg, ids, mids = _config(tmp_path, db)
    first = _run(cfg, "ingest")
    _assert_clear_stop(first, db, "is full")
    assert "No space left on device" in first.stderr
    _remount(small_fs, "size=64m")  # space freed
    done = _run(cfg, "ingest")
    assert done.returncode == 0, done.stderr
    _nothing_lost(db, ids, mids)


@pytest.mark.slow
def test_read_only_media(tmp_path: Path, small_fs: Path) -> None:
    _remount(small_fs, "size=64m")  # room enough: this test is about read-only media
    db = small_fs / "ro.duckdb"
    cfg, ids, mids = _config(tmp_path, db)
    write_first = _run(cfg, "ingest", "--source", "maildir")  # half the sources, then read-only
    assert write_first.returncode == 0, write_first.stderr
    _remount(small_fs, "ro")
    try:
        for cmd in (["ingest"], ["analyze"]):
            done = _run(cfg, *cmd)
            _assert_clear_stop(done, db, "Read-only file system")
    finally:
        _remount(small_fs, "rw,size=64m")  # writable again, with room
    done = _run(cfg, "ingest")
    assert done.returncode == 0, done.stderr
    _nothing_lost(db, ids, mids)


@pytest.mark.slow
def test_a_full_disk_during_analysis_marks_nothing_failed(tmp_path: Path) -> None:
    """Analysis isolates per-interaction errors (a bad row is marked failed and retried
    with backoff); a full disk is not such an error: it stops the run, marks nothing, and
    the next run analyses everything."""
    import duckdb

    db = tmp_path / "an.duckdb"
    cfg = tmp_path / "convoscope.toml"
    cfg.write_text(f'[store]\npath = "{db}"\n[sentiment]\nbackend = "vader"\n'
                   f'[[chat.exports]]\nvendor = "zendesk"\n'
                   f'path = "{Path(__file__).resolve().parents[2] / "samples" / "chat" / "zendesk.json"}"\n'
                   'name = "samples"\n')
    assert _run(cfg, "ingest").returncode == 0
    full = _run(cfg, "analyze", preexec=_limit_file_size(8192))  # the WAL cannot take the batch
    _assert_clear_stop(full, db, "is full")
    con = duckdb.connect(str(db), read_only=True)
    statuses = dict(con.execute("SELECT status, count(*) FROM interactions GROUP BY 1").fetchall())
    con.close()
    assert set(statuses) == {"new"}, statuses  # nothing marked failed, nothing half-written
    done = _run(cfg, "analyze")
    assert done.returncode == 0, done.stderr
    con = duckdb.connect(str(db), read_only=True)
    statuses = dict(con.execute("SELECT status, count(*) FROM interactions GROUP BY 1").fetchall())
    con.close()
    assert set(statuses) == {"analysed"}, statuses
