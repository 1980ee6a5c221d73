"""An interrupted test run leaves no process behind: a run stopped with SIGTERM tears its fixtures down, and
one killed with SIGKILL (no clean-up code runs at all) takes the servers it started down with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
SERVER = """
import os, subprocess, sys, time
worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], preexec_fn=os.setpgrp)
open(os.environ["WORKER_PID_FILE"], "w").write(str(worker.pid))
time.sleep(600)
"""
CHILD_TEST = """
import os, sys, time
from pathlib import Path

import pytest

from tests.deployment.harness import Service


@pytest.fixture
def server(tmp_path):
    # The server starts a worker in a process group of its own, as Airflow's task supervisor does.
    argv = [sys.executable, "-c", os.environ["SERVER_CODE"]]
    service = Service("server", argv, dict(os.environ), tmp_path / "server.log").start()
    try:
        yield service
    finally:
        service.request_stop()
        service.finish_stop(time.monotonic() + 10)


def test_waits(server):
    Path(os.environ["SERVER_PID_FILE"]).write_text(str(server.process.pid))
    time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has exited: only its parent has to reap it
        return stat.read().split(") ", 1)[1][0] != "Z"


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_an_interrupted_run_leaves_no_server_running(tmp_path: Path, how: signal.Signals) -> None:
    (tmp_path / "test_child.py").write_text(CHILD_TEST)
    pid_file = tmp_path / "server.pid"
    worker_file = tmp_path / "worker.pid"
    env = {
        **os.environ,
        "SERVER_CODE": SERVER,
        "SERVER_PID_FILE": str(pid_file),
        "WORKER_PID_FILE": str(worker_file),
        "PYTHONPATH": str(REPOSITORY),
    }
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-c", str(REPOSITORY / "pyproject.toml"), "--rootdir", str(tmp_path),
         "-p", "tests.conftest", "-p", "no:cacheprovider", "-q", str(tmp_path / "test_child.py")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (pid_file.exists() and worker_file.exists()):
            assert run.poll() is None, run.communicate()[0].decode(errors="replace")
            assert time.monotonic() < deadline, "the child run never started its server"
            time.sleep(0.1)
        server, worker = int(pid_file.read_text()), int(worker_file.read_text())
        assert _alive(server)
        assert _alive(worker)

        run.send_signal(how)
        output = run.communicate(timeout=60)[0].decode(errors="replace")
        assert _gone_within(server, 20), f"the server outlived the run stopped by {how.name}:\n{output}"
        if how is signal.SIGTERM:
            assert "KeyboardInterrupt" in output  # ended as Ctrl-C ends it: teardown ran
            # ... and swept the server's session: its worker in a group of its own went too. (A run
            # killed with SIGKILL runs no teardown, and such a worker outlives it.)
            assert _gone_within(worker, 20), f"the worker outlived the run:\n{output}"
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        if worker_file.exists() and _alive(worker := int(worker_file.read_text())):
            os.kill(worker, signal.SIGKILL)
