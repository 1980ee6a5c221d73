"""Errors of the Wan API contract, and which of them are worth retrying."""

from __future__ import annotations

from typing import Any

# Codes the service gives for transient trouble: worth another try after a pause.
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
# A task that produced nothing in 3 hours: retrying the same call will not help, submit anew.
FINAL_SERVER_CODES = frozenset({"InternalError.Timeout"})


def is_retryable(http_status: int | None, code: str | None) -> bool:
    """Whether a failed call may succeed if repeated (``http_status`` None: a network failure)."""
    if code in FINAL_SERVER_CODES:
        return False
    if http_status is None:
        return True
    if http_status == 429 or (code or "").startswith("Throttling"):
        return True
    if http_status >= 500:
        return True
    return code in TRANSIENT_CODES


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


class WanResponseError(WanApiError):
    """An answer that does not match the contract (bad JSON, missing fields): treated as transient."""

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message, http_status=http_status, code="MalformedResponse")

    @property
    def retryable(self) -> bool:
        return True
