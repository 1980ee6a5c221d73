"""This process's task-API rate limiters: one :class:`~airflow_provider_wan.api.rate.TokenBucket` per
account, shared by every hook, sensor and trigger of the process (the one piece of the calls' state)."""

from __future__ import annotations

import hashlib
import threading

from airflow_provider_wan.api.rate import TokenBucket
from airflow_provider_wan.hooks.connection import WanSettings

_limiters: dict[str, TokenBucket] = {}
_limiters_lock = threading.Lock()


def account_key(base_url: str, api_key: str) -> str:
    """Which account a connection spends the rate of, as far as a client can tell (no key in it)."""
    return hashlib.sha256(f"{base_url}\n{api_key}".encode()).hexdigest()[:16]


def task_api_limiter(settings: WanSettings) -> TokenBucket:
    """This process's bucket for the account of ``settings``, at the rate its connection configures."""
    return account_limiter(account_key(settings.base_url, settings.api_key), settings.task_api_rps)


def account_limiter(account: str, rate: float) -> TokenBucket:
    """This process's one bucket for ``account``, at ``rate``."""
    with _limiters_lock:
        bucket = _limiters.get(account)
        if bucket is None:
            bucket = _limiters[account] = TokenBucket(rate)
        elif bucket.configured != rate:
            bucket.configure(rate)
        return bucket


def forget_limiters() -> None:
    """Drop every account's bucket (tests that throttle on purpose, so the next starts afresh)."""
    with _limiters_lock:
        _limiters.clear()
