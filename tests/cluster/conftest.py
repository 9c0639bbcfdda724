"""A real local Ray cluster for the cluster tests: `ray start --head` on 127.0.0.1, with
its own auth token.

Started once per session in its own temp folder (a short path: Ray's socket names must fit
in 107 bytes) and its own process group, with 2 CPUs and a small object store, because
this machine's 2 cores are shared. Workers import this checkout (PYTHONPATH). Teardown
stops the group it started, by its id, and the workers it spawned, by theirs.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Set before anything imports ray (its config reads the environment once, at import).
os.environ["RAY_AUTH_MODE"] = "token"
os.environ["RAY_AUTH_TOKEN"] = uuid.uuid4().hex + uuid.uuid4().hex


def _ray_bin() -> str:
    return str(Path(sys.executable).with_name("ray"))


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[str]:
    """The address (HOST:PORT) of a running 2-CPU head node; the test process has joined it."""
    import psutil
    import ray

    if os.environ.get("RAY_AUTH_MODE") != "token":
        pytest.fail("ray was configured before this conftest set RAY_AUTH_MODE")
    tmp = tempfile.mkdtemp(prefix="cvray", dir="/tmp")
    # token auth, explicitly: Ray 2.60 turns it on by itself when ~/.ray/auth_token exists
    # (any earlier `ray.init()` on this machine writes one), and then a client without the
    # token cannot connect; with the mode and token in the environment, head, this process
    # and the subprocess drivers agree whatever ~/.ray holds
    env = dict(os.environ, PYTHONPATH=str(ROOT), RAY_USAGE_STATS_ENABLED="0")
    log = open(Path(tmp) / "head.log", "w+")  # noqa: SIM115 - read while the head runs
    head = subprocess.Popen(
        [_ray_bin(), "start", "--head", "--block", "--port=0", "--node-ip-address=127.0.0.1",
         "--num-cpus=2", "--num-gpus=0", "--object-store-memory=100000000",
         f"--temp-dir={tmp}", "--include-dashboard=false", "--disable-usage-stats"],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )
    address = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and head.poll() is None:
        text = (Path(tmp) / "head.log").read_text(errors="replace")
        m = re.search(r"ray start --address='([^']+)'", text)
        if m:
            address = m.group(1)
            break
        time.sleep(0.3)
    if address is None:
        text = (Path(tmp) / "head.log").read_text(errors="replace")
        os.killpg(head.pid, signal.SIGKILL)
        pytest.fail(f"ray head did not start:\n{text[-3000:]}")
    os.environ["PYTHONPATH"] = str(ROOT)
    try:  # the head is stopped below even when joining it fails
        ray.init(address=address, namespace="convoscope-test", logging_level="WARNING",
                 configure_logging=False)
        yield address
    finally:
        ray.shutdown()
        family = [head.pid]
        with contextlib.suppress(psutil.NoSuchProcess):
            family += [p.pid for p in psutil.Process(head.pid).children(recursive=True)]
        # workers are started by the raylet in sessions of their own: find them by temp dir
        for p in psutil.process_iter(["pid", "cmdline"]):
            cmd = " ".join(p.info["cmdline"] or [])
            if tmp in cmd and p.pid not in family:
                family.append(p.pid)
        os.killpg(head.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            head.wait(timeout=20)
        for pid in family:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
