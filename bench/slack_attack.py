"""Issue #18's attack table, re-run against a real `convoscope serve` in Slack HTTP mode.

Starts the local Slack Web API fake (tests/fakes/slack.py), generates a small store,
writes a config with `[slack] mode = "http"` on loopback, runs `convoscope -v serve`
(INFO logging, as the issue's run) with its log in a file, and drives the endpoint as an
attacker would. Prints one row per case: case, expected, got. Then a latency line for
200 genuine signed questions, and what the audit log holds (read after the service
stopped, as DuckDB allows one process per file).

    python bench/slack_attack.py            # about a minute
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import http.client
import importlib.util
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after ROOT: bench/bot.py must not shadow the bot package

SECRET = "bench-signing-secret"
FORM = "application/x-www-form-urlencoded"
FIVE_MB = 5 * 1024 * 1024


def _fake_slack_module() -> Any:
    path = ROOT / "tests" / "fakes" / "slack.py"
    spec = importlib.util.spec_from_file_location("convoscope_fake_slack", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def sign(body: bytes, ts: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if ts is None else ts
    sig = hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={sig}"}


def post(port: int, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes, float]:
    """(status, headers, body, seconds); status 0 when no answer came."""
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest("POST", "/slack/events", skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        if "Content-Length" not in headers:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        with contextlib.suppress(OSError):  # answered (413) before the whole body was sent
            conn.send(body)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read(), time.perf_counter() - t0
    except (OSError, http.client.HTTPException):
        return 0, {}, b"", time.perf_counter() - t0
    finally:
        conn.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Run:
    def __init__(self, port: int, fake: Any, log: Path) -> None:
        self.port, self.fake, self.log = port, fake, log
        self.rows: list[tuple[str, str, str]] = []

    def log_size(self) -> int:
        return self.log.stat().st_size

    def new_log(self, since: int) -> str:
        with self.log.open("rb") as f:
            f.seek(since)
            return f.read().decode("utf-8", "replace")

    def calls(self, method: str, name: str | None = None) -> int:
        got = self.fake.of(method)
        if name is not None:
            got = [c for c in got if c.args.get("path", "").endswith(f"/{name}")]
        return len(got)

    def posted(self) -> int:
        return len([c for c in self.fake.calls if c.method != "auth.test"])

    def command(self, text: str, name: str, user: str = "U_SUPER", channel: str = "C_OPS") -> bytes:
        return urllib.parse.urlencode({
            "team_id": "T1", "channel_id": channel, "user_id": user, "command": "/convoscope",
            "text": text, "trigger_id": "t.1", "response_url": self.fake.response_url(name),
        }).encode()  # fmt: skip

    def button(self, user: str, channel: str, action_id: str, value: str | None, name: str) -> bytes:
        action = {"action_id": action_id, "block_id": "review_1", "type": "button", "action_ts": "1"}
        if value is not None:
            action["value"] = value
        payload = {"type": "block_actions", "user": {"id": user}, "team": {"id": "T1"},
                   "trigger_id": "t.9", "response_url": self.fake.response_url(name),
                   "container": {"type": "message", "channel_id": channel, "message_ts": "1.5"},
                   "actions": [action]}  # fmt: skip
        return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()

    def row(self, case: str, expected: str, got: str) -> None:
        self.rows.append((case, expected, got))
        print(f"  … {case}: {got}", file=sys.stderr)


def wait(pred: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def attack(run: Run, flag_id: int) -> dict[str, Any]:
    p = run.port
    facts: dict[str, Any] = {}

    # 1. the same valid signed request twice within the window
    body = run.command("calls today", "replay")
    h = {"Content-Type": FORM, **sign(body)}
    s1, s2 = post(p, body, h)[0], post(p, body, h)[0]
    wait(lambda: run.calls("response_url", "replay") >= 1)
    time.sleep(0.5)
    run.row("same signed request sent twice", "2nd refused; answered once, one audit row",
            f"{s1} then {s2}; answered {run.calls('response_url', 'replay')}x "
            "(audit rows: see below)")  # fmt: skip

    # 2. malformed JSON payload, unsigned
    before, posted = run.log_size(), run.posted()
    bad = b"payload=" + urllib.parse.quote('{"type": "block_actions", "actions": [{').encode()
    st = post(p, bad, {"Content-Type": FORM})[0]
    st2 = post(p, bad, {"Content-Type": FORM, "X-Slack-Signature": "v0=" + "0" * 64,
                        "X-Slack-Request-Timestamp": str(int(time.time()))})[0]  # fmt: skip
    new = run.new_log(before)
    run.row("malformed JSON payload, unsigned", "401, nothing parsed",
            f"{st} (no signature), {st2} (forged); traceback in log: {'Traceback' in new}; "
            f"log +{len(new.encode())} B in {len(new.splitlines())} lines; posts {run.posted() - posted}")  # fmt: skip

    # 3. malformed or array payload, signed
    before = run.log_size()
    got = []
    for raw in (b"payload=" + urllib.parse.quote("{nope").encode(),
                b"payload=" + urllib.parse.quote('[{"type": "block_actions"}]').encode(),
                b'[{"type": "event_callback"}]'):  # fmt: skip
        ctype = "application/json" if raw.startswith(b"[") else FORM
        got.append(post(p, raw, {"Content-Type": ctype, **sign(raw)})[0])
    lines = [ln.split(": ", 1)[-1] for ln in run.new_log(before).splitlines() if "slack http" in ln]
    run.row("malformed / array payload, signed", "400 with a clear log line",
            f"{got}; log: {lines[0] if lines else '(none)'!r}")

    # 4. non-numeric timestamp
    body = run.command("calls today", "ts")
    got = []
    for ts in ("abc", "1e9", "-5", "17000000000.5"):
        h = {"Content-Type": FORM, **sign(body)}
        h["X-Slack-Request-Timestamp"] = ts
        got.append(post(p, body, h)[0])
    run.row("non-numeric X-Slack-Request-Timestamp", "401", f"{got}")

    # 5. a signed Confirm with a mangled button value: supervisor, then an outsider
    before_eph = run.calls("chat.postEphemeral")
    raw = run.button("U_SUPER", "C_OPS", "flag_confirm", "{mangled", "m1")
    t0 = time.perf_counter()
    st = post(p, raw, {"Content-Type": FORM, **sign(raw)})[0]
    ms = (time.perf_counter() - t0) * 1000
    wait(lambda: run.calls("chat.postEphemeral") > before_eph)
    eph = run.fake.of("chat.postEphemeral")[before_eph:]
    raw = run.button("U_STRANGER", "C_RANDOM", "flag_confirm", "{mangled", "m2")
    st2 = post(p, raw, {"Content-Type": FORM, **sign(raw)})[0]
    wait(lambda: run.calls("chat.postEphemeral") > before_eph + 1)
    eph2 = run.fake.of("chat.postEphemeral")[before_eph + 1:]
    run.row("signed Confirm, mangled button value", "clear ephemeral error; role check first; audited",
            f"supervisor: {st} in {ms:.0f} ms, ephemeral {eph[0].args['text'][:40]!r}…; "
            f"outsider: {st2}, ephemeral {eph2[0].args['text']!r} (audit rows: see below)"
            if eph and eph2 else f"{st}, {st2}: no ephemeral message")  # fmt: skip

    # 6. Dismiss on a flag id that does not exist
    before_eph, before_views = run.calls("chat.postEphemeral"), run.calls("views.open")
    raw = run.button("U_SUPER", "C_OPS", "flag_dismiss", json.dumps({"flag": 99_999_999}), "d1")
    st = post(p, raw, {"Content-Type": FORM, **sign(raw)})[0]
    wait(lambda: run.calls("chat.postEphemeral") > before_eph)
    eph = run.fake.of("chat.postEphemeral")[before_eph:]
    run.row("Dismiss on a flag id that does not exist", '"flag no longer exists"',
            f"{st}; ephemeral {eph[0].args['text']!r}; modal opened: "
            f"{run.calls('views.open') > before_views}" if eph else f"{st}: nothing said")  # fmt: skip

    # 7. a 5 MB unsigned body (twice, as in the issue)
    before, posted = run.log_size(), run.posted()
    big = b"payload=" + b"A" * FIVE_MB
    got, secs = [], []
    for _ in range(2):
        st, _h, _b, dt = post(p, big, {"Content-Type": FORM})
        got.append(st)
        secs.append(dt)
    grown = run.log_size() - before
    run.row("5 MB unsigned body (x2)", "refused > 1 MB before reading; body never logged",
            f"{got} in {max(secs) * 1000:.0f} ms max; log +{grown} B; posts {run.posted() - posted}")

    # 8. a 5 MB signed question, and a 900 KB one (under the body cap)
    big = run.command("angry calls " + "x" * FIVE_MB, "big")
    st = post(p, big, {"Content-Type": FORM, **sign(big)})[0]
    long_q = "angry calls today " + "and more " * 100_000
    body = run.command(long_q, "long")
    st2 = post(p, body, {"Content-Type": FORM, **sign(body)})[0]
    wait(lambda: run.calls("response_url", "long") >= 1)
    reply = [c.args.get("text", "") for c in run.fake.of("response_url") if c.args["path"].endswith("/long")]
    run.row("5 MB signed question", "questions capped at a documented length",
            f"{st} (over the 1 MB body cap); a {len(long_q) // 1000} KB one: {st2}, "
            f"reply {reply[0][:60]!r}… (audit text: see below)" if reply else f"{st}, {st2}: no reply")  # fmt: skip

    # 9. Slack's retry of an event (same event_id, signed afresh, X-Slack-Retry-Num)
    ev = json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1",
                     "event_id": "EvBench1", "event_time": int(time.time()),
                     "authorizations": [{"user_id": "UBOT", "team_id": "T1", "is_bot": True}],
                     "event": {"type": "app_mention", "user": "U_SUPER", "channel": "C_SUPERS",
                               "text": "<@UBOT> calls this week", "ts": "1.1"}}).encode()  # fmt: skip
    before_msgs = run.calls("chat.postMessage")
    st = post(p, ev, {"Content-Type": "application/json", **sign(ev)})[0]
    wait(lambda: run.calls("chat.postMessage") > before_msgs)
    st2, hdrs, _b, _t = post(p, ev, {"Content-Type": "application/json", **sign(ev, int(time.time()) + 1),
                                     "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    time.sleep(0.5)
    run.row("Slack retry of an event (X-Slack-Retry-Num)", "acknowledged, handler not run twice",
            f"{st} then {st2} (X-Slack-No-Retry: {hdrs.get('x-slack-no-retry')}); "
            f"replies posted {run.calls('chat.postMessage') - before_msgs}")

    # 10. the rest of the first paragraph, still true
    body = run.command("calls today", "misc")
    got = {
        "wrong secret": post(p, body, {"Content-Type": FORM, **sign(body + b"x")})[0],
        "stale": post(p, body, {"Content-Type": FORM, **sign(body, int(time.time()) - 301)})[0],
        "future": post(p, body, {"Content-Type": FORM, **sign(body, int(time.time()) + 301)})[0],
    }
    run.row("wrong / stale / future signatures", "401", str(got))

    # latency of genuine signed questions (each unique, so none is a replay)
    lat = []
    for i in range(200):
        body = run.command(f"calls today #{i}", f"lat{i}")
        st, _h, _b, dt = post(p, body, {"Content-Type": FORM, **sign(body)})
        assert st == 200, st
        lat.append(dt * 1000)
    lat.sort()
    facts["latency"] = (statistics.median(lat), lat[int(0.95 * (len(lat) - 1))], max(lat))
    return facts


def guard_costs(tmp: Path, n: int = 300) -> str:
    """What the guard adds per request, measured in this process: the HMAC check of a
    typical 1 KB body, and the replay cache in memory and with the store table."""
    from bot.replay import ReplayCache
    from store import Store

    body = b"x" * 1024
    t = time.perf_counter()
    for _ in range(n):
        expected = "v0=" + hmac.new(SECRET.encode(), b"v0:1:" + body, hashlib.sha256).hexdigest()
        hmac.compare_digest(expected.encode(), expected.encode())
    verify = (time.perf_counter() - t) / n * 1e6
    out = [f"HMAC check {verify:.1f} µs"]
    with Store.open(tmp / "replay-cost.duckdb") as s:
        for name, store in (("memory", None), ("memory + store", s)):
            cache = ReplayCache(store=store)
            t = time.perf_counter()
            for i in range(n):
                cache.first_seen(f"sig:{i}")
            out.append(f"replay cache ({name}) {(time.perf_counter() - t) / n * 1000:.3f} ms")
    return "; ".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-replay-store", action="store_true",
                    help="[slack] replay_store = false (memory-only replay cache)")
    args = ap.parse_args()
    from generate_store import generate

    fake_mod = _fake_slack_module()
    tmp = Path(tempfile.mkdtemp(prefix="slack-attack-"))
    db = tmp / "attack.duckdb"
    generate(db, 200, 3)
    from store import Store
    from store import flags as store_flags

    with Store.open(db) as s:
        flag_id = int(s.conn.execute("SELECT min(id) FROM flags").fetchone()[0])
        assert store_flags.get(s, flag_id) is not None
    port = free_port()
    log = tmp / "service.log"
    with fake_mod.FakeSlack() as fake:
        cfg = tmp / "c.toml"
        cfg.write_text(f"""
[store]
path = "{db}"
[service]
ingest_interval_seconds = 3600
analyze_interval_seconds = 3600
api_port = 0
[sentiment]
backend = "vader"
[slack]
enabled = true
mode = "http"
bot_token = "xoxb-bench"
signing_secret = "${{BENCH_SLACK_SECRET}}"
api_base_url = "{fake.api_url}"
http_host = "127.0.0.1"
http_port = {port}
replay_store = {"false" if args.no_replay_store else "true"}
[alerts]
enabled = false
[access.supervisors]
users = ["U_SUPER"]
channels = ["C_SUPERS"]
""")
        env = {**os.environ, "BENCH_SLACK_SECRET": SECRET, "HF_HUB_OFFLINE": "1",
               "PYTHONPATH": str(ROOT)}  # fmt: skip
        with log.open("wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "convoscope", "-v", "--config", str(cfg), "serve"],
                                    env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)  # fmt: skip
        try:
            up = wait(lambda: post(port, b"", {})[0] in (400, 401, 411), 120)
            if not up:
                print(log.read_text()[-3000:], file=sys.stderr)
                return 1
            run = Run(port, fake, log)
            facts = attack(run, flag_id)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
    with Store.open(db) as s:
        audit = s.conn.execute("SELECT action, actor, target, detail FROM audit_log ORDER BY id").fetchall()
    replay_rows = [a for a in audit if a[0] == "ask" and '"question": "calls today"' in a[3]]
    by_action: dict[str, int] = {}
    for a in audit:
        by_action[a[0]] = by_action.get(a[0], 0) + 1
    longest = max(len(a[3]) for a in audit)

    w = (44, 50)
    print(f"\nIssue #18 attack table — `convoscope serve`, [slack] mode = \"http\", loopback ({time.strftime('%Y-%m-%d %H:%M')})\n")
    print(f"{'case':{w[0]}} | {'expected':{w[1]}} | got")
    print(f"{'-' * w[0]}-+-{'-' * w[1]}-+-{'-' * 40}")
    for case, expected, got in run.rows:
        print(f"{case:{w[0]}} | {expected:{w[1]}} | {got}")
    p50, p95, mx = facts["latency"]
    print(f"\nreplay_store = {not args.no_replay_store}; guard costs: {guard_costs(tmp)}")
    print(f"200 genuine signed questions, sequential: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {mx:.1f} ms")
    print(f"audit log after the run: {len(replay_rows)} row(s) for the replayed question; rows by action: "
          f"{dict(sorted(by_action.items()))}; longest detail {longest} chars")
    malformed = [a for a in audit if a[0] == "review.malformed"]
    refused = [a for a in audit if a[0] == "review.refused"]
    missing = [a for a in audit if a[0] == "review.missing"]
    print(f"  review.malformed by {[a[1] for a in malformed]}, review.refused by {[a[1] for a in refused]}, "
          f"review.missing {[a[2] for a in missing]}")
    print(f"service log: {log.stat().st_size:,} bytes in total ({log})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
