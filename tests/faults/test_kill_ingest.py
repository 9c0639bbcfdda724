"""`convoscope ingest` SIGKILLed at random moments, for every kind of source, then re-run
to completion: every item is stored exactly once or quarantined with a reason, and the
file opens with a plain `duckdb.connect` after every kill (no doctor needed).

The first test is the issue's recipe: a fresh config with a Maildir source, no `init`,
`ingest` killed during its very first run on a new file (when the migrations are written).
"""

from __future__ import annotations

import json
import math
import struct
import wave
from pathlib import Path

import pytest
from faultkit import (
    cli,
    cli_env,
    default_kills,
    kill_loop,
    kill_when,
    opens_without_help,
    tally_items,
    write_maildir,
    write_mbox,
)
from mailtesting import USER, make_mail

from store.db import wal_path


def _email_tally(db: Path, source: str, ids: set[str]):  # type: ignore[no-untyped-def]
    # Every Message-ID must be stored once (email_messages) and belong to one interaction.
    t = tally_items(db, source, ids, key_sql="trim(message_id, '<>')", table="email_messages")
    threads = tally_items(db, source, set(), key_sql="external_id")
    t.duplicated += threads.duplicated
    return t


def _check_opens(db: Path) -> None:
    ok, err = opens_without_help(db)
    assert ok, f"{db} does not open after a kill: {err}"


def _maildir_config(tmp_path: Path, n: int) -> tuple[Path, Path, set[str]]:
    ids = write_maildir(tmp_path / "mail", n)
    cfg = tmp_path / "convoscope.toml"
    cfg.write_text('[store]\npath = "kill.duckdb"\n[email]\nagent_domains = ["acme.test"]\n'
                   '[[email.local]]\nkind = "maildir"\npath = "mail"\n')
    return cfg, tmp_path / "kill.duckdb", ids


def _wipe(db: Path) -> None:
    for f in db.parent.glob(db.name + "*"):
        if f.is_file():
            f.unlink()


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_kill_during_the_first_run_on_a_fresh_file(tmp_path: Path) -> None:
    """Issue 10's report, as a test: kills while the new file gets its schema, and at
    random moments of the first run; after each, every later command works."""
    cfg, db, ids = _maildir_config(tmp_path, 300)
    migrating = db.with_name(db.name + ".migrating")
    moments = {
        "the migration copy appears": migrating.exists,
        "the schema's WAL holds DDL": lambda: any(
            wal_path(f).exists() and wal_path(f).stat().st_size > 8000 for f in (db, migrating)),
        "the database file appears": db.exists,
        "the first data reaches the WAL": lambda: wal_path(db).exists() and wal_path(db).stat().st_size > 0,
    }
    env = cli_env()
    for what, cond in moments.items():
        _wipe(db)
        assert kill_when(cli(cfg, "ingest"), cond, env=env, cwd=tmp_path), f"never saw: {what}"
        if db.exists():
            _check_opens(db)
        run = kill_loop(cli(cfg, "ingest"), seed=1, kills=0, window=(0, 0), env=env, cwd=tmp_path)
        assert run.final_rc == 0, run.final_output
        t = _email_tally(db, "maildir:%", ids)
        assert (t.lost, t.duplicated, t.problems) == (0, 0, []), (what, t)
        assert t.stored == 300, (what, t)
    # Seeded random kills, each on a brand-new file (the issue's `kill -9` two seconds in).
    for seed in range(default_kills(2)):
        _wipe(db)
        run = kill_loop(cli(cfg, "ingest"), seed=seed, kills=1, window=(0.4, 2.5), env=env,
                        cwd=tmp_path, finish=False)
        if db.exists():
            _check_opens(db)
        for later in (["ingest"], ["doctor"]):
            done = kill_loop(cli(cfg, *later), seed=seed, kills=0, window=(0, 0), env=env, cwd=tmp_path)
            assert done.final_rc == 0, done.final_output
        t = _email_tally(db, "maildir:%", ids)
        assert (t.stored, t.lost, t.duplicated) == (300, 0, 0), (seed, run.delays, t)


@pytest.mark.slow
def test_kill_maildir_and_mbox_ingest(tmp_path: Path) -> None:
    ids = write_maildir(tmp_path / "mail", 400)
    mids = write_mbox(tmp_path / "archive.mbox", 400, start=1000)
    cfg = tmp_path / "convoscope.toml"
    cfg.write_text('[store]\npath = "kill.duckdb"\n[email]\nagent_domains = ["acme.test"]\n'
                   '[[email.local]]\nkind = "maildir"\npath = "mail"\n'
                   '[[email.local]]\nkind = "mbox"\npath = "archive.mbox"\n')
    db = tmp_path / "kill.duckdb"
    added: list[set[str]] = []

    def more(i: int) -> None:
        # New mail arrives between runs, as it would in production.
        if db.exists():
            _check_opens(db)
        added.append(write_maildir(tmp_path / "mail", 20, start=5000 + 20 * i))

    kill_loop(cli(cfg, "ingest"), seed=11, kills=default_kills(2), window=(0.5, 4.0),
              cwd=tmp_path, between=more)
    _check_opens(db)
    t = _email_tally(db, "maildir:%", ids.union(*added))
    assert (t.lost, t.duplicated, t.problems) == (0, 0, []), t
    m = _email_tally(db, "mbox:%", mids)
    assert (m.stored, m.lost, m.duplicated, m.problems) == (400, 0, 0, []), m


@pytest.mark.slow
@pytest.mark.dovecot
def test_kill_imap_ingest(tmp_path: Path, dovecot) -> None:  # type: ignore[no-untyped-def]
    dovecot.append("INBOX", [make_mail(i) for i in range(800)])
    cfg = tmp_path / "convoscope.toml"
    cfg.write_text(
        '[store]\npath = "kill.duckdb"\n[email]\nagent_domains = ["acme.test"]\n'
        f'[[email.imap]]\nname = "support"\nhost = "127.0.0.1"\nport = {dovecot.port}\n'
        f'security = "plain"\nusername = "{USER}"\npassword = "${{IMAP_PW}}"\nbatch_size = 200\n'
    )
    from mailtesting import PASSWORD

    db = tmp_path / "kill.duckdb"
    run = kill_loop(cli(cfg, "ingest"), seed=21, kills=default_kills(2), window=(0.5, 5.0),
                    env=cli_env(IMAP_PW=PASSWORD), cwd=tmp_path,
                    between=lambda i: _check_opens(db) if db.exists() else None)
    assert run.kills >= 1
    t = _email_tally(db, "imap:%", {f"m{i}@test" for i in range(800)})
    assert (t.stored, t.lost, t.duplicated, t.problems) == (800, 0, 0, []), t


@pytest.mark.slow
def test_kill_chat_vendor_ingest(tmp_path: Path) -> None:
    from vendors import FrontFake, IntercomFake, ZendeskFake

    with ZendeskFake() as zd, IntercomFake() as ic, FrontFake() as fr:
        zd.populate(120)
        ic.populate(120)
        fr.populate(120)
        cfg = tmp_path / "convoscope.toml"
        cfg.write_text(
            '[store]\npath = "kill.duckdb"\n'
            f'[[chat.zendesk]]\nname = "zd"\nbase_url = "{zd.url}"\nemail = "bot@acme.example"\n'
            'api_token = "${ZD_TOKEN}"\npage_size = 25\n'
            f'[[chat.intercom]]\nname = "ic"\nbase_url = "{ic.url}"\naccess_token = "${{IC_TOKEN}}"\n'
            f'[[chat.front]]\nname = "fr"\nbase_url = "{fr.url}"\napi_token = "${{FR_TOKEN}}"\n'
        )
        env = cli_env(ZD_TOKEN="zd-token", IC_TOKEN=ic.token, FR_TOKEN=fr.token)
        db = tmp_path / "kill.duckdb"
        kill_loop(cli(cfg, "ingest"), seed=31, kills=default_kills(2), window=(0.5, 5.0), env=env,
                  cwd=tmp_path, between=lambda i: _check_opens(db) if db.exists() else None)
    _check_opens(db)
    for src, expected in (("zendesk:zd", {str(i) for i in range(1, 121)}),
                          ("intercom:ic", {str(1000 + i) for i in range(1, 121)}),
                          ("front:fr", {f"cnv_{i}" for i in range(1, 121)})):
        t = tally_items(db, src, expected)
        assert (t.stored, t.lost, t.duplicated, t.problems) == (120, 0, 0, []), (src, t)


def _tone(path: Path, freq: float, seconds: float = 1.0, rate: int = 8000) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * freq * i / rate)))
                          for i in range(int(seconds * rate)))
        w.writeframes(frames)


def write_calls(folder: Path, n: int, freq0: float = 200) -> tuple[set[str], set[str]]:
    """`n` distinct short WAVs (+ sidecars) and two files that are not audio. Returns
    the sha256 (the interaction's external_id, the quarantine's item_key) of the good
    files and of the bad ones."""
    import hashlib

    folder.mkdir(parents=True, exist_ok=True)
    shas: set[str] = set()
    for i in range(n):
        p = folder / f"call_{i:04d}.wav"
        _tone(p, freq0 + 7 * i, seconds=0.5 + (i % 3) * 0.25)
        (folder / f"call_{i:04d}.json").write_text(json.dumps({"agent": f"a{i % 5}", "queue": "billing"}))
        shas.add(hashlib.sha256(p.read_bytes()).hexdigest())
    bad: set[str] = set()
    for name in ("broken_1.wav", "broken_2.mp3"):
        (folder / name).write_bytes(f"{name} is not audio at all ".encode() * 40)
        bad.add(hashlib.sha256((folder / name).read_bytes()).hexdigest())
    return shas, bad


@pytest.mark.slow
def test_kill_dropfolder_ingest(tmp_path: Path) -> None:
    shas, bad = write_calls(tmp_path / "drop", 150)
    cfg = tmp_path / "convoscope.toml"
    cfg.write_text('[store]\npath = "kill.duckdb"\n[dropfolder]\npath = "drop"\n'
                   'settle_seconds = 0\nbatch_size = 10\nmax_attempts = 1\n')
    db = tmp_path / "kill.duckdb"
    kill_loop(cli(cfg, "ingest"), seed=41, kills=default_kills(2), window=(0.5, 6.0), cwd=tmp_path,
              ok_codes=(0, 1), between=lambda i: _check_opens(db) if db.exists() else None)
    _check_opens(db)
    t = tally_items(db, "dropfolder", shas | bad)
    assert (t.stored, t.quarantined, t.lost, t.duplicated, t.problems) == (150, 2, 0, 0, []), t
