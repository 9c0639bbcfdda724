"""The review state machine, the optimistic check, contests, API users and the role table."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store import Store, audit, reviews, users
from store import flags as store_flags
from store import interactions as store_interactions
from store.permissions import (
    ACTIONS,
    TABLE,
    Forbidden,
    Identity,
    allowed,
    markdown_table,
    require,
    shape,
)
from store.records import Flag, Interaction, Turn, content_hash

ROOT = Path(__file__).resolve().parents[2]
SUP = Identity("slack:U_SUP", "supervisor")
SUP2 = Identity("api:bo", "supervisor")


@pytest.fixture
def store(store_target) -> Store:  # type: ignore[no-untyped-def]
    s = Store.open(store_target("r"))
    yield s  # type: ignore[misc]
    s.close()


def _flagged(store: Store, agent: str = "Kim Lee", ext: str = "x1") -> tuple[int, int]:
    it = Interaction(channel="call", source="t", external_id=ext, content_hash=content_hash(ext),
                     started_at=datetime(2026, 3, 2, 10, tzinfo=UTC), agent=agent, status="analysed",
                     turns=[Turn(seq=0, speaker="agent", text="hello")])  # fmt: skip
    store_interactions.upsert(store, [it])
    assert it.id is not None
    (fid,) = store_flags.replace_for_interaction(
        store, it.id, [Flag(interaction_id=it.id, kind="compliance_missing_disclosure", severity=3,
                            evidence=[{"seq": 0}])])  # fmt: skip
    return it.id, fid


def test_state_machine_and_audit(store: Store) -> None:
    _iid, fid = _flagged(store)
    st = reviews.state(store, fid)
    assert (st.review_status, st.review_rev) == ("open", 0)
    with pytest.raises(reviews.ReviewError, match="needs a reason"):
        reviews.review(store, fid, "dismiss", SUP, "  ", expected_rev=0)
    st = reviews.review(store, fid, "dismiss", SUP, "read at 2:10", expected_rev=0)
    assert (st.review_status, st.review_rev, st.reviewer, st.review_reason) == (
        "dismissed", 1, "slack:U_SUP", "read at 2:10")
    # a verdict must be reopened before it is changed
    with pytest.raises(reviews.ReviewError, match="reopen it first"):
        reviews.review(store, fid, "confirm", SUP, expected_rev=1)
    st = reviews.review(store, fid, "reopen", SUP2, expected_rev=1)
    assert (st.review_status, st.review_rev, st.review_reason) == ("open", 2, None)
    st = reviews.review(store, fid, "confirm", SUP2, expected_rev=2)
    assert st.review_status == "confirmed"
    trail = reviews.history(store, fid)
    assert [h["action"] for h in trail] == ["review.dismissed", "review.reopen", "review.confirmed"]
    assert [h["actor"] for h in trail] == ["slack:U_SUP", "api:bo", "api:bo"]
    assert trail[0]["detail"]["reason"] == "read at 2:10" and trail[0]["detail"]["role"] == "supervisor"


def test_stale_review_is_refused_with_the_current_state(store: Store) -> None:
    _iid, fid = _flagged(store)
    seen = reviews.state(store, fid).review_rev  # two supervisors open the same flag
    reviews.review(store, fid, "dismiss", SUP, "duplicate", expected_rev=seen)
    with pytest.raises(reviews.StaleReview) as err:
        reviews.review(store, fid, "confirm", SUP2, expected_rev=seen)
    assert err.value.current.review_status == "dismissed" and err.value.current.reviewer == "slack:U_SUP"
    assert "dismissed by slack:U_SUP (duplicate)" in str(err.value)
    # the refused review changed nothing and wrote nothing
    assert reviews.state(store, fid).review_status == "dismissed"
    assert len(reviews.history(store, fid)) == 1
    # ABA: dismissed and reopened again is still not the state the second reviewer saw
    reviews.review(store, fid, "reopen", SUP, expected_rev=1)
    with pytest.raises(reviews.StaleReview):
        reviews.review(store, fid, "confirm", SUP2, expected_rev=seen)
    with pytest.raises(reviews.StaleReview):
        reviews.review(store, fid, "confirm", SUP2, expected_rev=None, expected_status="dismissed")


def test_only_reviewing_roles_review(store: Store) -> None:
    _iid, fid = _flagged(store)
    for role in ("analyst", "viewer", "agent"):
        with pytest.raises(Forbidden, match="may not review"):
            reviews.review(store, fid, "confirm", Identity(f"api:{role}", role, "Kim Lee"), expected_rev=0)
    assert reviews.state(store, fid).review_status == "open"
    assert reviews.review(store, fid, "confirm", Identity("api:root", "admin"), expected_rev=0).review_status == "confirmed"


def test_agents_contest_only_their_own_flags(store: Store) -> None:
    _iid, fid = _flagged(store, agent="Kim Lee")
    _iid2, other = _flagged(store, agent="Sam Roe", ext="x2")
    kim = Identity("slack:U_KIM", "agent", "Kim Lee")
    reviews.review(store, fid, "confirm", SUP, expected_rev=0)
    with pytest.raises(KeyError, match="on your interactions"):
        reviews.contest(store, other, kim, "not me")
    with pytest.raises(KeyError, match="on your interactions"):
        reviews.contest(store, 999_999, kim, "no such flag")  # same answer: nothing leaks
    with pytest.raises(reviews.ReviewError, match="needs a reason"):
        reviews.contest(store, fid, kim, "")
    with pytest.raises(Forbidden):
        reviews.contest(store, fid, SUP, "supervisors review, they do not contest")
    st = reviews.contest(store, fid, kim, "I read the disclosure at 2:10")
    assert st.contested and st.review_status == "open" and st.contest_reason == "I read the disclosure at 2:10"
    q = reviews.queue(store)
    assert q[0].flag_id == fid and q[0].contested  # contested first
    # a verdict settles the contest
    st = reviews.review(store, fid, "dismiss", SUP, "agent is right", expected_rev=st.review_rev)
    assert not st.contested
    assert audit.recent(store, action="review.contest")[0]["actor"] == "slack:U_KIM"


def test_api_users_tokens_are_hashed_shown_once_and_revocable(store: Store) -> None:
    _user, token = users.add(store, "ana", "supervisor")
    assert re.fullmatch(r"cvs_[0-9a-f]{8}_[\w-]{20,}", token)
    raw = store.cursor().execute("SELECT token_hash FROM api_users WHERE name = 'ana'").fetchone()[0]
    assert raw.startswith("sha256:") and token not in raw
    assert users.authenticate(store, token) == Identity("api:ana", "supervisor")
    assert users.authenticate(store, token[:-1] + ("x" if token[-1] != "x" else "y")) is None
    assert users.authenticate(store, "cvs_nope") is None
    with pytest.raises(ValueError, match="exists"):
        users.add(store, "ana", "viewer")
    with pytest.raises(ValueError, match="--agent"):
        users.add(store, "kim", "agent")
    with pytest.raises(ValueError, match="role must be one of"):
        users.add(store, "x", "root")
    new = users.new_token(store, "ana")
    assert users.authenticate(store, token) is None and users.authenticate(store, new) is not None
    users.revoke(store, "ana")
    assert users.authenticate(store, new) is None
    assert [u.name for u in users.list_users(store, include_revoked=True)] == ["ana"]
    assert users.list_users(store) == []
    assert [e["action"] for e in audit.recent(store)][:3] == ["users.revoke", "users.token", "users.add"]


def test_role_table_and_shaping() -> None:
    assert set(TABLE) == {"admin", "supervisor", "analyst", "viewer", "agent", "none"}
    assert allowed("supervisor", "review") and not allowed("analyst", "review")
    assert not allowed("viewer", "lists") and allowed("viewer", "counts")
    assert allowed("agent", "own_work") and not allowed("agent", "counts")
    assert [r for r in TABLE if allowed(r, "original_text")] == ["admin"]
    assert [r for r in TABLE if allowed(r, "forget")] == ["admin", "supervisor"]
    assert not any(allowed("none", a) for a in ACTIONS)
    with pytest.raises(Forbidden, match="allowed for: admin, supervisor"):
        require("analyst", "review", "api:al")
    detail = {"agent": "Kim Lee", "customer": "+44 7700 900123", "customer_key": "k",
              "turns": [{"text": "my card is 4111", "redacted_text": "my card is [CARD]"},
                        {"text": "hello", "redacted_text": None}]}  # fmt: skip
    assert shape("admin", detail) == detail
    sup = shape("supervisor", detail)
    assert sup["agent"] == "Kim Lee" and sup["customer"] is None
    assert [t["text"] for t in sup["turns"]] == ["my card is [CARD]", "[not yet redacted: text withheld]"]
    ana = shape("analyst", detail)
    assert ana["agent"].startswith("agent-") and ana["agent"] == shape("analyst", {"agent": "Kim Lee"})["agent"]
    assert shape("viewer", detail)["turns"] == []


def test_readme_shows_the_role_table_from_code() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert markdown_table() in readme


def test_migration_0013_applies_to_a_populated_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An existing database (flags with rows, many) upgrades in place; reviews work after."""
    from store import db as store_db

    real = store_db.load_migrations
    monkeypatch.setattr(store_db, "load_migrations", lambda: [m for m in real() if m.version < 13])
    old = Store.open(tmp_path / "old.duckdb")
    # the old schema's columns only, as an older Convoscope wrote them (today's upsert
    # reads tables of later migrations)
    iid = int(old.cursor().execute(
        "INSERT INTO interactions (channel, source, external_id, content_hash, agent) "
        "VALUES ('call', 't', 'o1', ?, 'Kim Lee') RETURNING id", [content_hash("o1")]).fetchone()[0])
    old.cursor().execute(
        "INSERT INTO flags (interaction_id, kind, dedupe_key, severity) "
        "SELECT ?, 'bulk', 'bulk-' || i, 2 FROM range(50000) r(i)", [iid])
    fid = int(old.cursor().execute("SELECT min(id) FROM flags").fetchone()[0])
    old.close()
    monkeypatch.setattr(store_db, "load_migrations", real)
    new = Store.open(tmp_path / "old.duckdb")
    try:
        assert new.schema_version() == store_db.latest_version()
        assert reviews.state(new, fid).review_rev == 0
        assert reviews.review(new, fid, "confirm", SUP, expected_rev=0).review_rev == 1
    finally:
        new.close()
