"""What an unsuccessful Wan task means for the Airflow task: worth a retry, or final.

Airflow retries any failure except :class:`AirflowFailException`. A retry of a Wan task submits (and
bills) it again, so only passing trouble is left retryable; a refused prompt, a bad parameter, a bad
key or an unpaid account fail at once, carrying the service's code and message.
"""

from __future__ import annotations

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_wan.api import TaskStatus, WanApiError, WanError, is_transient_task_failure
from airflow_provider_wan.api.errors import names_unknown_model


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
