"""What the emulated API answers with: the service's messages, its flat error body, and ids."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

MESSAGES = {
    "InvalidApiKey": "Invalid API-key provided.",
    "AccessDenied": "current user api does not support synchronous calls",
    "ListAccessDenied": "Access denied: this API key may not list the tasks of the account.",
    "NotFound": "The requested resource does not exist.",
    "ModelNotExist": "Model not exist.",
    "UrlError": "url error, please check url!",
    "BodyInvalid": "Required body invalid, please check the request body format.",
    "DataInspectionFailed": "Input data may contain inappropriate content.",
    "IPInfringementSuspect": "Input data is suspected of being involved in IP infringement.",
    "UnsupportedOperation": (
        "Failed to cancel the task, please confirm if the task exists and its status is PENDING."
    ),
    "RateQuota": "Requests rate limit exceeded, please try again later.",
    "Throttling": "Requests rate limit exceeded, please try again later.",
    "QueueFull": "Too many tasks are waiting in the queue of this account, please try again later.",
    "InternalError": "An internal error has occured, please try again later or contact service support.",
    "ModelUnavailable": "Model is unavailable, please try again later.",
}


@dataclass(frozen=True)
class Answer:
    """An HTTP answer of the emulated API: status, JSON body and extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def error_answer(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Answer:
    """The service's flat error body."""
    return Answer(status, {"request_id": new_id(), "code": code, "message": message}, headers or {})


def new_id() -> str:
    return str(uuid.uuid4())


def key_id(api_key: str) -> str:
    """A non-secret fingerprint of an API key (first 12 hex digits of its SHA-256)."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:12]
