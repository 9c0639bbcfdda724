"""The pattern tables as the bot, the TUI and the CLI read them: top issue groups,
rising issues, repeat contacts, FCR, traits, best phrases, stage orders, QA scorecards.
Split from store/patterns.py (#14); re-exported there."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from store.db import Store
from store.patterns_base import (
    AgentScorecard,
    ClusterRecord,
    ClusterSummary,
    FcrRate,
    PhraseRow,
    RepeatCustomer,
    RepeatRow,
    ScorecardResult,
    StageOrderRow,
    TraitRow,
    TrendRow,
    _and,
    _loads,
)
from store.pseudonyms import customer_key_sql

# == read side (bot, TUI, CLI) ========================================================================


def top_clusters(
    store: Store, since: datetime | None = None, until: datetime | None = None, limit: int = 10
) -> list[ClusterSummary]:
    """The biggest issue groups among interactions started in [since, until): "top issues"."""
    sql = (
        "SELECT c.id, c.label, c.terms, count(*) AS n, c.size, c.examples FROM cluster_members m "
        "JOIN clusters c ON c.id = m.cluster_id JOIN interactions i ON i.id = m.interaction_id "
        "WHERE m.cluster_id >= 0"
    )
    cond, params = _and(("i.started_at >= ?", since), ("i.started_at < ?", until))
    sql += cond
    sql += " GROUP BY c.id, c.label, c.terms, c.size, c.examples ORDER BY n DESC, c.id LIMIT ?"
    params.append(int(limit))
    return [
        ClusterSummary(id=int(r[0]), label=r[1] or "", terms=list(r[2] or []), count=int(r[3]),
                       size=int(r[4] or 0), examples=[int(x) for x in (r[5] or [])])
        for r in store.cursor().execute(sql, params).fetchall()
    ]


def cluster(store: Store, cluster_id: int) -> ClusterRecord | None:
    """One cluster (active or retired) without its centroid."""
    r = store.cursor().execute(
        "SELECT id, label, terms, size, examples, threshold, coalesce(active, TRUE) FROM clusters "
        "WHERE id = ?", [cluster_id],
    ).fetchone()
    if r is None:
        return None
    return ClusterRecord(id=int(r[0]), label=r[1] or "", terms=list(r[2] or []), size=int(r[3] or 0),
                         examples=[int(x) for x in (r[4] or [])], threshold=r[5], active=bool(r[6]))


def rising_issues(
    store: Store, day: date | None = None, *, since: date | None = None, until: date | None = None
) -> list[TrendRow]:
    """Rises detected on `day` (or in [since, until)), strongest first."""
    sql = (
        "SELECT day, dimension, key, label, n, baseline, ratio, z, p_value, summary, "
        "interaction_id, flag_id FROM pattern_trends WHERE TRUE"
    )
    cond, params = _and(("day = ?", day), ("day >= ?", since), ("day < ?", until))
    sql += cond
    sql += " ORDER BY day DESC, z DESC"
    return [
        TrendRow(day=r[0], dimension=r[1], key=r[2], label=r[3], n=int(r[4]), baseline=r[5],
                 ratio=r[6], z=r[7], p_value=r[8], summary=r[9], interaction_id=r[10], flag_id=r[11])
        for r in store.cursor().execute(sql, params).fetchall()
    ]


def repeat_contacts(
    store: Store, since: datetime | None = None, until: datetime | None = None
) -> list[RepeatCustomer]:
    """Customers with repeat contacts whose repeat happened in [since, until), most first.

    `customer_key` is a pseudonym (`h:` + a SHA-256 prefix of the key): this list is shown
    (digest, `patterns show repeats`), and customer keys are phone numbers and addresses."""
    sql = (
        "WITH chains AS (SELECT DISTINCT r.first_id, r.customer_key FROM repeat_contacts r "
        "JOIN interactions i ON i.id = r.interaction_id WHERE TRUE{cond}), "
        "members AS (SELECT c.customer_key, c.first_id AS iid FROM chains c UNION "
        "SELECT c.customer_key, r.interaction_id FROM chains c JOIN repeat_contacts r "
        "ON r.first_id = c.first_id) "
        f"SELECT {customer_key_sql('m.customer_key')}, count(DISTINCT m.iid), "
        "list(DISTINCT m.iid ORDER BY m.iid), "
        "list(DISTINCT i.channel ORDER BY i.channel), "
        "list(DISTINCT s.top_topic ORDER BY s.top_topic) FILTER (WHERE s.top_topic IS NOT NULL), "
        "min(i.started_at), max(i.started_at) FROM members m JOIN interactions i ON i.id = m.iid "
        "LEFT JOIN scores s ON s.interaction_id = m.iid GROUP BY m.customer_key "
        "ORDER BY count(DISTINCT m.iid) DESC, max(i.started_at) DESC"
    )
    cond, params = _and(("i.started_at >= ?", since), ("i.started_at < ?", until))
    return [
        RepeatCustomer(customer_key=r[0], contacts=int(r[1]), interaction_ids=[int(x) for x in r[2]],
                       channels=list(r[3] or []), topics=list(r[4] or []), first_at=r[5], last_at=r[6])
        for r in store.cursor().execute(sql.format(cond=cond), params).fetchall()
    ]


def repeat_of(store: Store, interaction_id: int) -> RepeatRow | None:
    """Whether this interaction repeats an earlier one (and which)."""
    r = store.cursor().execute(
        "SELECT interaction_id, previous_id, first_id, customer_key, matched_on, match_value, "
        "gap_hours, contact_number FROM repeat_contacts WHERE interaction_id = ?", [interaction_id],
    ).fetchone()
    return RepeatRow(*r) if r else None


def fcr_rates(
    store: Store, by: str = "agent", since: datetime | None = None, until: datetime | None = None
) -> list[FcrRate]:
    """First-contact resolution per agent, queue or topic (of the first contact).

    An issue is a contact that does not repeat an earlier one; it is resolved at first
    contact when its own resolution verdict is `resolved` and no repeat followed within the
    repeat window (without a verdict: when no repeat followed). See
    `analysis.patterns.repeats.resolved_first_time`.
    """
    if by not in ("agent", "queue", "topic"):
        raise ValueError("by must be agent, queue or topic")
    sql = (
        f"SELECT {by}, count(*), count(*) FILTER (WHERE resolved) FROM contact_resolution WHERE TRUE"
    )
    cond, params = _and(("started_at >= ?", since), ("started_at < ?", until))
    sql += cond
    sql += f" GROUP BY {by} ORDER BY count(*) DESC, {by}"
    return [
        FcrRate(key=r[0], issues=int(r[1]), resolved=int(r[2]), rate=int(r[2]) / int(r[1]))
        for r in store.cursor().execute(sql, params).fetchall()
    ]


def low_satisfaction_traits(
    store: Store, queue: str | None = None, *, kind: str | None = None, limit: int = 20
) -> list[TraitRow]:
    """What low-satisfaction interactions have in common, strongest first per kind.

    `kind` is 'topic' (odds ratio, 95 % CI), 'metric' (Cohen's d, 95 % CI), 'phrase'
    (log-odds z with an informative Dirichlet prior) or 'resolution' (odds ratio of the
    `unresolved` verdict, among interactions with a verdict); positive effects are more typical of
    low satisfaction. `queue` picks the per-queue comparison (None = all interactions).
    """
    scope = f"queue:{queue}" if queue else "all"
    sql = (
        "SELECT scope, kind, feature, statistic, effect, ci_low, ci_high, value_low, value_high, "
        "n_low, n_high, rank FROM pattern_traits WHERE scope = ?"
    )
    params: list[Any] = [scope]
    if kind is not None:
        sql += " AND kind = ?"
        params.append(kind)
    sql += " AND rank <= ? ORDER BY kind, rank"
    params.append(int(limit))
    return [TraitRow(*r) for r in store.cursor().execute(sql, params).fetchall()]


def best_phrases(
    store: Store, topic: str | None = None, queue: str | None = None, limit: int = 20
) -> list[PhraseRow]:
    """Agent phrases over-represented in interactions that end well (or succeed)."""
    scope = f"topic:{topic}" if topic else f"queue:{queue}" if queue else "all"
    rows = store.cursor().execute(
        "SELECT scope, phrase, z, delta, count_good, count_bad, n_good, n_bad, rank "
        "FROM pattern_phrases WHERE scope = ? AND rank <= ? ORDER BY rank",
        [scope, int(limit)],
    ).fetchall()
    return [PhraseRow(*r) for r in rows]


def phrase_scopes(store: Store) -> list[str]:
    """Scopes that have best-phrase results ('all', 'topic:<t>', 'queue:<q>')."""
    return [r[0] for r in store.cursor().execute(
        "SELECT DISTINCT scope FROM pattern_phrases ORDER BY scope").fetchall()]


def stage_orders(store: Store, outcome: str | None = None, limit: int = 5) -> list[StageOrderRow]:
    """The commonest conversation stage orders in good and bad interactions."""
    sql = "SELECT outcome, sequence, n, share, rank FROM pattern_stage_orders WHERE rank <= ?"
    params: list[Any] = [int(limit)]
    if outcome is not None:
        sql += " AND outcome = ?"
        params.append(outcome)
    sql += " ORDER BY outcome DESC, rank"
    return [StageOrderRow(*r) for r in store.cursor().execute(sql, params).fetchall()]


def agent_scorecards(
    store: Store,
    since: datetime | None = None,
    until: datetime | None = None,
    scorecard: str | None = None,
) -> list[AgentScorecard]:
    """QA score per agent and form over interactions started in [since, until)."""
    sql = (
        "SELECT agent, scorecard, count(*), avg(score), min(score), max(score) "
        "FROM scorecard_results WHERE score IS NOT NULL"
    )
    cond, params = _and(("started_at >= ?", since), ("started_at < ?", until),
                        ("scorecard = ?", scorecard))
    sql += cond
    sql += " GROUP BY agent, scorecard ORDER BY scorecard, avg(score) DESC, agent"
    return [
        AgentScorecard(agent=r[0], scorecard=r[1], interactions=int(r[2]), mean_score=r[3],
                       min_score=r[4], max_score=r[5])
        for r in store.cursor().execute(sql, params).fetchall()
    ]


def interaction_scorecards(store: Store, interaction_id: int) -> list[ScorecardResult]:
    """Every form's result for one interaction, with the per-question answers."""
    rows = store.cursor().execute(
        "SELECT interaction_id, scorecard, agent, queue, started_at, score, answered, "
        "not_applicable, answers FROM scorecard_results WHERE interaction_id = ? ORDER BY scorecard",
        [interaction_id],
    ).fetchall()
    return [ScorecardResult(*r[:8], answers=_loads(r[8], [])) for r in rows]
