"""Email ingest benchmark: N messages from a local Dovecot, end to end into DuckDB.

    .venv/bin/python bench/ingest_email.py                # 2,500 / 5,000 / 10,000 messages
    .venv/bin/python bench/ingest_email.py --sizes 1000   # a quick run

For each size a folder is filled with that many messages by IMAP MULTIAPPEND (not timed):
threads of three (customer question, agent reply quoting it with a signature, customer
follow-up), ~1.5 KB each, every 25th HTML-only, every 50th with a 40 KB attachment. Then a
fresh process runs `ImapSource.sync` into a fresh DuckDB file (timed: IMAP fetch, MIME
parsing, quote stripping, threading, ledger and interaction upserts, commits) and reports
its wall time and peak RSS (one process per size, so each peak is its own). Memory should
stay flat as the mailbox grows, because messages are fetched and committed in batches.

`run(n)` returns the rows for sizes n/4, n/2 and n, for `bench/ingest.py` to combine.
Needs the Debian dovecot-imapd and openssl packages (`make sysdeps-test`).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "connectors" / "email"))
sys.path.insert(0, str(ROOT))

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
_PARA = (
    "I ordered the premium plan last month and was charged twice on my card. "
    "The second charge of 49.90 EUR appeared on the 3rd and I have not received any "
    "confirmation or invoice for it. Could you please check what happened and refund "
    "the duplicate payment? My customer number is {n} and the order reference is "
    "ORD-{n:06d}. I already tried the chat but nobody answered. "
)


def _message(i: int) -> bytes:
    """Message i of the synthetic mailbox (thread i // 3, position i % 3)."""
    thread, pos = divmod(i, 3)
    cust = f"Customer {thread} <customer{thread}@example.org>"
    root_id = f"t{thread}-0@bench.example.org"
    msg = EmailMessage()
    when = T0 + timedelta(minutes=7 * thread + 90 * pos)
    question = _PARA.format(n=thread) * 2
    if pos == 0:
        msg["From"], msg["To"] = cust, "support@acme.example"
        msg["Subject"] = f"Double charge on order ORD-{thread:06d}"
        body = f"Hello,\n\n{question}\n\nThanks,\nCustomer {thread}\n"
    elif pos == 1:
        msg["From"], msg["To"] = "Dana (Acme Support) <dana@acme.example>", cust
        msg["Subject"] = f"Re: Double charge on order ORD-{thread:06d}"
        quoted = "\n".join("> " + line for line in question.split(". "))
        body = (
            f"Hi Customer {thread},\n\nsorry for the trouble. I can see the duplicate charge "
            "and have refunded it; it should show on your statement within 5 business days.\n\n"
            "Best regards,\nDana\nAcme Support | +1 555 0100\n\n"
            f"On {format_datetime(when - timedelta(minutes=90))}, {cust} wrote:\n{quoted}\n"
        )
    else:
        msg["From"], msg["To"] = cust, "Dana (Acme Support) <dana@acme.example>"
        msg["Subject"] = f"Re: Re: Double charge on order ORD-{thread:06d}"
        body = (
            "Thank you, I can see the refund now. Great service!\n\n"
            f"On {format_datetime(when - timedelta(minutes=90))}, Dana wrote:\n> sorry for the trouble\n"
        )
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = f"<t{thread}-{pos}@bench.example.org>"
    if pos:
        msg["In-Reply-To"] = f"<t{thread}-{pos - 1}@bench.example.org>"
        msg["References"] = " ".join(f"<t{thread}-{k}@bench.example.org>" for k in range(pos))
        assert root_id in msg["References"]
    if i % 25 == 7:
        msg.set_content("<html><body><p>" + body.replace("\n", "<br>") + "</p></body></html>",
                        subtype="html")  # fmt: skip
    else:
        msg.set_content(body)
    if i % 50 == 13:
        msg.add_attachment(os.urandom(40_000), maintype="application", subtype="pdf",
                           filename=f"invoice-{thread}.pdf")  # fmt: skip
    return msg.as_bytes()


def _fill(server: object, folder: str, n: int) -> None:
    client = server.client()  # type: ignore[attr-defined]
    try:
        client.create_folder(folder)
        for start in range(0, n, 500):
            client.multiappend(folder, [_message(i) for i in range(start, min(n, start + 500))])
    finally:
        client.logout()


def _worker(port: int, folder: str, db: str) -> None:
    """Child process: one timed sync; prints a JSON line."""
    from mailtesting import PASSWORD, USER

    from connectors.email import ImapAccountOptions, ImapSource, MailSettings
    from store import Store

    account = ImapAccountOptions(
        name="bench", host="127.0.0.1", port=port, security="plain", username=USER,
        folders=[folder], batch_size=500,
    )  # fmt: skip
    settings = MailSettings(agent_domains=("acme.example",))
    store = Store.open(db)
    t, cpu = time.perf_counter(), time.process_time()
    report = ImapSource(account, PASSWORD, settings=settings).sync(store)
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    duck_mb = store.conn.execute(
        "SELECT sum(memory_usage_bytes) / 1048576 FROM duckdb_memory()"
    ).fetchone()[0]
    threads = store.conn.execute("SELECT count(*) FROM interactions").fetchone()[0]
    turns = store.conn.execute("SELECT count(*) FROM turns").fetchone()[0]
    store.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": peak_mb, "threads": threads,
                      "turns": turns, "quarantined": report.quarantined,
                      "duckdb_mb": float(duck_mb or 0)}))  # fmt: skip


def run(n: int = 10_000, sizes: list[int] | None = None) -> list[dict]:
    """Rows for sizes n/4, n/2, n (or `sizes`): messages, wall s, msgs/s, peak RSS."""
    from mailtesting import launch_dovecot, make_cert

    sizes = sizes or [n // 4, n // 2, n]
    cert_dir, cert, key = make_cert()
    server = launch_dovecot(cert, key)
    work = Path(tempfile.mkdtemp(prefix="convoscope-bench-email-"))
    rows = []
    try:
        for size in sizes:
            folder = f"Bench{size}"
            t = time.perf_counter()
            _fill(server, folder, size)
            fill_s = time.perf_counter() - t
            out = subprocess.run(
                [sys.executable, __file__, "--worker", str(server.port), folder,
                 str(work / f"bench{size}.duckdb")],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            res = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append({
                "source": "email (IMAP, local Dovecot)",
                "messages": size,
                "threads": res["threads"],
                "turns": res["turns"],
                "append_s (untimed)": round(fill_s, 1),
                "wall_s": round(res["wall_s"], 2),
                "msgs_per_s": round(size / res["wall_s"]),
                # the connector's own CPU time (the CPU may be shared; Dovecot not included)
                "cpu_s": round(res["cpu_s"], 2),
                "msgs_per_cpu_s": round(size / res["cpu_s"]),
                "peak_rss_mb": round(res["peak_rss_mb"]),
                # of which DuckDB's buffer manager holds (table data cached in memory)
                "duckdb_mb_at_end": round(res["duckdb_mb"]),
            })  # fmt: skip
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
        shutil.rmtree(cert_dir, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return rows


def _table(rows: list[dict]) -> str:
    cols = list(rows[0])
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in cols]
    line = " | ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))
    out = [line, "-+-".join("-" * w for w in widths)]
    out += [" | ".join(str(r[c]).ljust(w) for c, w in zip(cols, widths, strict=True)) for r in rows]
    return "\n".join(out)


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        _worker(int(sys.argv[2]), sys.argv[3], sys.argv[4])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=10_000, help="largest mailbox (default 10,000)")
    ap.add_argument("--sizes", type=int, nargs="*", help="explicit mailbox sizes")
    args = ap.parse_args()
    print(_table(run(args.n, args.sizes)))
    print(f"({os.cpu_count()} CPUs visible; the CPU may be shared with other work)")


if __name__ == "__main__":
    main()
