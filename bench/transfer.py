"""Moving a large video into S3: WanVideoToS3Operator against the Amazon provider's HttpToS3Operator.

Both copy the same video (1 GiB by default) from a loopback HTTP server into a moto S3 server, in the
same run. Each copy runs ``execute`` in a fresh subprocess, so its peak memory is measured cleanly:
the growth of the process's peak RSS (``ru_maxrss``) over its RSS just before ``execute``, with every
import already done. The video server (which also answers the Wan task query our operator makes) and
moto run in processes of their own. Wall time is ``execute`` alone. Each copy is checked: its size,
and for ours the SHA-256 it recorded (``wan-sha256`` tag and XCom) against the bytes served.

Targets: ours grows at most 64 MiB; ours takes at most 1.0x HttpToS3Operator's time.

    .venv/bin/python bench/transfer.py [--size 1GiB] [--rounds 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MiB = 1024 * 1024
BLOCK = random.Random(20260101).randbytes(MiB)  # the video: this block over and over, cut to --size
TASK_ID = "bench-task-0001"
BUCKET = "wan-bench"
KEY = "bench/video.mp4"
API_KEY = "sk-bench"
OPERATORS = ("HttpToS3Operator", "WanVideoToS3Operator")


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*(|B|KiB|MiB|GiB)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r}: a size such as 1GiB, 256MiB or 1048576")
    return int(match[1]) * {"": 1, "B": 1, "KiB": 1024, "MiB": MiB, "GiB": 1024 * MiB}[match[2]]


def video_pieces(size: int) -> Iterator[bytes]:
    for offset in range(0, size, MiB):
        yield BLOCK[: min(MiB, size - offset)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


# ------------------------------------------------------------------------------ the video host


def serve_video(port: int, size: int) -> None:
    """The video at ``/video.mp4``, and a SUCCEEDED Wan task pointing at it (what the service would say)."""
    root = f"http://127.0.0.1:{port}"
    task = {
        "request_id": "bench",
        "output": {
            "task_id": TASK_ID,
            "task_status": "SUCCEEDED",
            "video_url": f"{root}/video.mp4?Expires=9",
        },
        "usage": {"video_count": 1, "duration": 10, "size": "1920*1080"},
    }

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            if self.path.startswith("/api/v1/tasks/"):
                body = json.dumps(task).encode()
                self._headers(200, "application/json", len(body))
                self.wfile.write(body)
            elif self.path.startswith("/video.mp4"):
                self._headers(200, "video/mp4", size)
                for piece in video_pieces(size):
                    self.wfile.write(piece)
            else:
                self._headers(404, "text/plain", 0)

        def _headers(self, status: int, content_type: str, length: int) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(length))
            self.end_headers()

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


# ------------------------------------------------------------------------------ one copy, in a subprocess


def rss_kib() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def run_copy(operator_name: str, video_port: int, s3_url: str, size: int) -> dict[str, Any]:
    """Build the operator, then time ``execute`` and measure the peak memory it adds."""
    import gc
    import resource

    from airflow.providers.amazon.aws.transfers.http_to_s3 import HttpToS3Operator
    from airflow.sdk.execution_time.context import OutletEventAccessors

    # What our execute() imports lazily is imported here, before the baseline, as HttpToS3Operator's is.
    import airflow_provider_wan.transfers.video_copy  # noqa: F401
    from airflow_provider_wan.transfers.wan_to_s3 import WanVideoToS3Operator

    os.environ["AIRFLOW_CONN_AWS_BENCH"] = json.dumps(
        {
            "conn_type": "aws",
            "login": "bench",
            "password": "bench",
            "extra": {"endpoint_url": s3_url, "region_name": "us-east-1"},
        }
    )
    os.environ["AIRFLOW_CONN_HTTP_BENCH"] = f"http://127.0.0.1:{video_port}"
    os.environ["AIRFLOW_CONN_WAN_BENCH"] = json.dumps(
        {"conn_type": "wan", "host": f"http://127.0.0.1:{video_port}/api/v1", "password": API_KEY}
    )
    operator: Any
    if operator_name == "HttpToS3Operator":
        operator = HttpToS3Operator(
            task_id="copy",
            http_conn_id="http_bench",
            endpoint="/video.mp4",
            method="GET",
            s3_bucket=BUCKET,
            s3_key=KEY,
            aws_conn_id="aws_bench",
            replace=True,
        )
    else:
        operator = WanVideoToS3Operator(
            task_id="copy",
            wan_task_id=TASK_ID,
            wan_conn_id="wan_bench",
            aws_conn_id="aws_bench",
            s3_bucket=BUCKET,
            s3_key=KEY,
            max_bytes=max(size, 1),
        )
    gc.collect()
    baseline = rss_kib()
    started = time.perf_counter()
    result = operator.execute({"outlet_events": OutletEventAccessors()})  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds": seconds,
        "baseline_mib": baseline / 1024,
        "growth_mib": max(0, peak - baseline) / 1024,
        "sha256": result["sha256"] if isinstance(result, dict) else None,
    }


# ------------------------------------------------------------------------------ the run


def measure(operator_name: str, video_port: int, s3_url: str, size: int, home: str) -> dict[str, Any]:
    env = {**os.environ, "AIRFLOW_HOME": home, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    command = [sys.executable, __file__, "--worker", operator_name, "--size", str(size)]
    command += ["--video-port", str(video_port), "--s3-url", s3_url]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{operator_name} failed:\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def check_copy(s3: Any, operator_name: str, result: dict[str, Any], size: int, sha256: str) -> None:
    head = s3.head_object(Bucket=BUCKET, Key=KEY)
    if head["ContentLength"] != size:
        raise RuntimeError(f"{operator_name} stored {head['ContentLength']} bytes, not {size}")
    if operator_name == "WanVideoToS3Operator":
        tags = s3.get_object_tagging(Bucket=BUCKET, Key=KEY)["TagSet"]
        if (result["sha256"], tags) != (sha256, [{"Key": "wan-sha256", "Value": sha256}]):
            raise RuntimeError(f"{operator_name} stored a video whose SHA-256 differs from the one served")
    s3.delete_object(Bucket=BUCKET, Key=KEY)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=parse_size, default=1024 * MiB, help="video size, e.g. 1GiB, 256MiB")
    parser.add_argument("--rounds", type=int, default=1, help="copies per operator; medians are reported")
    parser.add_argument("--worker", choices=OPERATORS, help=argparse.SUPPRESS)
    parser.add_argument("--serve-video", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--video-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--s3-url", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve_video:
        serve_video(args.video_port, args.size)
        return
    if args.worker:
        print(json.dumps(run_copy(args.worker, args.video_port, args.s3_url, args.size)))
        return

    import boto3

    sha256 = hashlib.sha256()
    for piece in video_pieces(args.size):
        sha256.update(piece)
    video_port, s3_port = free_port(), free_port()
    s3_url = f"http://127.0.0.1:{s3_port}"
    servers = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve-video",
                "--video-port",
                str(video_port),
                "--size",
                str(args.size),
            ]
        ),
        subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in OPERATORS}
    try:
        wait_for_port(video_port, servers[0])
        wait_for_port(s3_port, servers[1])
        s3 = boto3.client(
            "s3",
            endpoint_url=s3_url,
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
            region_name="us-east-1",
        )
        s3.create_bucket(Bucket=BUCKET)
        print(
            f"{args.size / MiB:.0f} MiB video, loopback HTTP server -> moto S3 server, {args.rounds} round(s)"
        )
        with tempfile.TemporaryDirectory(prefix="wan-bench-home-") as home:
            for round_number in range(args.rounds):
                order = OPERATORS if round_number % 2 == 0 else OPERATORS[::-1]
                for name in order:
                    result = measure(name, video_port, s3_url, args.size, home)
                    check_copy(s3, name, result, args.size, sha256.hexdigest())
                    results[name].append(result)
                    seconds, growth = result["seconds"], result["growth_mib"]
                    print(f"  round {round_number + 1} {name:>20}: {seconds:7.2f} s, peak +{growth:7.1f} MiB")
    finally:
        for server in servers:
            server.terminate()
            server.wait()
    summary = {
        name: (statistics.median(r["seconds"] for r in runs), max(r["growth_mib"] for r in runs))
        for name, runs in results.items()
    }
    for name, (seconds, growth) in summary.items():
        print(f"{name:>20}: {seconds:7.2f} s (median), peak memory growth {growth:7.1f} MiB (max)")
    (theirs_s, theirs_mib), (ours_s, ours_mib) = summary["HttpToS3Operator"], summary["WanVideoToS3Operator"]
    print(f"ratio time   ours/HttpToS3Operator: {ours_s / theirs_s:.2f} (target <= 1.0)")
    print(f"ratio memory ours/HttpToS3Operator: {ours_mib / theirs_mib:.3f} (target: ours <= 64 MiB)")


if __name__ == "__main__":
    main()
