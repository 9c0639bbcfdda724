"""Answer latency of the bot's question engine on a large generated store.

Slack allows 3 s to acknowledge; the bot acks first, but an answer should still feel
instant. Target: p95 <= 300 ms per question on 1,000,000 interactions.

The store comes from `bench/generate_store.py` (created when `--db` does not exist yet).
Each question is asked once to warm up, then `--repeat` times; the table shows p50/p95
per question and overall, plus the process's peak RSS. After the typed questions the regex
parser understands come the views only a typed query asks yet (#14: ranking, breakdown,
comparison, negation, metric condition, text search), answered by `Engine.answer_query`.
Text questions need the store's search index: built here (`refresh_search_index`, a few
minutes at 1M) when the generated store has none.

    python bench/bot.py --db /tmp/convoscope-bench-1m.duckdb -n 1000000 --repeat 20 --alerts 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: The yardstick timed after every run: one scan and group-by of the million interactions.
#: On a shared, loaded machine the question times move with the load; their ratio to this
#: query (same process, same moment) moves much less, so "x ref" compares runs across loads.
REFERENCE = "SELECT channel, count(*) FROM interactions GROUP BY channel"

QUESTIONS = (
    "angry calls today?",
    "compliance violations this week",
    "escalations yesterday in billing",
    "emails about refunds since Monday",
    "show call {call_id}",
    "how is agent {agent} doing this week?",
    "how many chats today vs yesterday",
    "top topics this week",
    "rising issues this week",
    "calls today",
    "flagged interactions in the last 30 days",
)


def typed_questions(now: datetime, agent: str) -> list[tuple[str, object]]:
    """The views the regex parser cannot ask yet (#14), as typed queries: (label, Query)."""
    from datetime import timedelta

    from store.query import Compare, Match, Measure, Query, Span

    week = Span(now - timedelta(days=7), now, "the last 7 days")
    prev = Span(now - timedelta(days=14), now - timedelta(days=7), "the 7 days before")
    angry = Match("flag", ("angry",))
    return [
        ("ranking: agents by angry calls, week", Query(
            subject="agents", view="ranking", period=week, filters=(angry, Match("channel", ("call",))))),
        ("breakdown: avg sentiment by queue, week", Query(
            view="breakdown", period=week, group_by=("queue",),
            measures=(Measure("average", "sentiment"), Measure("count"), Measure("rate", flag="angry")))),
        ("comparison: calls week vs week before", Query(
            view="comparison", period=week, compare_to=prev, filters=(Match("channel", ("call",)),),
            measures=(Measure("count"), Measure("average", "sentiment")))),
        ("comparison by queue: angry, week vs before", Query(
            view="comparison", period=week, compare_to=prev, filters=(angry,), group_by=("queue",))),
        ("negation: calls not in billing, week", Query(
            view="list", period=week, filters=(Match("channel", ("call",)), Match("queue", ("billing",), negate=True)))),
        ("metric: calls longer than 10 min, week", Query(
            view="list", period=week, filters=(Match("channel", ("call",)), Compare("duration", ">", 600)))),
        ("metric: silence over 30%, week (count)", Query(
            view="count", period=week, filters=(Compare("silence_pct", ">", 0.3),))),
        ("text: calls mentioning refund, week", Query(
            view="list", period=week, filters=(Match("channel", ("call",)), Match("text", ("refund",))))),
        ("text+flag: angry mentioning refund, week", Query(
            view="count", period=week, filters=(angry, Match("text", ("refund",))))),
        ("ranking: agent by avg anger, not angry", Query(
            subject="agents", view="ranking", period=week, filters=(Match("flag", ("angry",), negate=True),),
            measures=(Measure("average", "anger"),))),
        (f"list: agent {agent}, sentiment < -0.25", Query(
            view="list", period=week, filters=(Match("agent", (agent,)), Compare("sentiment", "<", -0.25)))),
    ]


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(q * (len(s) - 1))))
    return s[k]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", default="/tmp/convoscope-bench-1m.duckdb", help="store (generated if missing)")
    p.add_argument("-n", "--interactions", type=int, default=1_000_000, help="size when generating")
    p.add_argument("--repeat", type=int, default=20, help="timed runs per question")
    p.add_argument("--timezone", default="Europe/Berlin")
    p.add_argument("--role", default="supervisor", choices=("supervisor", "viewer"))
    p.add_argument("--alerts", type=int, default=0, metavar="N",
                   help="also time N alerts from flag commit to post (writes N flags)")
    p.add_argument("--only", action="append", default=[], metavar="TEXT",
                   help="time only the questions whose text contains TEXT (repeatable)")
    a = p.parse_args(argv)

    import psutil

    from bot.questions import Engine
    from store import Store
    from store import questions as sq
    from store.interactions import count_by_status

    path = Path(a.db)
    if not path.exists():
        from generate_store import generate

        print(f"generating {a.interactions:,} interactions into {path} …", file=sys.stderr)
        rep = generate(path, a.interactions, 7, progress=True)
        print(f"generated in {rep.seconds:.0f} s", file=sys.stderr)
    store = Store.open(path)
    from store.search import _index_exists, load_fts, refresh_search_index

    if not (load_fts(store.cursor()) and _index_exists(store.cursor())):
        print("building the search index (text questions) …", file=sys.stderr)
        t0 = time.perf_counter()
        refresh_search_index(store, force=True)
        print(f"indexed in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    only = [x.lower() for x in a.only]
    n = sum(count_by_status(store).values())
    call_id = sq.latest_id(store, "call")
    agent = sq.busiest_agents(store, 1)[0]
    engine = Engine(store, ZoneInfo(a.timezone), clock=lambda: datetime.now(UTC))
    proc = psutil.Process()
    rows = []
    everything: list[float] = []
    ref_all: list[float] = []

    def reference() -> float:
        """A fixed query timed right after each run (see REFERENCE): the machine's speed now."""
        t0 = time.perf_counter()
        store.cursor().execute(REFERENCE).fetchall()
        ms = (time.perf_counter() - t0) * 1000
        ref_all.append(ms)
        return ms

    load0 = os.getloadavg()
    for template in QUESTIONS:
        q = template.format(call_id=call_id, agent=agent)
        if only and not any(x in q.lower() for x in only):
            continue
        first = engine.ask(q, role=a.role)
        times, refs = [], []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            engine.ask(q, role=a.role)
            times.append((time.perf_counter() - t0) * 1000)
            refs.append(reference())
        everything += times
        rows.append((q, first.intent, first.total if first.total is not None else len(first.items),
                     statistics.median(times), _pct(times, 0.95), statistics.median(refs)))  # fmt: skip
    now = datetime.now(UTC)
    for label, tq in typed_questions(now, agent):
        if only and not any(x in label.lower() for x in only):
            continue
        first = engine.answer_query(tq, role=a.role)  # type: ignore[arg-type]
        times, refs = [], []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            engine.answer_query(tq, role=a.role)  # type: ignore[arg-type]
            times.append((time.perf_counter() - t0) * 1000)
            refs.append(reference())
        everything += times
        rows.append((label, first.intent, first.total if first.total is not None else len(first.items),
                     statistics.median(times), _pct(times, 0.95), statistics.median(refs)))  # fmt: skip
    peak = getattr(proc.memory_info(), "rss", 0) / 1e6
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    except ImportError:
        pass
    print(f"store: {path} — {n:,} interactions; {a.repeat} runs per question; role {a.role}")
    load1 = os.getloadavg()
    print(f"load average (1/5/15 min) at start {load0[0]:.1f}/{load0[1]:.1f}/{load0[2]:.1f}, "
          f"at end {load1[0]:.1f}/{load1[1]:.1f}/{load1[2]:.1f}; {os.cpu_count()} CPUs")
    print(f"ref = {REFERENCE!r}, timed after each run; x ref = p50 / ref p50 (machine-independent-ish)")
    print(f"{'question':<46} {'intent':<10} {'hits':>8} {'p50 ms':>8} {'p95 ms':>8} {'ref ms':>7} {'x ref':>6}")
    for q, intent, hits, p50, p95, ref in rows:
        print(f"{q[:46]:<46} {intent:<10} {hits:>8,} {p50:>8.1f} {p95:>8.1f} {ref:>7.1f} {p50 / ref:>6.1f}")
    ref50 = statistics.median(ref_all)
    print(f"{'all questions':<46} {'':<10} {'':>8} {statistics.median(everything):>8.1f} "
          f"{_pct(everything, 0.95):>8.1f} {ref50:>7.1f} {statistics.median(everything) / ref50:>6.1f}")  # fmt: skip
    print(f"peak RSS {peak:,.0f} MB")
    if a.alerts:
        _alert_latency(store, a.alerts, ZoneInfo(a.timezone))
    store.close()
    return 0


def _alert_latency(store: object, n: int, tz: ZoneInfo) -> None:
    """Commit a new critical flag, time until the scheduled alert job has posted it to a
    local fake Slack API (the service's own 2 s interval; no direct trigger)."""
    import importlib.util

    from apscheduler.schedulers.background import BackgroundScheduler
    from slack_sdk import WebClient

    from bot.options import AccessOptions, AlertOptions, SlackOptions
    from bot.service import attach
    from store import flags as store_flags
    from store import questions as sq
    from store.records import Flag

    path = Path(__file__).resolve().parents[1] / "tests" / "fakes" / "slack.py"
    spec = importlib.util.spec_from_file_location("convoscope_fake_slack", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    lat = []
    with mod.FakeSlack() as fake:
        sched = BackgroundScheduler(timezone=tz)
        handle = attach(sched, store, slack=SlackOptions(api_base_url=fake.api_url),  # type: ignore[arg-type]
                        alerts=AlertOptions(default_channel="C_BENCH", burst_threshold=1000),
                        digests=[], access=AccessOptions(), tz=tz,
                        web_client=WebClient(token="xoxb", base_url=fake.api_url),
                        start_listener=False)  # fmt: skip
        sched.start()
        try:
            base = sq.latest_id(store) or 1  # type: ignore[arg-type]
            for k in range(n):
                iid = base - k
                t0 = time.perf_counter()
                store_flags.replace_for_interaction(store, iid, [  # type: ignore[arg-type]
                    Flag(interaction_id=iid, kind=f"bench_alert_{time.time_ns()}", severity=4,
                         summary="bench")])  # fmt: skip
                fake.wait_for("chat.postMessage", k + 1, timeout=30)
                lat.append(time.perf_counter() - t0)
        finally:
            sched.shutdown(wait=True)
            handle.stop()
    print(f"alert latency (flag commit -> chat.postMessage, {n} flags): "
          f"p50 {statistics.median(lat):.2f} s, max {max(lat):.2f} s (target <= 5 s)")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
