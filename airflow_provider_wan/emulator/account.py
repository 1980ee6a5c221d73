"""The emulated account: the four calls over its tasks, the controls tests use, and what they inspect.

Everything here is plain Python driven by the :class:`~.clock.Clock`; the HTTP layer (``app.py``) only
translates requests into these calls and :class:`~.answers.Answer` objects back into responses. The
parts live beside it: a create's judgement in :mod:`.intake`, a task and its life in :mod:`.tasks`, the
limits in :mod:`.limits`, the list call in :mod:`.listing`, usage in :mod:`.usage`, video URLs in
:mod:`.signing`, counts and logs in :mod:`.records`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from typing import Any

from airflow_provider_wan.api import CREATE_PATH, TaskStatus
from airflow_provider_wan.emulator.answers import MESSAGES, Answer, error_answer, key_id, new_id
from airflow_provider_wan.emulator.clock import Clock
from airflow_provider_wan.emulator.inputs import MediaFacts
from airflow_provider_wan.emulator.intake import Draft, default_seed, draft, flagged_input, judge
from airflow_provider_wan.emulator.limits import FamilyPool, task_api_bucket, task_api_refusal
from airflow_provider_wan.emulator.listing import ListQuery, list_refusal
from airflow_provider_wan.emulator.media import VideoKey
from airflow_provider_wan.emulator.records import CallRecords
from airflow_provider_wan.emulator.settings import Readings, Settings
from airflow_provider_wan.emulator.signing import VideoSigner
from airflow_provider_wan.emulator.tasks import DAY, TaskRecord
from airflow_provider_wan.emulator.usage import usage_as_text, usage_of


class Account:
    """The emulated Wan account: its tasks, limits and settings; thread-safe."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.initial_settings = self.settings = settings
        self.clock = clock
        self.lock = threading.RLock()
        self.signer = VideoSigner()
        self.reset()

    # ----------------------------------------------------------------- control and inspection

    def reset(self) -> None:
        """Forget every task, count and log entry; limits back to how the emulator was made."""
        with self.lock:
            self.settings = self.initial_settings
            self.tasks: dict[str, TaskRecord] = {}
            self._pools: dict[Any, FamilyPool] = {}  # by model spec: each spelling keeps its own limits
            self.records = CallRecords()
            self._task_api_bucket = task_api_bucket(self.settings)

    def set_limits(self, enabled: bool) -> None:
        """All account limits on or off (the task-API rate among them, unless set to None)."""
        with self.lock:
            self.settings = replace(self.settings, limits=enabled)
            now = self.clock.now()
            for pool in self._pools.values():
                pool.advance(now)
                pool.set_limits(self.settings)
            self._task_api_bucket = task_api_bucket(self.settings)

    def set_task_api_rate(self, rate: float | None) -> None:
        """Query, cancel and list requests a second the account takes (None: as many as come)."""
        with self.lock:
            self.settings = replace(self.settings, task_api_rate=rate)
            self._task_api_bucket = task_api_bucket(self.settings)

    def task_api_refusal(self) -> Answer | None:
        """429 ``Throttling`` when a query, cancel or list call is past the account's rate; else None."""
        return task_api_refusal(self._task_api_bucket)

    def set_timing(self, task_seconds: float | None = None, queue_seconds: float | None = None) -> None:
        """Queue and run times of tasks created from now on (reset restores the emulator's own)."""
        with self.lock:
            old = self.settings
            self.settings = replace(
                old,
                task_seconds=old.task_seconds if task_seconds is None else task_seconds,
                queue_seconds=old.queue_seconds if queue_seconds is None else queue_seconds,
            )

    def set_readings(self, **changes: Any) -> Readings:
        """Play another reading of the contract where it is an assumption (see :class:`.Readings`);
        ``reset()`` restores the emulator's own."""
        with self.lock:
            readings = self.settings.readings.with_changes(**changes)
            self.settings = replace(self.settings, readings=readings)
            return readings

    def task_dict(self, task_id: str) -> dict[str, Any] | None:
        with self.lock:
            task = self.tasks.get(task_id)
            if task is None:
                return None
            self._refresh(task, self.clock.now())
            return task.to_dict()

    def is_valid_key(self, api_key: str | None) -> bool:
        return api_key is not None and api_key in self.settings.api_keys

    # ----------------------------------------------------------------- create

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
        if isinstance(answer, Draft):
            code = flagged_input(answer.request, self._markers())
            if code is not None:
                answer = error_answer(400, code, MESSAGES[code])
        if isinstance(answer, Answer):
            self.records.count_create(api_key, body, accepted=False)
        return answer

    def refuse(self, draft: Draft, answer: Answer) -> Answer:
        """Count a drafted create refused after all (its inputs failed the data inspection)."""
        self.records.count_create(draft.api_key, draft.body, accepted=False)
        return answer

    def accept(self, draft: Draft, facts: dict[str, MediaFacts]) -> Answer:
        """Create the task of ``draft`` (unless throttled), given what its inputs turned out to be."""
        verdict = judge(draft, facts, self._markers())
        request = draft.request
        with self.lock:
            now = self.clock.now()
            pool = self._pool(draft.spec)
            settings = self.settings
            refusal = pool.admit(now, settings.queue_limit if settings.limits else None)
            if refusal is not None:
                self.records.count_create(draft.api_key, draft.body, accepted=False)
                return refusal
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
            self.records.count_create(draft.api_key, draft.body, accepted=True)
        output_body = {"task_id": task.task_id, "task_status": TaskStatus.PENDING.value}
        return Answer(200, {"request_id": task.request_id, "output": output_body})

    def _markers(self) -> dict[str, str]:
        """The moderation markers in use, each with the code it fails or refuses a request with."""
        markers = {
            self.settings.moderation_marker: "DataInspectionFailed",
            self.settings.ip_marker: "IPInfringementSuspect",
        }
        return {marker: code for marker, code in markers.items() if marker}

    def _pool(self, spec: Any) -> FamilyPool:
        pool = self._pools.get(spec)
        if pool is None:
            pool = self._pools[spec] = FamilyPool(spec, self.settings)
        return pool

    # ----------------------------------------------------------------- query, cancel, list

    def query(self, task_id: str, video_base: str) -> Answer:
        with self.lock:
            now = self.clock.now()
            task = self._live_task(task_id, now)
            if task is None:
                output: dict[str, Any] = {"task_id": task_id, "task_status": TaskStatus.UNKNOWN.value}
                return Answer(200, {"request_id": new_id(), "output": output})
            self._refresh(task, now)
            succeeded = task.status is TaskStatus.SUCCEEDED
            video_url = video_base + self.signer.signed_path(task) if succeeded else None
            readings = self.settings.readings
            body = {"request_id": new_id(), "output": task.answer_output(video_url, readings)}
            if succeeded:
                assert task.output is not None
                usage = usage_of(task.request, task.spec, task.output, task.input_seconds)
                body["usage"] = usage_as_text(usage) if readings.usage_shape == "text" else usage
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
                self._pools[task.spec].forget_cancelled()
            return Answer(200, {"request_id": new_id()})

    def list(self, params: dict[str, str]) -> Answer:
        with self.lock:
            readings = self.settings.readings
            if readings.list_refused is not None:
                return list_refusal(readings.list_refused)
            now = self.clock.now()
            try:
                query = ListQuery.parse(params, now, readings)
            except ValueError as error:
                return error_answer(400, "InvalidParameter", str(error))
            for pool in self._pools.values():
                pool.advance(now)
            found = []
            for task in self.tasks.values():
                if self._live_task(task.task_id, now) is None or not query.matches(task):
                    continue
                self._refresh(task, now)
                if query.status is None or task.status is query.status:
                    found.append(task)
            return Answer(200, {"request_id": new_id(), **query.page(found, self.settings.region)})

    # ----------------------------------------------------------------- videos

    def video_access(self, task_id: str, expires: str | None, signature: str | None) -> VideoKey | str:
        """The video a signed URL grants, or the OSS error code refusing it."""
        refusal = self.signer.refusal(task_id, expires, signature, self.clock.now())
        if refusal is not None:
            return refusal
        with self.lock:
            task = self.tasks.get(task_id)
            key = task.video_key if task is not None and task.status is TaskStatus.SUCCEEDED else None
        return key if key is not None else "NoSuchKey"

    def video_key_of(self, task_id: str) -> VideoKey | None:
        with self.lock:
            task = self.tasks.get(task_id)
            return task.video_key if task is not None and task.failure is None else None

    def record_video_authorization(self, path: str, api_key: str | None) -> None:
        """Note a download that carried an Authorization header (the key itself is never stored)."""
        self.records.record_video_authorization(path, self.clock.now(), self.is_valid_key(api_key))

    # ----------------------------------------------------------------- helpers

    def _live_task(self, task_id: str, now: float) -> TaskRecord | None:
        """A task that exists and is younger than 24 hours (older ones answer UNKNOWN)."""
        task = self.tasks.get(task_id)
        if task is None or now - task.created_at >= DAY:
            return None
        return task

    def _refresh(self, task: TaskRecord, now: float) -> None:
        if task.failure is None:
            self._pools[task.spec].advance(now)
        elif task.status is TaskStatus.PENDING and now >= task.ready_at:
            task.status, task.started_at, task.ended_at = TaskStatus.FAILED, task.ready_at, task.ready_at
