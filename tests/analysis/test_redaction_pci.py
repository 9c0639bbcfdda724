"""PCI mode end to end: with `[redaction] pci = true` no card number or security code is stored.

Real parts: the `convoscope` CLI with a config file, the Zendesk export connector, the
.eml folder connector, the analysis job, the search index and a real DuckDB file. After
ingest + analysis every VARCHAR / JSON / VARCHAR[] column of every table is searched for
the card's digit groups (written and spoken) and the code: zero hits. The same run with
`pci = false` finds them in turns.text (the test can fail). The call path (Whisper writes
the turns and their word list) is the slow test at the end.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from convoscope.cli import main
from store import Store
from store.records import Turn, Word

REPO = Path(__file__).resolve().parents[2]
CARD = ["4539", "1488", "0343", "6467"]  # a Luhn-valid test Visa
SPOKEN = ["four five three nine", "one four eight eight", "oh three four three", "six four six seven"]
CVV = "862"
SPOKEN_CVV = "eight six two"

LEAKS = [re.compile(rf"(?<!\d){g}(?!\d)") for g in [*CARD, CVV]] + [
    re.compile(p, re.IGNORECASE) for p in [*SPOKEN, SPOKEN_CVV]
]


def _zendesk_export(path: Path) -> None:
    doc = json.loads((REPO / "samples" / "chat" / "zendesk.json").read_text())
    ticket = doc["tickets"][0]
    ticket["subject"] = f"Payment with card {' '.join(CARD)}"
    tid = str(ticket["id"])
    customer, agent = ticket["requester_id"], ticket["assignee_id"]
    base = doc["comments"][tid][0]
    lines = [
        (customer, f"I want to pay by card, it is {CARD[0]} {CARD[1]}"),
        (agent, "ok"),
        (customer, f"{CARD[2]}"),
        (agent, "mm-hmm"),
        (customer, f"{CARD[3]} and the security code is {CVV}"),
    ]
    comments = []
    for k, (author, body) in enumerate(lines):
        c = dict(base)
        c.update(id=base["id"] * 10 + k, author_id=author, body=body, plain_body=body, html_body=f"<p>{body}</p>")
        comments.append(c)
    doc["comments"][tid] = comments
    path.write_text(json.dumps(doc))


def _eml(folder: Path) -> None:
    folder.mkdir()
    (folder / "pay.eml").write_text(
        "From: Priya Nair <priya.nair@example.com>\r\n"
        "To: support@acme.example\r\n"
        f"Subject: card {''.join(CARD)}\r\n"
        "Message-ID: <pci-1@example.com>\r\n"
        "Date: Tue, 17 Nov 2026 10:00:00 +0000\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Hello,\r\nplease charge my visa {'-'.join(CARD)}, CVV {CVV}, for the renewal.\r\nPriya\r\n"
    )


def _config(tmp_path: Path, *, pci: bool) -> tuple[Path, Path]:
    export = tmp_path / "zendesk.json"
    _zendesk_export(export)
    broken = tmp_path / "broken"
    broken.mkdir()
    # not valid JSON: quarantined with an excerpt of the file, which carries the card
    (broken / "bad.json").write_text(f'{{"tickets": [ card {" ".join(CARD)} cvv {CVV}')
    _eml(tmp_path / "mail")
    db = tmp_path / "pci.duckdb"
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[store]\npath = "{db}"\n'
        '[sentiment]\nbackend = "vader"\n'
        "[analysis]\ntranscribe = false\n"
        "[topics]\ntaxonomy = []\n"
        f"[redaction]\npci = {'true' if pci else 'false'}\n"
        f'[[chat.exports]]\nvendor = "zendesk"\npath = "{export}"\nname = "pay"\n'
        f'[[chat.exports]]\nvendor = "zendesk"\npath = "{broken}"\nname = "broken"\n'
        f'[[email.local]]\nkind = "eml"\npath = "{tmp_path / "mail"}"\nname = "mail"\n'
    )
    return cfg, db


def leaks(db: Path) -> list[str]:
    """Every (table.column: value) of any text column that still holds the card or code."""
    found: list[str] = []
    with Store.open(db) as s:
        # every schema; the search index is kept as main.search_postings (terms) and friends
        cols = s.conn.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE data_type IN ('VARCHAR', 'JSON') OR data_type LIKE 'VARCHAR[]'"
        ).fetchall()
        for schema, table, col in cols:
            rows = s.conn.execute(f'SELECT CAST("{col}" AS VARCHAR) FROM "{schema}"."{table}"').fetchall()
            for (val,) in rows:
                if val and any(p.search(val) for p in LEAKS):
                    name = table if schema == "main" else f"{schema}.{table}"
                    found.append(f"{name}.{col}: {val[:200]}")
    return found


def _run(cfg: Path, db: Path) -> None:
    assert main(["--config", str(cfg), "ingest"]) == 0
    assert main(["--config", str(cfg), "analyze"]) == 0
    from store.search import refresh_search_index

    with Store.open(db) as s:
        refresh_search_index(s, force=True)


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_pci_mode_stores_no_card_number_or_code_anywhere(tmp_path: Path) -> None:
    cfg, db = _config(tmp_path, pci=True)
    _run(cfg, db)
    with Store.open(db) as s:
        kinds = {r[0] for r in s.conn.execute("SELECT channel FROM interactions").fetchall()}
        texts = [r[0] for r in s.conn.execute("SELECT text FROM turns ORDER BY interaction_id, seq").fetchall()]
        n_quarantined = s.conn.execute("SELECT count(*) FROM quarantine").fetchone()[0]
        n_mail = s.conn.execute("SELECT count(*) FROM email_messages").fetchone()[0]
        n_terms = s.conn.execute("SELECT count(*) FROM search_postings").fetchone()[0]
    assert kinds == {"chat", "email"} and n_quarantined == 1 and n_mail == 1
    assert n_terms > 0  # the search index was built, and is part of the scan below
    assert "[PII:CARD]" in "\n".join(texts) and "[PII:CVV]" in "\n".join(texts)
    assert leaks(db) == []


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_without_pci_the_original_text_keeps_the_card(tmp_path: Path) -> None:
    """The control: the same data with pci = false does hold the digits (the scan works)."""
    cfg, db = _config(tmp_path, pci=False)
    _run(cfg, db)
    found = leaks(db)
    assert any(f.startswith("turns.text") for f in found)
    assert any(f.startswith("email_messages.text") for f in found)
    assert any(f.startswith("quarantine.excerpt") for f in found)
    # redacted copies never hold it, with or without PCI mode
    assert not any(f.startswith(("turn_scores.redacted_text", "search_docs.body")) for f in found)


def test_asr_turns_and_word_lists_are_guarded_before_they_are_written(tmp_path: Path) -> None:
    """The ASR job writes a call's turns with `replace_turns`: the guard redacts the text and
    the word list (times kept) conversation-wide, before the INSERT."""
    from analysis.redaction import PciGuard, RedactionOptions
    from store import interactions as istore
    from store.records import Interaction, content_hash

    def turn(seq: int, speaker: str, words: list[str], t0: float) -> Turn:
        ws = [Word(w, t0 + 0.4 * k, t0 + 0.4 * k + 0.3) for k, w in enumerate(words)]
        return Turn(seq, speaker, " ".join(words), start=t0, end=ws[-1].end, words=ws)

    db = tmp_path / "call.duckdb"
    with Store.open(db) as s:
        s.text_guard = PciGuard(RedactionOptions(pci=True))
        (iid,) = istore.upsert(s, [Interaction("call", "drop", "c1", content_hash("c1"))]).ids
        istore.replace_turns(s, iid, [
            turn(0, "customer", ["my", "card", "is", *SPOKEN[0].split()], 0.0),
            turn(1, "agent", ["mm-hmm"], 3.0),
            turn(2, "customer", [*SPOKEN[1].split(), *SPOKEN[2].split()], 4.0),
            turn(3, "agent", ["yes"], 8.0),
            turn(4, "customer", [*SPOKEN[3].split(), "security", "code", *SPOKEN_CVV.split()], 9.0),
        ])  # fmt: skip
        rows = s.conn.execute("SELECT text, words FROM turns WHERE interaction_id = ? ORDER BY seq", [iid]).fetchall()
    assert [r[0] for r in rows] == ["my card is [PII:CARD]", "mm-hmm", "[PII:CARD]", "yes",
                                    "[PII:CARD] security code [PII:CVV]"]  # fmt: skip
    words = json.loads(rows[4][1])
    assert [w[0] for w in words] == ["[PII:CARD]"] * 4 + ["security", "code"] + ["[PII:CVV]"] * 3
    assert words[0][1] == 9.0  # timings kept: the audio copy can still be silenced
    assert leaks(db) == []


@pytest.mark.slow
@pytest.mark.espeak
def test_pci_mode_on_a_real_call_through_whisper(tmp_path: Path, synth_call) -> None:  # type: ignore[no-untyped-def]
    audio = synth_call("pay.opus", [
        ("agent", "Can I take the card number please?"),
        ("customer", "Sure. It is four five three nine, one four eight eight."),
        ("agent", "Okay."),
        ("customer", "Zero three four three, six four six seven. The security code is eight six two."),
    ])  # fmt: skip
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(audio, drop / "pay.opus")
    cfg, db = _config(tmp_path, pci=True)
    cfg.write_text(
        cfg.read_text().replace("transcribe = false", "transcribe = true")
        + f'[dropfolder]\npath = "{drop}"\nstable_polls = 0\nsettle_seconds = 0\n'
    )
    _run(cfg, db)
    with Store.open(db) as s:
        call_text = " ".join(r[0] for r in s.conn.execute(
            "SELECT t.text FROM turns t JOIN interactions i ON i.id = t.interaction_id WHERE i.channel = 'call' ORDER BY seq"
        ).fetchall())  # fmt: skip
    assert "[PII:CARD]" in call_text, call_text
    assert leaks(db) == [], call_text
