"""Peak memory of `convoscope serve` with every model loaded (issue #15: target <= 2 GB).

    python bench/serve_memory.py                  # default config: flair sentiment, ONNX encoder
    python bench/serve_memory.py --runtime torch  # the shared encoder in plain PyTorch
    python bench/serve_memory.py --precision float32  # ONNX float32 where auto picks bfloat16

Starts the real service (a subprocess, `python -m convoscope serve`) on a fresh DuckDB file
with the sample chats (Zendesk export) and two sample calls in a drop folder, so it loads
Whisper (ASR), the shared MiniLM pass and sentiment head, the anger scorer and the rule
engine, transcribes and analyses everything, then is stopped with SIGTERM. The process's
resident set is sampled from /proc every 0.2 s; the table gives the kernel's own high-water
mark (VmHWM) and the RSS once everything was analysed. Needs the model cache warm
(`convoscope models prepare`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runtime", choices=["auto", "onnx", "torch"], default="auto")
    ap.add_argument("--precision", choices=["auto", "float32", "bfloat16", "int8"], default="auto",
                    help="[analysis] encoder_precision (auto: bfloat16 on a CPU with native bf16)")
    ap.add_argument("--calls", type=int, default=2, help="sample calls copied into the drop folder")
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cs-serve-mem-"))
    drop = work / "drop"
    drop.mkdir()
    for audio in sorted((ROOT / "samples" / "calls").glob("*.opus"))[: args.calls]:
        shutil.copy(audio, drop / audio.name)
        side = audio.with_suffix(".json")
        if side.is_file():
            shutil.copy(side, drop / side.name)
    db = work / "mem.duckdb"
    cfg = work / "c.toml"
    cfg.write_text(f"""
[store]
path = "{db}"
[service]
ingest_interval_seconds = 2
analyze_interval_seconds = 2
api_port = 0
api_token = "${{BENCH_TOKEN}}"
[dropfolder]
path = "{drop}"
settle_seconds = 0.0
[analysis]
encoder_runtime = "{args.runtime}"
encoder_precision = "{args.precision}"
[[chat.exports]]
vendor = "zendesk"
path = "{ROOT / 'samples' / 'chat' / 'zendesk.json'}"
name = "samples"
""")
    env = {**os.environ, "BENCH_TOKEN": "bench", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "PYTHONPATH": str(ROOT)}
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "convoscope", "--config", str(cfg), "serve"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    state_file = Path(f"{db}.service.json")
    peak_rss = 0
    counts: dict[str, int] = {}
    done_at = None
    try:
        while time.monotonic() - t0 < args.timeout and proc.poll() is None:
            peak_rss = max(peak_rss, _status_kb(proc.pid, "VmRSS"))
            if state_file.exists():
                try:
                    state = json.loads(state_file.read_text())
                    r = httpx.post(f"http://127.0.0.1:{state['port']}/api/interactions/count",
                                   headers={"Authorization": "Bearer bench"},
                                   json={"filter": {"sentiment_min": -5}}, timeout=5)
                    n = r.json().get("count", 0) if r.status_code == 200 else 0
                    r2 = httpx.post(f"http://127.0.0.1:{state['port']}/api/interactions/count",
                                    headers={"Authorization": "Bearer bench"},
                                    json={"filter": {"sentiment_min": -5, "channel": "call"}}, timeout=5)
                    calls = r2.json().get("count", 0) if r2.status_code == 200 else 0
                    counts = {"analysed": n, "calls analysed": calls}
                    if calls >= args.calls and n > calls:
                        done_at = time.monotonic() - t0
                        time.sleep(3)  # a few more ticks with everything loaded
                        peak_rss = max(peak_rss, _status_kb(proc.pid, "VmRSS"))
                        break
                except (httpx.HTTPError, ValueError, KeyError):
                    pass
            time.sleep(0.2)
        hwm = _status_kb(proc.pid, "VmHWM") if proc.poll() is None else 0
        rss_now = _status_kb(proc.pid, "VmRSS") if proc.poll() is None else 0
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                out, _ = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
        else:
            out, _ = proc.communicate()
    rows = [
        ("encoder runtime, precision", f"{args.runtime}, {args.precision}"),
        ("interactions analysed", f"{counts.get('analysed', 0)} ({counts.get('calls analysed', 0)} calls)"),
        ("everything analysed after (s)", f"{done_at:.0f}" if done_at else "NOT REACHED"),
        ("peak RSS, kernel VmHWM (MB)", f"{hwm / 1024:.0f}  (target <= 2048)"),
        ("peak RSS, sampled (MB)", f"{peak_rss / 1024:.0f}"),
        ("RSS at the end (MB)", f"{rss_now / 1024:.0f}"),
    ]
    width = max(len(k) for k, _ in rows)
    print("convoscope serve, all models loaded (Whisper, MiniLM + sentiment head, anger, rules)")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    if not done_at:
        print(out[-3000:])
    shutil.rmtree(work, ignore_errors=True)
    return 0 if done_at else 1


if __name__ == "__main__":
    sys.exit(main())
