"""QA scorecards from config: every interaction scored, n.a. handled, averaged per agent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from patterns_data import NOW, Spec, put

from analysis.patterns import job
from analysis.patterns.options import PatternsOptions
from convoscope import config
from store import Store
from store import patterns as sp

FORM = {
    "name": "Support QA",
    "sections": [
        {"name": "Opening", "weight": 1, "questions": [
            {"id": "greeting", "text": "Did the agent greet the customer?", "stage": "greeting"},
        ]},
        {"name": "Handling", "weight": 2, "questions": [
            {"id": "no_anger", "text": "Customer did not get angry", "flag": "angry_customer",
             "expect": "absent", "weight": 2},
            {"id": "silence", "text": "Non-talk time under control", "metric": "non_talk_pct",
             "best": 5, "worst": 45, "channels": ["call"]},
            {"id": "ends_well", "text": "Customer ends positive", "sentiment": "customer_end",
             "pass_min": 1},
        ]},
    ],
}


def forms() -> list:
    return config.from_dict({"scorecards": [FORM]}).scorecards


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_every_interaction_is_scored_and_averaged_per_agent(store: Store) -> None:
    good_call, bad_call, chat = put(store, [
        Spec(started_at=NOW - timedelta(hours=3), agent_name="alice", channel="call",
             agent=["Hello, thanks for calling"], metrics={"non_talk_pct": 5.0}, customer_end=2.0),
        Spec(started_at=NOW - timedelta(hours=2), agent_name="bob", channel="call",
             agent=["What do you want"], metrics={"non_talk_pct": 35.0}, customer_end=-2.0,
             flags=("angry_customer",)),
        Spec(started_at=NOW - timedelta(hours=1), agent_name="alice", channel="chat",
             agent=["Hi! How can I help?"], customer_end=0.0),
    ])
    n = job.run_scorecards(store, PatternsOptions(), forms(), now=NOW)
    assert n == 3
    results = {r.interaction_id: r for iid in (good_call, bad_call, chat)
               for r in sp.interaction_scorecards(store, iid)}
    assert results[good_call].score == 100.0
    # bob: greeting no (0/1) -> opening 0; handling: anger present (0 x2), silence
    # (45-35)/40 = 0.25, ends well no -> (0 + 0.25 + 0) / 4 = 0.0625; total
    # (1 x 0 + 2 x 0.0625) / 3 = 4.17
    assert results[bad_call].score == pytest.approx(4.17, abs=0.01)
    answers = {a["id"]: a for a in results[bad_call].answers}
    assert answers["no_anger"]["answer"] == "yes" and answers["no_anger"]["points"] == 0.0
    assert answers["silence"]["answer"] == 35.0 and answers["silence"]["points"] == 0.25
    # the chat has no non-talk question (n.a.), greets, no anger, neutral end:
    # opening 1; handling (2 + 0) / 3 -> (1 + 2 x 2/3) / 3 = 77.78
    assert results[chat].not_applicable == 1 and results[chat].answered == 3
    assert results[chat].score == pytest.approx(77.78, abs=0.01)
    per_agent = {a.agent: a for a in sp.agent_scorecards(store, NOW - timedelta(days=1), NOW)}
    assert per_agent["alice"].interactions == 2
    assert per_agent["alice"].mean_score == pytest.approx((100 + 77.78) / 2, abs=0.01)
    assert per_agent["bob"].mean_score == pytest.approx(4.17, abs=0.01)
    # re-scoring replaces, never duplicates
    job.run_scorecards(store, PatternsOptions(), forms(), now=NOW)
    assert store.conn.execute("SELECT count(*) FROM scorecard_results").fetchone() == (3,)


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_forms_are_validated_at_load() -> None:
    bad = {**FORM, "sections": [{"name": "x", "questions": [
        {"id": "q", "text": "?", "metric": "non_talk_pct"}]}]}
    with pytest.raises(config.ConfigError, match="pass_min/pass_max"):
        config.from_dict({"scorecards": [bad]})
    two = {**FORM, "sections": [{"name": "x", "questions": [
        {"id": "q", "text": "?", "stage": "greeting", "flag": "x"}]}]}
    with pytest.raises(config.ConfigError, match="exactly one of"):
        config.from_dict({"scorecards": [two]})
    dup = {**FORM, "sections": [{"name": "x", "questions": [
        {"id": "q", "text": "?", "stage": "greeting"}, {"id": "q", "text": "?", "stage": "close"}]}]}
    with pytest.raises(config.ConfigError, match="duplicate question ids"):
        config.from_dict({"scorecards": [dup]})


def test_forms_limited_to_queues_skip_other_interactions(store: Store) -> None:
    put(store, [Spec(started_at=NOW - timedelta(hours=1), queue="sales", agent=["hello"])])
    form = config.from_dict({"scorecards": [{**FORM, "queues": ["support"]}]}).scorecards
    assert job.run_scorecards(store, PatternsOptions(), form, now=NOW) == 0


def test_rule_questions_read_the_rule_behind_a_flag(store: Store) -> None:
    from store import flags as store_flags
    from store.records import Flag

    missing, fine = put(store, [
        Spec(started_at=NOW - timedelta(hours=2), agent=["hello"]),
        Spec(started_at=NOW - timedelta(hours=1), agent=["hello"]),
    ])
    store_flags.replace_for_interaction(store, missing, [
        Flag(interaction_id=missing, kind="compliance_missing", rule="recording_disclosure", severity=3)
    ])
    form = config.from_dict({"scorecards": [{"name": "Compliance", "sections": [{"name": "s", "questions": [
        {"id": "disclosure", "text": "Recording disclosure given", "flag": "rule:recording_disclosure",
         "expect": "absent"}]}]}]}).scorecards
    job.run_scorecards(store, PatternsOptions(), form, now=NOW)
    assert [r.score for r in sp.interaction_scorecards(store, missing)] == [0.0]
    assert [r.score for r in sp.interaction_scorecards(store, fine)] == [100.0]


def test_issue_resolved_question_reads_the_resolution_verdict(store: Store) -> None:
    from store import resolution as rs

    resolved, unresolved, pending, none = put(store, [
        Spec(started_at=NOW - timedelta(hours=h), agent=["hello"]) for h in (4, 3, 2, 1)
    ])
    rs.save(store, [rs.ResolutionRow(i, v, 0.9, [], []) for i, v in
                    ((resolved, "resolved"), (unresolved, "unresolved"), (pending, "pending"))])
    form = config.from_dict({"scorecards": [{"name": "Outcome", "sections": [{"name": "s", "questions": [
        {"id": "greeting", "text": "Greeted", "stage": "greeting"},
        {"id": "issue_resolved", "text": "Issue resolved", "resolution": ["resolved"], "weight": 3}]}]}]}).scorecards
    job.run_scorecards(store, PatternsOptions(), form, now=NOW)
    got = {iid: sp.interaction_scorecards(store, iid)[0] for iid in (resolved, unresolved, pending, none)}
    assert got[resolved].score == 100.0
    assert got[unresolved].score == 25.0 and got[pending].score == 25.0  # greeting 1 of weight 4
    answer = {a["id"]: a for a in got[pending].answers}["issue_resolved"]
    assert (answer["answer"], answer["value"], answer["points"]) == ("no", "pending", 0.0)
    # no verdict: n.a., leaves the denominator
    assert got[none].score == 100.0 and got[none].not_applicable == 1


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_resolution_question_validated_and_shipped_in_the_example() -> None:
    import tomllib
    from pathlib import Path

    bad = {**FORM, "sections": [{"name": "x", "questions": [
        {"id": "q", "text": "?", "resolution": ["fixed"]}]}]}
    with pytest.raises(config.ConfigError, match="resolution must list verdicts"):
        config.from_dict({"scorecards": [bad]})
    example = Path(__file__).resolve().parents[3] / "config.example.toml"
    cfg = config.from_dict({"scorecards": tomllib.loads(example.read_text("utf-8"))["scorecards"]})
    qs = [q for f in cfg.scorecards for s in f.sections for q in s.questions if q.resolution]
    assert [q.resolution for q in qs] == [["resolved"]]
