#!/usr/bin/env python3
"""Alert latency with a backlog (issue 15): file landed in the drop folder → Slack alert.

Starts the real `convoscope serve` (a subprocess) against the local Slack fake
(tests/fakes/slack.py), with `--backlog` calls already waiting in its drop folder (made
from the sample calls other than the angry one, each re-encoded with a few ms of extra
silence so every file is a distinct call; started this morning, a minute apart). Once
ingest has taken the backlog and analysis is under way, the angry sample call is moved
into the drop folder (started "now", agent 9999) and the time until its alert is posted
to the fake Slack is measured. The angry call's own transcription time is then measured
in this process with the same [asr] configuration, for the target: ≤ 30 s + that time.

Configuration: the defaults, except ingest_interval_seconds = 5 (the default 60 s polling,
plus the drop folder's stable poll, would add up to two minutes before the file is even
read — that is polling, not analysis) and alerts.burst_threshold = 1000 (so the backlog's
own alerts are not held as a burst). The machine may be shared: the load is printed.

    python bench/alert_latency.py               # 50 queued calls
    python bench/alert_latency.py --backlog 10 --sentiment vader   # quicker
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SAMPLES = ROOT / "samples" / "calls"
PROBE = "call_01_angry_refund"
PROBE_AGENT = "9999"


def _module(name: str, path: Path) -> Any:
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules[name] = mod
        spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return sys.modules[name]


def cache_dir() -> Path:
    return Path(os.environ.get("CONVOSCOPE_CACHE", "~/.cache/convoscope")).expanduser()


def backlog_files(n: int) -> list[Path]:
    """n distinct calls (cached): the non-angry samples, re-encoded with k*10 ms of silence."""
    import numpy as np

    from analysis.asr.audio import load

    mc = _module("make_calls", ROOT / "samples" / "make_calls.py")
    out = cache_dir() / "bench" / "alert_backlog"
    out.mkdir(parents=True, exist_ok=True)
    sources = sorted(p for p in SAMPLES.glob("*.opus") if p.stem != PROBE)
    files = []
    for k in range(n):
        f = out / f"backlog_{k:03d}.opus"
        if not f.is_file():
            audio = load(sources[k % len(sources)]).channels
            pad = np.zeros(160 * (k + 1), np.float32)
            tmp = f.with_suffix(".tmp.opus")
            mc.write_opus(tmp, np.stack([np.concatenate([c, pad]) for c in audio]))
            tmp.replace(f)
        files.append(f)
    return files


def config(tmp: Path, fake: Any, sentiment: str) -> Path:
    cfg = tmp / "c.toml"
    cfg.write_text(f"""
[store]
path = "{tmp / 'bench.duckdb'}"
[service]
ingest_interval_seconds = 5
api_port = 0
[dropfolder]
path = "{tmp / 'drop'}"
[slack]
enabled = true
mode = "http"
bot_token = "${{BENCH_SLACK_BOT_TOKEN}}"
signing_secret = "${{BENCH_SLACK_SIGNING_SECRET}}"
api_base_url = "{fake.api_url}"
http_host = "127.0.0.1"
http_port = 0
[alerts]
default_channel = "C_ALERTS"
burst_threshold = 1000
""" + (f'[sentiment]\nbackend = "{sentiment}"\n' if sentiment else ""))
    return cfg


def wait(pred: Any, timeout: float, what: str, proc: subprocess.Popen | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"serve exited ({proc.returncode}) while waiting for {what}")
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def probe_alert(fake: Any) -> dict | None:
    for m in fake.alert_messages("C_ALERTS"):
        if f"agent {PROBE_AGENT}" in json.dumps(m):
            return m
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backlog", type=int, default=50)
    ap.add_argument("--sentiment", default="", help="[sentiment] backend (default: the configured default)")
    ap.add_argument("--warmup", type=float, default=20.0,
                    help="seconds after the backlog is ingested before the angry call lands")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (prints it)")
    args = ap.parse_args(argv)
    FakeSlack = _module("convoscope_fake_slack", ROOT / "tests" / "fakes" / "slack.py").FakeSlack
    files = backlog_files(args.backlog)
    tmp = Path(tempfile.mkdtemp(prefix="alert-latency-"))
    drop = tmp / "drop"
    drop.mkdir()
    morning = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    for k, f in enumerate(files):
        shutil.copy2(f, drop / f.name)  # old mtime: waiting since this morning
        (drop / f"{f.stem}.json").write_text(json.dumps(
            {"agent": str(1000 + k % 7), "queue": "support",
             "started_at": (morning + timedelta(minutes=k)).isoformat()}))  # fmt: skip
    load_before = os.getloadavg()
    env = {**os.environ, "BENCH_SLACK_BOT_TOKEN": "xoxb-bench", "BENCH_SLACK_SIGNING_SECRET": "s3cret",
           "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}  # fmt: skip
    log = tmp / "serve.log"
    t_start = time.time()
    with FakeSlack() as fake:
        cfg = config(tmp, fake, args.sentiment)
        with log.open("ab") as out:
            proc = subprocess.Popen([sys.executable, "-m", "convoscope", "--config", str(cfg), "serve"],
                                    env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp)  # fmt: skip
        try:
            wait(lambda: f"{args.backlog} new" in log.read_text(errors="replace"), 300, "the backlog's ingest", proc)
            t_ingested = time.time()
            time.sleep(args.warmup)
            # the angry call lands: sidecar first, then the audio renamed in (one atomic step)
            (drop / f"{PROBE}.json").write_text(json.dumps(
                {"agent": PROBE_AGENT, "queue": "billing", "started_at": datetime.now(UTC).isoformat()}))
            staging = tmp / f"{PROBE}.opus"
            shutil.copyfile(SAMPLES / f"{PROBE}.opus", staging)
            os.replace(staging, drop / f"{PROBE}.opus")
            t_land = time.time()
            msg = wait(lambda: probe_alert(fake), 1800, "the angry call's alert", proc)
            t_alert = float(msg["ts"])
            backlog_alerts = len(fake.alert_messages("C_ALERTS")) - 1
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    import duckdb

    con = duckdb.connect(str(tmp / "bench.duckdb"), read_only=True)
    try:
        status = dict(con.execute("SELECT status, count(*) FROM interactions GROUP BY 1").fetchall())
        probe_row = con.execute(
            "SELECT epoch(i.ingested_at), epoch(s.analysed_at) FROM interactions i "
            "LEFT JOIN scores s ON s.interaction_id = i.id WHERE i.agent = ?", [PROBE_AGENT]).fetchone()
        backlog_done = con.execute(
            "SELECT count(*) FROM interactions i JOIN scores s ON s.interaction_id = i.id "
            "WHERE i.agent <> ? AND epoch(s.analysed_at) <= ?", [PROBE_AGENT, t_alert]).fetchone()[0]
    finally:
        con.close()
    from analysis.asr import AsrOptions, Transcriber

    tr = Transcriber(AsrOptions(), cache_dir())
    own = tr.transcribe(SAMPLES / f"{PROBE}.opus")
    latency = t_alert - t_land
    target = 30.0 + own.wall_seconds
    rows = [
        ("calls queued before the angry call", f"{args.backlog}"),
        ("backlog ingested after serve start", f"{t_ingested - t_start:.1f} s"),
        ("angry call landed after the backlog's ingest", f"{t_land - t_ingested:.1f} s"),
        ("backlog calls analysed when its alert was posted", f"{backlog_done} of {args.backlog}"),
        ("landed -> ingested", f"{probe_row[0] - t_land:.1f} s" if probe_row and probe_row[0] else "?"),
        ("landed -> analysed (committed)", f"{probe_row[1] - t_land:.1f} s" if probe_row and probe_row[1] else "?"),
        ("landed -> Slack alert posted", f"{latency:.1f} s"),
        ("its own transcription (measured after, same config)", f"{own.wall_seconds:.1f} s "
         f"({own.duration:.0f} s of audio)"),
        ("target: 30 s + own transcription", f"{target:.1f} s -> {'met' if latency <= target else 'NOT met'}"),
        ("backlog alerts posted meanwhile", f"{backlog_alerts}"),
        ("statuses at stop", ", ".join(f"{k} {v}" for k, v in sorted(status.items()))),
    ]
    print(f"Alert latency with a backlog: convoscope serve + Slack fake; {os.cpu_count()} cores, "
          f"load average before {load_before[0]:.1f}/{load_before[1]:.1f} (shared machine), "
          f"sentiment {args.sentiment or 'default'}")
    w = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"  {k.ljust(w)}  {v}")
    if args.keep:
        print(f"kept: {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
