"""``make demo``: the first example DAG, end to end, on this machine only.

Starts the Wan emulator and a local S3 (moto) on loopback, wires Airflow's ``wan_default`` and
``aws_default`` connections to them through environment variables, runs ``example_wan_text_to_video``
with ``airflow dags test`` in a throw-away AIRFLOW_HOME, then reads the MP4 back from S3, saves a copy
to a local file (``--output``) and prints its path, size, duration and codecs. The arguments are checked
first with the operator's own validation, so a bad one costs nothing. Everything it starts is stopped
again, also on failure or Ctrl-C; logs are kept (and their path printed) only on failure or ``--keep``.

Ports: ``--emulator-port`` / ``WAN_DEMO_EMULATOR_PORT`` (default 8765) and ``--s3-port`` /
``WAN_DEMO_S3_PORT`` (default 5055).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DAG_ID = "example_wan_text_to_video"
# The request the example DAG sends with the demo's arguments (its model and default size).
MODEL = "wan2.6-t2v"
SIZE = "1280*720"
DEFAULT_OUTPUT = ROOT / ".artifacts" / "demo" / f"{DAG_ID}.mp4"
API_KEY = "sk-demo-emulator-key"
BUCKET = "wan-demo"
S3_REGION = "us-east-1"


class DemoError(Exception):
    """A step failed; the message says which and what to do about it."""


class Step:
    """Prints one numbered line per step, and its outcome."""

    def __init__(self) -> None:
        self.number = 0

    @contextmanager
    def __call__(self, title: str) -> Iterator[None]:
        self.number += 1
        print(f"[{self.number}] {title} ...", flush=True)
        started = time.monotonic()
        yield
        print(f"    done in {time.monotonic() - started:.1f}s", flush=True)


class Services:
    """The processes the demo starts, each in its own session so Ctrl-C reaches only the demo."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> Path:
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("wb") as log:
            self.processes[name] = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        return log_path

    def check_running(self, name: str, log_path: Path) -> None:
        process = self.processes[name]
        if process.poll() is not None:
            raise DemoError(f"{name} exited with status {process.returncode}:\n{last_lines(log_path)}")

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 10
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def last_lines(path: Path, count: int = 40) -> str:
    if not path.exists():
        return f"(no log at {path})"
    lines = path.read_text(errors="replace").splitlines()[-count:]
    return "\n".join(f"    | {line}" for line in lines)


def port_option(name: str, env_var: str, default: int) -> dict[str, Any]:
    value = os.environ.get(env_var, str(default))
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise SystemExit(f"{env_var}={value!r} is not a TCP port (1-65535)")
    return {"type": int, "default": int(value), "help": f"{name} port (env {env_var}, default {default})"}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="make demo", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--emulator-port", **port_option("Wan emulator", "WAN_DEMO_EMULATOR_PORT", 8765))
    parser.add_argument("--s3-port", **port_option("local S3 (moto)", "WAN_DEMO_S3_PORT", 5055))
    parser.add_argument("--prompt", help="what the video shows (default: the DAG's own prompt)")
    parser.add_argument("--duration", type=int, default=5, help="video seconds, 2-15 (default 5)")
    parser.add_argument(
        "--task-seconds", type=float, default=8.0, help="how long the emulator takes per video (default 8)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"where to save the MP4 (default {DEFAULT_OUTPUT})",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary AIRFLOW_HOME and logs")
    args = parser.parse_args(argv)
    refusal = request_refusal(args.prompt, args.duration)
    if refusal:
        parser.error(refusal)
    return args


def request_refusal(prompt: str | None, duration: int) -> str | None:
    """Why the video request these arguments make would be refused (the operator's own check), if it is."""
    from airflow_provider_wan.api import VideoRequest, WanValidationError

    if prompt is not None and not prompt.strip():
        return "--prompt is empty: give the video a prompt, or leave --prompt out for the DAG's own"
    request = VideoRequest(model=MODEL, prompt=prompt or "the DAG's own prompt", size=SIZE, duration=duration)
    try:
        request.validate()
    except WanValidationError as error:
        return f"{error} (--{error.parameter})"
    return None


def ensure_port_free(port: int, what: str, option: str, env_var: str) -> None:
    with socket.socket() as sock:
        # As the servers do: a port left in TIME_WAIT by an earlier run is free, a listening one is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as error:
            raise DemoError(
                f"port {port} on 127.0.0.1 is taken ({error.strerror}), so the {what} cannot start there.\n"
                f"    Stop whatever listens on it (an earlier demo still running?), or pick another port:\n"
                f'    make demo DEMO_ARGS="{option} {free_port()}"\n'
                f"    (scripts/demo.py {option} PORT, or {env_var}=PORT make demo)"
            ) from None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(what: str, ready: Any, timeout: float, on_timeout: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = ready()
        if result:
            return result
        time.sleep(0.2)
    raise DemoError(f"{what} did not happen within {timeout:.0f}s.\n{on_timeout}")


def start_emulator(services: Services, port: int, task_seconds: float) -> str:
    argv = [str(BIN / "wan-emulator"), "--port", str(port), "--api-key", API_KEY]
    log_path = services.start("wan-emulator", [*argv, "--task-seconds", str(task_seconds)])

    def printed_url() -> str | None:
        services.check_running("wan-emulator", log_path)
        for line in log_path.read_text(errors="replace").splitlines():
            if line.startswith("http://"):
                return line.strip()
        return None

    return str(wait_until("the emulator printing its URL", printed_url, 60, last_lines(log_path)))


def start_s3(services: Services, port: int) -> str:
    log_path = services.start("moto-server", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)])

    def listening() -> bool:
        services.check_running("moto-server", log_path)
        with socket.socket() as sock:
            sock.settimeout(0.5)
            return sock.connect_ex(("127.0.0.1", port)) == 0

    wait_until("the local S3 accepting connections", listening, 60, last_lines(log_path))
    return f"http://127.0.0.1:{port}"


def s3_client(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="demo",
        aws_secret_access_key="demo",
        region_name=S3_REGION,
    )


def airflow_env(home: Path, emulator_url: str, s3_endpoint: str) -> dict[str, str]:
    """Airflow in ``home``, with both connections and the example's settings as environment variables."""
    keep = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW_", "AWS_"))}
    wan = {"conn_type": "wan", "host": emulator_url, "password": API_KEY}
    aws = {
        "conn_type": "aws",
        "login": "demo",
        "password": "demo",
        "extra": {"endpoint_url": s3_endpoint, "region_name": S3_REGION},
    }
    return keep | {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "example_dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__COLORED_CONSOLE_LOG": "False",
        "AIRFLOW_CONN_WAN_DEFAULT": json.dumps(wan),
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(aws),
        "WAN_EXAMPLE_BUCKET": BUCKET,
        "WAN_EXAMPLE_POLL_SECONDS": "1",
        "WAN_EXAMPLE_MAX_POLL_SECONDS": "2",
        "NO_COLOR": "1",
    }


def run_airflow(args: Sequence[str], env: dict[str, str], log_path: Path, what: str) -> None:
    with log_path.open("wb") as log:
        command = [sys.executable, "-m", "airflow", *args]
        completed = subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    if completed.returncode != 0:
        raise DemoError(
            f"{what} failed (exit status {completed.returncode}). Last lines of {log_path}:\n"
            f"{last_lines(log_path)}"
        )


def read_back(s3: Any, output: Path) -> tuple[str, dict[str, Any]]:
    """The video the DAG stored: its S3 URI and what PyAV reads in the bytes fetched from S3, which are
    also saved to ``output`` (the local S3 stops with the demo)."""
    import av

    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"wan/{DAG_ID}/").get("Contents", [])
    videos = [item["Key"] for item in listed if item["Key"].endswith(".mp4")]
    if len(videos) != 1:
        raise DemoError(f"expected one MP4 under s3://{BUCKET}/wan/{DAG_ID}/, found {videos or 'none'}")
    stored = s3.get_object(Bucket=BUCKET, Key=videos[0])
    data = stored["Body"].read()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data)
    with av.open(io.BytesIO(data)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio
        facts = {
            "size": f"{video.codec_context.width}x{video.codec_context.height}",
            "duration": f"{float(container.duration or 0) / 1_000_000:.2f} s",
            "video codec": f"{video.codec_context.name} at {float(video.average_rate or 0):g} fps",
            "audio codec": audio[0].codec_context.name if audio else "none (silent)",
            "bytes": f"{len(data):,} ({stored['ContentType']})",
            "wan task id": stored["Metadata"].get("wan-task-id", "?"),
        }
    return f"s3://{BUCKET}/{videos[0]}", facts


def run_demo(args: argparse.Namespace, work: Path, services: Services) -> None:
    step = Step()
    with step("checking the ports"):
        ensure_port_free(args.emulator_port, "Wan emulator", "--emulator-port", "WAN_DEMO_EMULATOR_PORT")
        ensure_port_free(args.s3_port, "local S3", "--s3-port", "WAN_DEMO_S3_PORT")
    with step(f"starting the Wan emulator on port {args.emulator_port}"):
        emulator_url = start_emulator(services, args.emulator_port, args.task_seconds)
        print(f"    {emulator_url} (API key {API_KEY}; a video takes {args.task_seconds:g}s)")
    with step(f"starting a local S3 (moto) on port {args.s3_port}"):
        s3_endpoint = start_s3(services, args.s3_port)
        s3 = s3_client(s3_endpoint)
        s3.create_bucket(Bucket=BUCKET)
        print(f"    {s3_endpoint}, bucket {BUCKET}")
    env = airflow_env(work / "airflow-home", emulator_url, s3_endpoint)
    with step("preparing a throw-away Airflow database"):
        run_airflow(["db", "migrate"], env, work / "db-migrate.log", "airflow db migrate")
    conf = {"duration": args.duration} | ({"prompt": args.prompt} if args.prompt else {})
    with step(f"running {DAG_ID} with airflow dags test"):
        run_airflow(
            ["dags", "test", DAG_ID, "--conf", json.dumps(conf)], env, work / "dags-test.log", "the DAG run"
        )
    output = args.output.resolve()
    with step("reading the video back from S3"):
        uri, facts = read_back(s3, output)
    print(f"\nThe video is at {output}")
    print(f"    stored in S3 as {uri} (on the demo's local S3, which stops with the demo)")
    for name, value in facts.items():
        print(f"    {name:<12} {value}")


def stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    work = Path(tempfile.mkdtemp(prefix="wan-demo-"))
    services = Services(work)
    status = 0
    try:
        run_demo(args, work, services)
    except DemoError as error:
        print(f"\nThe demo stopped: {error}", file=sys.stderr)
        status = 1
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        status = 130
    finally:
        services.stop_all()
        if args.keep or (status == 1 and any(work.iterdir())):
            print(f"Logs and the Airflow home are kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
