"""``make demo`` (``scripts/demo.py``) as a user runs it: the whole pipeline on loopback with the video saved
to a local file, arguments refused before anything starts (the operator's own validation), and a clear
message when a port it needs is taken."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from airflow_provider_wan.api import VideoRequest, WanValidationError
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


def test_demo_saves_the_video_read_back_from_s3_and_prints_no_deleted_path(tmp_path: Path) -> None:
    output = tmp_path / "out" / "video.mp4"
    ports = ("--emulator-port", str(free_port()), "--s3-port", str(free_port()))
    demo = run_demo(*ports, "--duration", "2", "--task-seconds", "1", "--output", str(output))
    assert demo.returncode == 0, demo.stdout + demo.stderr

    assert f"The video is at {output}" in demo.stdout
    assert output.read_bytes()[4:8] == b"ftyp"
    stored = r"stored in S3 as s3://wan-demo/wan/example_wan_text_to_video/\S+\.mp4 \(on the demo's local S3"
    assert re.search(stored, demo.stdout), demo.stdout
    for line in ("size         1280x720", "duration     2.00 s", "video codec  h264", "audio codec  aac"):
        assert line in demo.stdout, demo.stdout
    assert f"bytes        {output.stat().st_size:,} (video/mp4)" in demo.stdout
    work_dirs = re.findall(r"/\S*wan-demo-\w+", demo.stdout + demo.stderr)
    assert [path for path in work_dirs if not os.path.exists(path)] == []


@pytest.mark.parametrize(
    ("args", "refusal"),
    [
        (["--duration", "20"], "Invalid duration=20: a whole number of seconds from 2 to 15 for wan2.6-t2v"),
        (["--duration", "1"], "Invalid duration=1: a whole number of seconds from 2 to 15 for wan2.6-t2v"),
        (["--prompt", ""], "--prompt is empty"),
        (["--prompt", "   "], "--prompt is empty"),
    ],
)
def test_bad_arguments_are_refused_before_anything_starts(args: list[str], refusal: str) -> None:
    started = time.monotonic()
    demo = run_demo(*args, "--emulator-port", str(free_port()), timeout=60)

    assert demo.returncode == 2  # argparse's usage error
    assert refusal in demo.stderr
    assert "Traceback" not in demo.stderr
    assert demo.stdout == ""  # no step was started
    assert time.monotonic() - started < 30


def test_the_demo_refuses_what_the_operator_refuses() -> None:
    with pytest.raises(WanValidationError) as refused:
        VideoRequest(model="wan2.6-t2v", prompt="p", size="1280*720", duration=20).validate()
    assert str(refused.value) in run_demo("--duration", "20", timeout=60).stderr


def test_demo_names_the_taken_port_and_the_way_out() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        demo = run_demo("--emulator-port", str(port), "--s3-port", str(free_port()), timeout=60)

    assert demo.returncode == 1
    assert f"port {port} on 127.0.0.1 is taken" in demo.stderr
    assert re.search(r'make demo DEMO_ARGS="--emulator-port \d+"', demo.stderr), demo.stderr
    assert "--emulator-port PORT, or WAN_DEMO_EMULATOR_PORT=PORT make demo" in demo.stderr
