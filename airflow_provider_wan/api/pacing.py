"""How long to wait between tries and between polls; shared by the sync and async hooks and the trigger."""

from __future__ import annotations

import random

VENDOR_POLL_INTERVAL = 15.0  # the vendor suggests polling about every 15 s
#: Every wait's defaults (operators, trigger, sensor, ``WanHook.wait_for_task``): a task is first checked
#: within POLL_INTERVAL, then less often toward MAX_POLL_INTERVAL; MAX_CONSECUTIVE_ERRORS failed checks in
#: a row end a trigger's wait; an unchanged status is logged every PROGRESS_LOG_INTERVAL seconds.
POLL_INTERVAL = 2.0
MAX_POLL_INTERVAL = VENDOR_POLL_INTERVAL
MAX_CONSECUTIVE_ERRORS = 5
PROGRESS_LOG_INTERVAL = 60.0
MAX_RETRY_AFTER = 300.0  # throttling recovers within about a minute; a larger Retry-After is not waited out


def backoff_delay(
    attempt: int,
    *,
    base: float = 1.0,
    cap: float = 60.0,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds before try ``attempt + 1``: exponential with jitter, never under ``Retry-After`` (capped)."""
    ceiling = min(cap, base * (2**attempt))
    delay = (rng or random).uniform(ceiling / 2, ceiling)
    return max(delay, min(retry_after or 0.0, MAX_RETRY_AFTER))


def poll_delay(polls_done: int, *, minimum: float, maximum: float = MAX_POLL_INTERVAL) -> float:
    """Seconds before the next poll: a first look soon, then doubling toward ``maximum``."""
    return max(minimum, min(maximum, 2.0 ** (polls_done - 1)))
