"""Kill the real `convoscope` CLI at random moments, then check what it left behind.

`kill_loop` starts the command in a subprocess (its own process group), lets it run for
a seeded random time and SIGKILLs it, as an OOM kill or a power cut would; it repeats
that a bounded number of times and then runs the command to completion. Nothing is
mocked: the DuckDB file, the WAL and the sources are real. The invariants shared by
every path live here too (`check_store`), so `bench/chaos.py` runs exactly what the tests
run, only with more kills.

(A plainly named module, not a package: tests/ directories have no __init__.py.)
"""

from __future__ import annotations

import mailbox
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
for _extra in (TESTS, TESTS / "connectors" / "email", TESTS / "fakes"):  # also run by bench/chaos.py
    if str(_extra) not in sys.path:
        sys.path.append(str(_extra))

from mailtesting import make_mail  # noqa: E402
from scriptload import load_script  # noqa: E402


def default_kills(n: int) -> int:
    """Kills per path: `n` by default, $CONVOSCOPE_FAULT_KILLS for `make soak`."""
    raw = os.environ.get("CONVOSCOPE_FAULT_KILLS", "")
    return int(raw) if raw.strip() else n


def cli_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", **extra}
    env.pop("CONVOSCOPE_CONFIG", None)
    return env


def cli(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "convoscope", "--config", str(config), *args]


@dataclass
class KillRun:
    """What a kill loop did: how many processes were killed, how many runs finished on
    their own first (their exit codes were checked), and the final run's output."""

    kills: int = 0
    finished_early: int = 0
    delays: list[float] = field(default_factory=list)
    final_rc: int | None = None
    final_output: str = ""
    outputs: list[str] = field(default_factory=list)


class CommandFailed(AssertionError):
    pass


def _run_once(cmd: Sequence[str], env: dict[str, str], cwd: Path | None, delay: float | None,
              timeout: float) -> tuple[int | None, str, float]:
    """Run `cmd`; SIGKILL its process group after `delay` s. (rc or None if killed, output, s)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(list(cmd), env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout if delay is None else delay)
        return proc.returncode, out, time.monotonic() - t0
    except subprocess.TimeoutExpired:
        if delay is None:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            raise CommandFailed(f"{' '.join(cmd)} did not finish in {timeout} s:\n{out[-3000:]}") from None
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return None, out, time.monotonic() - t0


def kill_loop(
    cmd: Sequence[str],
    *,
    seed: int,
    kills: int,
    window: tuple[float, float],
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    ok_codes: tuple[int, ...] = (0,),
    between: Callable[[int], None] | None = None,
    finish: bool = True,
    timeout: float = 600.0,
) -> KillRun:
    """Kill `cmd` `kills` times at seeded random moments in `window` (seconds after start),
    then (if `finish`) run it to completion. A run that ends before its kill must exit with
    one of `ok_codes` (a run after a kill failing is exactly the bug this looks for); the
    window then shrinks to that run's length so the next kills land while work remains.
    `between(i)` runs after each attempt (e.g. to add new source items or check the file).
    """
    rng = random.Random(seed)
    env = env or cli_env()
    run = KillRun()
    lo, hi = window
    attempts = 0
    while run.kills < kills and attempts < kills * 3 + 3:
        attempts += 1
        delay = rng.uniform(lo, max(lo, hi))
        rc, out, took = _run_once(cmd, env, cwd, delay, timeout)
        run.delays.append(round(delay, 3))
        if rc is None:
            run.kills += 1
        else:
            run.finished_early += 1
            if rc not in ok_codes:
                raise CommandFailed(f"{' '.join(cmd)} exited {rc} after {run.kills} kill(s):\n{out[-3000:]}")
            hi = max(lo, min(hi, took * 0.95))
        run.outputs.append(out[-2000:])
        if between is not None:
            between(attempts)
    if finish:
        rc, out, _ = _run_once(cmd, env, cwd, None, timeout)
        run.final_rc, run.final_output = rc, out
        if rc not in ok_codes:
            raise CommandFailed(f"{' '.join(cmd)} exited {rc} after {run.kills} kill(s):\n{out[-3000:]}")
    return run


def kill_when(cmd: Sequence[str], cond: Callable[[], bool], *, env: dict[str, str] | None = None,
              cwd: Path | None = None, timeout: float = 120.0) -> bool:
    """Start `cmd` and SIGKILL it the moment `cond()` is true (polled every 2 ms).
    Returns False when the command finished before `cond` held."""
    proc = subprocess.Popen(list(cmd), env=env or cli_env(), cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if cond():
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(0.002)
        return False
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# -- sources with known items ------------------------------------------------------------
def load_fake_slack() -> Any:
    """tests/fakes/slack.py under its own name (a plain `import slack` finds the
    deprecated `slack` package of slack_sdk instead)."""
    return load_script(TESTS / "fakes" / "slack.py", "convoscope_fake_slack")


def write_maildir(folder: Path, n: int, start: int = 0) -> set[str]:
    """`n` one-message threads; returns their Message-IDs (`m{i}@test`)."""
    md = mailbox.Maildir(str(folder), create=True)
    for i in range(start, start + n):
        md.add(make_mail(i))
    return {f"m{i}@test" for i in range(start, start + n)}


def write_mbox(path: Path, n: int, start: int = 0) -> set[str]:
    box = mailbox.mbox(str(path), create=True)
    box.lock()
    try:
        for i in range(start, start + n):
            box.add(make_mail(i))
        box.flush()
    finally:
        box.unlock()
        box.close()
    return {f"m{i}@test" for i in range(start, start + n)}


# -- invariants ----------------------------------------------------------------------------


def opens_without_help(db: Path) -> tuple[bool, str]:
    """The file opens with a plain `duckdb.connect` (WAL replayed), in a fresh process so
    no state of ours helps. Returns (ok, error line)."""
    code = ("import duckdb, sys\n"
            "c = duckdb.connect(sys.argv[1]); c.execute('select count(*) from interactions')\n"
            "c.close()\n")
    proc = subprocess.run([sys.executable, "-c", code, str(db)], capture_output=True, text=True,
                          timeout=120)
    if proc.returncode == 0:
        return True, ""
    lines = [ln for ln in proc.stderr.strip().splitlines() if "Error" in ln]
    return False, (lines[-1] if lines else proc.stderr[-500:])


@dataclass
class Tally:
    """Per-path numbers for the chaos table and the tests' assertions."""

    expected: int = 0
    stored: int = 0
    quarantined: int = 0
    lost: int = 0
    duplicated: int = 0
    problems: list[str] = field(default_factory=list)

    def add_problem(self, text: str) -> None:
        self.problems.append(text)


def tally_items(db: Path, source_like: str, expected_keys: set[str], *,
                key_sql: str = "external_id", table: str = "interactions",
                quarantine_keys: Callable[[list[tuple[str, str, str]]], set[str]] | None = None) -> Tally:
    """Every expected item stored exactly once, or quarantined with a reason.

    `key_sql` is the column (or expression) of `table` that names a source item;
    `quarantine_keys` maps quarantine rows (item_key, reason, raw_ref) to item names.
    """
    t = Tally(expected=len(expected_keys))
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            f"SELECT {key_sql} AS k, count(*) FROM {table} WHERE source LIKE ? GROUP BY k",
            [source_like]).fetchall()
        q = con.execute("SELECT item_key, reason, coalesce(raw_ref, '') FROM quarantine "
                        "WHERE source LIKE ?", [source_like]).fetchall()
    finally:
        con.close()
    stored = {str(k): int(n) for k, n in rows}
    t.duplicated = sum(n - 1 for n in stored.values() if n > 1)
    unexpected = set(stored) - expected_keys
    if unexpected:
        t.add_problem(f"{len(unexpected)} stored item(s) nobody sent, e.g. {sorted(unexpected)[:3]}")
    if any(not reason for _k, reason, _r in q):
        t.add_problem("a quarantined item has no reason")
    qkeys = quarantine_keys(q) if quarantine_keys else {k for k, _r, _x in q}
    t.stored = len(set(stored) & expected_keys)
    t.quarantined = len((qkeys & expected_keys) - set(stored))
    t.lost = len(expected_keys - set(stored) - qkeys)
    return t


def analysis_duplicates(db: Path) -> dict[str, int]:
    """Rows that would mean something was analysed twice (each must be 0)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        def one(sql: str) -> int:
            row = con.execute(sql).fetchone()
            return int(row[0]) if row and row[0] is not None else 0

        return {
            "scores per interaction > 1": one(
                "SELECT count(*) FROM (SELECT interaction_id FROM scores GROUP BY 1 HAVING count(*) > 1)"),
            "turn_scores repeated": one(
                "SELECT count(*) FROM (SELECT interaction_id, seq FROM turn_scores GROUP BY 1, 2 "
                "HAVING count(*) > 1)"),
            "flags repeated": one(
                "SELECT count(*) FROM (SELECT interaction_id, kind, coalesce(rule, ''), "
                "coalesce(evidence::VARCHAR, '') FROM flags GROUP BY ALL HAVING count(*) > 1)"),
            "analysed without scores": one(
                "SELECT count(*) FROM interactions i WHERE status = 'analysed' AND NOT EXISTS "
                "(SELECT 1 FROM scores s WHERE s.interaction_id = i.id)"),
            "turn_scores without turn": one(
                "SELECT count(*) FROM turn_scores ts WHERE NOT EXISTS (SELECT 1 FROM turns t "
                "WHERE t.interaction_id = ts.interaction_id AND t.seq = ts.seq)"),
        }
    finally:
        con.close()
