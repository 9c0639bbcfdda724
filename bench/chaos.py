"""Chaos benchmark: SIGKILL the real `convoscope` CLI many times per path, then count.

For each path a fresh store (the first kill lands in the very first run on a new file)
and a source with known items; the command is killed at seeded random moments (the
helper of tests/faults, `kill_loop`), after every kill the file must open with a plain
read-only `duckdb.connect` (WAL replayed, no doctor), then the command runs to
completion and every item is counted:

    path | kills | items expected | stored | quarantined | lost | duplicated | opens-after

`lost` = expected items neither stored nor quarantined; `duplicated` = extra rows for
one item (or, for analyze/patterns/serve, extra scores / turn_scores / flags / alerts for
one interaction); `opens-after` = kills after which the file opened / kills.

    python bench/chaos.py                         # every path, 50 kills each
    python bench/chaos.py --kills 10 --paths ingest-maildir,analyze
Run time on 2 busy cores: ~2 min per ingest path, ~10 min per model path (analyze,
patterns, serve load Whisper / MiniLM on every start).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT, ROOT / "tests" / "faults", ROOT / "tests" / "fakes",
              ROOT / "tests" / "connectors" / "email", ROOT / "bench"):
    if str(extra) not in sys.path:
        sys.path.append(str(extra))

from faultkit import (  # noqa: E402
    CommandFailed,
    analysis_duplicates,
    cli,
    cli_env,
    kill_loop,
    load_fake_slack,
    tally_items,
    write_maildir,
    write_mbox,
)


@dataclass
class Row:
    path: str
    kills: int
    expected: int
    stored: int
    quarantined: int
    lost: int
    duplicated: int
    opens: int
    seconds: float

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "kills": self.kills, "items expected": self.expected,
                "stored": self.stored, "quarantined": self.quarantined, "lost": self.lost,
                "duplicated": self.duplicated, "opens-after": f"{self.opens}/{self.kills}",
                "seconds": round(self.seconds)}


class Opens:
    """After each kill: does the file open read-only with a plain connect?"""

    def __init__(self, db: Path) -> None:
        self.db, self.ok, self.failed = db, 0, 0
        self.errors: list[str] = []

    def __call__(self, _i: int) -> None:
        if not self.db.exists():
            self.ok += 1  # killed before the file was created: nothing to open, nothing lost
            return
        try:
            duckdb.connect(str(self.db), read_only=True).close()
            self.ok += 1
        except duckdb.Error as exc:
            self.failed += 1
            self.errors.append(str(exc).splitlines()[0][:200])


def _email_counts(db: Path, source: str, ids: set[str]) -> tuple[int, int, int, int]:
    t = tally_items(db, source, ids, key_sql="trim(message_id, '<>')", table="email_messages")
    threads = tally_items(db, source, set())
    return t.stored, t.quarantined, t.lost, t.duplicated + threads.duplicated


def _loop(cfg: Path, args: list[str], db: Path, kills: int, seed: int, window: tuple[float, float],
          env: dict[str, str] | None = None, ok_codes: tuple[int, ...] = (0,),
          between: Callable[[int], None] | None = None) -> tuple[Opens, int]:
    opens = Opens(db)

    def after(i: int) -> None:
        opens(i)
        if between:
            between(i)

    run = kill_loop(cli(cfg, *args), seed=seed, kills=kills, window=window, env=env or cli_env(),
                    cwd=cfg.parent, ok_codes=ok_codes, between=after)
    # `between` also ran after runs that finished on their own; count kills only.
    opens.ok = run.kills - opens.failed
    return opens, run.kills


def path_ingest_maildir(work: Path, kills: int, seed: int) -> Row:

    ids = write_maildir(work / "mail", 300)
    cfg = work / "c.toml"
    cfg.write_text('[store]\npath = "k.duckdb"\n[email]\nagent_domains = ["acme.test"]\n'
                   '[[email.local]]\nkind = "maildir"\npath = "mail"\n')
    db = work / "k.duckdb"

    def more(i: int) -> None:  # mail keeps arriving, so every run has work to be killed in
        ids.update(write_maildir(work / "mail", 20, start=100_000 + 20 * i))

    opens, k = _loop(cfg, ["ingest"], db, kills, seed, (0.3, 3.0), between=more)
    return Row("ingest maildir", k, len(ids), *_email_counts(db, "maildir:%", ids), opens.ok, 0)


def path_ingest_mbox(work: Path, kills: int, seed: int) -> Row:

    ids = write_mbox(work / "a.mbox", 300)
    cfg = work / "c.toml"
    cfg.write_text('[store]\npath = "k.duckdb"\n[email]\nagent_domains = ["acme.test"]\n'
                   '[[email.local]]\nkind = "mbox"\npath = "a.mbox"\n')
    db = work / "k.duckdb"

    def more(i: int) -> None:
        ids.update(write_mbox(work / "a.mbox", 20, start=100_000 + 20 * i))

    opens, k = _loop(cfg, ["ingest"], db, kills, seed, (0.3, 3.0), between=more)
    return Row("ingest mbox", k, len(ids), *_email_counts(db, "mbox:%", ids), opens.ok, 0)


def path_ingest_imap(work: Path, kills: int, seed: int) -> Row:
    from mailtesting import PASSWORD, USER, launch_dovecot, make_cert, make_mail

    folder, cert, key = make_cert()
    server = launch_dovecot(cert, key)
    try:
        server.append("INBOX", [make_mail(i) for i in range(400)])
        ids = {f"m{i}@test" for i in range(400)}

        def more(i: int) -> None:
            start = 100_000 + 20 * i
            server.append("INBOX", [make_mail(n) for n in range(start, start + 20)])
            ids.update(f"m{n}@test" for n in range(start, start + 20))

        cfg = work / "c.toml"
        cfg.write_text(
            '[store]\npath = "k.duckdb"\n[email]\nagent_domains = ["acme.test"]\n'
            f'[[email.imap]]\nname = "s"\nhost = "127.0.0.1"\nport = {server.port}\n'
            f'security = "plain"\nusername = "{USER}"\npassword = "${{IMAP_PW}}"\nbatch_size = 200\n')
        db = work / "k.duckdb"
        opens, k = _loop(cfg, ["ingest"], db, kills, seed, (0.3, 4.0), env=cli_env(IMAP_PW=PASSWORD),
                         between=more)
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)
    return Row("ingest imap (dovecot)", k, len(ids), *_email_counts(db, "imap:%", ids), opens.ok, 0)


def path_ingest_chat(work: Path, kills: int, seed: int) -> Row:
    from vendors import ZendeskFake

    with ZendeskFake() as zd:
        zd.populate(150)
        cfg = work / "c.toml"
        cfg.write_text(
            '[store]\npath = "k.duckdb"\n'
            f'[[chat.zendesk]]\nname = "zd"\nbase_url = "{zd.url}"\nemail = "bot@acme.example"\n'
            'api_token = "${ZD_TOKEN}"\npage_size = 25\n')
        db = work / "k.duckdb"
        ids = {str(i) for i in range(1, 151)}

        def more(i: int) -> None:
            start = 1000 + 5 * i
            zd.populate(5, start_id=start, seed=i)
            ids.update(str(n) for n in range(start, start + 5))

        opens, k = _loop(cfg, ["ingest"], db, kills, seed, (0.3, 4.0), env=cli_env(ZD_TOKEN="zd-token"),
                         between=more)
    t = tally_items(db, "zendesk:zd", ids)
    return Row("ingest chat (zendesk fake)", k, len(ids), t.stored, t.quarantined, t.lost,
               t.duplicated, opens.ok, 0)


def path_ingest_dropfolder(work: Path, kills: int, seed: int) -> Row:
    from test_kill_ingest import write_calls

    shas, bad = write_calls(work / "drop", 80)
    cfg = work / "c.toml"
    cfg.write_text('[store]\npath = "k.duckdb"\n[dropfolder]\npath = "drop"\nsettle_seconds = 0\n'
                   'batch_size = 10\nmax_attempts = 1\n')
    db = work / "k.duckdb"

    def more(i: int) -> None:
        sub = work / "drop" / f"batch{i:03d}"
        new, _ = write_calls(sub, 3, freq0=3000 + 40 * i)
        shas.update(new)
        for extra in list(sub.glob("broken_*")):  # two bad files are enough
            extra.unlink()

    opens, k = _loop(cfg, ["ingest"], db, kills, seed, (0.3, 4.0), ok_codes=(0, 1), between=more)
    t = tally_items(db, "dropfolder", shas | bad)
    return Row("ingest drop folder (audio)", k, len(shas | bad), t.stored, t.quarantined, t.lost,
               t.duplicated, opens.ok, 0)


class _ChatSource:
    """A Zendesk fake with `chats` tickets (and the first `calls` sample calls in a drop
    folder), ingested once; `more(i)` adds two tickets and ingests them, so every analysis
    run killed later has new work in it."""

    def __init__(self, work: Path, calls: int, chats: int) -> None:
        from vendors import ZendeskFake

        self.work = work
        drop = work / "drop"
        drop.mkdir()
        for p in sorted((ROOT / "samples" / "calls").glob("*.opus"))[:calls]:
            shutil.copy(p, drop / p.name)
            shutil.copy(p.with_suffix(".json"), drop / p.with_suffix(".json").name)
        self.fake = ZendeskFake().start()
        self.fake.populate(chats)
        self.next_id = chats + 1
        self.cfg = work / "c.toml"
        self.cfg.write_text(
            '[store]\npath = "k.duckdb"\n[sentiment]\nbackend = "vader"\n[asr]\nbeam_size = 1\n'
            '[dropfolder]\npath = "drop"\nsettle_seconds = 0\n'
            f'[[chat.zendesk]]\nname = "zd"\nbase_url = "{self.fake.url}"\nemail = "bot@acme.example"\n'
            'api_token = "${ZD_TOKEN}"\n')
        self.env = cli_env(ZD_TOKEN="zd-token")
        self.db = work / "k.duckdb"
        self.ingest()

    def ingest(self) -> None:
        kill_loop(cli(self.cfg, "ingest"), seed=0, kills=0, window=(0, 0), env=self.env, cwd=self.work)

    def more(self, i: int) -> None:
        self.fake.populate(2, start_id=self.next_id, seed=i)
        self.next_id += 2
        self.ingest()

    def close(self) -> None:
        self.fake.stop()


def _analysis_row(name: str, db: Path, kills: int, opens: Opens, expected_status: str = "analysed") -> Row:
    con = duckdb.connect(str(db), read_only=True)
    try:
        n = con.execute("SELECT count(*) FROM interactions").fetchone()[0]  # type: ignore[index]
        done = con.execute("SELECT count(*) FROM interactions i WHERE status = ? AND EXISTS "
                           "(SELECT 1 FROM scores s WHERE s.interaction_id = i.id)",
                           [expected_status]).fetchone()[0]  # type: ignore[index]
        failed = con.execute("SELECT count(*) FROM interactions WHERE status = 'failed' "
                             "AND status_reason IS NOT NULL").fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    dups = analysis_duplicates(db)
    dup = dups["scores per interaction > 1"] + dups["turn_scores repeated"] + dups["flags repeated"]
    return Row(name, kills, int(n), int(done), int(failed), int(n) - int(done) - int(failed), dup,
               opens.ok, 0)


def path_analyze(work: Path, kills: int, seed: int) -> Row:
    src = _ChatSource(work, calls=1, chats=20)
    try:
        opens, k = _loop(src.cfg, ["analyze"], src.db, kills, seed, (1.5, 30.0), env=src.env,
                         between=src.more)
    finally:
        src.close()
    return _analysis_row("analyze (1 call + chats)", src.db, k, opens)


def path_patterns(work: Path, kills: int, seed: int) -> Row:
    src = _ChatSource(work, calls=0, chats=40)
    try:
        kill_loop(cli(src.cfg, "analyze"), seed=0, kills=0, window=(0, 0), env=src.env, cwd=work)
        opens, k = _loop(src.cfg, ["patterns", "run"], src.db, kills, seed, (1.0, 15.0), env=src.env)
    finally:
        src.close()
    row = _analysis_row("patterns run (40 chats)", src.db, k, opens)
    con = duckdb.connect(str(src.db), read_only=True)
    try:
        extra = con.execute("SELECT count(*) - count(DISTINCT interaction_id) FROM cluster_members").fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    row.duplicated += int(extra)
    return row


def path_serve(work: Path, kills: int, seed: int) -> Row:
    import re

    from vendors import ZendeskFake

    db = work / "k.duckdb"
    with ZendeskFake() as zd, load_fake_slack().FakeSlack() as slack:
        zd.populate(20)
        cfg = work / "c.toml"
        cfg.write_text(
            '[store]\npath = "k.duckdb"\n[service]\ningest_interval_seconds = 2\n'
            'analyze_interval_seconds = 2\napi_port = 0\napi_token = "${API_TOKEN}"\n'
            '[sentiment]\nbackend = "vader"\n'
            '[slack]\nenabled = true\nmode = "http"\nbot_token = "${SLACK_BOT_TOKEN}"\n'
            f'signing_secret = "${{SLACK_SIGNING_SECRET}}"\napi_base_url = "{slack.api_url}"\n'
            'http_host = "127.0.0.1"\nhttp_port = 0\n'
            '[alerts]\nmin_severity = "low"\ndefault_channel = "C_ALERTS"\nburst_threshold = 10000\n'
            f'[[chat.zendesk]]\nname = "zd"\nbase_url = "{zd.url}"\nemail = "bot@acme.example"\n'
            'api_token = "${ZD_TOKEN}"\n')
        env = cli_env(ZD_TOKEN="zd-token", API_TOKEN="t0ken", SLACK_BOT_TOKEN="xoxb",
                      SLACK_SIGNING_SECRET="s3cret")
        total = [20]
        rng = random.Random(seed)

        def more(i: int) -> None:
            if rng.random() < 0.5:
                zd.populate(2, start_id=total[0] + 1, seed=i)
                total[0] += 2

        opens = Opens(db)

        def after(i: int) -> None:
            opens(i)
            more(i)

        run = kill_loop(cli(cfg, "serve"), seed=seed, kills=kills, window=(3.0, 30.0), env=env,
                        cwd=work, between=after, finish=False)
        opens.ok = run.kills - opens.failed
        # To completion: serve until everything is analysed, then a clean stop.
        import httpx

        proc = subprocess.Popen(cli(cfg, "serve"), env=env, cwd=work, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        state = Path(f"{db}.service.json")
        try:
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                try:
                    st = json.loads(state.read_text())
                    if st.get("pid") == proc.pid:
                        r = httpx.post(f"http://127.0.0.1:{st['port']}/api/interactions/count",
                                       headers={"Authorization": "Bearer t0ken"},
                                       json={"filter": {"sentiment_min": -5}}, timeout=30)
                        if r.status_code == 200 and r.json()["count"] >= total[0]:
                            break
                except (OSError, ValueError, httpx.HTTPError):
                    pass
                time.sleep(0.5)
            time.sleep(3)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=120)
        posted = [int(x) for c in slack.of("chat.postMessage")
                  for x in re.findall(r"review_(\d+)", json.dumps(c.args))]
    row = _analysis_row(f"serve (+Slack fake; {len(posted)} alerts)", db, run.kills, opens)
    t = tally_items(db, "zendesk:zd", {str(i) for i in range(1, total[0] + 1)})
    row.lost += t.lost
    row.duplicated += t.duplicated + (len(posted) - len(set(posted)))
    return row


def _quiet_fakes() -> None:
    """A killed client resets its connection; the fakes' server threads would print a
    traceback for each (socketserver's default), burying the table."""
    import vendor_base

    original = vendor_base._Server.handle_error

    def handle_error(self: object, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            original(self, request, client_address)  # type: ignore[arg-type]

    vendor_base._Server.handle_error = handle_error  # type: ignore[method-assign]


PATHS: dict[str, Callable[[Path, int, int], Row]] = {
    "ingest-maildir": path_ingest_maildir,
    "ingest-mbox": path_ingest_mbox,
    "ingest-imap": path_ingest_imap,
    "ingest-chat": path_ingest_chat,
    "ingest-dropfolder": path_ingest_dropfolder,
    "analyze": path_analyze,
    "patterns": path_patterns,
    "serve": path_serve,
}


def run(kills: int = 50, paths: list[str] | None = None, seed: int = 1,
        model_kills: int | None = None) -> list[Row]:
    rows: list[Row] = []
    for i, name in enumerate(paths or list(PATHS)):
        k = kills if name.startswith("ingest") or model_kills is None else model_kills
        with tempfile.TemporaryDirectory(prefix=f"chaos-{name}-") as d:
            t0 = time.perf_counter()
            try:
                row = PATHS[name](Path(d), k, seed + i)
            except CommandFailed as exc:  # a run after a kill failed: that is a finding
                print(f"  {name}: FAILED: {exc}", file=sys.stderr, flush=True)
                row = Row(f"{name} FAILED", k, 0, 0, 0, -1, -1, 0, 0)
            row.seconds = time.perf_counter() - t0
        rows.append(row)
        print(f"  {name}: {row.as_dict()}", file=sys.stderr, flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=50, help="kills per path (default 50)")
    ap.add_argument("--model-kills", type=int, default=None,
                    help="kills for analyze/patterns/serve (default: --kills)")
    ap.add_argument("--paths", default=",".join(PATHS), help=f"comma-separated: {','.join(PATHS)}")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    from ingest_chat import table

    names = [p.strip() for p in a.paths.split(",") if p.strip()]
    unknown = set(names) - set(PATHS)
    if unknown:
        ap.error(f"unknown paths: {sorted(unknown)}")
    _quiet_fakes()
    rows = run(a.kills, names, a.seed, a.model_kills)
    print(table([r.as_dict() for r in rows]))
    print(f"(seed {a.seed}; lost and duplicated must be 0 in every row)")


if __name__ == "__main__":
    main()
