"""Generate a realistic Convoscope store with N interactions, fast, for benchmarks and demos.

Why: the TUI, the API and the Slack bot must be measured on a million interactions, and
waiting for ASR + scoring to produce that many is not an option. This writes the same
tables the connectors and analysis fill (interactions, turns, turn_scores, scores, flags,
clusters) with plausible, *deterministic* content (a seed and a fixed `now`): three
channels, agents in queues, topics with their own sentiment, angry customers who raise
flags, PII that appears redacted in `turn_scores.redacted_text`, spread over the last 30
days with a daily rhythm.

Everything is built column-wise with numpy, handed to DuckDB as Arrow tables in chunks,
and reshaped there (JSON, lists) — no Python loop per row. Ids come from the schema's own
sequences so a generated store stays usable by the real pipeline afterwards.

    python bench/generate_store.py /tmp/cs1m.duckdb -n 1000000 --seed 7
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from store.db import Store

CHANNELS = ("call", "email", "chat")
CHANNEL_P = (0.5, 0.2, 0.3)
SOURCES = {"call": ("dropfolder",), "email": ("imap",), "chat": ("zendesk", "intercom", "front")}
QUEUES = ("billing", "technical", "sales", "retention", "general")
FIRST = ("Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery",
         "Quinn", "Robin", "Drew", "Kim", "Lee", "Pat", "Dana", "Noel", "Sky", "Rene", "Kai")
LAST = ("Novak", "Okafor", "Larsen", "Silva", "Chen", "Kowalski", "Haddad", "Moreau",
        "Ivanova", "Tanaka")

# topic -> (mean interaction sentiment on -5..5, customer phrases)
TOPICS: dict[str, tuple[float, tuple[str, ...]]] = {
    "billing dispute": (-1.8, (
        "I was charged twice for the same invoice this month",
        "why is there an extra fee on my bill",
        "the refund you promised never arrived",
        "my invoice shows a plan I never ordered",
    )),
    "refund request": (-0.9, (
        "I would like a refund for my last order",
        "the product arrived broken and I want my money back",
        "can you refund the shipping cost please",
    )),
    "login problem": (-0.6, (
        "I cannot log in to my account since yesterday",
        "the password reset email never arrives",
        "the app says my account is locked",
    )),
    "delivery delay": (-1.4, (
        "my package is a week late and tracking shows nothing",
        "the courier marked it delivered but nothing came",
        "when will my order finally ship",
    )),
    "cancellation": (-1.2, (
        "I want to cancel my subscription today",
        "please close my account, I am switching providers",
        "how do I stop the automatic renewal",
    )),
    "plan upgrade": (1.6, (
        "I would like to upgrade to the premium plan",
        "what does the business tier include",
        "can I add two more users to my plan",
    )),
    "outage": (-2.4, (
        "the service has been down all morning",
        "nothing works, this outage is costing us money",
        "is there a known outage in my area",
    )),
    "product question": (0.8, (
        "does the device support bluetooth headsets",
        "how do I export my data to a spreadsheet",
        "is there a student discount available",
    )),
    "address change": (0.4, (
        "I moved and need to update my address",
        "please change the delivery address on my order",
    )),
    "praise": (3.2, (
        "thanks, your colleague solved it in minutes",
        "great service, I really appreciate the help",
    )),
}
AGENT_PHRASES = (
    "thank you for contacting us, how can I help you today",
    "I am sorry to hear that, let me look into it",
    "could you confirm the email address on the account",
    "I have checked your account and I can see the problem",
    "I understand your frustration and I will fix this now",
    "I have escalated this to our specialist team",
    "the change is done and you will get a confirmation email",
    "is there anything else I can help you with",
    "this call may be recorded for quality and training purposes",
    "I have issued a credit to your account",
)
ANGRY_PHRASES = (
    "this is ridiculous, I have called three times already",
    "I am extremely angry about how this was handled",
    "if this is not fixed today I am leaving",
    "I want to speak to a manager right now",
)
PII_PHRASES = ("you can reach me on 555-01{n:02d}", "my card ends in 44{n:02d}")
FLAG_KINDS = (
    # kind, rule, severity weights (low..critical), share of flagged interactions
    ("angry_customer", "anger_threshold", (0.1, 0.3, 0.4, 0.2), 0.35),
    ("compliance_missing", "recording_disclosure", (0.2, 0.5, 0.3, 0.0), 0.25),
    ("churn_risk", "cancel_intent", (0.3, 0.4, 0.3, 0.0), 0.2),
    ("rule:refund_over_limit", "refund_over_limit", (0.0, 0.5, 0.4, 0.1), 0.1),
    ("profanity", "profanity", (0.4, 0.4, 0.2, 0.0), 0.1),
)


@dataclass(slots=True)
class GenerateReport:
    """What was written and how long it took."""

    path: str
    interactions: int
    turns: int
    flags: int
    seconds: float


def _names(n: int) -> list[str]:
    return [f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST) + i) % len(LAST)]}" for i in range(n)]


def _take(values: list[str] | tuple[str, ...], idx: np.ndarray) -> pa.Array:
    return pa.array(list(values), pa.string()).take(pa.array(idx, pa.int64()))


def generate(
    path: str | Path,
    n: int,
    seed: int = 0,
    *,
    now: datetime | None = None,
    days: int = 30,
    agents: int = 60,
    chunk: int = 100_000,
    progress: bool = False,
) -> GenerateReport:
    """Write `n` interactions (with turns, scores, flags, clusters) into the store at `path`.

    Deterministic for a given (`n`, `seed`, `now`, `chunk`); `now` defaults to the current
    hour so "today" on the dashboard is populated. Appends if the file already has data.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    t0 = time.perf_counter()
    now = (now or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)).astimezone(UTC)
    rng = np.random.default_rng(seed)
    agent_names = _names(agents)
    agent_queue = rng.integers(0, len(QUEUES), agents)
    topic_names = list(TOPICS)
    topic_mean = np.array([TOPICS[t][0] for t in topic_names])
    topic_p = np.array([0.16, 0.12, 0.12, 0.1, 0.08, 0.08, 0.05, 0.14, 0.07, 0.08])
    topic_p = topic_p / topic_p.sum()
    # Customer phrase table: every topic's phrases, plus an offset per topic.
    cust_phrases: list[str] = []
    topic_off = []
    topic_cnt = []
    for t in topic_names:
        topic_off.append(len(cust_phrases))
        topic_cnt.append(len(TOPICS[t][1]))
        cust_phrases.extend(TOPICS[t][1])
    topic_off_a = np.array(topic_off)
    topic_cnt_a = np.array(topic_cnt)
    n_written = n_turns = n_flags = 0
    store = Store.open(path)
    try:
        _ensure_clusters(store, topic_names, now)
        for start in range(0, n, chunk):
            k = min(chunk, n - start)
            t, f = _chunk(
                store, rng, k, now, days, agent_names, agent_queue, topic_names, topic_mean,
                topic_p, cust_phrases, topic_off_a, topic_cnt_a,
            )
            n_written += k
            n_turns += t
            n_flags += f
            if progress:
                print(f"  {n_written:>9,} interactions  {time.perf_counter() - t0:6.1f} s",
                      file=sys.stderr, flush=True)
        store.conn.execute(
            "UPDATE clusters SET size = c.n, examples = c.ex FROM (SELECT cluster_id, count(*) AS n,"
            " (list(interaction_id ORDER BY interaction_id))[1:5] AS ex FROM scores"
            " WHERE cluster_id IS NOT NULL GROUP BY cluster_id) c WHERE clusters.id = c.cluster_id"
        )
        store.conn.execute("CHECKPOINT")
    finally:
        store.close()
    return GenerateReport(str(path), n_written, n_turns, n_flags, time.perf_counter() - t0)


def _ensure_clusters(store: Store, topic_names: list[str], now: datetime) -> None:
    rows = [
        {"id": i + 1, "label": name, "terms": name.split(), "size": 0, "examples": [],
         "created_at": now, "updated_at": now}
        for i, name in enumerate(topic_names)
    ]
    store.insert_arrow("clusters", rows, skip_existing=("id",))


def _chunk(
    store: Store,
    rng: np.random.Generator,
    k: int,
    now: datetime,
    days: int,
    agent_names: list[str],
    agent_queue: np.ndarray,
    topic_names: list[str],
    topic_mean: np.ndarray,
    topic_p: np.ndarray,
    cust_phrases: list[str],
    topic_off: np.ndarray,
    topic_cnt: np.ndarray,
) -> tuple[int, int]:
    con = store.conn
    ids = np.array(
        [r[0] for r in con.execute("SELECT nextval('interaction_id_seq') FROM range(?)", [k]).fetchall()],
        dtype=np.int64,
    )
    ch = rng.choice(3, size=k, p=CHANNEL_P)
    # Daily rhythm: more traffic 9-17h; volume grows slightly towards today.
    day = np.floor(days * np.sqrt(rng.random(k)) - 1e-9).astype(np.int64)  # 0 = oldest
    hour = np.clip(rng.normal(13, 3.5, k), 0, 23.99)
    start_ts = (
        np.datetime64(now.replace(tzinfo=None), "s")
        - np.timedelta64(days - 1, "D")
        + (day * 86400).astype("timedelta64[s]")
        + (hour * 3600).astype(np.int64).astype("timedelta64[s]")
        - np.timedelta64(now.hour * 3600 + now.minute * 60, "s")
    )
    # Nothing in the future: those rows move back to an earlier day at the same hour.
    future = start_ts > np.datetime64(now.replace(tzinfo=None), "s")
    start_ts[future] -= rng.integers(1, days, int(future.sum())).astype("timedelta64[D]")
    duration = np.where(ch == 0, rng.gamma(3.0, 120.0, k), np.where(ch == 2, rng.gamma(2.0, 300.0, k), rng.gamma(2.0, 7200.0, k)))
    agent = rng.integers(0, len(agent_names), k)
    topic = rng.choice(len(topic_names), size=k, p=topic_p)
    sent = np.clip(topic_mean[topic] + rng.normal(0, 1.4, k), -5, 5)
    angry = (sent < -2.5) & (rng.random(k) < 0.7)
    cluster = np.where(rng.random(k) < 0.85, topic + 1, -1)
    src_idx = np.where(ch == 2, rng.integers(0, 3, k), 0)
    source = np.array(["dropfolder", "imap", "zendesk", "intercom", "front"])[
        np.where(ch == 0, 0, np.where(ch == 1, 1, 2 + src_idx))
    ]
    n_t = np.where(ch == 0, rng.integers(6, 11, k), np.where(ch == 2, rng.integers(4, 9, k), rng.integers(2, 5, k)))
    inter = pa.table({
        "id": ids,
        "channel": _take(list(CHANNELS), ch),
        "source": pa.array(source),
        "started_at": pa.array(start_ts.astype("datetime64[us]"), pa.timestamp("us", tz="UTC")),
        "duration": duration.round(1),
        "agent": _take(agent_names, agent),
        "customer_n": rng.integers(0, 200_000, k),
        "queue": _take(list(QUEUES), agent_queue[agent]),
        "topic": _take(topic_names, topic),
        "sent": sent.round(2),
        "anger": np.clip(np.where(angry, rng.uniform(0.7, 1.0, k), rng.uniform(0, 0.5, k)), 0, 1).round(3),
        "cluster": cluster,
        "n_turns": n_t,
        "talk": np.clip(rng.normal(48, 10, k), 10, 95).round(1),
        "nontalk": np.clip(rng.gamma(2, 4, k), 0, 80).round(1),
        "interrupt": rng.poisson(np.where(angry, 4, 1)),
        "awpm": rng.normal(160, 20, k).round(0),
        "cwpm": rng.normal(145, 25, k).round(0),
        "mono": rng.gamma(2, 15, k).round(1),
    })
    con.register("_gen_i", inter)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute(
            """
            INSERT INTO interactions (id, channel, source, external_id, version, started_at,
                ended_at, duration, agent, customer, customer_key, queue, direction, subject,
                language, status, content_hash, metadata)
            SELECT id, channel, source, 'gen-' || id, 1, started_at,
                started_at + to_seconds(duration), duration, agent,
                'Customer ' || customer_n, 'cust-' || customer_n, queue,
                CASE WHEN channel = 'call' THEN 'inbound' END,
                CASE WHEN channel = 'call' THEN NULL ELSE upper(topic[1]) || topic[2:] END,
                'en', 'analysed', md5('gen' || id), '{}'
            FROM _gen_i
            """
        )
        con.execute(
            """
            INSERT INTO scores (interaction_id, version, analysed_at, sentiment, sentiment_agent,
                sentiment_customer, customer_trend, agent_trend, anger, metrics, topics,
                keywords, top_topic, cluster_id, model, non_talk_pct, interruptions, agent_talk_ratio)
            SELECT id, 1, started_at + to_seconds(duration) + INTERVAL 5 MINUTE, sent,
                least(5, sent * 0.4 + 1.5), sent - 0.3,
                [sent - 0.8, sent - 0.2, sent + 0.2, sent + 0.5],
                [1.0, 1.2, 1.1, 1.4], anger,
                json_object('agent_talk_ratio', round(talk / 100, 4),
                            'agent_talk_share', round(talk / (talk + 40), 4),
                            'non_talk_pct', nontalk, 'interruptions', interrupt,
                            'words_per_minute', json_object('agent', awpm, 'customer', cwpm),
                            'longest_monologue_seconds', mono),
                json_array(json_object('topic', topic, 'score', 0.9)),
                string_split(topic, ' '), topic,
                CASE WHEN cluster > 0 THEN cluster END, 'generated',
                nontalk, interrupt, round(talk / 100, 4)  -- the columns analysis fills too
            FROM _gen_i
            """
        )
        n_turns = _turns(store, rng, inter, ids, ch, n_t, topic, sent, angry, start_ts,
                         duration, cust_phrases, topic_off, topic_cnt)
        n_flags = _flags(store, rng, ids, ch, angry, start_ts, now)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_gen_i")
    return n_turns, n_flags


def _turns(
    store: Store,
    rng: np.random.Generator,
    inter: pa.Table,
    ids: np.ndarray,
    ch: np.ndarray,
    n_t: np.ndarray,
    topic: np.ndarray,
    sent: np.ndarray,
    angry: np.ndarray,
    start_ts: np.ndarray,
    duration: np.ndarray,
    cust_phrases: list[str],
    topic_off: np.ndarray,
    topic_cnt: np.ndarray,
) -> int:
    total = int(n_t.sum())
    owner = np.repeat(np.arange(len(ids)), n_t)
    seq = np.arange(total) - np.repeat(np.cumsum(n_t) - n_t, n_t)
    # Text channels open with the customer; calls with the agent's greeting.
    is_call = ch[owner] == 0
    customer = (seq % 2 == 0) ^ is_call
    t_topic = topic[owner]
    cust_idx = topic_off[t_topic] + (rng.integers(0, 1 << 30, total) % topic_cnt[t_topic])
    agent_idx = np.where(seq == 0, 0, rng.integers(1, len(AGENT_PHRASES), total))
    agent_idx = np.where(is_call & (seq == 2), 8, agent_idx)  # the recording disclosure
    angry_turn = customer & angry[owner] & (rng.random(total) < 0.6)
    text_c = _take(cust_phrases, cust_idx)
    text_a = _take(list(AGENT_PHRASES), agent_idx)
    text_x = _take(list(ANGRY_PHRASES), rng.integers(0, len(ANGRY_PHRASES), total))
    text = pc.if_else(pa.array(customer), pc.if_else(pa.array(angry_turn), text_x, text_c), text_a)
    # Some customer turns carry PII; the analysis stage would redact it.
    pii = customer & (rng.random(total) < 0.08)
    pii_raw = [p.format(n=i) for p in PII_PHRASES for i in range(100)]
    pii_pick = rng.integers(0, len(pii_raw), total)
    pii_txt = _take(pii_raw, pii_pick)
    pii_red = _take([p.split(" on ")[0].split(" in ")[0] + (" on [PII]" if " on " in p else " in [PII]") for p in pii_raw], pii_pick)
    full = pc.if_else(pa.array(pii), pc.binary_join_element_wise(text, pii_txt, ", "), text)
    redacted = pc.if_else(pa.array(pii), pc.binary_join_element_wise(text, pii_red, ", "), text)
    # Times: calls get seconds from start; text channels get sent_at.
    span = duration[owner] / n_t[owner]
    start_s = seq * span
    turn_sent_at = start_ts[owner] + (start_s).astype(np.int64).astype("timedelta64[s]")
    base = sent[owner] / 5.0
    t_sent = np.clip(np.where(customer, base - 0.2, 0.3) + rng.normal(0, 0.25, total), -1, 1)
    t_sent = np.where(angry_turn, -0.85, t_sent)
    label = np.where(t_sent < -0.25, 0, np.where(t_sent > 0.25, 2, 1))
    a_ids = pa.array(ids[owner])
    a_seq = pa.array(seq.astype(np.int32))
    call_mask = pa.array(~is_call)  # True where NOT a call (null the call-only fields)
    turns = pa.table({
        "interaction_id": a_ids,
        "seq": a_seq,
        "speaker": pa.array(np.where(customer, "customer", "agent")),
        "speaker_name": pc.if_else(pa.array(customer), pa.nulls(total, pa.string()),
                                   inter.column("agent").take(pa.array(owner))),
        "start_s": pc.if_else(call_mask, pa.nulls(total, pa.float64()), pa.array(start_s.round(2))),
        "end_s": pc.if_else(call_mask, pa.nulls(total, pa.float64()), pa.array((start_s + span * 0.9).round(2))),
        "sent_at": pc.if_else(pa.array(is_call), pa.nulls(total, pa.timestamp("us", tz="UTC")),
                              pa.array(turn_sent_at.astype("datetime64[us]"), pa.timestamp("us", tz="UTC"))),
        "text": full,
    })
    store.insert_arrow("turns", turns, con=store.conn)
    scores = pa.table({
        "interaction_id": a_ids,
        "seq": a_seq,
        "sentiment": t_sent.round(3),
        "sentiment_label": _take(["negative", "neutral", "positive"], label),
        "anger": np.where(angry_turn, 0.9, np.clip(rng.uniform(0, 0.3, total), 0, 1)).round(3),
        "redacted_text": redacted,
    })
    store.insert_arrow("turn_scores", scores, con=store.conn)
    return total


def _flags(
    store: Store,
    rng: np.random.Generator,
    ids: np.ndarray,
    ch: np.ndarray,
    angry: np.ndarray,
    start_ts: np.ndarray,
    now: datetime,
) -> int:
    k = len(ids)
    flagged = angry | (rng.random(k) < 0.04)
    idx = np.nonzero(flagged)[0]
    if len(idx) == 0:
        return 0
    kind_p = np.array([fk[3] for fk in FLAG_KINDS])
    kind = np.where(angry[idx], 0, rng.choice(len(FLAG_KINDS), size=len(idx), p=kind_p / kind_p.sum()))
    sev = np.empty(len(idx), dtype=np.int16)
    for j, fk in enumerate(FLAG_KINDS):
        m = kind == j
        w = np.array(fk[2])
        sev[m] = rng.choice(4, size=int(m.sum()), p=w / w.sum()) + 1
    created = start_ts[idx] + np.timedelta64(20, "m")
    # Older flags have mostly been reviewed; recent ones are open.
    age_days = (np.datetime64(now.replace(tzinfo=None), "s") - created) / np.timedelta64(1, "D")
    reviewed = rng.random(len(idx)) < np.clip(age_days / 10, 0, 0.9)
    status = np.where(reviewed, np.where(rng.random(len(idx)) < 0.6, 1, 2), 0)
    fids = np.array(
        [r[0] for r in store.conn.execute("SELECT nextval('flag_id_seq') FROM range(?)", [len(idx)]).fetchall()],
        dtype=np.int64,
    )
    kinds = [fk[0] for fk in FLAG_KINDS]
    rules = [fk[1] for fk in FLAG_KINDS]
    summaries = [
        "customer anger above threshold", "recording disclosure not said",
        "customer intends to cancel", "refund above the agent's limit", "profanity used",
    ]
    a_kind = _take(kinds, kind)
    a_rule = _take(rules, kind)
    a_ids = pa.array(ids[idx])
    flags = pa.table({
        "id": fids,
        "interaction_id": a_ids,
        "kind": a_kind,
        "rule": a_rule,
        "dedupe_key": pc.binary_join_element_wise(pc.cast(a_ids, pa.string()), a_kind, a_rule, ":"),
        "severity": sev,
        "score": rng.uniform(0.5, 1.0, len(idx)).round(3),
        "summary": _take(summaries, kind),
        # Evidence as analysis/rules.py writes it, pointing at the customer's first turn
        # (seq 1 on calls, 0 in text channels); char_* index the turn's text.
        "evidence": _take(
            [f'[{{"seq": {s}, "speaker": "customer", "char_start": 0, "char_end": 24, '
             f'"condition": "{r}"}}]' for r in rules for s in (0, 1)],
            kind * 2 + (ch[idx] == 0).astype(np.int64),
        ),
        "created_at": pa.array(created.astype("datetime64[us]"), pa.timestamp("us", tz="UTC")),
        "review_status": _take(["open", "confirmed", "dismissed"], status),
        "reviewer": pc.if_else(pa.array(status > 0), pa.scalar("qa.lead"), pa.nulls(len(idx), pa.string())),
        "reviewed_at": pc.if_else(
            pa.array(status > 0),
            pa.array((created + np.timedelta64(2, "h")).astype("datetime64[us]"), pa.timestamp("us", tz="UTC")),
            pa.nulls(len(idx), pa.timestamp("us", tz="UTC")),
        ),
    })
    store.insert_arrow("flags", flags, con=store.conn)
    return len(idx)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("path", help="DuckDB file to create or append to")
    p.add_argument("-n", "--interactions", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--agents", type=int, default=60)
    p.add_argument("--now", help="ISO time that counts as now (default: this hour, UTC)")
    p.add_argument("--chunk", type=int, default=100_000)
    a = p.parse_args(argv)
    now = datetime.fromisoformat(a.now) if a.now else None
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    rep = generate(a.path, a.interactions, a.seed, now=now, days=a.days, agents=a.agents,
                   chunk=a.chunk, progress=True)
    size = Path(a.path).stat().st_size / 1e6 if Path(a.path).exists() else 0.0
    print(f"{'interactions':>14} {'turns':>10} {'flags':>8} {'wall s':>8} {'rows/s':>10} {'file MB':>8}")
    print(f"{rep.interactions:>14,} {rep.turns:>10,} {rep.flags:>8,} {rep.seconds:>8.1f} "
          f"{rep.interactions / max(rep.seconds, 1e-9):>10,.0f} {size:>8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
