"""``make demo`` (``scripts/demo.py``) as a user runs it: the whole pipeline on loopback, and a clear
message when a port it needs is taken."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deployment.harness import clean_environment, free_port

pytestmark = pytest.mark.timeout(300)

DEMO = Path(__file__).resolve().parents[2] / "scripts" / "demo.py"


def run_demo(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DEMO), *args],
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_demo_prints_the_video_read_back_from_s3() -> None:
    ports = ("--emulator-port", str(free_port()), "--s3-port", str(free_port()))
    demo = run_demo(*ports, "--duration", "2", "--task-seconds", "1")
    assert demo.returncode == 0, demo.stdout + demo.stderr

    assert re.search(r"The video is at s3://wan-demo/wan/example_wan_text_to_video/\S+\.mp4", demo.stdout)
    for line in ("size         1280x720", "duration     2.00 s", "video codec  h264", "audio codec  aac"):
        assert line in demo.stdout, demo.stdout


def test_demo_names_the_taken_port_and_the_way_out() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        demo = run_demo("--emulator-port", str(port), "--s3-port", str(free_port()), timeout=60)

    assert demo.returncode == 1
    assert f"port {port} on 127.0.0.1 is taken" in demo.stderr
    assert "--emulator-port PORT, or WAN_DEMO_EMULATOR_PORT=PORT make demo" in demo.stderr
