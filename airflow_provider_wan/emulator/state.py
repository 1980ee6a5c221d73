"""The emulated account: its tasks and their life cycle, the account limits, counters and request log.

Everything here is plain Python driven by the :class:`~.clock.Clock`; the HTTP layer (``app.py``) only
translates requests into these calls and :class:`Answer` objects back into responses. A task's state is
worked out lazily from the clock when someone looks at it (no timers), so thousands of tasks cost
nothing while nobody polls them and ``advance_clock`` takes effect at once.

Life cycle: a task waits ``queue_seconds`` as ``PENDING``, then runs ``task_seconds - queue_seconds`` as
``RUNNING`` and ends ``SUCCEEDED``. With limits on, each model family runs at most ``max_running`` tasks
at once (5 for wan2.5+, 2 for wan2.1/2.2); later tasks stay ``PENDING`` in a first-in first-out queue
until a slot frees *(assumed from the contract's "run 5 tasks at once" and "about 500 tasks wait in an
account's queue")*; a create past ``creates_per_second`` in any one-second window, or one that would
make the queue longer than ``queue_limit``, gets 429 ``Throttling.RateQuota`` with ``Retry-After``
*(assumed: the header is sent)*. Query, cancel and list share ``task_api_rate`` (20) requests a second
per account, any of its keys; past that they get 429 ``Throttling`` with ``Retry-After`` *(assumed: a
token bucket saving up one second's worth, the* :class:`~airflow_provider_wan.api.budget.TokenBucket`
*the provider paces itself with; a wrong key is refused before it counts)*. Requests the service refuses
only after accepting them (parameter mistakes, moderation markers) end ``FAILED`` once their queue time
has passed *(assumed)*.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import math
import secrets
import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from airflow_provider_wan.api import CREATE_PATH, OutputSpec, TaskStatus, WanRequest
from airflow_provider_wan.api.budget import VENDOR_TASK_API_RPS, TokenBucket, check_rate
from airflow_provider_wan.api.responses import format_time
from airflow_provider_wan.emulator.answers import MESSAGES, Answer, error_answer, key_id, new_id
from airflow_provider_wan.emulator.clock import Clock, utc
from airflow_provider_wan.emulator.inputs import MediaFacts
from airflow_provider_wan.emulator.intake import Draft, default_seed, draft, judge
from airflow_provider_wan.emulator.media import VideoKey
from airflow_provider_wan.emulator.usage import gives_actual_prompt, usage_of

DAY = 24 * 3600.0
LIST_TIME_FORMAT = "%Y%m%d%H%M%S"
REQUEST_LOG_SIZE = 100_000
UNLIMITED = 2**62
PROMPT_EXTENSION = " Cinematic lighting, smooth camera movement, rich detail."  # (assumed) the rewrite


@dataclass(frozen=True)
class Settings:
    """How the emulated account behaves; see the module docstring for the life cycle."""

    api_keys: tuple[str, ...]
    task_seconds: float = 2.0
    queue_seconds: float = 0.2
    moderation_marker: str | None = "[[blocked]]"
    ip_marker: str | None = "[[ip-infringement]]"
    limits: bool = True
    queue_limit: int = 500
    region: str = "ap-southeast-1"
    task_api_rate: float | None = VENDOR_TASK_API_RPS  # query+cancel+list a second; None: not limited
    max_running: int | None = None  # tasks running at once per family; None: the model's (5 or 2)
    creates_per_second: int | None = None  # per family; None: the model's (5 or 2)

    def __post_init__(self) -> None:
        if not self.api_keys or not all(isinstance(k, str) and k for k in self.api_keys):
            raise ValueError("the emulator needs at least one non-empty API key")
        if self.task_seconds < 0 or self.queue_seconds < 0:
            raise ValueError("task_seconds and queue_seconds must be 0 or more")
        if self.task_api_rate is not None:
            check_rate(self.task_api_rate)
        for name in ("max_running", "creates_per_second"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name}={value!r}: a whole number of 1 or more, or None for the model's")

    @property
    def run_seconds(self) -> float:
        return max(self.task_seconds - self.queue_seconds, 0.0)


@dataclass(eq=False)
class TaskRecord:
    """One emulated task, with what the tests may want to check about it."""

    task_id: str
    request_id: str
    key_id: str
    model: str
    family: str
    body: dict[str, Any]
    request: WanRequest
    spec: Any  # the model's FamilySpec
    created_at: float
    ready_at: float
    run_seconds: float
    seed: int
    output: OutputSpec | None
    failure: tuple[str, str] | None
    warnings: list[str]
    input_seconds: float = 0.0  # reference video seconds billed on top of the output's
    status: TaskStatus = TaskStatus.PENDING
    started_at: float | None = None
    ended_at: float | None = None
    stamps: dict[float, str] = field(default_factory=dict, repr=False)

    def stamp(self, moment: float) -> str:
        """``moment`` in the service's time format, formatted once (queries are hot)."""
        text = self.stamps.get(moment)
        if text is None:
            text = self.stamps[moment] = format_time(utc(moment))
        return text

    @property
    def video_key(self) -> VideoKey | None:
        if self.output is None:
            return None
        return VideoKey(self.rendered_prompt, self.seed, self.output)

    @property
    def rendered_prompt(self) -> str:
        return (self.request.prompt or "")[: self.spec.prompt_limit]

    def to_dict(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "request_id": self.request_id,
            "api_key_id": self.key_id,
            "model": self.model,
            "family": self.family,
            "status": self.status.value,
            "prompt": self.request.prompt,
            "body": self.body,
            "request": asdict(self.request),  # type: ignore[call-overload]  # every request is a dataclass
            "seed": self.seed,
            "output": asdict(self.output) if self.output else None,
            "code": self.failure[0] if self.failure else None,
            "message": self.failure[1] if self.failure else None,
            "warnings": list(self.warnings),
            "created_at": self.created_at,
            "ready_at": self.ready_at,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
        }


class _Pool:
    """The run slots of one model family: a FIFO queue in front of ``capacity`` parallel runners."""

    def __init__(self, spec: Any, settings: Settings) -> None:
        self.spec = spec
        self.set_limits(settings)
        self.waiting: deque[TaskRecord] = deque()
        self.waiting_count = 0
        self.running: list[tuple[float, int, TaskRecord]] = []
        self.last_event = 0.0
        self.recent_creates: deque[float] = deque()
        self._order = itertools.count()

    def set_limits(self, settings: Settings) -> None:
        """The family's limits (or the settings' overrides of them), or none at all with limits off."""
        limits = self.spec if settings.limits else None
        self.capacity = (settings.max_running or limits.max_running) if limits else UNLIMITED
        self.creates_per_second = (
            (settings.creates_per_second or limits.creates_per_second) if limits else UNLIMITED
        )

    def add(self, task: TaskRecord) -> None:
        self.waiting.append(task)
        self.waiting_count += 1

    def forget_cancelled(self) -> None:
        self.waiting_count -= 1  # the cancelled task leaves the deque lazily, when it reaches the head

    def retry_after(self, now: float) -> float | None:
        """Seconds until one more create fits the rate window; None when it fits now."""
        while self.recent_creates and self.recent_creates[0] <= now - 1.0:
            self.recent_creates.popleft()
        if len(self.recent_creates) < self.creates_per_second:
            return None
        return self.recent_creates[0] + 1.0 - now

    def advance(self, now: float) -> None:
        """Play the queue forward to ``now``: start waiting tasks when slots free, finish running ones."""
        while True:
            while self.waiting and self.waiting[0].status is not TaskStatus.PENDING:
                self.waiting.popleft()
            next_end = self.running[0][0] if self.running else math.inf
            next_start = math.inf
            if self.waiting and len(self.running) < self.capacity:
                next_start = max(self.waiting[0].ready_at, self.last_event)
            moment = min(next_end, next_start)
            if moment > now:
                return
            self.last_event = moment
            if next_end <= next_start:
                _, _, task = heapq.heappop(self.running)
                task.status, task.ended_at = TaskStatus.SUCCEEDED, next_end
            else:
                task = self.waiting.popleft()
                self.waiting_count -= 1
                task.status, task.started_at = TaskStatus.RUNNING, next_start
                end = next_start + task.run_seconds
                heapq.heappush(self.running, (end, next(self._order), task))


class Account:
    """The emulated Wan account: the four calls, the video signatures, and what tests inspect."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.initial_settings = self.settings = settings
        self.clock = clock
        self.lock = threading.RLock()
        self._secret = secrets.token_bytes(32)
        self.reset()

    # ----------------------------------------------------------------- inspection and control

    def reset(self) -> None:
        """Forget every task, count and log entry; limits back to how the emulator was made."""
        with self.lock:
            self.settings = self.initial_settings
            self.tasks: dict[str, TaskRecord] = {}
            self._pools: dict[str, _Pool] = {}
            self._creates: Counter[tuple[str | None, str | None, bool]] = Counter()
            self._request_log: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_SIZE)
            self._video_authorization: list[dict[str, Any]] = []
            self._task_api_budget = self._new_task_api_budget()

    def set_limits(self, enabled: bool) -> None:
        """All account limits on or off (the task-API rate among them, unless set to None)."""
        with self.lock:
            self.settings = replace(self.settings, limits=enabled)
            now = self.clock.now()
            for pool in self._pools.values():
                pool.advance(now)
                pool.set_limits(self.settings)
            self._task_api_budget = self._new_task_api_budget()

    def set_task_api_rate(self, rate: float | None) -> None:
        """Query, cancel and list requests a second the account takes (None: as many as come)."""
        with self.lock:
            self.settings = replace(self.settings, task_api_rate=rate)
            self._task_api_budget = self._new_task_api_budget()

    def _new_task_api_budget(self) -> TokenBucket | None:
        rate = self.settings.task_api_rate
        if not self.settings.limits or rate is None:
            return None
        return TokenBucket(rate, burst=rate)  # wall time, not the test clock: advance_clock refills nothing

    def task_api_refusal(self) -> Answer | None:
        """429 ``Throttling`` when a query, cancel or list call is past the account's rate; else None."""
        budget = self._task_api_budget
        wait = budget.take() if budget is not None else 0.0
        if wait <= 0:
            return None
        return error_answer(429, "Throttling", MESSAGES["Throttling"], {"Retry-After": str(math.ceil(wait))})

    def set_timing(self, task_seconds: float | None = None, queue_seconds: float | None = None) -> None:
        """Queue and run times of tasks created from now on (reset restores the emulator's own)."""
        with self.lock:
            old = self.settings
            self.settings = replace(
                old,
                task_seconds=old.task_seconds if task_seconds is None else task_seconds,
                queue_seconds=old.queue_seconds if queue_seconds is None else queue_seconds,
            )

    def create_count(
        self, api_key: str | None = None, prompt: str | None = None, *, include_refused: bool = False
    ) -> int:
        """Create calls made with a valid key that got a task (``include_refused``: refused ones too)."""
        wanted = key_id(api_key) if api_key is not None else None
        with self.lock:
            return sum(
                count
                for (key, text, accepted), count in self._creates.items()
                if (wanted is None or key == wanted)
                and (prompt is None or text == prompt)
                and (accepted or include_refused)
            )

    def task_dict(self, task_id: str) -> dict[str, Any] | None:
        with self.lock:
            task = self.tasks.get(task_id)
            if task is None:
                return None
            self._refresh(task, self.clock.now())
            return task.to_dict()

    def record_video_authorization(self, path: str, api_key: str | None) -> None:
        """Note a download that carried an Authorization header (the key itself is never stored)."""
        entry = {"path": path, "time": self.clock.now(), "matches_api_key": self.is_valid_key(api_key)}
        with self.lock:
            self._video_authorization.append(entry)

    def log_request(self, entry: dict[str, Any]) -> None:
        """Add a call to the request log (the newest 100,000 are kept)."""
        with self.lock:
            self._request_log.append(entry)

    def request_log(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(entry) for entry in self._request_log]

    def video_authorization(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(entry) for entry in self._video_authorization]

    def is_valid_key(self, api_key: str | None) -> bool:
        return api_key is not None and api_key in self.settings.api_keys

    # ----------------------------------------------------------------- the four calls

    def intake(
        self, api_key: str | None, async_header: str | None, raw_body: bytes, path: str = CREATE_PATH
    ) -> Draft | Answer:
        """A create call up to what needs its input media: the 400s (and 401, 403) refusing it so far,
        or the draft to inspect and then :meth:`accept` or :meth:`refuse`."""
        if not self.is_valid_key(api_key):
            return error_answer(401, "InvalidApiKey", MESSAGES["InvalidApiKey"])
        assert api_key is not None
        body: Any = None
        try:
            body = json.loads(raw_body or b"null")
        except ValueError:
            answer: Draft | Answer = error_answer(400, "InvalidParameter", MESSAGES["BodyInvalid"])
        else:
            if (async_header or "").strip().lower() != "enable":
                answer = error_answer(403, "AccessDenied", MESSAGES["AccessDenied"])
            else:
                answer = draft(api_key, body, path)
        if isinstance(answer, Answer):
            self._count(api_key, body, accepted=False)
        return answer

    def refuse(self, draft: Draft, answer: Answer) -> Answer:
        """Count a drafted create refused after all (its inputs failed the data inspection)."""
        self._count(draft.api_key, draft.body, accepted=False)
        return answer

    def accept(self, draft: Draft, facts: dict[str, MediaFacts]) -> Answer:
        """Create the task of ``draft`` (unless throttled), given what its inputs turned out to be."""
        markers = {
            self.settings.moderation_marker or "": "DataInspectionFailed",
            self.settings.ip_marker or "": "IPInfringementSuspect",
        }
        verdict = judge(draft, facts, markers)
        request = draft.request
        with self.lock:
            now = self.clock.now()
            pool = self._pool(draft.spec)
            refusal = self._throttle(pool, now)
            if refusal is not None:
                self._count(draft.api_key, draft.body, accepted=False)
                return refusal
            settings = self.settings
            seed = getattr(request, "seed", None)
            task = TaskRecord(
                task_id=new_id(),
                request_id=new_id(),
                key_id=key_id(draft.api_key),
                model=request.model,
                family=draft.spec.family,
                body=draft.body,
                request=request,
                spec=draft.spec,
                created_at=now,
                ready_at=now + settings.queue_seconds,
                run_seconds=settings.run_seconds,
                seed=seed if isinstance(seed, int) else default_seed(draft.body, request),
                output=verdict.output,
                failure=verdict.failure,
                warnings=verdict.warnings,
                input_seconds=verdict.input_seconds,
            )
            self.tasks[task.task_id] = task
            if verdict.failure is None:
                pool.add(task)
            self._count(draft.api_key, draft.body, accepted=True)
        output_body = {"task_id": task.task_id, "task_status": TaskStatus.PENDING.value}
        return Answer(200, {"request_id": task.request_id, "output": output_body})

    def _count(self, api_key: str, body: Any, *, accepted: bool) -> None:
        with self.lock:
            self._creates[(key_id(api_key), _prompt_of(body), accepted)] += 1

    def _pool(self, spec: Any) -> _Pool:
        pool = self._pools.get(spec.family)
        if pool is None:
            pool = self._pools[spec.family] = _Pool(spec, self.settings)
        return pool

    def _throttle(self, pool: _Pool, now: float) -> Answer | None:
        wait = pool.retry_after(now)
        if wait is not None:
            return error_answer(
                429, "Throttling.RateQuota", MESSAGES["RateQuota"], {"Retry-After": str(math.ceil(wait))}
            )
        pool.advance(now)
        if self.settings.limits and pool.waiting_count >= self.settings.queue_limit:
            return error_answer(429, "Throttling.RateQuota", MESSAGES["QueueFull"], {"Retry-After": "60"})
        pool.recent_creates.append(now)
        return None

    def query(self, task_id: str, video_base: str) -> Answer:
        with self.lock:
            now = self.clock.now()
            task = self._live_task(task_id, now)
            if task is None:
                output: dict[str, Any] = {"task_id": task_id, "task_status": TaskStatus.UNKNOWN.value}
                return Answer(200, {"request_id": new_id(), "output": output})
            self._refresh(task, now)
            body = {"request_id": new_id(), "output": self._output(task, video_base)}
            if task.status is TaskStatus.SUCCEEDED:
                assert task.output is not None
                body["usage"] = usage_of(task.request, task.spec, task.output, task.input_seconds)
            return Answer(200, body)

    def cancel(self, task_id: str) -> Answer:
        with self.lock:
            now = self.clock.now()
            task = self._live_task(task_id, now)
            if task is not None:
                self._refresh(task, now)
            if task is None or task.status is not TaskStatus.PENDING:
                return error_answer(400, "UnsupportedOperation", MESSAGES["UnsupportedOperation"])
            task.status, task.ended_at = TaskStatus.CANCELED, now
            if task.failure is None:
                self._pools[task.family].forget_cancelled()
            return Answer(200, {"request_id": new_id()})

    def list(self, params: dict[str, str]) -> Answer:
        with self.lock:
            now = self.clock.now()
            try:
                query = _ListQuery.parse(params, now)
            except ValueError as error:
                return error_answer(400, "InvalidParameter", str(error))
            for pool in self._pools.values():
                pool.advance(now)
            rows = []
            for task in self.tasks.values():
                if self._live_task(task.task_id, now) is None or not query.matches(task):
                    continue
                self._refresh(task, now)
                if query.status is None or task.status is query.status:
                    rows.append(task)
            rows.sort(key=lambda t: t.created_at, reverse=True)
            first = (query.page_no - 1) * query.page_size
            page = rows[first : first + query.page_size]
            return Answer(
                200,
                {
                    "request_id": new_id(),
                    "total": len(rows),
                    "total_page": math.ceil(len(rows) / query.page_size),
                    "page_no": query.page_no,
                    "page_size": query.page_size,
                    "data": [self._row(task) for task in page],
                },
            )

    # ----------------------------------------------------------------- videos

    def signed_video_path(self, task: TaskRecord) -> str:
        assert task.ended_at is not None
        expires = int(task.ended_at + DAY)
        signature = quote(self._sign(task.task_id, expires), safe="")
        return f"/oss/{task.task_id}.mp4?Expires={expires}&OSSAccessKeyId=LTAIemulator&Signature={signature}"

    def video_access(self, task_id: str, expires: str | None, signature: str | None) -> VideoKey | str:
        """The video a signed URL grants, or the OSS error code refusing it."""
        if not expires or not signature or not expires.isdigit():
            return "AccessDenied"
        if not hmac.compare_digest(self._sign(task_id, int(expires)), signature):
            return "SignatureDoesNotMatch"
        if self.clock.now() > int(expires):
            return "AccessDenied"
        with self.lock:
            task = self.tasks.get(task_id)
            key = task.video_key if task is not None and task.status is TaskStatus.SUCCEEDED else None
        return key if key is not None else "NoSuchKey"

    def video_key_of(self, task_id: str) -> VideoKey | None:
        with self.lock:
            task = self.tasks.get(task_id)
            return task.video_key if task is not None and task.failure is None else None

    def _sign(self, task_id: str, expires: int) -> str:
        digest = hmac.new(self._secret, f"GET\n{task_id}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:20]).decode().rstrip("=")

    # ----------------------------------------------------------------- helpers

    def _live_task(self, task_id: str, now: float) -> TaskRecord | None:
        """A task that exists and is younger than 24 hours (older ones answer UNKNOWN)."""
        task = self.tasks.get(task_id)
        if task is None or now - task.created_at >= DAY:
            return None
        return task

    def _refresh(self, task: TaskRecord, now: float) -> None:
        if task.failure is None:
            self._pools[task.family].advance(now)
        elif task.status is TaskStatus.PENDING and now >= task.ready_at:
            task.status, task.started_at, task.ended_at = TaskStatus.FAILED, task.ready_at, task.ready_at

    def _output(self, task: TaskRecord, video_base: str) -> dict[str, Any]:
        output: dict[str, Any] = {"task_id": task.task_id, "task_status": task.status.value}
        if task.status is TaskStatus.SUCCEEDED:
            output["video_url"] = video_base + self.signed_video_path(task)
        output["submit_time"] = task.stamp(task.created_at)
        if task.started_at is not None:
            output["scheduled_time"] = task.stamp(task.started_at)
        if task.ended_at is not None:
            output["end_time"] = task.stamp(task.ended_at)
        if task.request.prompt is not None:
            output["orig_prompt"] = task.request.prompt
        if task.status is TaskStatus.SUCCEEDED and gives_actual_prompt(task.request, task.spec):
            output["actual_prompt"] = task.rendered_prompt + PROMPT_EXTENSION
        if task.failure is not None and task.status is TaskStatus.FAILED:
            output["code"], output["message"] = task.failure
        return output

    def _row(self, task: TaskRecord) -> dict[str, Any]:
        return {
            "task_id": task.task_id,
            "status": task.status.value,
            "model_name": task.model,
            "gmt_create": _millis(task.created_at),
            "start_time": _millis(task.started_at),
            "end_time": _millis(task.ended_at),
            "region": self.settings.region,
            "request_id": task.request_id,
            "api_key_id": task.key_id,
        }


@dataclass(frozen=True)
class _ListQuery:
    start: float
    end: float
    task_id: str | None
    model_name: str | None
    status: TaskStatus | None
    page_no: int
    page_size: int

    @classmethod
    def parse(cls, params: dict[str, str], now: float) -> _ListQuery:
        """The list call's filters; the window defaults to the last 24 hours and may not exceed them."""
        end = _list_time(params, "end_time")
        start = _list_time(params, "start_time")
        if end is None:
            end = start + DAY if start is not None else now
        if start is None:
            start = end - DAY
        if not 0 <= end - start <= DAY:
            raise ValueError("end_time must be after start_time and at most 24 hours later")
        status = params.get("status")
        if status is not None and status not in TaskStatus.__members__:
            raise ValueError(f"status must be one of {', '.join(TaskStatus.__members__)}")
        page_no = _list_int(params, "page_no", 1, 1, 10**6)
        page_size = _list_int(params, "page_size", 10, 1, 100)
        return cls(
            start,
            end,
            params.get("task_id") or None,
            params.get("model_name") or None,
            TaskStatus(status) if status else None,
            page_no,
            page_size,
        )

    def matches(self, task: TaskRecord) -> bool:
        return (
            self.start <= task.created_at <= self.end
            and (self.task_id is None or task.task_id == self.task_id)
            and (self.model_name is None or self.model_name in (task.model, task.family))
        )


def _list_time(params: dict[str, str], name: str) -> float | None:
    value = params.get(name)
    if not value:
        return None
    try:
        moment = datetime.strptime(value, LIST_TIME_FORMAT)
    except ValueError:
        raise ValueError(f"{name} must be YYYYMMDDhhmmss, got {value!r}") from None
    return (moment - datetime(1970, 1, 1)) / timedelta(seconds=1)


def _list_int(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    value = params.get(name)
    if value in (None, ""):
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return int(value)


def _prompt_of(body: Any) -> str | None:
    inputs = body.get("input") if isinstance(body, dict) else None
    prompt = inputs.get("prompt") if isinstance(inputs, dict) else None
    return prompt if isinstance(prompt, str) else None


def _millis(moment: float | None) -> int | None:
    return int(moment * 1000) if moment is not None else None
