"""Hooks for Alibaba's Wan video API (every family): ``WanHook`` (sync, ``requests``) and ``WanAsyncHook``.

Both run the steps of :class:`~airflow_provider_wan.hooks.calls.Caller`; ``requests`` and ``aiohttp``
are imported only when a hook first sends something.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, cast

from airflow.providers.common.compat.connection import get_async_connection, get_async_extra_dejson
from airflow.sdk import BaseHook

from airflow_provider_wan.api.base import WanRequest
from airflow_provider_wan.api.pacing import (
    MAX_POLL_INTERVAL,
    POLL_INTERVAL,
    PROGRESS_LOG_INTERVAL,
    poll_delay,
)
from airflow_provider_wan.api.responses import TaskPage, WanTask
from airflow_provider_wan.exceptions import (
    WanApiError,
    WanConnectionError,
    WanCreateUncertainError,
    WanError,
    WanWaitTimeoutError,
)
from airflow_provider_wan.hooks import form
from airflow_provider_wan.hooks.calls import (
    Answer,
    Caller,
    Outcome,
    RetryPolicy,
    Steps,
    T,
    WanCall,
    list_call,
    network_error,
    validated_create_call,
)
from airflow_provider_wan.hooks.connection import (
    CONN_TYPE,
    DEFAULT_CONN_ID,
    WanSettings,
    settings_from_connection,
)

if TYPE_CHECKING:
    import requests

__all__ = [
    "WanAsyncHook",
    "WanConnectionError",
    "WanCreateUncertainError",
    "WanHook",
    "WanWaitTimeoutError",
]

P = ParamSpec("P")
HOOK_NAME = "Alibaba Wan"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 5


class _WanBaseHook(BaseHook):
    """What both hooks take: the connection, the request timeout and the retry policy.

    :param wan_conn_id: a ``wan`` connection: API key in the password, ``region`` and ``workspace_id``
        extras, or a full base URL in ``host``.
    :param timeout: seconds for each HTTP request.
    :param max_retries: further tries after a transient failure (429, 5xx, network, malformed answer).
    :param backoff_base: seconds before the first retry; doubles each time, with jitter.
    :param backoff_cap: longest pause between tries (a longer ``Retry-After`` still wins).
    """

    conn_name_attr = "wan_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = HOOK_NAME

    def __init__(
        self,
        wan_conn_id: str = DEFAULT_CONN_ID,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
    ) -> None:
        super().__init__()
        self.wan_conn_id = wan_conn_id
        self.timeout = timeout
        self.retry_policy = RetryPolicy(max_retries, backoff_base, backoff_cap)


class WanHook(_WanBaseHook):
    """Create, query, cancel and list Wan tasks over a pooled ``requests`` session."""

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        return form.connection_form_widgets()

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return form.ui_field_behaviour()

    @cached_property
    def settings(self) -> WanSettings:
        return settings_from_connection(self.get_connection(self.wan_conn_id))

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @cached_property
    def session(self) -> requests.Session:
        """One pooled session per hook; the key goes in each request, never in the session."""
        import requests
        from requests.adapters import HTTPAdapter

        session = requests.Session()
        session.mount("https://", HTTPAdapter(pool_maxsize=10, max_retries=0))
        session.mount("http://", HTTPAdapter(pool_maxsize=10, max_retries=0))
        return session

    def get_conn(self) -> requests.Session:
        return self.session

    def create_task(self, request: WanRequest) -> WanTask:
        """Submit one task of any family (billed once it succeeds); the request is validated first."""
        return self._run(Caller.create_task, validated_create_call(request, self.log))

    def get_task(self, task_id: str) -> WanTask:
        return self._run(Caller.get_task, task_id)

    def cancel_task(self, task_id: str) -> None:
        """Cancel a ``PENDING`` task; one already cancelled (say by a retried call) counts as done."""
        return self._run(Caller.cancel_task, task_id)

    def list_tasks(self, **filters: Any) -> TaskPage:
        """One page of the account's tasks (last 24 hours unless ``start_time``/``end_time`` say else)."""
        return self._run(Caller.list_tasks, **filters)

    def wait_for_task(
        self,
        task_id: str,
        *,
        poll_interval: float = POLL_INTERVAL,
        timeout: float = 3 * 3600.0,
        max_poll_interval: float = MAX_POLL_INTERVAL,
    ) -> WanTask:
        """Poll until the task ends (any terminal status is returned, failures included).

        Polls soon at first, then less often up to ``max_poll_interval``, never more often than
        ``poll_interval``, within the account's task-API rate (shared by this process); throttling
        (429) only slows it down. Raises :class:`WanWaitTimeoutError` after ``timeout`` seconds.
        """
        started = time.monotonic()
        polls_done, reported, reported_at = 0, None, 0.0
        while True:
            try:
                task = self.get_task(task_id)
            except WanApiError as error:
                if not error.throttled or time.monotonic() - started >= timeout:
                    raise
                self.log.warning(
                    "Wan throttled the check of task %s; checking again after the pause", task_id
                )
                continue  # the account's rate limiter holds the next call back for the Retry-After
            if task.status.is_terminal:
                return task
            waited = time.monotonic() - started
            if waited >= timeout:
                raise WanWaitTimeoutError(task, waited)
            delay = poll_delay(polls_done, minimum=poll_interval, maximum=max_poll_interval)
            if task.status is not reported or waited - reported_at >= PROGRESS_LOG_INTERVAL:
                self.log.info("Wan task %s is %s after %.0f s", task_id, task.status.value, waited)
                reported, reported_at = task.status, waited
            time.sleep(min(delay, timeout - waited))
            polls_done += 1

    def test_connection(self) -> tuple[bool, str]:
        """Check the key with a list call, which bills nothing."""
        try:
            settings = self.settings
            page = self._run(
                Caller.send, list_call(page_size=1), RetryPolicy(max_retries=1, backoff_base=0.5)
            )
        except WanApiError as error:
            if error.http_status == 401:
                return False, f"Wan refused the API key of connection {self.wan_conn_id!r}: {error}"
            if error.http_status == 403:
                return False, (
                    f"Wan refused to list tasks for connection {self.wan_conn_id!r}: the API key may be "
                    "wrong, or allowed to create and query tasks but not to list the account's (a "
                    "sub-account policy can do that; tasks then still run and are waited for, each read "
                    f"on its own): {error}"
                )
            return False, f"Could not reach Wan for connection {self.wan_conn_id!r}: {error}"
        except WanError as error:
            return False, str(error)
        return True, f"Connected to Wan at {settings.base_url}; {page.total} tasks in the last 24 hours"

    def _run(
        self, method: Callable[Concatenate[Caller, P], Steps[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Carry out a :class:`Caller` method's steps: sleep each pause, send each call."""
        steps = method(Caller(self.settings, self.retry_policy, self.log), *args, **kwargs)
        outcome: Outcome = None
        try:
            while True:
                step = steps.send(outcome)
                if isinstance(step, WanCall):
                    outcome = self._send(step)
                else:
                    time.sleep(step)
                    outcome = None
        except StopIteration as done:
            return cast(T, done.value)

    def _send(self, call: WanCall[Any]) -> Answer | WanApiError:
        import requests

        settings = self.settings
        try:
            response = self.session.request(
                call.method,
                settings.base_url + call.path,
                params=call.params,
                json=call.body,
                headers=call.headers(settings.api_key),
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            return network_error(call, error, reached_service=_reached_service(error))
        return Answer(response.status_code, response.headers.get("Retry-After"), response.content)


def _reached_service(error: Exception) -> bool:
    """False only when ``requests`` surely never sent the request (connect refused, timed out, no DNS)."""
    import requests
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    if isinstance(error, requests.ConnectTimeout):
        return False
    cause = error.args[0] if error.args else None
    return not (
        isinstance(error, requests.ConnectionError)
        and isinstance(cause, MaxRetryError)
        and isinstance(cause.reason, NewConnectionError)
    )


class WanAsyncHook(_WanBaseHook):
    """Create, query, cancel and list Wan tasks from an event loop (the triggerer's) over ``aiohttp``.

    All instances on one loop share one pooled session. The connection is read once per hook, without
    blocking the loop (see :meth:`get_settings`).
    """

    _settings: WanSettings | None = None

    async def get_settings(self) -> WanSettings:
        """The connection through common.compat's async reads: ``conn.extra_dejson`` masks secrets with
        a blocking call to Airflow's supervisor, which Airflow 3.3 refuses on an event loop
        (``DeadlockImminentError``); the extra is read asynchronously (3.3.2+) or in a thread."""
        if self._settings is None:
            conn = await get_async_connection(self.wan_conn_id, self)
            self._settings = settings_from_connection(conn, await get_async_extra_dejson(conn))
        return self._settings

    async def create_task(self, request: WanRequest) -> WanTask:
        """Submit one task of any family (billed once it succeeds); the request is validated first."""
        return await self._run(Caller.create_task, validated_create_call(request, self.log))

    async def get_task(self, task_id: str) -> WanTask:
        return await self._run(Caller.get_task, task_id)

    async def cancel_task(self, task_id: str) -> None:
        """Cancel a ``PENDING`` task; one already cancelled (say by a retried call) counts as done."""
        return await self._run(Caller.cancel_task, task_id)

    async def list_tasks(self, **filters: Any) -> TaskPage:
        return await self._run(Caller.list_tasks, **filters)

    async def _run(
        self, method: Callable[Concatenate[Caller, P], Steps[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        from airflow_provider_wan.hooks import aio

        settings = await self.get_settings()
        steps = method(Caller(settings, self.retry_policy, self.log), *args, **kwargs)
        outcome: Outcome = None
        try:
            while True:
                step = steps.send(outcome)
                if isinstance(step, WanCall):
                    outcome = await aio.send(await aio.shared_session(), settings, step, self.timeout)
                else:
                    await asyncio.sleep(step)
                    outcome = None
        except StopIteration as done:
            return cast(T, done.value)
