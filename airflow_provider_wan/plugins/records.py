"""The Wan videos of a DAG run as its task instances recorded them in Airflow's database.

A generation task instance records its result (XCom ``return_value``: the Wan task, request, usage,
billed seconds and cost), its estimate (``estimated_cost``) and, from the create on, the Wan task it
holds (``wan_task_claim``); a copy task instance records the S3 object it wrote and the Wan task it
came from. Videos and copies are matched by Wan task id. Nothing here comes from the browser but the
DAG run and task instance it asks about.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_wan.api.responses import parse_number
from airflow_provider_wan.compat import run_records
from airflow_provider_wan.cost import ESTIMATE_KEY
from airflow_provider_wan.hooks.connection import DEFAULT_CONN_ID
from airflow_provider_wan.operators.submission import CLAIM_KEY
from airflow_provider_wan.plugins.paths import NO_MAP_INDEX

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

RESULT_KEY = "return_value"
RECORD_KEYS = (RESULT_KEY, ESTIMATE_KEY, CLAIM_KEY)
Row = tuple[str, int]  # (task id, map index)


@dataclass(frozen=True)
class TaskRef:
    """One task instance of the run."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int = NO_MAP_INDEX

    @property
    def label(self) -> str:
        return self.task_id if self.map_index == NO_MAP_INDEX else f"{self.task_id}[{self.map_index}]"


@dataclass(frozen=True)
class S3Copy:
    """A video a copy task instance wrote to S3, as its result says."""

    ref: TaskRef
    bucket: str
    key: str
    wan_task_id: str
    aws_conn_id: str | None
    billed_seconds: float | None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass
class Video:
    """One Wan video: the task instance that made it (or, made elsewhere, the one that copied it), what
    it recorded, and the copies of it this run made."""

    ref: TaskRef
    state: str | None
    wan_task_id: str | None
    wan_conn_id: str
    result: dict[str, Any] | None = None
    estimate: dict[str, Any] | None = None
    rendered: Mapping[str, Any] = field(default_factory=dict)
    copies: list[S3Copy] = field(default_factory=list)

    @property
    def request(self) -> dict[str, Any]:
        body = (self.result or {}).get("request")
        return body if isinstance(body, dict) else {}

    def _inputs(self) -> dict[str, Any]:
        found = self.request.get("input")
        return found if isinstance(found, dict) else {}

    def _parameters(self) -> dict[str, Any]:
        found = self.request.get("parameters")
        return found if isinstance(found, dict) else {}

    def _usage(self) -> dict[str, Any]:
        found = (self.result or {}).get("usage")
        return found if isinstance(found, dict) else {}

    @property
    def prompt(self) -> str | None:
        return _text(self._inputs().get("prompt") or self.rendered.get("prompt"))

    @property
    def actual_prompt(self) -> str | None:
        return _text((self.result or {}).get("actual_prompt"))

    @property
    def model(self) -> str | None:
        recorded = (self.result or {}).get("model") or self.request.get("model")
        return _text(recorded or self.rendered.get("model"))

    @property
    def size(self) -> str | None:
        """Pixels as billed (``usage``), else as asked (``size`` or ``resolution``)."""
        usage = self._usage()
        if usage.get("width") and usage.get("height"):
            return f"{usage['width']}*{usage['height']}"
        parameters = self._parameters()
        return _text(parameters.get("size") or parameters.get("resolution") or self.rendered.get("size"))

    @property
    def duration(self) -> float | None:
        usage_seconds = parse_number(self._usage().get("duration"))
        if usage_seconds is not None:
            return usage_seconds
        return parse_number(self._parameters().get("duration") or self.rendered.get("duration"))

    @property
    def seed(self) -> Any:
        return self._parameters().get("seed")

    @property
    def status(self) -> str | None:
        """The Wan task's status as the result recorded it (None before there is a result)."""
        return _text((self.result or {}).get("status"))

    @property
    def billed_seconds(self) -> float | None:
        recorded = parse_number((self.result or {}).get("billed_seconds"))
        if recorded is not None:
            return recorded
        return next((c.billed_seconds for c in self.copies if c.billed_seconds is not None), None)

    @property
    def cost(self) -> dict[str, Any] | None:
        found = (self.result or {}).get("cost")
        return found if isinstance(found, dict) else None

    @property
    def end_time(self) -> str | None:
        return _text((self.result or {}).get("end_time"))

    def copy_made_by(self, ref: TaskRef) -> S3Copy | None:
        return next((copy for copy in self.copies if copy.ref == ref), None)


@dataclass(frozen=True)
class RunVideos:
    """Every Wan video of one DAG run, in task order, and the state of every task instance."""

    dag_id: str
    run_id: str
    videos: list[Video]
    states: dict[Row, str | None]

    def for_task(self, task_id: str, map_index: int) -> Video | None:
        """The video a task instance made or copied."""
        ref = TaskRef(self.dag_id, self.run_id, task_id, map_index)
        return next((v for v in self.videos if v.ref == ref or v.copy_made_by(ref)), None)


def load_run(session: Session, dag_id: str, run_id: str) -> RunVideos | None:
    """The run's videos from its task instances, XComs and rendered fields (None: no such run)."""
    found = run_records(session, dag_id, run_id, RECORD_KEYS)
    return None if found is None else assemble(dag_id, run_id, *found)


def assemble(
    dag_id: str,
    run_id: str,
    states: Mapping[Row, str | None],
    records: Mapping[tuple[str, int, str], Any],
    rendered: Mapping[Row, Any],
) -> RunVideos:
    """Videos from the run's records: one per generation task instance that holds a Wan task, with the
    run's copies of it; a copy of a video made elsewhere stands for that video itself."""
    videos: list[Video] = []
    copies: list[S3Copy] = []
    for row in sorted(states):
        ref = TaskRef(dag_id, run_id, *row)
        fields = _fields(rendered, row)
        result = records.get((*row, RESULT_KEY))
        copy = _copy(ref, result, fields)
        if copy is not None:
            copies.append(copy)  # a transfer's, or a generation's own (destination=)
        wan_task_id = _generated(result) or _claimed(records.get((*row, CLAIM_KEY)))
        if wan_task_id is None:
            continue
        estimate = records.get((*row, ESTIMATE_KEY))
        videos.append(
            Video(
                ref,
                states[row],
                wan_task_id,
                _conn_id(fields),
                result if _generated(result) else None,
                estimate if isinstance(estimate, dict) else None,
                fields,
            )
        )
    by_wan_task = {video.wan_task_id: video for video in videos}
    for copy in copies:
        video = by_wan_task.get(copy.wan_task_id)
        if video is None:
            row = (copy.ref.task_id, copy.ref.map_index)
            conn_id = _conn_id(_fields(rendered, row))
            video = by_wan_task[copy.wan_task_id] = Video(copy.ref, states[row], copy.wan_task_id, conn_id)
            videos.append(video)
        video.copies.append(copy)
    return RunVideos(dag_id, run_id, videos, dict(states))


def totals(videos: Iterable[Video]) -> tuple[float, dict[str, float], int]:
    """Billed seconds of the videos, their cost by currency, and how many billed videos have no price."""
    seconds = 0.0
    amounts: dict[str, float] = {}
    unpriced = 0
    for video in videos:
        billed = video.billed_seconds
        if billed is None:
            continue
        seconds += billed
        cost = video.cost or {}
        amount, currency = parse_number(cost.get("amount")), cost.get("currency")
        if amount is None or not currency:
            unpriced += 1
            continue
        amounts[str(currency)] = round(amounts.get(str(currency), 0.0) + amount, 6)
    return seconds, amounts, unpriced


def _fields(rendered: Mapping[Row, Any], row: Row) -> dict[str, Any]:
    """A task instance's rendered template fields (none when Airflow pruned them)."""
    found = rendered.get(row)
    return found if isinstance(found, dict) else {}


def _generated(result: Any) -> str | None:
    """The Wan task id of a generation's result (a task id with the request it was made from)."""
    if isinstance(result, dict) and isinstance(result.get("request"), dict):
        return _text(result.get("task_id"))
    return None


def _claimed(claim: Any) -> str | None:
    return _text(claim.get("wan_task_id")) if isinstance(claim, dict) else None


def _copy(ref: TaskRef, result: Any, fields: Mapping[str, Any]) -> S3Copy | None:
    """The S3 object of a result that landed a video (a transfer's, or a generation's ``destination=``):
    bucket, key and the Wan task it holds."""
    if not isinstance(result, dict):
        return None
    bucket, key = _text(result.get("bucket")), _text(result.get("key"))
    wan_task_id = _text(result.get("wan_task_id")) or _generated(result)
    if not (bucket and key and wan_task_id):
        return None
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    # A run whose rendered fields were pruned copied with the operator's default connection, most likely.
    aws_conn_id = _text(fields.get("aws_conn_id", S3Hook.default_conn_name))
    return S3Copy(ref, bucket, key, wan_task_id, aws_conn_id, parse_number(result.get("billed_seconds")))


def _conn_id(fields: Mapping[str, Any]) -> str:
    return _text(fields.get("wan_conn_id")) or DEFAULT_CONN_ID


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
