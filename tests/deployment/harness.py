"""A real Airflow deployment for tests: separate processes on loopback, as an operator would run them.

Each component (api-server, scheduler, dag-processor, triggerer, and any helper server such as the Wan
emulator or a moto S3 server) is its own process group with its own log file, so a test can kill one with
SIGKILL the way a node dies, start a replacement, and show every log when something goes wrong.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import requests

from airflow_provider_wan.testing.dag_runs import session_template
from tests.processes import kill_session, stop_when_the_tests_die

T = TypeVar("T")

BIN = Path(sys.executable).parent
AIRFLOW = [sys.executable, "-m", "airflow"]
TERMINAL_RUN_STATES = {"success", "failed"}
LOG_TAIL_LINES = 60
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    if not path.exists():
        return f"({path} does not exist)"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


class DeploymentError(AssertionError):
    """A wait ran out or a component died; the message carries the logs needed to see why."""


@dataclass
class Service:
    """One long-running process in its own process group, logging to a file."""

    name: str
    argv: list[str]
    env: Mapping[str, str]
    log_path: Path
    user: str | None = None  # another OS user to run as (PostgreSQL refuses to run as root)
    stop_signal: signal.Signals = signal.SIGTERM
    backing: bool = False  # a store the Airflow components use (database, broker): stopped after them
    process: subprocess.Popen[bytes] | None = None
    stopped_on_purpose: bool = False

    def start(self) -> Service:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(self.env),
                start_new_session=True,
                user=self.user,
                preexec_fn=stop_when_the_tests_die,
            )
        return self

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal_group(self, sig: signal.Signals) -> None:
        """Signal the whole process group: a component's children (log server, runners) go with it."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            return

    def kill(self) -> None:
        """SIGKILL, as when the machine under a component dies: no clean-up code runs."""
        self.stopped_on_purpose = True
        self.signal_group(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=30)

    def request_stop(self) -> None:
        """``stop_signal`` to the group: it shuts down its own way (resumed first if a test paused it)."""
        self.stopped_on_purpose = True
        if self.alive:
            self.signal_group(self.stop_signal)
            self.signal_group(signal.SIGCONT)

    def finish_stop(self, deadline: float) -> None:
        """Wait until ``deadline`` (monotonic) for the exit, then SIGKILL whatever is left of the group."""
        if self.process is None:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        # Children may outlive a leader that exited: always sweep the group, and the session for task
        # processes in groups of their own.
        self.signal_group(signal.SIGKILL)
        kill_session(self.process.pid)
        if self.process.poll() is None:
            self.process.wait(timeout=30)

    def wait_for_output(self, pattern: str, timeout: float = 60) -> str:
        """The first match of ``pattern`` in the process's output, e.g. the URL a server prints."""

        def found() -> str | None:
            if not self.alive:
                raise DeploymentError(f"{self.name} exited before printing {pattern!r}\n{self.describe()}")
            match = re.search(pattern, self.log_path.read_text(errors="replace"))
            return match.group(0) if match else None

        return wait_for(f"{self.name} to print {pattern!r}", found, timeout, self.describe, interval=0.2)

    def describe(self) -> str:
        state = (
            "running"
            if self.alive
            else f"exited ({self.process.returncode if self.process else 'never started'})"
        )
        return f"===== {self.name}: {state}; last lines of {self.log_path}\n{tail(self.log_path)}"


def wait_for(
    what: str,
    probe: Callable[[], T | None],
    timeout: float,
    diagnostics: Callable[[], str],
    interval: float = 0.5,
) -> T:
    """Poll ``probe`` until it returns a truthy value; on timeout fail with ``diagnostics()`` attached."""
    deadline = time.monotonic() + timeout
    last_error = ""
    while True:
        try:
            result = probe()
        except (requests.RequestException, OSError, ValueError) as error:
            result, last_error = None, repr(error)
        if result:
            return result
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise DeploymentError(
                f"timed out after {timeout:.0f}s waiting for {what}{detail}\n{diagnostics()}"
            )
        time.sleep(interval)


def clean_environment() -> dict[str, str]:
    """The parent's environment without any Airflow or AWS settings the test session itself uses.

    ``PYTHONSAFEPATH``: the components' working directory stays off ``sys.path``, or the editable
    install's ``*.egg-info`` in the repository root would register the package's entry points (its
    Airflow plugin) a second time."""
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AIRFLOW_", "AIRFLOW__", "AWS_", "PYTEST_"))
    }
    return {**kept, "PYTHONSAFEPATH": "1"}


@dataclass
class AirflowDeployment:
    """Airflow 3 with LocalExecutor in a private AIRFLOW_HOME, each component a separate process."""

    home: Path
    dag_files: Iterable[Path] = ()
    extra_env: Mapping[str, str] = field(default_factory=dict, repr=False)
    services: dict[str, Service] = field(default_factory=dict, repr=False)
    api_port: int = field(default_factory=free_port)
    #: (username, password) the REST API calls below sign in with; None: the token the simple auth
    #: manager gives anyone with ``simple_auth_manager_all_admins``.
    api_login: tuple[str, str] | None = field(default=None, repr=False)
    _token: str | None = field(default=None, repr=False)
    _session: requests.Session = field(default_factory=requests.Session, repr=False)

    def __post_init__(self) -> None:
        self.dags_folder = self.home / "dags"
        self.dags_folder.mkdir(parents=True, exist_ok=True)
        for dag_file in self.dag_files:
            shutil.copy(dag_file, self.dags_folder / dag_file.name)
        self.env = clean_environment() | self._airflow_config() | dict(self.extra_env)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def settings(self) -> dict[str, dict[str, str]]:
        """Airflow's configuration by section; a deployment shape overrides what it runs differently."""
        return {
            "core": {
                "executor": "LocalExecutor",
                "parallelism": "8",
                "dags_folder": str(self.dags_folder),
                "load_examples": "False",
                "dags_are_paused_at_creation": "False",
                "auth_manager": SIMPLE_AUTH_MANAGER,
                "simple_auth_manager_all_admins": "True",
                "test_connection": "Enabled",
                "execution_api_server_url": f"{self.api_url}/execution/",
            },
            "database": {"sql_alchemy_conn": f"sqlite:///{self.home / 'airflow.db'}"},
            "api": {
                "base_url": self.api_url,
                "host": "127.0.0.1",
                "port": str(self.api_port),
                "workers": "1",
                "secret_key": secrets.token_hex(16),
                "expose_config": "True",
            },
            # Airflow 3.1 leaves the issuer unset, which newer PyJWT refuses to sign.
            "api_auth": {"jwt_secret": secrets.token_hex(32), "jwt_issuer": "airflow-provider-wan-tests"},
            "logging": {
                "logging_level": "INFO",
                "worker_log_server_port": str(free_port()),
                "trigger_log_server_port": str(free_port()),
                "colored_console_log": "False",
            },
            "scheduler": {
                "scheduler_heartbeat_sec": "1",
                "scheduler_idle_sleep_time": "0.5",
                "enable_health_check": "False",
            },
            "triggerer": {"job_heartbeat_sec": "2", "triggerer_health_check_threshold": "10"},
            "dag_processor": {"refresh_interval": "5", "min_file_process_interval": "30"},
        }

    def _airflow_config(self) -> dict[str, str]:
        env = {"AIRFLOW_HOME": str(self.home), "NO_COLOR": "1"}
        for section, options in self.settings().items():
            for option, value in options.items():
                env[f"AIRFLOW__{section.upper()}__{option.upper()}"] = value
        return env

    # ---- processes -------------------------------------------------------------------------------------

    def run_cli(self, *args: str, timeout: float = 300) -> str:
        """Run a one-off ``airflow`` command (e.g. ``db migrate``) and return its output."""
        completed = subprocess.run(
            [*AIRFLOW, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if completed.returncode != 0:
            command = " ".join(args)
            output = f"{completed.stdout}\n{completed.stderr}"
            raise DeploymentError(f"airflow {command} exited {completed.returncode}\n{output}")
        return completed.stdout

    def start_service(
        self, name: str, argv: list[str], env: Mapping[str, str] | None = None, **options: Any
    ) -> Service:
        """Start ``argv`` as the service ``name``; ``options`` are :class:`Service` fields (user, ...)."""
        log_path = self.home / "service-logs" / f"{name}.log"
        service = Service(name, argv, env or self.env, log_path, **options).start()
        self.services[name] = service
        return service

    def start_component(self, component: str, *args: str, name: str | None = None) -> Service:
        return self.start_service(name or component, [*AIRFLOW, component, *args])

    def start(self, components: Iterable[str] = ("scheduler", "dag-processor", "triggerer")) -> None:
        """Ready the database, start the API server and the given components, wait until all are healthy."""
        self.prepare_database()
        self.start_component("api-server", "--port", str(self.api_port), "--host", "127.0.0.1")
        for component in components:
            self.start_component(component)
        self.wait_healthy(components)

    def prepare_database(self) -> None:
        """A migrated SQLite database: a copy of the session's template (migrated once per session by the
        test kit), or ``airflow db migrate`` when there is none."""
        template = session_template()
        if template is None:
            self.run_cli("db", "migrate")
        else:
            shutil.copyfile(template, self.home / "airflow.db")

    def wait_healthy(self, components: Iterable[str], timeout: float = 180) -> None:
        wanted = {component.replace("-", "_") for component in components}

        def healthy() -> bool:
            self.check_alive()
            answer = requests.get(f"{self.api_url}/api/v2/monitor/health", timeout=5)
            answer.raise_for_status()
            body = answer.json()
            return all(body.get(part, {}).get("status") == "healthy" for part in wanted | {"metadatabase"})

        wait_for(f"healthy {sorted(wanted)}", healthy, timeout, self.diagnostics, interval=1)

    def start_wan_emulator(self, api_key: str, task_seconds: float, queue_seconds: float = 0.2) -> str:
        """The ``wan-emulator`` command on a free port; returns the base URL it prints."""
        argv = [
            str(BIN / "wan-emulator"),
            *("--port", str(free_port()), "--api-key", api_key),
            *("--task-seconds", str(task_seconds), "--queue-seconds", str(queue_seconds)),
        ]
        return self.start_service("wan-emulator", argv).wait_for_output(r"http://\S+/api/v1")

    def start_moto_server(self) -> str:
        """moto's S3 server (``moto_server``) on a free port; returns its endpoint URL."""
        port = free_port()
        service = self.start_service(
            "moto-server", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
        )
        wait_for("moto_server to listen", lambda: service.alive and port_open(port), 60, service.describe)
        return f"http://127.0.0.1:{port}"

    def check_alive(self) -> None:
        dead = [s for s in self.services.values() if not s.alive and not s.stopped_on_purpose]
        if dead:
            raise DeploymentError(
                f"{', '.join(s.name for s in dead)} died unexpectedly\n{self.diagnostics()}"
            )

    def stop(self, grace: float = 15.0) -> None:
        """Stop every process this deployment started: SIGTERM all, wait ``grace`` s, SIGKILL the rest.

        The database and broker go last, so the components do not spend their shutdown reconnecting.
        """
        for backing in (False, True):
            services = [service for service in self.services.values() if service.backing is backing]
            for service in services:
                service.request_stop()
            deadline = time.monotonic() + grace
            for service in services:
                service.finish_stop(deadline)

    def diagnostics(self) -> str:
        parts = [service.describe() for service in self.services.values()]
        task_logs = sorted(
            (self.home / "logs").glob("**/*.log"), key=lambda path: path.stat().st_mtime, reverse=True
        )
        for path in task_logs[:6]:
            parts.append(f"===== task log {path.relative_to(self.home)}\n{tail(path, 40)}")
        return "\n".join(parts)

    # ---- REST API --------------------------------------------------------------------------------------

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the public REST API (``/api/v2``) as an admin and return the decoded JSON."""
        if self._token is None:
            self._token = self.token(*self.api_login) if self.api_login else self.token()
            self._session.headers["Authorization"] = f"Bearer {self._token}"
        answer = self._session.request(method, f"{self.api_url}/api/v2{path}", timeout=30, **kwargs)
        if answer.status_code >= 400:
            raise DeploymentError(f"{method} {path} -> {answer.status_code}: {answer.text}")
        return answer.json() if answer.content else None

    def token(self, username: str | None = None, password: str | None = None) -> str:
        """A JWT for the REST API: ``username``'s, or without one the all-admins token."""
        if username is None:
            answer = requests.get(f"{self.api_url}/auth/token", timeout=10)
        else:
            login = {"username": username, "password": password}
            answer = requests.post(f"{self.api_url}/auth/token", json=login, timeout=10)
        answer.raise_for_status()
        return str(answer.json()["access_token"])

    def wait_for_dags(self, dag_ids: Iterable[str], timeout: float = 120) -> None:
        wanted = set(dag_ids)

        def parsed() -> bool:
            self.check_alive()
            errors = self.api("GET", "/importErrors")["import_errors"]
            if errors:
                raise DeploymentError(f"import errors: {json.dumps(errors, indent=1)}")
            dags = self.api("GET", "/dags", params={"limit": 100})["dags"]
            return wanted <= {dag["dag_id"] for dag in dags}

        wait_for(f"DAGs {sorted(wanted)} to be parsed", parsed, timeout, self.diagnostics, interval=1)

    def set_pool(self, name: str, slots: int, include_deferred: bool = False) -> None:
        body = {"name": name, "slots": slots, "include_deferred": include_deferred}
        self.api("POST", "/pools", json=body)

    def trigger(self, dag_id: str, conf: Mapping[str, Any] | None = None) -> str:
        """Start a run and return its id once the API can read it back.

        Airflow 3.1.0 with FastAPI 0.118+ answers the POST before its session commits (a dependency with
        ``yield`` now ends after the response), so a GET right after it can answer 404 (seen on SQLite).
        """
        body = {"logical_date": None, "conf": dict(conf or {})}
        run_id = str(self.api("POST", f"/dags/{dag_id}/dagRuns", json=body)["dag_run_id"])
        path = f"{self.api_url}/api/v2/dags/{dag_id}/dagRuns/{run_id}"
        wait_for(
            f"run {run_id} to be readable",
            lambda: self._session.get(path, timeout=30).status_code == 200,
            30,
            lambda: "",
            interval=0.2,
        )
        return run_id

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of the run (the API answers at most 100 a page)."""
        found: list[dict[str, Any]] = []
        while True:
            params = {"limit": 100, "offset": len(found), "order_by": "id"}
            page = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params=params)
            found += page["task_instances"]
            if not page["task_instances"] or len(found) >= page["total_entries"]:
                return found

    def xcom(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> Any:
        """A task instance's return value, as JSON."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value"
        return self.api("GET", path, params={"map_index": map_index})["value"]

    def task_instance(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, Any]:
        suffix = f"/{map_index}" if map_index >= 0 else ""
        return dict(self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}{suffix}"))

    def set_task_state(self, dag_id: str, run_id: str, task_id: str, state: str) -> None:
        """What a user does with "Mark as failed" (or success) in the UI."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"
        self.api("PATCH", path, json={"new_state": state})

    def clear_task(self, dag_id: str, run_id: str, task_id: str) -> None:
        """What a user does with "Clear" in the UI: the task instance runs again, whatever its state."""
        body = {"dry_run": False, "dag_run_id": run_id, "task_ids": [task_id], "only_failed": False}
        self.api("POST", f"/dags/{dag_id}/clearTaskInstances", json=body)

    def task_log(self, dag_id: str, run_id: str, task_id: str) -> str:
        """Every log file of the task instance's tries (worker and triggerer), as one text."""
        folder = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        return "\n".join(path.read_text(errors="replace") for path in sorted(folder.glob("**/*.log")))

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float, require_success: bool = True) -> str:
        """Wait until the run ends; unless ``require_success`` is False, fail with task states and logs
        when it did not succeed."""

        def finished() -> str | None:
            self.check_alive()
            state = self.run_state(dag_id, run_id)
            return state if state in TERMINAL_RUN_STATES else None

        state = wait_for(
            f"{dag_id} run {run_id} to finish", finished, timeout, self.run_diagnostics(dag_id, run_id)
        )
        if require_success and state != "success":
            raise DeploymentError(
                f"{dag_id} run {run_id} ended {state}\n{self.run_diagnostics(dag_id, run_id)()}"
            )
        return state

    def run_diagnostics(self, dag_id: str, run_id: str) -> Callable[[], str]:
        def describe() -> str:
            try:
                states = [
                    f"{ti['task_id']}[{ti['map_index']}]={ti['state']}"
                    for ti in self.task_instances(dag_id, run_id)
                ]
            except (requests.RequestException, DeploymentError) as error:
                states = [f"(task states unavailable: {error!r})"]
            return f"task states: {' '.join(states)}\n{self.diagnostics()}"

        return describe


def postgres_bin() -> Path:
    """Debian's PostgreSQL server binaries (the newest installed major version)."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3]))
    if not versions:
        raise DeploymentError("PostgreSQL is not installed (Debian package postgresql; .ci/services.sh)")
    return versions[-1].parent


@dataclass
class CeleryDeployment(AirflowDeployment):
    """Airflow as a platform team scales it: CeleryExecutor over Redis, PostgreSQL, several workers and
    triggerers, each its own process. Redis and a private PostgreSQL cluster run on free loopback ports
    from their own directories and go away with the deployment.
    """

    workers: int = 2
    triggerers: int = 2
    worker_concurrency: int = 4
    redis_port: int = field(default_factory=free_port)
    postgres_port: int = field(default_factory=free_port)
    #: TriggererJob id of each running triggerer service, so a test knows which process holds a trigger.
    triggerer_jobs: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def database_url(self) -> str:
        return f"postgresql+psycopg2://airflow@127.0.0.1:{self.postgres_port}/airflow"

    def settings(self) -> dict[str, dict[str, str]]:
        conf = super().settings()
        conf["core"] |= {"executor": "CeleryExecutor", "parallelism": "32"}
        conf["database"] = {"sql_alchemy_conn": self.database_url}
        conf["celery"] = {
            "broker_url": f"redis://127.0.0.1:{self.redis_port}/0",
            "result_backend": f"db+postgresql+psycopg2://airflow@127.0.0.1:{self.postgres_port}/airflow",
            "worker_concurrency": str(self.worker_concurrency),
            "worker_prefetch_multiplier": "1",
            "sync_parallelism": "1",
        }
        # Failure detection in seconds rather than minutes: a task whose worker died, a triggerer that
        # stopped heartbeating (its triggers then go to another triggerer).
        conf["scheduler"] |= {
            "task_instance_heartbeat_timeout": "15",
            "task_instance_heartbeat_timeout_detection_interval": "2",
        }
        conf["triggerer"] = {"job_heartbeat_sec": "1", "triggerer_health_check_threshold": "6"}
        return conf

    def prepare_database(self) -> None:
        self.run_cli("db", "migrate")  # PostgreSQL: there is no SQLite template to copy

    def start(self, components: Iterable[str] = ("scheduler", "dag-processor")) -> None:
        """Broker and database first, then Airflow, then the workers and triggerers one by one."""
        self.start_redis()
        self.start_postgres()
        super().start(components)
        for number in range(1, self.workers + 1):
            self.start_worker(f"worker-{number}")
        for number in range(1, self.triggerers + 1):
            self.start_triggerer(f"triggerer-{number}")
        self.wait_healthy(["triggerer"])

    def start_redis(self) -> None:
        redis_server = shutil.which("redis-server")
        if redis_server is None:
            raise DeploymentError(
                "redis-server is not installed (Debian package redis-server; .ci/services.sh)"
            )
        data = self.home / "redis"
        data.mkdir(exist_ok=True)
        argv = [
            redis_server,
            *("--port", str(self.redis_port), "--bind", "127.0.0.1", "--dir", str(data)),
            *("--save", "", "--appendonly", "no", "--daemonize", "no"),
        ]
        service = self.start_service("redis", argv, backing=True)
        wait_for(
            "redis to listen", lambda: service.alive and port_open(self.redis_port), 30, service.describe
        )

    def start_postgres(self) -> None:
        """A private cluster (initdb, trust auth on loopback) with an ``airflow`` database.

        PostgreSQL refuses to run as root, so as root (CI) it runs as Debian's ``postgres`` user from a
        directory outside the test's private temp tree, which that user could not enter.
        """
        import pwd

        import psycopg2

        user = "postgres" if os.geteuid() == 0 else None
        self.postgres_data = Path(tempfile.mkdtemp(prefix="wan-airflow-postgres-"))
        if user is not None:
            account = pwd.getpwnam(user)
            os.chown(self.postgres_data, account.pw_uid, account.pw_gid)
        binaries = postgres_bin()
        initdb = [str(binaries / "initdb"), "-D", str(self.postgres_data), "-U", "airflow", "--auth=trust"]
        completed = subprocess.run(
            [*initdb, "-E", "UTF8", "--no-sync"],
            user=user,
            cwd=self.postgres_data,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise DeploymentError(
                f"initdb exited {completed.returncode}\n{completed.stdout}\n{completed.stderr}"
            )
        argv = [
            str(binaries / "postgres"),
            *("-D", str(self.postgres_data), "-p", str(self.postgres_port), "-k", str(self.postgres_data)),
            *("-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"),
            *("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"),
        ]
        # SIGINT: PostgreSQL's fast shutdown (SIGTERM would wait for every client to disconnect).
        service = self.start_service("postgres", argv, user=user, stop_signal=signal.SIGINT, backing=True)

        def accepts_connections() -> bool:
            if not service.alive:
                raise DeploymentError(f"postgres exited\n{service.describe()}")
            try:
                psycopg2.connect(
                    host="127.0.0.1", port=self.postgres_port, user="airflow", dbname="postgres"
                ).close()
            except psycopg2.OperationalError:
                return False
            return True

        wait_for("postgres to accept connections", accepts_connections, 60, service.describe)
        connection = psycopg2.connect(
            host="127.0.0.1", port=self.postgres_port, user="airflow", dbname="postgres"
        )
        connection.autocommit = True
        with contextlib.closing(connection), connection.cursor() as cursor:
            cursor.execute("CREATE DATABASE airflow")

    def start_worker(self, name: str) -> Service:
        """A Celery worker named ``name``; waits until it is ready to take tasks."""
        service = self.start_component(
            "celery",
            *("worker", "--celery-hostname", f"{name}@%h", "--concurrency", str(self.worker_concurrency)),
            *("--skip-serve-logs", "--without-mingle", "--without-gossip"),
            name=name,
        )
        service.wait_for_output(r"\bready\.", timeout=120)
        return service

    def start_triggerer(self, name: str) -> Service:
        """A triggerer; waits for its job to heartbeat and records the job id in ``triggerer_jobs``."""
        before = self.running_triggerer_jobs()
        service = self.start_component("triggerer", "--skip-serve-logs", name=name)

        def new_job() -> int | None:
            self.check_alive()
            fresh = self.running_triggerer_jobs() - before
            return fresh.pop() if len(fresh) == 1 else None

        self.triggerer_jobs[name] = wait_for(f"{name} to start its job", new_job, 120, self.diagnostics)
        return service

    def running_triggerer_jobs(self) -> set[int]:
        answer = self.api(
            "GET", "/jobs", params={"job_type": "TriggererJob", "job_state": "running", "limit": 100}
        )
        return {int(job["id"]) for job in answer["jobs"]}

    def worker_logs_mentioning(self, text: str) -> dict[str, int]:
        """How many workloads each worker took whose description contains ``text`` (e.g. a dag_id)."""
        counts = {}
        for name, service in self.services.items():
            if name.startswith("worker-") and service.log_path.exists():
                lines = service.log_path.read_text(errors="replace").splitlines()
                counts[name] = sum(
                    1 for line in lines if "Executing workload in Celery" in line and text in line
                )
        return counts

    def stop(self, grace: float = 15.0) -> None:
        try:
            super().stop(grace)
        finally:
            data = getattr(self, "postgres_data", None)
            if data is not None:
                shutil.rmtree(data, ignore_errors=True)
