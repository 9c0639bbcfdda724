"""Running the real CLI as a subprocess in tests: poll for a condition, start `serve`.

Tests that exercise `convoscope serve` end to end (the service, backups through its API,
alert crash safety, kill tests) all need the same two things; one copy keeps their timeouts
and process-group handling the same.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def wait_for(pred: Callable[[], T], timeout: float, what: str, *, every: float = 0.2) -> T:
    """Call `pred` until it returns something truthy and return that; fail the test with
    `what` in the message after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def start_serve(cfg: Path, env: Mapping[str, str], *, log: Path | None = None, cwd: Path | None = None,
                verbose: bool = False, **popen: Any) -> subprocess.Popen[Any]:
    """Start `python -m convoscope --config CFG serve` in its own session (so a test can
    signal the whole group). Output goes to `log` when given (appended), else to a text pipe."""
    cmd = [sys.executable, "-m", "convoscope", *(["-v"] if verbose else []), "--config", str(cfg), "serve"]
    opts: dict[str, Any] = {"env": dict(env), "cwd": cwd, "start_new_session": True, **popen}
    if log is not None:
        with log.open("ab") as out:
            return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, **opts)
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **opts)
