"""Processes the tests start end with the test run, however it ends."""

from __future__ import annotations

import ctypes
import signal

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def stop_when_the_tests_die() -> None:
    """``preexec_fn`` of a long-lived child (a server, an Airflow component): the kernel sends it SIGTERM
    when the test process that started it dies, even by SIGKILL, so an interrupted run leaves nothing
    running. Each component shuts its own children down on SIGTERM."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
