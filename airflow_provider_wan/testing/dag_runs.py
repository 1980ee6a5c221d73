"""Run a DAG in-process the way ``dag.test()`` does, and fail loudly when it did not succeed.

``dag.test()`` needs a migrated metadata database and the DAG serialized into it (the DAG processor's
job in a deployment), and it returns a failed run without raising. :class:`WanAirflow` does the set-up,
runs ``dag.test()`` (deferred tasks run their triggers in line), and raises :class:`WanDagRunFailed`
naming the failed task and its exception.

A run is a manual trigger's by default: no logical date, as a run triggered from the UI, the REST API
or ``airflow dags trigger`` has on Airflow 3 (``{{ ds }}`` renders as ``None``; ``{{ run_id }}`` and
``{{ dag_run.run_after }}`` exist in every run). ``dag.test()`` on its own gives one (the current time).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pluggy

from airflow_provider_wan.compat import listener_manager, serialize_dag, task_instances

_hookimpl = pluggy.HookimplMarker("airflow")
_migrated: set[Path] = set()  # homes whose database this process has migrated
_templates: set[Path] = set()  # migrated templates this process copied from


class WanDagRunFailed(AssertionError):
    """The run did not succeed: names the first failed task and its exception; ``.run`` has the rest."""

    def __init__(self, run: WanDagRun) -> None:
        self.run = run
        failed = run.failed_tasks()
        self.task_id = failed[0][0] if failed else None
        self.error = run.errors.get(failed[0]) if failed else None
        if failed:
            ti = run.task_instances[failed[0]]
            why = f"{type(self.error).__name__}: {self.error}" if self.error else "see its log above"
            detail = f"task {_named(ti)} {ti.state}: {why}"
        else:
            detail = "no task failed (the run itself did not finish)"
        states = ", ".join(
            f"{task_id}{'' if index < 0 else f'[{index}]'}={ti.state}"
            for (task_id, index), ti in sorted(run.task_instances.items())
        )
        super().__init__(f"DAG run {run.dag_id}/{run.run_id} ended {run.state}: {detail} (tasks: {states})")


@dataclass
class WanDagRun:
    """A finished run: its state, task instances by (task id, map index), and their exceptions."""

    dag_id: str
    run_id: str
    state: str
    task_instances: dict[tuple[str, int], Any]
    errors: dict[tuple[str, int], BaseException] = field(default_factory=dict)

    def ti(self, task_id: str, map_index: int = -1) -> Any:
        """The task instance (detached from the session) of ``task_id``."""
        return self.task_instances[(task_id, map_index)]

    def xcom(self, task_id: str, key: str = "return_value", map_index: int | None = None) -> Any:
        """What ``task_id`` pushed under ``key``; a mapped task's values as a list in map-index order."""
        indexes = sorted(index for found, index in self.task_instances if found == task_id)
        if not indexes:
            raise KeyError(f"no task {task_id!r} in run {self.run_id} (tasks: {sorted(self._task_ids())})")
        if map_index is None and indexes != [-1]:
            return [self.xcom(task_id, key, index) for index in indexes]
        ti = self.ti(task_id, -1 if map_index is None else map_index)
        return ti.xcom_pull(task_ids=task_id, key=key, map_indexes=ti.map_index)

    def failed_tasks(self) -> list[tuple[str, int]]:
        """(task id, map index) of the tasks that did not succeed or skip, those with an exception first."""
        unfinished = [key for key, ti in sorted(self.task_instances.items()) if ti.state not in _FINE]
        return sorted(unfinished, key=lambda key: key not in self.errors)

    def _task_ids(self) -> set[str]:
        return {task_id for task_id, _ in self.task_instances}


_FINE = {"success", "skipped"}


def _named(ti: Any) -> str:
    """``task`` or ``task[2]``, with the row's label when the task renders one (``map_index_template``):
    ``generate_video[2] (products/BAG-203.mp4)``."""
    if ti.map_index < 0:
        return str(ti.task_id)
    label = getattr(ti, "rendered_map_index", None)
    return f"{ti.task_id}[{ti.map_index}]" + (f" ({label})" if label and label != str(ti.map_index) else "")


class WanAirflow:
    """Airflow in this process, on the isolated home: migrate its database once, run DAGs in it.

    With ``templates`` (a folder several test processes share, such as pytest's cache), the database is
    migrated once into a template per Airflow version and then copied: a session of many processes
    (pytest-xdist workers), or the next session, pays the migration once.
    """

    def __init__(self, home: Path, templates: Path | None = None) -> None:
        self.home = home
        self.templates = templates

    def migrate(self) -> None:
        """The home's SQLite database migrated (copied from the template when there is one), once a home."""
        if self.home in _migrated:
            return
        database = self.home / "airflow.db"
        if self.templates is None:
            _migrate(self.home, os.environ.copy())
        else:
            shutil.copyfile(migrated_template(self.templates), database)
        _migrated.add(self.home)

    def run(
        self, dag: Any, conf: Mapping[str, Any] | None = None, *, logical_date: datetime | None = None
    ) -> WanDagRun:
        """Run ``dag`` like ``dag.test(run_conf=conf, logical_date=logical_date)``: by default as a manual
        trigger does, without a logical date. The finished run, or :class:`WanDagRunFailed`."""
        run = self.run_unchecked(dag, conf, logical_date=logical_date)
        if run.state != "success":
            raise WanDagRunFailed(run)
        return run

    def run_unchecked(
        self, dag: Any, conf: Mapping[str, Any] | None = None, *, logical_date: datetime | None = None
    ) -> WanDagRun:
        """Like :meth:`run`, but returns a failed run too (for tests that expect the failure)."""
        self.migrate()
        _logs_to_current_stdout()
        serialize_dag(dag)
        with _collect_errors() as errors:
            dag_run = dag.test(run_conf=dict(conf) if conf is not None else None, logical_date=logical_date)
        tis = task_instances(dag.dag_id, dag_run.run_id)
        return WanDagRun(dag.dag_id, dag_run.run_id, str(dag_run.state), tis, errors)


def migrated_template(folder: Path) -> Path:
    """A freshly migrated SQLite metadata database for this Airflow version, made once in ``folder``.

    Processes that share ``folder`` wait for each other on a lock; the template appears whole or not at
    all (written beside it, then renamed).
    """
    import fcntl
    from importlib.metadata import version

    folder.mkdir(parents=True, exist_ok=True)
    template = folder / f"airflow-{version('apache-airflow')}.db"
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not template.exists():
            with tempfile.TemporaryDirectory(dir=folder) as scratch:
                home = Path(scratch)
                env = {
                    **os.environ,
                    "AIRFLOW_HOME": str(home),
                    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
                }
                _migrate(home, env)
                os.replace(home / "airflow.db", template)
    _templates.add(template)
    return template


def session_template() -> Path | None:
    """The template this process copied its database from, if any (a deployment's SQLite database can
    start from it too, instead of migrating again)."""
    return next(iter(_templates), None)


def _migrate(home: Path, env: dict[str, str]) -> None:
    """``airflow db migrate`` in a subprocess (this process keeps no migration state)."""
    done = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True, env=env
    )
    if done.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed in {home}:\n{done.stderr[-3000:]}")


class _TaskErrors:
    """An Airflow listener keeping each failed task's exception (``dag.test()`` only logs it)."""

    def __init__(self) -> None:
        self.errors: dict[tuple[str, int], BaseException] = {}

    @_hookimpl
    def on_task_instance_failed(self, previous_state: Any, task_instance: Any, error: Any) -> None:
        if isinstance(error, BaseException):
            self.errors[(task_instance.task_id, task_instance.map_index)] = error


@contextmanager
def _collect_errors() -> Iterator[dict[tuple[str, int], BaseException]]:
    listener = _TaskErrors()
    manager = listener_manager()
    manager.add_listener(listener)
    try:
        yield listener.errors
    finally:
        manager.pm.unregister(listener)


class _CurrentStdout:
    """A text stream that writes to ``sys.stdout`` as it is at each write (pytest swaps it per test)."""

    encoding = "utf-8"

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def _logs_to_current_stdout() -> None:
    """Task logs to whatever stdout is current, where pytest's ``capsys``/``capfd`` see them."""
    from airflow.sdk.log import configure_logging

    configure_logging(output=_CurrentStdout(), colored_console_log=False)
