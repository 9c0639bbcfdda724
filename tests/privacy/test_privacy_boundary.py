"""One outbound boundary: what leaves the store reads redacted text only, and the original
is reachable through one role-gated, audited function."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from privdata import ANN, planted_pattern, seed_two_customers

from store import Store, audit, browse, outbound, patterns, search
from store import questions as sq

STORE_DIR = Path(__file__).resolve().parents[2] / "store"

#: store modules allowed to read the raw tables (`turns`, `email_messages`) and raw header
#: fields, and why. Everything else must go through the outbound views / pii_mask.
RAW_ALLOWED = {
    "interactions.py": "connectors write and analysis reads interactions with their turns",
    "email.py": "the e-mail connector's message ledger",
    "scores.py": "analysis writes redacted text and (keep_original = false) overwrites turns",
    "outbound.py": "the boundary itself: original_turns is the one gated way to the original",
    "privacy.py": "erasure deletes raw rows",
    "retention.py": "retention replaces / deletes raw rows",
    "demo.py": "the demo shifts turn times (no text is read)",
    "db.py": "schema and migrations",
}
_RAW_TABLE = re.compile(r"\b(FROM|JOIN)\s+(turns|email_messages)\b", re.IGNORECASE)
_RAW_FIELD = re.compile(r"(?<!pii_mask\()\bi\.(subject|customer)\b(?!_key)")


def test_no_store_query_outside_the_allow_list_reads_raw_text() -> None:
    offenders = []
    for path in sorted(STORE_DIR.glob("*.py")):
        if path.name in RAW_ALLOWED:
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if "boundary: filter only" in line:  # a WHERE condition; nothing is returned
                continue
            if _RAW_TABLE.search(line) or _RAW_FIELD.search(line):
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    # patterns.py reads the customer (not shown; repeat-contact matching) — allowed by name
    offenders = [o for o in offenders if not o.startswith("patterns.py") or "i.customer, i.customer_key" not in o]
    assert offenders == [], "read the outbound views instead:\n" + "\n".join(offenders)


def _planted_hits(payload: str) -> list[str]:
    return [k for k, v in ANN.items() if planted_pattern(v).search(payload)]


def test_every_outbound_read_returns_redacted_text_only(store: Store, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    ids = seed_two_customers(store, now)
    search.refresh_search_index(store, force=True)
    payloads: dict[str, str] = {}
    for iid in ids["ann"]:
        payloads[f"detail {iid}"] = json.dumps(browse.detail(store, iid), default=lambda o: getattr(o, "__dict__", None) or str(o))
        payloads[f"bot detail {iid}"] = json.dumps(sq.interaction_detail(store, iid), default=str)
        payloads[f"turns {iid}"] = repr(outbound.redacted_turns(store, iid))
    payloads["page"] = repr(browse.page(store))
    payloads["queue"] = repr(browse.review_queue(store))
    for q in ("card", "refund", "ann", "planted", "4111", "social"):
        payloads[f"search {q}"] = repr(search.search(store, q))
    payloads["mined"] = repr(patterns.interaction_texts(store, ids["ann"])) + repr(
        patterns.speaker_turns(store, ids["ann"])) + repr(patterns.agent_turns(store, ids["ann"]))
    payloads["facts"] = repr([f.subject for f in patterns.interaction_facts(store, ids=ids["ann"])])
    out = tmp_path / "x.csv"
    browse.export_to(store, str(out), "csv")
    payloads["export"] = out.read_text()
    leaks = {where: _planted_hits(text) for where, text in payloads.items() if _planted_hits(text)}
    assert leaks == {}
    # and the redacted text is really there (the test would pass on empty payloads otherwise)
    assert "[PII:CARD]" in payloads[f"turns {ids['ann'][0]}"] and "Refund to card [PII]" in payloads["export"]


def test_original_text_only_through_the_gate_and_audited(store: Store) -> None:
    ids = seed_two_customers(store, datetime.now(UTC))
    iid = ids["ann"][0]
    for actor, role in (("U_VIEW", "viewer"), ("U_SUP", "supervisor")):  # the role table: admins only
        with pytest.raises(outbound.OriginalAccessDenied):
            outbound.original_turns(store, iid, actor=actor, role=role)
    got = outbound.original_turns(store, iid, actor="U_ADM", role="admin")
    assert any(ANN["card"] in t.text for t in got)
    rows = audit.recent(store, action="read_original")
    assert rows[0]["actor"] == "U_ADM" and rows[0]["target"] == f"interaction:{iid}"
    assert not _planted_hits(json.dumps(rows, default=str))
    # a policy installed by the roles work replaces the default
    outbound.set_original_gate(lambda actor, role: actor == "U_DPO")
    with pytest.raises(outbound.OriginalAccessDenied):
        outbound.original_turns(store, iid, actor="U_SUP", role="supervisor")
    assert outbound.original_turns(store, iid, actor="U_DPO", role=None)


def test_the_bot_redactor_follows_the_configuration() -> None:
    from analysis import outbound as ob
    from analysis.redaction import RedactionOptions
    from bot import safety

    text = f"card {ANN['card']}, mail {ANN['email']}, phone 020 7946 0958"
    ob.configure(RedactionOptions(kinds=["EMAIL"]))
    out = safety.safe(text)
    assert ANN["email"] not in out and ANN["card"] in out  # only the configured kind
    # Without a phone cue ("phone", "reach me on": then any number is redacted) the region
    # decides whether digits are a phone number.
    bare = "mail me, 020 7946 0958 is fine"
    ob.configure(RedactionOptions(kinds=["PHONE"], phone_region="GB"))
    assert "020 7946 0958" not in safety.safe(bare)
    ob.configure(RedactionOptions(kinds=["PHONE"], phone_region="US"))
    assert "020 7946 0958" in safety.safe(bare)  # not a phone number in the configured region


def test_the_context_installs_the_configured_redactor(tmp_path: Path) -> None:
    from analysis import outbound as ob
    from convoscope.context import Context

    cfg = tmp_path / "c.toml"
    cfg.write_text('[redaction]\nkinds = ["SSN"]\nphone_region = "GB"\n')
    ctx = Context(config_path=str(cfg))
    assert ctx.config.redaction.kinds == ["SSN"]
    assert ob.current_options().kinds == ["SSN"] and ob.current_options().phone_region == "GB"
