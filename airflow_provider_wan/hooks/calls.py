"""The four Wan calls as data, how an answer becomes a result or an error, and every step of a hook's
method short of sending: the task-API rate, retries, metrics, a cancel that finds its task cancelled.

Each :class:`Caller` method is a generator of steps: a pause (seconds) or a call to send once. The hook
carries each out its own way (``time.sleep`` and ``requests``, or ``asyncio.sleep`` and ``aiohttp``) and
hands back the :class:`Answer` or the failure, so both hooks share everything but the HTTP library and
the way of sleeping. Query, cancel and list wait for the account's limiter
(:mod:`airflow_provider_wan.hooks.limiters`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from airflow_provider_wan import metrics
from airflow_provider_wan.api.base import WanRequest
from airflow_provider_wan.api.endpoints import (
    LIST_PATH,
    auth_headers,
    cancel_path,
    create_headers,
    list_params,
    task_path,
)
from airflow_provider_wan.api.pacing import backoff_delay
from airflow_provider_wan.api.responses import (
    TaskPage,
    TaskStatus,
    WanTask,
    parse_error,
    parse_task,
    parse_task_page,
)
from airflow_provider_wan.exceptions import (
    CONNECT_FAILED,
    CONNECTION_LOST,
    WanApiError,
    WanCreateUncertainError,
    WanResponseError,
)
from airflow_provider_wan.hooks.connection import WanSettings
from airflow_provider_wan.hooks.limiters import task_api_limiter

T = TypeVar("T")


class Log(Protocol):
    """The part of a hook's logger the calls use (stdlib and Airflow's structlog loggers)."""

    def info(self, msg: Any, /, *args: Any) -> Any: ...

    def warning(self, msg: Any, /, *args: Any) -> Any: ...

    def error(self, msg: Any, /, *args: Any) -> Any: ...


@dataclass(frozen=True)
class WanCall(Generic[T]):
    """One HTTP call: what to send, and how to read a successful answer."""

    name: str
    method: str
    path: str
    parse: Callable[[Any], T]
    params: dict[str, str] | None = None
    body: dict[str, Any] | None = None
    resolve_oss: bool = False  # a create with an ``oss://`` input asks the service to resolve it

    @property
    def creates_task(self) -> bool:
        return self.body is not None

    @property
    def model(self) -> str | None:
        return (self.body or {}).get("model")

    def headers(self, api_key: str) -> dict[str, str]:
        if self.creates_task:
            return create_headers(api_key, resolve_oss=self.resolve_oss)
        return auth_headers(api_key)


def _ignore_body(body: Any) -> None:
    return None


def create_call(request: WanRequest) -> WanCall[WanTask]:
    """The create call of any family: its own path, and the OSS resolve header when an input needs it."""
    return WanCall(
        "create",
        "POST",
        request.create_path,
        parse_task,
        body=request.to_body(),
        resolve_oss=request.needs_oss_resolve,
    )


def validated_create_call(request: WanRequest, log: Log) -> WanCall[WanTask]:
    """The create call, once the request passed the contract's rules (its warnings logged): both hooks
    refuse a bad request before anything is sent, or the connection read."""
    for warning in request.validate():
        log.warning("Wan request: %s", warning)
    return create_call(request)


def get_call(task_id: str) -> WanCall[WanTask]:
    return WanCall("get", "GET", task_path(task_id), parse_task)


def cancel_call(task_id: str) -> WanCall[None]:
    return WanCall("cancel", "POST", cancel_path(task_id), _ignore_body)


def list_call(**filters: Any) -> WanCall[TaskPage]:
    return WanCall("list", "GET", LIST_PATH, parse_task_page, params=list_params(**filters))


@dataclass(frozen=True)
class Answer:
    """What the service sent back to one call, as it came."""

    status: int
    retry_after: str | None
    content: bytes


Step = float | WanCall[Any]  # a pause in seconds, or a call to send once
Outcome = Answer | WanApiError | None  # a sent call's answer or failure; None after a pause
Steps = Generator[Step, Outcome, T]  # the hook sends each outcome back; the result ends the steps


def read_answer(
    call: WanCall[T], status: int, retry_after: str | None, content: bytes, settings: WanSettings
) -> T:
    """The result of ``call`` from the raw answer, or the :class:`WanApiError` it amounts to.

    The key is blanked out of the text first, so no error message can carry it even if echoed.
    """
    text = content.decode("utf-8", errors="replace").replace(settings.api_key, "***")
    try:
        body: Any = json.loads(text) if text.strip() else None
        parsed = True
    except ValueError:
        body, parsed = text, False
    if not 200 <= status < 300:
        raise parse_error(status, body, retry_after)
    if not parsed:
        raise WanResponseError(f"{call.name} answer is not JSON: {text[:200]!r}", http_status=status)
    return call.parse(body)


def network_error(call: WanCall[Any], error: BaseException, *, reached_service: bool) -> WanApiError:
    """A failure without an HTTP answer, as a retryable :class:`WanApiError`."""
    code = CONNECTION_LOST if reached_service else CONNECT_FAILED
    detail = str(error) or type(error).__name__
    return WanApiError(f"{call.name} call: {type(error).__name__}: {detail}", code=code)


@dataclass(frozen=True)
class RetryPolicy:
    """How many times, and after what pause, a failed call is tried again."""

    max_retries: int = 5
    backoff_base: float = 1.0
    backoff_cap: float = 60.0

    def delay_after(self, call: WanCall[Any], attempt: int, error: WanApiError, log: Log) -> float:
        """Seconds to wait before trying ``call`` again; raises when it must not be tried again.

        ``attempt`` counts from 0. Create is tried again only when the service surely did not take it:
        throttled (429) or never reached. Get, cancel and list are tried again on any transient error.
        """
        if call.creates_task and not _surely_not_accepted(error):
            if not error.retryable:
                raise error
            raise WanCreateUncertainError(error, model=str(call.model)) from error
        if not error.retryable:
            raise error
        if attempt >= self.max_retries:
            log.error("Wan %s call failed %d times in a row; giving up", call.name, attempt + 1)
            raise error
        delay = backoff_delay(
            attempt, base=self.backoff_base, cap=self.backoff_cap, retry_after=error.retry_after
        )
        log.warning(
            "Wan %s call failed (%s); try %d of %d in %.2f s",
            call.name,
            error,
            attempt + 2,
            self.max_retries + 1,
            delay,
        )
        return delay


def _surely_not_accepted(error: WanApiError) -> bool:
    return error.http_status == 429 or (error.http_status is None and error.code == CONNECT_FAILED)


@dataclass(frozen=True)
class Caller:
    """The steps of each hook method, for one hook's connection, retry policy and log."""

    settings: WanSettings
    policy: RetryPolicy
    log: Log

    def create_task(self, call: WanCall[WanTask]) -> Steps[WanTask]:
        task = yield from self.send(call)
        self.log.info("Submitted Wan task %s (model %s)", task.task_id, call.model)
        return task

    def get_task(self, task_id: str) -> Steps[WanTask]:
        return self.send(get_call(task_id))

    def cancel_task(self, task_id: str) -> Steps[None]:
        try:
            yield from self.send(cancel_call(task_id))
        except WanApiError as error:
            if not error.not_pending or (yield from self.get_task(task_id)).status is not TaskStatus.CANCELED:
                raise
        self.log.info("Cancelled Wan task %s", task_id)

    def list_tasks(self, **filters: Any) -> Steps[TaskPage]:
        return self.send(list_call(**filters))

    def send(self, call: WanCall[T], policy: RetryPolicy | None = None) -> Steps[T]:
        """``call`` until it succeeds or must not be tried again; query, cancel and list wait for the
        account's task-API rate (creates have a limit of their own)."""
        limiter = None if call.creates_task else task_api_limiter(self.settings)
        attempt = 0
        while True:
            while limiter is not None and (wait := limiter.take()) > 0:
                yield wait
            outcome = yield call
            try:
                return self._read(call, outcome)
            except WanApiError as error:
                if limiter is not None and error.throttled:  # slows every caller of the account, not one
                    limiter.throttled(error.retry_after)
                delay = (policy or self.policy).delay_after(call, attempt, error, self.log)
            yield delay
            attempt += 1

    def _read(self, call: WanCall[T], outcome: Outcome) -> T:
        """The result of a sent call; each answer is counted here (creates, cancels, polls, throttling)."""
        if isinstance(outcome, WanApiError):
            raise outcome
        assert isinstance(outcome, Answer), outcome
        metrics.answered(call.name, outcome.status, self.settings.conn_id, model=call.model)
        return read_answer(call, outcome.status, outcome.retry_after, outcome.content, self.settings)
