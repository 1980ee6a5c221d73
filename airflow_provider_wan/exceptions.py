"""Every exception this provider raises, under one root: :class:`WanError`.

By where it happens: a request or connection the contract rules out (:class:`WanValidationError`, raised
before anything is sent, so nothing is billed); a call the service refused or never answered
(:class:`WanApiError`); a copy to S3 that did not happen (:class:`TransferError`); and what a task's end
means for Airflow (:class:`WanTaskError`, which Airflow may retry, and :class:`WanTaskFinalError`, which it
may not). A retry of a Wan task submits (and bills) it again, so only passing trouble is left retryable: a
refused prompt, a bad parameter, key or account fail at once, carrying the service's code and message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

if TYPE_CHECKING:
    from airflow_provider_wan.api.responses import TaskStatus, WanTask

#: Codes the service gives for transient trouble: worth another try after a pause.
TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "InternalError.Algo",
        "ModelServiceFailed",
        "RequestTimeOut",
        "ModelServingError",
        "ModelUnavailable",
    }
)
#: A task that produced nothing in 3 hours: retrying the same call will not help, submit anew.
FINAL_SERVER_CODES = frozenset({"InternalError.Timeout"})
#: The service's answer to cancelling a task that is not ``PENDING`` (one already cancelled, too).
NOT_PENDING_CODE = "UnsupportedOperation"
# Codes of failures that produced no HTTP answer (``http_status`` None).
CONNECT_FAILED = "ConnectFailed"  # the request never reached the service
CONNECTION_LOST = "ConnectionLost"  # sent, then no (complete) answer: the service may have acted on it


def is_retryable(http_status: int | None, code: str | None) -> bool:
    """Whether a failed call may succeed if repeated (``http_status`` None: a network failure)."""
    if code in FINAL_SERVER_CODES:
        return False
    if http_status is None or http_status == 429 or http_status >= 500:
        return True
    return code in TRANSIENT_CODES or (code or "").startswith("Throttling")


def is_transient_task_failure(code: str | None) -> bool:
    """Whether a ``FAILED`` task's ``code`` names passing trouble, so submitting it again may succeed."""
    if not code or code in FINAL_SERVER_CODES:
        return False
    return code in TRANSIENT_CODES or code.startswith("Throttling")


def names_unknown_model(code: str | None, message: str | None) -> bool:
    """Whether a refused call says the model does not exist (400 ``InvalidParameter`` "Model not
    exist.", or 404 ``ModelNotFound``: unknown, or not granted to the account)."""
    if code == "ModelNotFound":
        return True
    return code == "InvalidParameter" and "model not exist" in (message or "").lower()


class WanError(Exception):
    """Base class of every error this provider raises about Wan."""


# -- refused before anything is sent ---------------------------------------------------------------


class WanValidationError(WanError, ValueError):
    """A request the contract rules out, refused before anything is sent (nothing is billed)."""

    def __init__(self, parameter: str, value: Any, allowed: str) -> None:
        self.parameter = parameter
        self.value = value
        self.allowed = allowed
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"Invalid {parameter}={shown}: {allowed}")


class WanConnectionError(WanValidationError):
    """A ``wan`` connection that cannot be used as configured (nothing was sent)."""

    def __init__(self, conn_id: str, parameter: str, value: Any, allowed: str) -> None:
        super().__init__(parameter, value, allowed)
        self.conn_id = conn_id
        self.args = (f"Connection {conn_id!r}: {self.args[0]}",)


class WanCostCapError(WanValidationError):
    """A request (or a batch) whose estimate exceeds its cap, or cannot be checked against it: refused
    before anything is sent, so nothing is billed."""

    def __init__(self, parameter: str, cap: float, detail: str) -> None:
        super().__init__(parameter, cap, detail)
        self.cap = cap
        self.args = (f"Refused before sending: {parameter}={cap:g}: {detail}",)


# -- a call to the service ---------------------------------------------------------------------------


class WanApiError(WanError):
    """A call the service answered with an error, or one that never got an answer."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.http_status = http_status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.retry_after = retry_after
        where = f"HTTP {http_status}" if http_status is not None else "network error"
        detail = f"{code}: {message}" if code else message
        suffix = f" (request_id {request_id})" if request_id else ""
        super().__init__(f"Wan API {where}: {detail}{suffix}")

    @property
    def retryable(self) -> bool:
        return is_retryable(self.http_status, self.code)

    @property
    def throttled(self) -> bool:
        """A 429 (``Throttling``, ``Throttling.RateQuota``...): slow down, never a reason to give up."""
        return self.http_status == 429

    @property
    def not_pending(self) -> bool:
        """The answer to cancelling a task that is no longer ``PENDING`` (or is already cancelled)."""
        return self.code == NOT_PENDING_CODE


class WanResponseError(WanApiError):
    """An answer that does not match the contract (bad JSON, missing fields): treated as transient."""

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message, http_status=http_status, code="MalformedResponse")

    @property
    def retryable(self) -> bool:
        return True


class WanCreateUncertainError(WanApiError):
    """A create call that failed after reaching the service: a task may exist and be billed.

    Never retried, so one submission cannot become two billed tasks.
    """

    def __init__(self, cause: WanApiError, *, model: str) -> None:
        detail = f"{cause.code}: {cause.message}" if cause.code else cause.message
        super().__init__(
            f"the create call failed after it was sent ({detail}), so Wan may have accepted it and a "
            f"{model} task may be running and billed. Not submitting again. Look for the task before "
            f"resubmitting: WanHook.list_tasks(model_name={model!r}) lists the last 24 hours' tasks",
            http_status=cause.http_status,
            request_id=cause.request_id,
        )
        self.cause = cause

    @property
    def retryable(self) -> bool:
        return False


class WanWaitTimeoutError(WanError, TimeoutError):
    """A task still not finished when ``wait_for_task`` gave up; it may still be running (and billed)."""

    def __init__(self, task: WanTask, waited: float) -> None:
        super().__init__(
            f"Wan task {task.task_id} is still {task.status.value} after {waited:.0f} s; "
            "cancel it with WanHook.cancel_task while it is PENDING, or keep waiting"
        )
        self.task = task


# -- a video into S3 ---------------------------------------------------------------------------------


class TransferError(WanError):
    """A copy that did not happen (worth another try); nothing is left at the key, no upload stays open."""


class TransferRefused(TransferError):
    """A copy refused for a reason no retry can fix (host policy, size cap, key conflict): the operator
    fails without retries."""


class DownloadInterrupted(TransferError):
    """The video stream broke off and could not be continued in place.

    ``restart_from_zero``: a fresh download from byte 0 is worth a try (the retry budget allows it);
    False once the budget is spent.
    """

    def __init__(self, message: str, *, restart_from_zero: bool) -> None:
        super().__init__(message)
        self.restart_from_zero = restart_from_zero


class IntegrityError(TransferError):
    """The bytes stored are not the bytes served (length or checksum differ)."""


# -- what a task's end means for Airflow -------------------------------------------------------------


class WanTaskError(WanError, AirflowException):
    """A Wan task that did not succeed for a passing reason: Airflow may retry it."""

    def __init__(
        self,
        message: str,
        *,
        wan_task_id: str | None = None,
        status: str | None = None,
        code: str | None = None,
        service_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.wan_task_id = wan_task_id
        self.status = status
        self.code = code
        self.service_message = service_message


class WanTaskFinalError(WanTaskError, AirflowFailException):
    """A Wan task that no retry can save (refused input, bad key, unpaid account, cancelled, expired)."""


class WanTaskTimeoutError(WanTaskFinalError):
    """A Wan task that did not finish within the operator's ``timeout``."""


class WanExecutionTimeoutError(WanTaskError):
    """A try whose ``execution_timeout`` ran out before ``timeout``: retryable, as Airflow's own task
    timeout is; a retry re-attaches to the task if it was still running (it was cancelled if PENDING)."""


def task_error(
    wan_task_id: str, status: TaskStatus | str, code: str | None, message: str | None
) -> WanTaskError:
    """The error for a task that ended without success: retryable only for a passing ``FAILED`` code."""
    from airflow_provider_wan.api.responses import TaskStatus

    status = TaskStatus(status)
    why = f"{code}: {message}" if code else (message or "no reason given")
    if status is TaskStatus.UNKNOWN:
        why = "the service does not know it (older than 24 hours, or never created)"
    text = f"Wan task {wan_task_id} ended {status.value}: {why}"
    final = status is not TaskStatus.FAILED or not is_transient_task_failure(code)
    kind = WanTaskFinalError if final else WanTaskError
    return kind(text, wan_task_id=wan_task_id, status=status.value, code=code, service_message=message)


def call_error(error: WanApiError, doing: str, wan_task_id: str | None = None) -> WanTaskError:
    """The error for a call that failed: final unless the service (or network) said to try later."""
    kind = WanTaskError if error.retryable else WanTaskFinalError
    return kind(
        f"Wan call failed while {doing}: {error}",
        wan_task_id=wan_task_id,
        code=error.code,
        service_message=error.message,
    )


def with_model_hint(error: WanTaskError, model: str, hint: str) -> WanTaskError:
    """``error`` again, its message saying which model the service does not know and what was likely
    meant (``hint``, as :func:`~airflow_provider_wan.api.models.did_you_mean` gives it), when the
    service refused the model; else ``error`` itself."""
    if not names_unknown_model(error.code, error.service_message):
        return error
    return type(error)(
        f"{error}: the service has no model {model!r}{hint}",
        wan_task_id=error.wan_task_id,
        status=error.status,
        code=error.code,
        service_message=error.service_message,
    )
