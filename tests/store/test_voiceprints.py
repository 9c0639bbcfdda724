"""Agent voiceprints are biometric data with a life cycle (#16): erased on request (with
an audit row and no re-enrolment), refreshed by the agent's stereo calls, expired by
retention when nothing refreshed them. On both store backends."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import numpy as np
import pytest

from analysis.asr.pending import store_transcript
from analysis.diarization import persist
from analysis.diarization.call import MODEL
from convoscope.privacy import RetentionOptions, forget, run_retention
from store import Store, audit, speakers
from store import interactions as store_interactions
from store.backend import is_conflict
from store.privacy import erase_agent_voiceprint
from store.records import Interaction, content_hash

OPTIONS = SimpleNamespace(voiceprint_enrolment=True, voiceprint_max_seconds=600.0)


def _vec(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=256).astype(np.float32)
    return v / np.linalg.norm(v)


def _call(store: Store, agent: str, ext: str) -> Interaction:
    it = Interaction(channel="call", source="drop", external_id=ext, content_hash=content_hash(ext),
                     started_at=datetime(2026, 5, 1, tzinfo=UTC), agent=agent, direction="inbound",
                     status="new", raw_ref=f"/calls/{ext}.wav")  # fmt: skip
    store_interactions.upsert(store, [it])
    assert it.id is not None
    return it


def _stereo_transcript(enrolled: tuple | None = None) -> SimpleNamespace:
    """What the transcriber hands the ASR job for a two-channel call (analysis/asr)."""
    return SimpleNamespace(speaker_source="channel",
                           extra={"agent_voiceprint": enrolled} if enrolled else {})  # fmt: skip


def test_forget_agent_erases_the_voiceprint_audits_it_and_stops_enrolment(store_target) -> None:
    with Store.open(store_target()) as store:
        speakers.enrol(store, "1042", MODEL, _vec(1), 30.0)
        speakers.enrol(store, "2077", MODEL, _vec(2), 30.0)
        it = _call(store, "1042", "c1")
        assert persist.call_context(store, it, OPTIONS).enrol

        dry = forget(store, agent="1042", actor="cli:test", dry_run=True)
        assert dry.dry_run and dry.counts == {"agent_voiceprints": 1}
        assert speakers.voiceprint(store, "1042", MODEL) is not None

        res = forget(store, agent="1042", actor="cli:test", reason="DSR-7")
        assert res.counts == {"agent_voiceprints": 1} and res.interaction_ids == []
        assert speakers.voiceprint(store, "1042", MODEL) is None
        assert speakers.voiceprint(store, "2077", MODEL) is not None  # only that agent
        # the agent's calls are the business's records: they stay
        assert store_interactions.get(store, it.id, with_turns=False) is not None

        row = audit.recent(store, action="erase")[0]
        assert row["target"] == f"key-sha256:{speakers.agent_digest('1042')}"
        assert row["detail"]["kind"] == "agent_voiceprint" and row["detail"]["reason"] == "DSR-7"
        assert row["detail"]["counts"] == {"agent_voiceprints": 1}
        assert "1042" not in json.dumps(row, default=str)

        # a stereo call of that agent no longer asks for enrolment, and a call transcribed
        # while the erasure ran (its context said enrol) does not bring the print back
        ctx = persist.call_context(store, it, OPTIONS)
        assert not ctx.enrol and ctx.voiceprint is None
        with store.transaction() as tx:
            persist.save(store, it.id, _stereo_transcript(("1042", MODEL, _vec(1), 20.0)), tx)
        assert speakers.voiceprint(store, "1042", MODEL) is None
        assert speakers.enrol(store, "1042", MODEL, _vec(1), 20.0) is None
        # other agents still enrol
        other = _call(store, "3001", "c2")
        with store.transaction() as tx:
            persist.save(store, other.id, _stereo_transcript(("3001", MODEL, _vec(3), 20.0)), tx)
        assert speakers.voiceprint(store, "3001", MODEL) is not None

        # re-running is safe: nothing left, an empty erasure recorded
        again = forget(store, agent="1042", actor="cli:test")
        assert again.counts == {"agent_voiceprints": 0}
        assert len(audit.recent(store, action="erase")) == 2
    with pytest.raises(ValueError, match="exactly one"):
        forget(store, agent="1042", customer="x", actor="t")


def test_an_agent_id_with_stray_spaces_is_one_agent_for_enrolment_and_erasure(store_target) -> None:
    with Store.open(store_target()) as store:
        speakers.enrol(store, "2077 ", MODEL, _vec(2), 30.0)  # as a sidecar might spell it
        assert speakers.voiceprint(store, "2077", MODEL) is not None
        assert forget(store, agent="2077", actor="cli:test").counts == {"agent_voiceprints": 1}
        assert speakers.count_voiceprints(store, " 2077") == 0 and speakers.voiceprint(store, "2077 ", MODEL) is None


def test_retention_expires_voiceprints_no_call_refreshed(store_target) -> None:
    with Store.open(store_target()) as store:
        for agent, seed in (("old", 1), ("busy", 2), ("new", 3)):
            speakers.enrol(store, agent, MODEL, _vec(seed), 700.0)  # full: no more enrolment
        busy = _call(store, "busy", "b1")
        cur = store.cursor()
        cur.execute("UPDATE agent_voiceprints SET updated_at = ? WHERE agent IN ('old', 'busy')",
                    [datetime.now(UTC) - timedelta(days=200)])
        # a stereo call of the busy agent (the print is full, so nothing is enrolled)
        # refreshes the print; a mono call (diarized) does not
        assert not persist.call_context(store, busy, OPTIONS).enrol
        with store.transaction() as tx:
            persist.save(store, busy.id, _stereo_transcript(), tx)

        now = datetime.now(UTC)
        opts = RetentionOptions(voiceprint_days=180)
        assert opts.enabled and not RetentionOptions().enabled
        dry = run_retention(store, opts, now=now, dry_run=True)
        assert dry.voiceprints == 1 and speakers.count_voiceprints(store, "old") == 1
        report = run_retention(store, opts, now=now)
        assert report.voiceprints == 1 and "agent voiceprints: 1" in "\n".join(report.lines())
        left = {r[0] for r in cur.execute("SELECT agent FROM agent_voiceprints").fetchall()}
        assert left == {"busy", "new"}
        assert audit.recent(store, action="retention")[0]["detail"]["voiceprints"] == 1
        # retention is not an erasure request: an expired agent is enrolled afresh
        assert not speakers.enrolment_suppressed(store, "old")
        assert speakers.enrol(store, "old", MODEL, _vec(1), 10.0) is not None
        # 0 keeps voiceprints forever
        assert run_retention(store, RetentionOptions(), now=now + timedelta(days=9999)).voiceprints == 0
    with pytest.raises(ValueError, match="voiceprint_days"):
        RetentionOptions(voiceprint_days=-1)


@pytest.mark.parametrize("first", ["enrolment", "erasure"])
def test_a_first_enrolment_racing_an_erasure_cannot_leave_a_print(tmp_path, first: str) -> None:
    """The agent has no print yet, a stereo call's transcript (which enrols) and an erasure
    are written at once on two threads of the DuckDB file: whichever commits second fails
    with a conflict the store retries, and the retry leaves no print and the suppression."""
    with Store.open(tmp_path / "race.duckdb") as store:
        it = _call(store, "5150", "race")
        both_written = threading.Barrier(2)
        go = {name: threading.Event() for name in ("enrolment", "erasure")}
        errors: dict[str, BaseException] = {}

        def enrolment() -> None:
            with store.transaction() as tx:
                persist.save(store, it.id, _stereo_transcript(("5150", MODEL, _vec(5), 20.0)), tx)
                both_written.wait(timeout=30)
                go["enrolment"].wait(timeout=30)

        def erasure() -> None:
            with store.transaction() as tx:
                speakers.erase(tx, "5150")
                both_written.wait(timeout=30)
                go["erasure"].wait(timeout=30)

        def run(name: str, fn) -> None:
            try:
                fn()
            except BaseException as exc:  # handed to the test thread below
                errors[name] = exc

        threads = {name: threading.Thread(target=run, args=(name, fn))
                   for name, fn in (("enrolment", enrolment), ("erasure", erasure))}  # fmt: skip
        for t in threads.values():
            t.start()
        second = "erasure" if first == "enrolment" else "enrolment"
        go[first].set()
        threads[first].join(timeout=30)
        go[second].set()
        threads[second].join(timeout=30)

        assert first not in errors
        assert second in errors and is_conflict(errors[second]), errors
        # what Store.retrying does next: the loser runs again on a fresh snapshot
        if second == "erasure":
            counts = erase_agent_voiceprint(store, "5150", actor="cli:test", reason="DSR-9")
            assert counts == {"agent_voiceprints": 1}
        else:
            store_transcript(store, it.id, SimpleNamespace(
                turns=[], speaker_source="channel", language="en", duration=1.0,
                extra={"agent_voiceprint": ("5150", MODEL, _vec(5), 20.0)}))  # fmt: skip
        assert speakers.voiceprint(store, "5150", MODEL) is None
        assert speakers.enrolment_suppressed(store, "5150")
        assert speakers.enrol(store, "5150", MODEL, _vec(5), 20.0) is None


def test_an_agent_erased_before_the_digest_key_was_set_stays_suppressed(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from store import privacy

    monkeypatch.delenv(privacy.DIGEST_KEY_ENV, raising=False)
    with Store.open(tmp_path / "k.duckdb") as store:
        speakers.enrol(store, "7001", MODEL, _vec(7), 30.0)
        erase_agent_voiceprint(store, "7001", actor="cli:test", reason="DSR-1")
        monkeypatch.setenv(privacy.DIGEST_KEY_ENV, "another-long-secret-value-for-hmac")
        assert speakers.enrolment_suppressed(store, "7001")
        assert speakers.enrol(store, "7001", MODEL, _vec(7), 30.0) is None
        # a new erasure under the key is named by the HMAC, and also suppresses
        speakers.enrol(store, "7002", MODEL, _vec(8), 30.0)
        erase_agent_voiceprint(store, "7002", actor="cli:test", reason="DSR-2")
        row = audit.recent(store, action="erase")[0]
        assert row["target"] == f"key-hmac-sha256:{speakers.agent_digest('7002')}"
        assert speakers.enrol(store, "7002", MODEL, _vec(8), 30.0) is None
