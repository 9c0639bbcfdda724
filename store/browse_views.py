"""The analyst screens' other reads (TUI and the service API): one interaction's detail,
the review queue, agent scorecards, topics and clusters, the filter form's choices.
Split from store/browse.py (#14)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from store.browse_dashboard import _day_bounds, _days, _r, _table_exists
from store.db import Store
from store.outbound import WITHHELD, mask_strings
from store.patterns_base import _loads
from store.resolution import ResolutionView
from store.resolution import view as resolution_view
from store.reviews import COUNTS, contest_reason, contested, counts, queue_order

# -- detail --------------------------------------------------------------------------------


@dataclass(slots=True)
class TurnView:
    seq: int
    speaker: str
    speaker_name: str | None
    start_s: float | None
    end_s: float | None
    sent_at: datetime | None
    text: str
    redacted_text: str | None
    sentiment: float | None
    sentiment_label: str | None
    anger: float | None


@dataclass(slots=True)
class FlagView:
    id: int
    kind: str
    rule: str | None
    severity: int
    score: float | None
    summary: str | None
    evidence: list[dict[str, Any]]
    review_status: str
    reviewer: str | None
    review_reason: str | None
    reviewed_at: datetime | None
    created_at: datetime | None
    review_rev: int = 0
    contested: bool = False
    contest_reason: str | None = None


@dataclass(slots=True)
class Detail:
    id: int
    channel: str
    source: str
    external_id: str
    started_at: datetime | None
    duration: float | None
    agent: str | None
    customer: str | None
    queue: str | None
    subject: str | None
    status: str
    sentiment: float | None
    sentiment_agent: float | None
    sentiment_customer: float | None
    customer_trend: list[float] | None
    anger: float | None
    metrics: dict[str, Any]
    topics: list[dict[str, Any]]
    keywords: list[str]
    cluster_id: int | None
    cluster_label: str | None
    qa_score: float | None
    turns: list[TurnView]
    flags: list[FlagView]
    #: the resolution verdict (store.resolution.view: reasons masked), None without one
    resolution: ResolutionView | None = None


def detail(store: Store, interaction_id: int) -> Detail | None:
    """One interaction with its turns, scores, flags and cluster, as it may leave the store:
    turn text from the outbound view (`text` = the redacted text, or a 'withheld' marker
    before analysis redacted it), customer, subject and flag summaries masked. The original
    text is only reachable through `store.outbound.original_turns`."""
    cur = store.cursor()
    r = cur.execute(
        "SELECT i.id, i.channel, i.source, i.external_id, i.started_at, i.duration, i.agent, "
        "pii_mask(i.customer), i.queue, pii_mask(i.subject), i.status, s.sentiment, s.sentiment_agent, "
        "s.sentiment_customer, s.customer_trend, s.anger, s.metrics, s.topics, s.keywords, "
        "s.cluster_id, c.label "
        "FROM interactions i LEFT JOIN scores s ON s.interaction_id = i.id "
        "LEFT JOIN clusters c ON c.id = s.cluster_id WHERE i.id = ?",
        [interaction_id],
    ).fetchone()
    if r is None:
        return None
    turns = [
        TurnView(*t)
        for t in cur.execute(
            "SELECT t.seq, t.speaker, t.speaker_name, t.start_s, t.end_s, t.sent_at, "
            "coalesce(t.text, ?), t.text, ts.sentiment, ts.sentiment_label, ts.anger "
            "FROM outbound_turns t "
            "LEFT JOIN turn_scores ts ON ts.interaction_id = t.interaction_id AND ts.seq = t.seq "
            "WHERE t.interaction_id = ? ORDER BY t.seq",
            [WITHHELD, interaction_id],
        ).fetchall()
    ]
    flags = [
        FlagView(f[0], f[1], f[2], int(f[3]), f[4], f[5], mask_strings(cur, _loads(f[6], [])), f[7], f[8],
                 f[9], f[10], f[11], int(f[12]), bool(f[13]), f[14])
        for f in cur.execute(
            "SELECT id, kind, rule, severity, score, pii_mask(summary), evidence, review_status, "
            "reviewer, review_reason, reviewed_at, created_at, coalesce(review_rev, 0), "
            f"{contested('flags')}, {contest_reason('flags')} FROM flags "
            "WHERE interaction_id = ? AND active ORDER BY severity DESC, id",
            [interaction_id],
        ).fetchall()
    ]
    qa = None
    if _table_exists(cur, "scorecard_results"):
        q = cur.execute(
            "SELECT avg(score) FROM scorecard_results WHERE interaction_id = ?", [interaction_id]
        ).fetchone()
        qa = _r(q[0]) if q else None
    return Detail(
        id=int(r[0]), channel=r[1], source=r[2], external_id=r[3], started_at=r[4],
        duration=r[5], agent=r[6], customer=r[7], queue=r[8], subject=r[9], status=r[10],
        sentiment=r[11], sentiment_agent=r[12], sentiment_customer=r[13],
        customer_trend=list(r[14]) if r[14] is not None else None, anger=r[15],
        metrics=_loads(r[16], {}), topics=_loads(r[17], []), keywords=list(r[18] or []),
        cluster_id=r[19], cluster_label=r[20], qa_score=qa, turns=turns, flags=flags,
        resolution=resolution_view(store, interaction_id),
    )




# -- review queue ----------------------------------------------------------------------------


@dataclass(slots=True)
class QueueItem:
    flag_id: int
    interaction_id: int
    kind: str
    rule: str | None
    severity: int
    summary: str | None
    created_at: datetime | None
    channel: str
    agent: str | None
    started_at: datetime | None
    review_rev: int = 0
    contested: bool = False
    contest_reason: str | None = None
    confidence: float | None = None


def review_queue(
    store: Store, *, order: str = "severity", kind: str | None = None, limit: int = 200
) -> list[QueueItem]:
    """Open flags that count: contested ones first, then low-confidence high-severity ones,
    then most severe (then oldest); or strictly oldest first."""
    if order not in ("severity", "oldest"):
        raise ValueError("order must be 'severity' or 'oldest'")
    ob = "f.severity DESC, f.created_at, f.id" if order == "severity" else "f.created_at, f.id"
    if order == "severity":  # contested, then low-confidence high-severity: first
        ob = queue_order() + ", " + ob
    sql = (
        "SELECT f.id, f.interaction_id, f.kind, f.rule, f.severity, pii_mask(f.summary), f.created_at, "
        f"i.channel, i.agent, i.started_at, coalesce(f.review_rev, 0), {contested('f')}, "
        f"{contest_reason('f')}, f.confidence FROM flags f JOIN interactions i ON i.id = f.interaction_id "
        f"WHERE {counts('f')} AND f.review_status = 'open'"
    )
    params: list[Any] = []
    if kind:
        sql += " AND f.kind = ?"
        params.append(kind)
    sql += f" ORDER BY {ob} LIMIT {int(limit)}"
    return [QueueItem(*r[:10], int(r[10]), bool(r[11]), r[12], r[13])
            for r in store.cursor().execute(sql, params).fetchall()]


# -- agents ------------------------------------------------------------------------------------


@dataclass(slots=True)
class AgentCard:
    agent: str
    interactions: int
    sentiment: float | None
    flags: int
    open_flags: int
    flag_rate: float
    qa_score: float | None
    talk_pct: float | None
    non_talk_pct: float | None
    interruptions: float | None
    wpm: float | None


@dataclass(slots=True)
class Scorecards:
    since: datetime
    team: AgentCard
    agents: list[AgentCard]


def agents(store: Store, now: datetime, days: int = 30) -> Scorecards:
    """Per-agent scorecard over the last `days` days, and the whole team's for comparison.

    Talk metrics come from `scores.metrics` as analysis/metrics.py writes them
    (agent_talk_ratio, non_talk_pct, interruptions, words_per_minute.agent — METRICS.md);
    the QA score from the patterns engine's `scorecard_results` when that table exists.
    """
    cur = store.cursor()
    since = now - timedelta(days=days)
    has_qa = _table_exists(cur, "scorecard_results")
    qa_join = (
        " LEFT JOIN (SELECT interaction_id, avg(score) AS qa FROM scorecard_results GROUP BY 1) q"
        " ON q.interaction_id = i.id" if has_qa else ""
    )
    qa_col = "avg(q.qa)" if has_qa else "NULL"
    m = "TRY_CAST(json_extract_string(s.metrics, '$.{}') AS DOUBLE)"
    sql = (
        f"WITH fl AS (SELECT interaction_id, count(*) AS n, count(*) FILTER (review_status = 'open') AS o "
        f"FROM flags WHERE {COUNTS} GROUP BY 1) "
        f"SELECT coalesce(i.agent, '(none)') AS agent, count(*), avg(s.sentiment), "
        f"coalesce(sum(fl.n), 0), coalesce(sum(fl.o), 0), count(fl.n) / count(*), {qa_col}, "
        f"avg({m.format('agent_talk_ratio')}) * 100, avg({m.format('non_talk_pct')}), "
        f"avg({m.format('interruptions')}), avg({m.format('words_per_minute.agent')}) "
        f"FROM interactions i LEFT JOIN scores s ON s.interaction_id = i.id "
        f"LEFT JOIN fl ON fl.interaction_id = i.id{qa_join} "
        f"WHERE i.started_at >= ? AND i.started_at <= ? GROUP BY GROUPING SETS ((1), ())"
    )
    rows = cur.execute(sql, [since, now]).fetchall()
    team_rows = [r for r in rows if r[0] is None]
    agent_rows = sorted((r for r in rows if r[0] is not None), key=lambda r: (-int(r[1]), r[0]))

    def card(r: tuple[Any, ...], name: str | None = None) -> AgentCard:
        return AgentCard(
            agent=name or r[0], interactions=int(r[1]), sentiment=_r(r[2]), flags=int(r[3]),
            open_flags=int(r[4]), flag_rate=round(float(r[5] or 0), 4), qa_score=_r(r[6], 1),
            talk_pct=_r(r[7], 1), non_talk_pct=_r(r[8], 1), interruptions=_r(r[9]),
            wpm=_r(r[10], 0),
        )

    team = (
        card(team_rows[0], "team") if team_rows and team_rows[0][1]
        else AgentCard("team", 0, None, 0, 0, 0.0, None, None, None, None, None)
    )
    return Scorecards(since, team, [card(r) for r in agent_rows])


# -- topics and clusters -----------------------------------------------------------------------


@dataclass(slots=True)
class TopicTrend:
    key: str
    n: int
    sentiment: float | None
    daily: list[int]
    examples: list[int]


@dataclass(slots=True)
class ClusterRow:
    id: int
    label: str | None
    terms: list[str]
    size: int
    recent: int
    daily: list[int]
    examples: list[int]


@dataclass(slots=True)
class TopicsView:
    days: list[date]
    topics: list[TopicTrend]
    clusters: list[ClusterRow]


def topics(store: Store, now: datetime, tz: str = "UTC", limit: int = 30) -> TopicsView:
    """Topic and cluster sizes over 14 days with daily counts and a few example ids."""
    cur = store.cursor()
    _today, start14, _end = _day_bounds(now, tz, 13)
    days = [start14.date() + timedelta(days=k) for k in range(14)]
    idx = {d: k for k, d in enumerate(days)}

    def grouped(col: str) -> dict[Any, tuple[list[int], int, float, list[int]]]:
        """key -> (daily counts, total, sentiment sum, example ids from its latest day)."""
        out: dict[Any, tuple[list[int], int, float, list[int]]] = {}
        latest: dict[Any, date] = {}
        cte, cte_params = _days(now, tz)
        rows = cur.execute(
            f"WITH {cte} SELECT {col} AS k, days.d, count(*), "
            f"sum(s.sentiment), (list(i.id ORDER BY i.started_at DESC, i.id))[1:3] "
            f"FROM interactions i JOIN days ON i.started_at >= days.lo AND i.started_at < days.hi "
            f"JOIN scores s ON s.interaction_id = i.id WHERE {col} IS NOT NULL GROUP BY ALL",
            cte_params,
        ).fetchall()
        for k, d, n, ssum, ex in rows:
            daily, tot, sent_sum, exs = out.get(k, ([0] * 14, 0, 0.0, []))
            if d in idx:
                daily[idx[d]] += int(n)
            if k not in latest or d > latest[k]:
                latest[k], exs = d, [int(x) for x in ex or []]
            out[k] = (daily, tot + int(n), sent_sum + float(ssum or 0.0), exs)
        return out

    tp = grouped("s.top_topic")
    topic_rows = sorted(
        (TopicTrend(k, v[1], _r(v[2] / v[1]) if v[1] else None, v[0], v[3][:3]) for k, v in tp.items()),
        key=lambda t: (-t.n, t.key),
    )[:limit]
    cl = grouped("s.cluster_id")
    meta = {
        int(r[0]): r[1:]
        for r in cur.execute("SELECT id, label, terms, size, examples FROM clusters").fetchall()
    }
    clusters = []
    for cid, (daily, n, _s, ex) in cl.items():
        if int(cid) < 0:  # the patterns engine's "noise" (no cluster)
            continue
        label, terms, size, examples = meta.get(int(cid), (None, [], 0, []))
        clusters.append(ClusterRow(int(cid), label, list(terms or []), int(size or n), n, daily,
                                   list(examples or ex)[:3]))
    clusters.sort(key=lambda c: (-c.recent, c.id))
    return TopicsView(days, topic_rows, clusters[:limit])


def distinct_values(store: Store) -> dict[str, list[str]]:
    """Choices for the filter form: agents, queues, topics, flag kinds."""
    cur = store.cursor()

    def col(sql: str) -> list[str]:
        return [str(r[0]) for r in cur.execute(sql).fetchall() if r[0] is not None]

    return {
        "agent": col("SELECT DISTINCT agent FROM interactions WHERE agent IS NOT NULL ORDER BY 1 LIMIT 500"),
        "queue": col("SELECT DISTINCT queue FROM interactions WHERE queue IS NOT NULL ORDER BY 1 LIMIT 200"),
        "topic": col("SELECT DISTINCT top_topic FROM scores WHERE top_topic IS NOT NULL ORDER BY 1 LIMIT 500"),
        "flag_kind": col("SELECT DISTINCT kind FROM flags ORDER BY 1"),
    }
