"""Processes the tests start end with the test run, however it ends."""

from __future__ import annotations

import ctypes
import os
import signal
from pathlib import Path

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def stop_when_the_tests_die() -> None:
    """``preexec_fn`` of a long-lived child (a server, an Airflow component): the kernel sends it SIGTERM
    when the test process that started it dies, even by SIGKILL, so an interrupted run leaves nothing
    running. Each component shuts its own children down on SIGTERM."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def kill_session(session: int) -> None:
    """SIGKILL every process left in ``session`` (a service started with ``start_new_session``): Airflow's
    task supervisor puts each task process in a process group of its own, which a signal to the
    service's group misses, but it stays in the session."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()  # after "pid (comm) ": state ppid pgrp sid
        except (OSError, IndexError):
            continue  # exited meanwhile
        if int(fields[3]) == session:
            try:
                os.kill(int(stat.parent.name), signal.SIGKILL)
            except ProcessLookupError:
                continue
