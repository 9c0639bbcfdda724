"""Local archives: mbox (incremental by offset), Maildir, a folder of .eml, the demo samples."""

from __future__ import annotations

import mailbox
import shutil
from pathlib import Path

import pytest
from mailtesting import SETTINGS, make_mail, real_world_corpus

from connectors.email import (
    EmailOptions,
    EmlFolderSource,
    ImapSource,
    LocalMailOptions,
    MailArchiveError,
    MaildirSource,
    MailSettings,
    MboxSource,
    build_email_sources,
)
from connectors.email.options import ImapAccountOptions
from store import email as email_store
from store import quarantine, sync
from store.db import Store

SAMPLES = Path(__file__).resolve().parents[3] / "samples" / "email"


def _mbox_append(path: Path, *raws: bytes) -> None:
    box = mailbox.mbox(str(path))
    box.lock()
    try:
        for raw in raws:
            box.add(raw)
        box.flush()
    finally:
        box.unlock()
        box.close()


def _interactions(store: Store) -> int:
    row = store.conn.execute("SELECT count(*) FROM interactions").fetchone()
    return int(row[0]) if row else 0


def test_mbox_is_read_incrementally_from_the_saved_offset(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "support.mbox"
    _mbox_append(path, *(make_mail(i) for i in range(5)))
    src = MboxSource(path, settings=SETTINGS)
    assert src.name == "mbox:support"
    assert src.sync(store).inserted == 5
    offset = (sync.get_cursor(store, src.name) or {})["offset"]
    assert offset == path.stat().st_size
    _mbox_append(
        path,
        make_mail(10, sender="dana@acme.test", to="customer2@example.org", reply_to="m2@test",
                  refs=["m2@test"]),
        make_mail(11),
    )  # fmt: skip
    report = src.sync(store)
    assert (report.inserted, report.updated, report.unchanged) == (1, 1, 0)
    assert email_store.count_messages(store, src.name) == 7
    # raw_ref points at the message's byte offset in the file
    ref = store.conn.execute(
        "SELECT raw_ref FROM email_messages WHERE message_id = 'm10@test'"
    ).fetchone()
    assert ref is not None and ref[0] == f"{path}@{offset}"
    with path.open("rb") as fh:
        fh.seek(offset)
        assert fh.readline().startswith(b"From ")


def test_rewritten_mbox_is_reread_without_duplicates(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "archive.mbox"
    _mbox_append(path, make_mail(1), make_mail(2))
    src = MboxSource(path, "archive", settings=SETTINGS)
    src.sync(store)
    path.unlink()
    _mbox_append(path, make_mail(0), make_mail(1), make_mail(2))  # rebuilt, new first message
    report = src.sync(store)
    assert report.inserted == 1
    assert email_store.count_messages(store, src.name) == 3


def test_mbox_date_falls_back_to_the_from_line(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "nodate.mbox"
    raw = real_world_corpus()["no_date"]
    path.write_bytes(b"From nodate@example.org Thu Nov 19 10:11:12 2026\n" + raw + b"\n")
    MboxSource(path, settings=SETTINGS).sync(store)
    row = store.conn.execute("SELECT sent_at FROM email_messages").fetchone()
    assert row is not None and row[0].isoformat().startswith("2026-11-19T10:11:12")


def test_maildir_moves_between_new_and_cur_are_not_new_messages(tmp_path: Path, store: Store) -> None:
    box = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    keys = [box.add(make_mail(i)) for i in range(4)]
    src = MaildirSource(tmp_path / "Maildir", "support", settings=SETTINGS)
    assert src.sync(store).inserted == 4
    msg = box[keys[0]]
    msg.set_subdir("cur")
    msg.add_flag("S")  # read: the file moves to cur/ and gets an info suffix
    box[keys[0]] = msg
    box.add(make_mail(9))
    report = src.sync(store)
    assert (report.inserted, report.updated) == (1, 0)
    assert email_store.count_messages(store, src.name) == 5


def test_eml_folder_with_real_world_mail_loses_nothing(tmp_path: Path, store: Store) -> None:
    folder = tmp_path / "eml"
    (folder / "sub").mkdir(parents=True)
    corpus = real_world_corpus()
    for i, (name, raw) in enumerate(corpus.items()):
        (folder / ("sub" if i % 2 else "") / f"{name}.eml").write_bytes(raw)
    src = EmlFolderSource(folder, settings=SETTINGS)
    report = src.sync(store)
    bad = sorted(n for n in corpus if n.startswith("bad_"))
    assert report.quarantined == len(bad)
    items = quarantine.list_items(store, src.name)
    assert sorted(Path(i.raw_ref or "").stem for i in items) == bad
    assert email_store.count_messages(store, src.name) + len(items) == len(corpus)
    again = src.sync(store)  # neither re-read nor re-quarantined
    assert (again.inserted, again.updated, again.quarantined) == (0, 0, 0)
    assert all(i.attempts == 1 for i in quarantine.list_items(store, src.name))


def test_missing_archives_raise_clear_errors(tmp_path: Path, store: Store) -> None:
    with pytest.raises(MailArchiveError, match="does not exist"):
        MboxSource(tmp_path / "nope.mbox").sync(store)
    (tmp_path / "plain").mkdir()
    with pytest.raises(MailArchiveError, match="not a Maildir"):
        MaildirSource(tmp_path / "plain").sync(store)


def test_demo_samples_make_five_threads(tmp_path: Path, store: Store) -> None:
    shutil.copytree(SAMPLES, tmp_path / "samples")
    settings = MailSettings(agent_domains=("acme.example",))
    report = EmlFolderSource(tmp_path / "samples", "samples", settings=settings).sync(store)
    assert (report.inserted, report.quarantined) == (5, 0)
    rows = dict(
        store.conn.execute(
            "SELECT customer_key, count(*) FROM interactions i JOIN turns t ON t.interaction_id = i.id "
            "GROUP BY customer_key"
        ).fetchall()
    )
    assert rows == {
        "tom.becker@example.com": 3,
        "aisha.khan@khan-logistics.example": 2,
        "victor.hale@example.org": 3,
        "nora.lind@example.se": 2,
        "sam.rivera@example.com": 2,
    }
    # the repeat-refund customer signs with the phone number calls 01 and 07 came from
    meta = store.conn.execute(
        "SELECT metadata->'customer_phones' FROM interactions WHERE customer_key = 'sam.rivera@example.com'"
    ).fetchone()
    assert meta is not None and meta[0] == '["+14155550134"]'


def test_build_email_sources_from_options(tmp_path: Path) -> None:
    opts = EmailOptions(
        agent_domains=["ACME.test"],
        imap=[ImapAccountOptions(name="support", host="imap.acme.test", username="u",
                                 password="from-env")],
        local=[LocalMailOptions(kind="mbox", path=str(tmp_path / "old.mbox")),
               LocalMailOptions(kind="maildir", path=str(tmp_path / "md"), name="md"),
               LocalMailOptions(kind="eml", path=str(tmp_path))],
    )
    sources = build_email_sources(opts)
    assert [s.name for s in sources] == ["imap:support", "mbox:old", "maildir:md",
                                         f"eml:{tmp_path.name}"]  # fmt: skip
    imap = sources[0]
    assert isinstance(imap, ImapSource) and imap.account.port == 993
    assert imap.settings.speaker("x@acme.test") == "agent"
    assert "from-env" not in repr(imap)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"host": "mail.example.com", "security": "plain"}, "only allowed to a loopback host"),
        ({"batch_size": 50}, "batch_size must be 200..500"),
        ({"name": "bad name"}, "letters, digits"),
        ({"ca_file": "/nonexistent/ca.pem"}, "does not exist"),
    ],
)
def test_account_options_are_validated(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"name": "a", "host": "imap.example.com", "username": "u"}
    with pytest.raises(ValueError, match=message):
        ImapAccountOptions(**{**base, **kwargs})  # type: ignore[arg-type]


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_plain_to_loopback_is_allowed_and_config_validates_the_section() -> None:
    from convoscope.config import ConfigError, from_dict

    cfg = from_dict(
        {"email": {"agent_domains": ["acme.test"],
                   "imap": [{"name": "local", "host": "127.0.0.1", "security": "plain",
                             "username": "u", "password": "${IMAP_PW}"}]}},
        env={"IMAP_PW": "pw"},
    )  # fmt: skip
    assert cfg.email.imap[0].password == "pw" and cfg.email.imap[0].port == 143
    with pytest.raises(ConfigError, match="unknown key"):
        from_dict({"email": {"imap": [{"name": "a", "host": "h", "username": "u", "pasword": "x"}]}})
    with pytest.raises(ConfigError, match="IMAP_PW"):
        from_dict({"email": {"imap": [{"name": "a", "host": "h", "username": "u",
                                       "password": "${IMAP_PW}"}]}}, env={})  # fmt: skip
