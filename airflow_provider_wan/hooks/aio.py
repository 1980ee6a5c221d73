"""The ``aiohttp`` side of the async hook: one pooled session per event loop, and sending one call.

Imported only when an async hook sends something, so DAG parsing never imports ``aiohttp``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import aiohttp

from airflow_provider_wan.exceptions import WanApiError
from airflow_provider_wan.hooks.calls import Answer, WanCall, network_error
from airflow_provider_wan.hooks.connection import WanSettings

# Every hook and trigger on a loop shares that loop's session (and its connection pool). The closer is an
# async generator the loop finalises in ``shutdown_asyncgens()`` (``asyncio.run`` and the triggerer call it),
# which closes the session together with its loop.
_pool: dict[asyncio.AbstractEventLoop, tuple[aiohttp.ClientSession, AsyncGenerator[None, None]]] = {}


async def shared_session() -> aiohttp.ClientSession:
    """The running loop's session, made on first use."""
    loop = asyncio.get_running_loop()
    entry = _pool.get(loop)
    if entry is not None and not entry[0].closed:
        return entry[0]
    _forget_closed_loops()
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
    closer = _close_with_loop(loop, session)
    _pool[loop] = (session, closer)
    await closer.__anext__()
    return session


async def close_sessions() -> None:
    """Close the running loop's shared session now (tests, or a service shutting down)."""
    entry = _pool.pop(asyncio.get_running_loop(), None)
    if entry is not None:
        await entry[1].aclose()


async def _close_with_loop(
    loop: asyncio.AbstractEventLoop, session: aiohttp.ClientSession
) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        if _pool.get(loop, (None,))[0] is session:
            del _pool[loop]
        await session.close()


def _forget_closed_loops() -> None:
    """Drop sessions of loops closed without ``shutdown_asyncgens`` (nothing left to close them with)."""
    for loop in [loop for loop in _pool if loop.is_closed()]:
        session, _ = _pool.pop(loop)
        session.detach()


async def send(
    session: aiohttp.ClientSession, settings: WanSettings, call: WanCall[Any], timeout: float
) -> Answer | WanApiError:
    """Send ``call`` once: its answer, or the :class:`WanApiError` a failure to get one amounts to."""
    try:
        async with session.request(
            call.method,
            settings.base_url + call.path,
            params=call.params,
            json=call.body,
            headers=call.headers(settings.api_key),
            timeout=aiohttp.ClientTimeout(total=timeout),
            allow_redirects=False,
        ) as response:
            content = await response.read()
    except aiohttp.ClientConnectorError as error:
        return network_error(call, error, reached_service=False)
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        return network_error(call, error, reached_service=True)
    return Answer(response.status, response.headers.get("Retry-After"), content)
