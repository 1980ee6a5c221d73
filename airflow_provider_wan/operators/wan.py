"""Generate a video with Wan from Airflow: submit once, wait (deferred or not), return the result."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import fields
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow.providers.common.compat.sdk import BaseOperator, conf

from airflow_provider_wan.api import TaskStatus, VideoRequest, WanApiError, WanTask, WanValidationError
from airflow_provider_wan.exceptions import WanTaskFinalError, WanTaskTimeoutError, call_error, task_error

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_wan.hooks.wan import WanHook

#: Request fields of :class:`VideoRequest` besides ``model``; each is an operator argument and template field.
REQUEST_FIELDS = tuple(field.name for field in fields(VideoRequest) if field.name != "model")
_INT_FIELDS = frozenset({"duration", "seed"})
_BOOL_FIELDS = frozenset({"audio", "prompt_extend", "watermark"})
_TEMPLATE_MARKS = ("{{", "{%", "{#")
# The task_state_store key (Airflow 3.3+); renaming it breaks re-attaching retries already in flight.
STATE_KEY = "wan_task"
MAX_AUDIO_BYTES = 15 * 1024 * 1024  # the service refuses larger audio files
DEFERRAL_GRACE = 60.0  # Airflow's deferral timeout fires this much after the trigger's own timeout event


class WanTextToVideoOperator(BaseOperator):
    """
    Generate one video with Alibaba's Wan text-to-video service and return its result to XCom.

    The request is validated before anything is sent (at DAG parse time when no field is templated,
    again after rendering), so a bad size, duration or model mismatch fails with the parameter's
    name and what is allowed, and costs nothing.

    The result is JSON: the Wan ``task_id``, ``status``, ``video_url`` (valid 24 hours: copy it
    somewhere permanent, e.g. with ``WanVideoToS3Operator``), ``model``, the ``request`` body as sent
    (an ``s3://`` audio URI shown as such: its presigned URL grants read access), normalised
    ``usage``, ``orig_prompt``/``actual_prompt`` and the service's times. Never the API key. With
    ``wait_for_completion=False`` it returns only the Wan task id (for ``WanTaskSensor``).

    **One billed task per task instance.** On Airflow 3.3+ the Wan task id is kept in the task
    state store right after it is created. A retry (or a crashed worker's next try) re-attaches to
    it: it waits again while the task is ``PENDING``/``RUNNING``, returns it if it ``SUCCEEDED``,
    and submits anew only if it ``FAILED``, was ``CANCELED`` or is ``UNKNOWN`` (expired), or if the
    request changed since. The id is dropped once the task instance succeeds, so clearing it later
    makes a new video. On Airflow 3.1 and 3.2 there is no task state store: a try that ends after
    the create but before the video is done (a worker crash, a timeout or kill while ``RUNNING``,
    the trigger giving up after repeated polling errors) leaves the first task running, and a retry
    submits a second, billed one. The operator cancels what it can (a ``PENDING`` task) before
    failing, but a ``RUNNING`` task cannot be cancelled: keep ``retries`` at 0 for this operator
    there, or submit with ``wait_for_completion=False`` and wait with ``WanTaskSensor``, whose
    retries never submit. (Airflow 3.1.0 itself resumes a retried deferred task with its previous
    trigger event, so there such a retry fails again rather than submitting.)

    **Failures.** A task that ends ``FAILED`` with a passing code (``InternalError``,
    ``ModelUnavailable``, throttling...) raises :class:`~airflow_provider_wan.exceptions.WanTaskError`,
    which Airflow may retry; a refused prompt (``DataInspectionFailed``, ``IPInfringementSuspect``),
    a bad parameter, key or account, ``CANCELED`` or ``UNKNOWN`` raise
    :class:`~airflow_provider_wan.exceptions.WanTaskFinalError`, which Airflow does not retry. Both
    carry the service's code and message. Past ``timeout`` the task is cancelled if still ``PENDING``
    and :class:`~airflow_provider_wan.exceptions.WanTaskTimeoutError` (final) is raised.

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
            self._video_request(_audio_stand_in(self.audio_url)).validate()

    @cached_property
    def hook(self) -> WanHook:
        from airflow_provider_wan.hooks.wan import WanHook

        return WanHook(self.wan_conn_id)

    def execute(self, context: Context) -> Any:
        try:
            return self._submit_and_wait(context)
        except WanValidationError as error:  # bad rendered values or connection: a retry finds them the same
            raise WanTaskFinalError(f"Refused before anything was sent to Wan: {error}") from error

    def _submit_and_wait(self, context: Context) -> Any:
        request = self._rendered_request()
        store = context.get("task_state_store")
        task = self._reattach(store)
        if task is None:
            task = self._submit(request)
            if store is not None:
                store.set(STATE_KEY, {"wan_task_id": task.task_id, "request": self._shown_body()})
        self.wan_task_id = task.task_id
        if not self.wait_for_completion:
            self._forget(store)
            return task.task_id
        if task.status is TaskStatus.SUCCEEDED:
            return self._succeed(context, task)
        if self.deferrable:
            self._defer(task.task_id)
        return self._wait(context, task.task_id)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after :class:`~airflow_provider_wan.triggers.wan.WanTaskTrigger` fired."""
        from airflow_provider_wan.triggers.wan import check_event, event_error

        event = check_event(event)
        wan_task_id = self.wan_task_id = str(event["wan_task_id"])
        if event["status"] == "success":
            return self._succeed(context, event["task"])
        if event["status"] == "timeout":
            cancelled = self._cancel_if_pending(wan_task_id)
            raise self._timeout_error(wan_task_id, (event.get("task") or {}).get("status"), cancelled)
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

    def _submit(self, request: VideoRequest) -> WanTask:
        try:
            return self.hook.create_task(request)
        except WanApiError as error:
            raise call_error(error, "submitting the task") from error

    def _reattach(self, store: Any) -> WanTask | None:
        """The task an earlier try of this task instance submitted, if it is still worth having."""
        stored = store.get(STATE_KEY) if store is not None else None
        if not isinstance(stored, dict) or not stored.get("wan_task_id"):
            return None
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
            return task
        self.log.warning(
            "Wan task %s from an earlier try ended %s; submitting anew", wan_task_id, task.status.value
        )
        return None

    # -- waiting ----------------------------------------------------------------------------------

    def _defer(self, wan_task_id: str) -> None:
        from airflow_provider_wan.triggers.wan import WanTaskTrigger

        trigger = WanTaskTrigger(
            wan_task_id=wan_task_id,
            deadline=time.time() + self.timeout,
            wan_conn_id=self.wan_conn_id,
            poll_interval=self.poll_interval,
            max_poll_interval=self.max_poll_interval,
            max_consecutive_errors=self.max_consecutive_errors,
        )
        backstop = timedelta(seconds=self.timeout + self.max_poll_interval + DEFERRAL_GRACE)
        self.defer(
            trigger=trigger,
            method_name="execute_complete",
            timeout=min(backstop, self.execution_timeout) if self.execution_timeout else backstop,
        )

    def _wait(self, context: Context, wan_task_id: str) -> dict[str, Any]:
        from airflow_provider_wan.hooks.wan import WanWaitTimeoutError

        try:
            task = self.hook.wait_for_task(
                wan_task_id,
                poll_interval=self.poll_interval,
                max_poll_interval=self.max_poll_interval,
                timeout=self.timeout,
            )
        except WanWaitTimeoutError as error:
            cancelled = self._cancel_if_pending(wan_task_id)
            raise self._timeout_error(wan_task_id, error.task.status.value, cancelled) from error
        except WanApiError as error:
            if context.get("task_state_store") is None:
                self._cancel_if_pending(wan_task_id)
            raise call_error(error, "waiting for the task", wan_task_id) from error
        if task.status is not TaskStatus.SUCCEEDED:
            raise task_error(task.task_id, task.status, task.code, task.message)
        return self._succeed(context, task)

    # -- endings ----------------------------------------------------------------------------------

    def _succeed(self, context: Context, task: WanTask | dict[str, Any]) -> dict[str, Any]:
        self._forget(context.get("task_state_store"))
        found = task.to_dict() if isinstance(task, WanTask) else dict(task)
        self.log.info("Wan task %s succeeded: %s", found["task_id"], found.get("video_url"))
        return {**found, "model": self.model, "request": self._shown_body()}

    def _forget(self, store: Any) -> None:
        """Drop the stored id once this task instance is done with it, so a later clear starts afresh."""
        if store is not None:
            store.delete(STATE_KEY)

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

    def _timeout_error(self, wan_task_id: str, status: str | None, cancelled: bool) -> WanTaskTimeoutError:
        fate = (
            "it was cancelled"
            if cancelled
            else "it could not be cancelled and may still finish and be billed"
        )
        return WanTaskTimeoutError(
            f"Wan task {wan_task_id} did not finish within {self.timeout:g}s "
            f"(last seen {status or 'never'}); {fate}",
            wan_task_id=wan_task_id,
            status=status,
        )


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
