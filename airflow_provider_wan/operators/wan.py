"""Generate a video with Wan from Airflow: submit once, wait (deferred or not), return the result."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow.providers.common.compat.sdk import BaseOperator, conf

from airflow_provider_wan.api import (
    TaskStatus,
    VideoRequest,
    WanApiError,
    WanTask,
    WanValidationError,
)
from airflow_provider_wan.api.reconcile import Intent, Window, candidates, matches, request_fingerprint
from airflow_provider_wan.exceptions import (
    WanExecutionTimeoutError,
    WanTaskError,
    WanTaskFinalError,
    WanTaskTimeoutError,
    call_error,
    task_error,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_wan.hooks.wan import WanHook

#: Request fields of :class:`VideoRequest` besides ``model``; each is an operator argument and template field.
REQUEST_FIELDS = tuple(field.name for field in fields(VideoRequest) if field.name != "model")
_INT_FIELDS = frozenset({"duration", "seed"})
_BOOL_FIELDS = frozenset({"audio", "prompt_extend", "watermark"})
_TEMPLATE_MARKS = ("{{", "{%", "{#")
# The task_state_store key (Airflow 3.3+); renaming it breaks re-attaching retries already in flight.
# Its value: {"request": body as shown, "intent": {"fingerprint", "at"}, "wan_task_id": id once known}.
STATE_KEY = "wan_task"
# The XCom key under which each try publishes the Wan task it holds, {"wan_task_id", "by"}, so that
# sibling task instances reconciling a lost create never take it.
CLAIM_KEY = "wan_task_claim"
# execute's share of a short execution_timeout kept back for cancelling and failing cleanly
TIMEOUT_MARGIN_SHARE = 0.25
TIMEOUT_MARGIN_MAX = 5.0
MAX_CREATES_PER_TRY = 2  # a lost create with nothing found is sent once more, then left to a retry
MAX_AUDIO_BYTES = 15 * 1024 * 1024  # the service refuses larger audio files
DEFERRAL_GRACE = 60.0  # Airflow's deferral timeout fires this much after the trigger's own timeout event


class WanTextToVideoOperator(BaseOperator):
    """
    Generate one video with Alibaba's Wan text-to-video service and return its result to XCom.

    The request is validated before anything is sent (at DAG parse time when no field is templated,
    again after rendering), so a bad size, duration or model mismatch fails with the parameter's
    name and what is allowed, and costs nothing.

    The result is JSON: the Wan ``task_id``, ``status``, ``video_url`` (where the video is, without
    its signed query: the signature is a 24-hour credential and XCom is shown in the UI; copy the
    video with ``WanVideoToS3Operator``, which asks the service for a fresh signed URL, or call
    ``WanHook().get_task(task_id).video_url``), ``model``, the ``request`` body as sent (an ``s3://``
    audio URI shown as such: its presigned URL grants read access), normalised ``usage``,
    ``orig_prompt``/``actual_prompt`` and the service's times. Never the API key. With
    ``wait_for_completion=False`` it returns only the Wan task id (for ``WanTaskSensor``).

    **One billed task per task instance.** On Airflow 3.3+ the task state store (key ``wan_task``)
    holds the intent (a fingerprint of request and connection, and the time) *before* the create is
    sent, and the Wan task id right after. A retry, a crashed worker's next try, or a try after a
    failure that came after success re-attaches to that task: it waits again while it is
    ``PENDING``/``RUNNING`` and returns it if it ``SUCCEEDED``. The id is kept after success, as
    Airflow keeps task state (``[state_store] clear_on_success``, default False): clearing a
    succeeded task instance returns the same video while the service still has it (24 hours), and
    makes a new one once it has expired (``UNKNOWN``), ``FAILED``, was ``CANCELED``, or the request
    changed. A try that finds an intent but no id (the worker died between the create and the state
    write), or a create whose answer was lost (timeout, dropped connection, 5xx after sending), is
    *reconciled*: the account's tasks of the model created since the intent are listed, read, and
    the one with the same prompt (and billed size and duration) that no sibling task instance
    claims is taken; a create is sent only when none matches. On Airflow 3.1 and 3.2 there is no
    task state store: a retry reconciles the same way from the DAG run's start.

    Claims: each try publishes the Wan task it holds under the XCom key ``wan_task_claim``, and
    reconciling skips tasks claimed by other task instances of this operator in the same DAG run.
    Airflow has no atomic compare-and-set across task instances, so a residual window remains: two
    task instances of one run, both reconciling lost creates for the same model and prompt at the
    same moment, may both take one task (one video for two task instances; the other task, if it
    was created, is billed and left unclaimed). Tasks from other DAG runs, DAGs or clients with the
    same model and prompt in the window are not told apart. On Airflow 3.1 and 3.2 a user's kill of
    a *deferred* task cancels nothing, not even a ``PENDING`` task: triggers get no ``on_kill`` there.

    **Failures.** A task that ends ``FAILED`` with a passing code (``InternalError``,
    ``ModelUnavailable``, throttling...) raises :class:`~airflow_provider_wan.exceptions.WanTaskError`,
    which Airflow may retry; a refused prompt (``DataInspectionFailed``, ``IPInfringementSuspect``),
    a bad parameter, key or account, ``CANCELED`` or ``UNKNOWN`` raise
    :class:`~airflow_provider_wan.exceptions.WanTaskFinalError`, which Airflow does not retry. Both
    carry the service's code and message. The wait ends at ``timeout`` or, if sooner, when
    ``execution_timeout`` is nearly used up (a margin of a quarter of it, at most 5 s, is kept to
    cancel and fail cleanly before Airflow's own timeout): the task is cancelled if still
    ``PENDING`` and the error names the limit and whether the cancel worked.
    :class:`~airflow_provider_wan.exceptions.WanTaskTimeoutError` (``timeout``) is final;
    :class:`~airflow_provider_wan.exceptions.WanExecutionTimeoutError` (``execution_timeout``) is
    retryable, as Airflow's own task timeout is, and the retry re-attaches.

    :param model: Wan model, e.g. ``wan2.6-t2v`` (required: it decides the price).
    :param prompt: What the video shows. The other request fields (``negative_prompt``,
        ``audio_url``, ``audio``, ``size``, ``resolution``, ``ratio``, ``duration``, ``shot_type``,
        ``prompt_extend``, ``watermark``, ``seed``) follow the API; ``None`` leaves them to the service.
        ``audio_url`` may be an ``s3://bucket/key.mp3`` URI: the service gets a presigned URL for it,
        valid ``audio_url_expires_in`` seconds, made with the ``aws_conn_id`` connection.
    :param wan_conn_id: The ``wan`` connection (API key, region or base URL).
    :param deferrable: Wait in the triggerer, freeing the worker slot (default:
        ``[operators] default_deferrable``).
    :param wait_for_completion: False: submit and return the Wan task id at once.
    :param poll_interval: Shortest pause between status checks, seconds (checks start soon after
        submission and slow down toward ``max_poll_interval``).
    :param max_poll_interval: Longest pause between status checks, seconds (the vendor suggests 15).
    :param timeout: Seconds to wait for the task to finish.
    :param max_consecutive_errors: Polling failures in a row the trigger rides out before failing.
    """

    template_fields: Sequence[str] = ("model", *REQUEST_FIELDS, "wan_conn_id", "aws_conn_id")
    ui_color = "#ff6a00"

    def __init__(
        self,
        *,
        model: str,
        prompt: str,
        negative_prompt: str | None = None,
        audio_url: str | None = None,
        audio: bool | None = None,
        size: str | None = None,
        resolution: str | None = None,
        ratio: str | None = None,
        duration: int | None = None,
        shot_type: str | None = None,
        prompt_extend: bool | None = None,
        watermark: bool | None = None,
        seed: int | None = None,
        wan_conn_id: str = "wan_default",
        aws_conn_id: str | None = "aws_default",
        audio_url_expires_in: int = 3600,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        wait_for_completion: bool = True,
        poll_interval: float = 2.0,
        max_poll_interval: float = 15.0,
        timeout: float | timedelta = 3600.0,
        max_consecutive_errors: int = 5,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.prompt = prompt
        self.negative_prompt = negative_prompt
        self.audio_url = audio_url
        self.audio = audio
        self.size = size
        self.resolution = resolution
        self.ratio = ratio
        self.duration = duration
        self.shot_type = shot_type
        self.prompt_extend = prompt_extend
        self.watermark = watermark
        self.seed = seed
        self.wan_conn_id = wan_conn_id
        self.aws_conn_id = aws_conn_id
        self.audio_url_expires_in = audio_url_expires_in
        self.deferrable = deferrable
        self.wait_for_completion = wait_for_completion
        self.poll_interval = float(poll_interval)
        self.max_poll_interval = float(max_poll_interval)
        self.timeout = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
        self.max_consecutive_errors = max_consecutive_errors
        self.wan_task_id: str | None = None
        if not 0 < self.poll_interval <= self.max_poll_interval:
            raise ValueError(
                f"poll_interval={poll_interval} must be positive and at most "
                f"max_poll_interval={max_poll_interval}"
            )
        if self.timeout <= 0:
            raise ValueError(f"timeout={timeout} must be positive")
        if not any(_is_templated(value) for value in self._request_values().values()):
            for warning in self._video_request(_audio_stand_in(self.audio_url)).validate():
                self.log.warning("Wan request of task %s: %s", self.task_id, warning)

    @cached_property
    def hook(self) -> WanHook:
        from airflow_provider_wan.hooks.wan import WanHook

        return WanHook(self.wan_conn_id)

    def execute(self, context: Context) -> Any:
        self._started = time.monotonic()
        try:
            return self._submit_and_wait(context)
        except WanValidationError as error:  # bad rendered values or connection: a retry finds them the same
            raise WanTaskFinalError(f"Refused before anything was sent to Wan: {error}") from error

    def _submit_and_wait(self, context: Context) -> Any:
        request = self._rendered_request()
        store = context.get("task_state_store")
        task = self._reattach(context, store, request)
        if task is None:
            task = self._submit(context, store, request)
        self.wan_task_id = task.task_id
        if not self.wait_for_completion:
            return task.task_id
        if task.status is TaskStatus.SUCCEEDED:
            return self._succeed(task)
        if self.deferrable:
            self._defer(task.task_id)
        return self._wait(context, task.task_id)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after :class:`~airflow_provider_wan.triggers.wan.WanTaskTrigger` fired."""
        from airflow_provider_wan.triggers.wan import check_event, event_error

        event = check_event(event)
        wan_task_id = self.wan_task_id = str(event["wan_task_id"])
        if event["status"] == "success":
            return self._succeed(event["task"])
        if event["status"] == "timeout":
            cancelled = self._cancel_if_pending(wan_task_id)
            status = (event.get("task") or {}).get("status")
            raise self._timeout_error(wan_task_id, status, cancelled, self._limit_name())
        if event["status"] == "error" and context.get("task_state_store") is None:
            self._cancel_if_pending(wan_task_id)  # no store to re-attach from: a retry would submit anew
        raise event_error(event)

    def on_kill(self) -> None:
        """Cancel the task if it is still ``PENDING`` (a ``RUNNING`` task cannot be cancelled)."""
        if self.wan_task_id:
            self._cancel_if_pending(self.wan_task_id)

    # -- submitting -------------------------------------------------------------------------------

    def _request_values(self) -> dict[str, Any]:
        return {"model": self.model, **{name: getattr(self, name) for name in REQUEST_FIELDS}}

    def _rendered_request(self) -> VideoRequest:
        """The validated request, with an ``s3://`` audio URI presigned."""
        request = self._video_request(_audio_stand_in(self.audio_url))
        request.validate()
        if _is_s3_uri(self.audio_url):
            request = self._video_request(self._presign(str(self.audio_url)))
            request.validate()
        return request

    def _shown_body(self) -> dict[str, Any]:
        """The create body as sent, but an ``s3://`` audio URI instead of its presigned URL (a credential)."""
        return self._video_request(self.audio_url).to_body()

    def _fingerprint(self) -> str:
        """The request and the account it goes to, as one digest (no key in it)."""
        return request_fingerprint(self._shown_body(), self.hook.base_url, self.hook.settings.api_key)

    def _video_request(self, audio_url: str | None) -> VideoRequest:
        values = {name: _coerce(name, value) for name, value in self._request_values().items()}
        return VideoRequest(**{**values, "audio_url": audio_url})

    def _presign(self, uri: str) -> str:
        """A presigned GET URL for an ``s3://`` audio file, after checking it exists and is small enough."""
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        bucket, key = S3Hook.parse_s3_url(uri)
        s3 = S3Hook(aws_conn_id=self.aws_conn_id)
        head = s3.head_object(key=key, bucket_name=bucket)
        if head is None:
            raise WanValidationError("audio_url", uri, "an S3 object that exists (none found there)")
        if int(head.get("ContentLength", 0)) > MAX_AUDIO_BYTES:
            raise WanValidationError(
                "audio_url", uri, f"an audio file of at most 15 MB (it has {head['ContentLength']} bytes)"
            )
        url = s3.generate_presigned_url(
            "get_object", params={"Bucket": bucket, "Key": key}, expires_in=self.audio_url_expires_in
        )
        if not url:
            raise WanValidationError("audio_url", uri, "an S3 object the connection can presign a URL for")
        return str(url)

    def _submit(self, context: Context, store: Any, request: VideoRequest) -> WanTask:
        """Create the task, the intent recorded first; an ambiguous create is looked for before resending.

        A create whose answer was lost (``WanCreateUncertainError``) is reconciled at once; only when no
        matching task turns up is it sent once more. A second lost answer fails the try as retryable:
        the retry reconciles again from the recorded intent.
        """
        from airflow_provider_wan.hooks.wan import WanCreateUncertainError

        intent = Intent(self._fingerprint(), time.time())
        record = {"request": self._shown_body(), "intent": intent.to_dict()}
        if store is not None:
            store.set(STATE_KEY, record)
        sent = 1
        while True:
            try:
                return self._create(context, store, request, record)
            except WanCreateUncertainError as error:
                self.log.warning("%s. Looking for it in the account's task list", error)
                found = self._reconcile(context, store, request, Window.after_intent(intent, _now()))
                if found is not None:
                    return found
                if sent == MAX_CREATES_PER_TRY:
                    raise WanTaskError(
                        f"{sent} creates in a row lost their answer and no task matching them was found: "
                        f"{error}. A retry looks for them again before submitting",
                        code=error.code,
                    ) from error
                self.log.warning("No task matching the lost create was found; submitting once more")
                sent += 1

    def _create(self, context: Context, store: Any, request: VideoRequest, record: dict[str, Any]) -> WanTask:
        from airflow_provider_wan.hooks.wan import WanCreateUncertainError

        try:
            task = self.hook.create_task(request)
        except WanCreateUncertainError:
            raise
        except WanApiError as error:
            raise call_error(error, "submitting the task") from error
        self._hold(context, store, task, record)
        return task

    def _hold(self, context: Context, store: Any, task: WanTask, record: dict[str, Any]) -> None:
        """Keep the task's id for this task instance's retries, and publish it as claimed."""
        if store is not None:
            store.set(STATE_KEY, {**record, "wan_task_id": task.task_id})
        context["ti"].xcom_push(key=CLAIM_KEY, value={"wan_task_id": task.task_id, "by": _owner(context)})

    def _reattach(self, context: Context, store: Any, request: VideoRequest) -> WanTask | None:
        """The task an earlier try of this task instance submitted, if it is still worth having.

        Known by its stored id, or (no id stored: the try died between the create and the state write)
        found by reconciling from the recorded intent. Without a task state store (Airflow 3.1/3.2) a
        retry reconciles from the DAG run's start.
        """
        stored = store.get(STATE_KEY) if store is not None else None
        stored = stored if isinstance(stored, dict) else {}
        if stored.get("wan_task_id"):
            return self._reattach_by_id(context, stored)
        intent = Intent.from_dict(stored.get("intent"))
        if intent is not None:
            if intent.fingerprint != self._fingerprint():
                self.log.warning(
                    "An earlier try sent a create for a different request or connection and lost its "
                    "answer; that task cannot be told apart, submitting anew"
                )
                return None
            self.log.warning("An earlier try sent a create but recorded no task id; looking for it")
            return self._reconcile(context, store, request, Window.after_intent(intent, _now()))
        if store is None and int(getattr(context["ti"], "try_number", 1) or 1) > 1:
            started = getattr(context.get("dag_run"), "start_date", None)
            self.log.info("A retry without a task state store: looking for a task an earlier try made")
            return self._reconcile(context, store, request, Window.since(started, _now()))
        return None

    def _reattach_by_id(self, context: Context, stored: dict[str, Any]) -> WanTask | None:
        wan_task_id = str(stored["wan_task_id"])
        if stored.get("request") != self._shown_body():
            self.log.warning(
                "Wan task %s was submitted for a different request; submitting anew", wan_task_id
            )
            self._cancel_if_pending(wan_task_id)
            return None
        try:
            task = self.hook.get_task(wan_task_id)
        except WanApiError as error:
            raise call_error(error, "checking the task an earlier try submitted", wan_task_id) from error
        if task.status in (TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.SUCCEEDED):
            self.log.info(
                "Re-attaching to Wan task %s (%s) from an earlier try", wan_task_id, task.status.value
            )
            context["ti"].xcom_push(key=CLAIM_KEY, value={"wan_task_id": wan_task_id, "by": _owner(context)})
            return task
        self.log.warning(
            "Wan task %s from an earlier try ended %s; submitting anew", wan_task_id, task.status.value
        )
        return None

    # -- reconciling a lost create ---------------------------------------------------------------

    def _reconcile(
        self, context: Context, store: Any, request: VideoRequest, window: Window
    ) -> WanTask | None:
        """The task a lost create made: same model, prompt (and billed size and duration) in the window,
        claimed by no sibling task instance. None when nothing matches, which is when a create is due.

        Claims: each try publishes the Wan task it holds under the ``wan_task_claim`` XCom key, and a
        reconciling try skips tasks that other task instances (of this operator, in this DAG run) claim.
        A match is claimed, then the claims are read again; if a task instance that sorts first claimed
        the same task meanwhile, this one withdraws and tries the next candidate. Residual window (no
        atomic compare-and-set in Airflow): a task instance sorting first that publishes its claim only
        after this one's re-read also keeps the task, so two task instances share one video. Both must
        have lost a create for the same model and prompt at nearly the same moment.
        """
        try:
            rows = self._list_window(request.model, window)
            taken = self._claims(context)
            for row in candidates(rows, window, taken):
                task = self.hook.get_task(row.task_id)
                if matches(task, request) and self._claim(context, task.task_id):
                    self.log.warning(
                        "Re-attaching to Wan task %s (%s), found by its model and prompt",
                        task.task_id,
                        task.status.value,
                    )
                    if store is not None:
                        stored = store.get(STATE_KEY)
                        store.set(
                            STATE_KEY,
                            {**(stored if isinstance(stored, dict) else {}), "wan_task_id": task.task_id},
                        )
                    return task
        except WanApiError as error:
            raise call_error(error, "looking for the task a lost create made") from error
        self.log.info("No unclaimed %s task with this prompt in the window: none was created", request.model)
        return None

    def _list_window(self, model: str, window: Window) -> list[Any]:
        rows: list[Any] = []
        page_no = 1
        while True:
            page = self.hook.list_tasks(**window.list_filters(model, page_no))
            rows.extend(page.tasks)
            if page_no >= page.total_page:
                return rows
            page_no += 1

    def _claims(self, context: Context) -> dict[str, Any]:
        """Wan task ids claimed by other task instances of this DAG run, each with its claimant."""
        mine = _owner(context)
        found = context["ti"].xcom_pull(task_ids=_wan_task_ids(self), key=CLAIM_KEY) or []
        return {
            str(claim["wan_task_id"]): claim.get("by")
            for claim in (found if isinstance(found, list) else [found])
            if isinstance(claim, dict) and claim.get("wan_task_id") and claim.get("by") != mine
        }

    def _claim(self, context: Context, wan_task_id: str) -> bool:
        """Publish the claim, then read the claims again: the claimant that sorts first keeps the task."""
        mine = _owner(context)
        context["ti"].xcom_push(key=CLAIM_KEY, value={"wan_task_id": wan_task_id, "by": mine})
        rival = self._claims(context).get(wan_task_id)
        if rival is not None and list(rival) < mine:
            self.log.info("Wan task %s is claimed by %s too; leaving it to that one", wan_task_id, rival)
            context["ti"].xcom_push(key=CLAIM_KEY, value={"wan_task_id": None, "by": mine})
            return False
        return True

    # -- waiting ----------------------------------------------------------------------------------

    def _wait_limit(self) -> tuple[float, str]:
        """Seconds this try may still wait, and which limit that is: ``timeout``, or what
        ``execution_timeout`` leaves less a margin to cancel and fail cleanly before Airflow's own."""
        name = self._limit_name()
        if not name.startswith("execution_timeout") or self.execution_timeout is None:
            return self.timeout, name
        budget = self.execution_timeout.total_seconds()
        spent = time.monotonic() - getattr(self, "_started", time.monotonic())
        return max(budget - self._timeout_margin() - spent, 0.0), name

    def _limit_name(self) -> str:
        """The limit that ends the wait first, as the timeout error names it."""
        if self.execution_timeout is not None:
            budget = self.execution_timeout.total_seconds()
            if budget - self._timeout_margin() < self.timeout:
                return f"execution_timeout={budget:g}s"
        return f"timeout={self.timeout:g}s"

    def _timeout_margin(self) -> float:
        budget = self.execution_timeout.total_seconds() if self.execution_timeout else 0.0
        return min(TIMEOUT_MARGIN_MAX, budget * TIMEOUT_MARGIN_SHARE)

    def _defer(self, wan_task_id: str) -> None:
        from airflow_provider_wan.triggers.wan import WanTaskTrigger

        limit, _ = self._wait_limit()
        trigger = WanTaskTrigger(
            wan_task_id=wan_task_id,
            deadline=time.time() + limit,
            wan_conn_id=self.wan_conn_id,
            poll_interval=self.poll_interval,
            max_poll_interval=self.max_poll_interval,
            max_consecutive_errors=self.max_consecutive_errors,
        )
        backstop = timedelta(seconds=limit + self.max_poll_interval + DEFERRAL_GRACE)
        self.defer(
            trigger=trigger,
            method_name="execute_complete",
            timeout=min(backstop, self.execution_timeout) if self.execution_timeout else backstop,
        )

    def _wait(self, context: Context, wan_task_id: str) -> dict[str, Any]:
        from airflow_provider_wan.hooks.wan import WanWaitTimeoutError

        limit, name = self._wait_limit()
        try:
            task = self.hook.wait_for_task(
                wan_task_id,
                poll_interval=self.poll_interval,
                max_poll_interval=self.max_poll_interval,
                timeout=limit,
            )
        except WanWaitTimeoutError as error:
            cancelled = self._cancel_if_pending(wan_task_id)
            raise self._timeout_error(wan_task_id, error.task.status.value, cancelled, name) from error
        except WanApiError as error:
            if context.get("task_state_store") is None:
                self._cancel_if_pending(wan_task_id)
            raise call_error(error, "waiting for the task", wan_task_id) from error
        if task.status is not TaskStatus.SUCCEEDED:
            raise task_error(task.task_id, task.status, task.code, task.message)
        return self._succeed(task)

    # -- endings ----------------------------------------------------------------------------------

    def _succeed(self, task: WanTask | dict[str, Any]) -> dict[str, Any]:
        """The XCom result. The stored id stays (Airflow's ``[state_store] clear_on_success`` decides),
        so a failure after this point makes the retry return this same task rather than a new one.
        The video URL is kept without its signed query: ask the service for a fresh one."""
        found = task.to_dict() if isinstance(task, WanTask) else dict(task)  # the URL already redacted
        self.log.info("Wan task %s succeeded: %s", found["task_id"], found.get("video_url"))
        return {**found, "model": self.model, "request": self._shown_body()}

    def _cancel_if_pending(self, wan_task_id: str) -> bool:
        """Cancel the task if the service still can (only while ``PENDING``); say whether it did.

        Best effort, on the way out of a failing or killed try: one retry at most, not the hook's five.
        """
        from airflow_provider_wan.hooks.wan import WanHook
        from airflow_provider_wan.triggers.wan import cancel_refused

        try:
            WanHook(self.wan_conn_id, max_retries=1).cancel_task(wan_task_id)
        except WanApiError as error:
            self.log.warning(cancel_refused(wan_task_id, error))
            return False
        return True

    def _timeout_error(
        self, wan_task_id: str, status: str | None, cancelled: bool, limit: str
    ) -> WanTaskError:
        """Final past ``timeout``; retryable past ``execution_timeout``, as Airflow's own task timeout is."""
        fate = (
            "it was cancelled"
            if cancelled
            else "it could not be cancelled and may still finish and be billed"
        )
        kind = WanExecutionTimeoutError if limit.startswith("execution_timeout") else WanTaskTimeoutError
        return kind(
            f"Wan task {wan_task_id} did not finish in time ({limit}, the shorter limit; "
            f"last seen {status or 'never'}); {fate}",
            wan_task_id=wan_task_id,
            status=status,
        )


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _owner(context: Context) -> list[Any]:
    """Who claims: this task instance as ``[task_id, map_index]`` (JSON, and sortable)."""
    ti = context["ti"]
    map_index = getattr(ti, "map_index", None)
    return [ti.task_id, -1 if map_index is None else int(map_index)]


def _wan_task_ids(operator: BaseOperator) -> list[str]:
    """Task ids of this DAG's Wan video tasks (mapped ones included): where sibling claims live."""
    found = []
    for task in operator.dag.tasks if operator.dag else [operator]:
        kind = getattr(task, "operator_class", type(task))
        if isinstance(kind, type) and issubclass(kind, WanTextToVideoOperator):
            found.append(task.task_id)
    return found or [operator.task_id]


def _is_templated(value: Any) -> bool:
    """A value only known at run time: a Jinja string, or an XComArg or other lazy object."""
    if isinstance(value, str):
        return any(mark in value for mark in _TEMPLATE_MARKS)
    return value is not None and not isinstance(value, (bool, int, float))


def _coerce(name: str, value: Any) -> Any:
    """Rendered templates are strings: read ``"5"`` as 5 and ``"true"`` as True where the API wants it."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if name in _INT_FIELDS and re.fullmatch(r"-?\d+", text):
        return int(text)
    if name in _BOOL_FIELDS and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return value


def _is_s3_uri(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("s3://")


def _audio_stand_in(audio_url: str | None) -> str | None:
    """For validation before presigning: the https URL an ``s3://`` URI will become, minus its signature."""
    if not _is_s3_uri(audio_url):
        return audio_url
    parts = urlsplit(str(audio_url))
    if not parts.netloc or not parts.path.strip("/"):
        raise WanValidationError("audio_url", audio_url, "s3://BUCKET/KEY of a .wav or .mp3 file")
    return f"https://{parts.netloc}.s3.amazonaws.com{parts.path}"
