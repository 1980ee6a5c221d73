"""The task API's request rate: query, cancel and list share 20 requests a second per account.

The vendor limits those three calls together, per account; past the limit it answers 429 ``Throttling``.
A :class:`TokenBucket` says when the next call may go. The hooks keep one per account and process (see
:mod:`airflow_provider_wan.hooks.limiters`) and spend it evenly (a burst of one): at most ``rate`` calls in
any second, however the service counts them. A 429 pauses the bucket for the ``Retry-After`` and halves
its rate, which climbs back to the configured rate over ``RECOVERY_SECONDS``: processes that share one
account and over-ask settle below the limit. The emulator enforces the limit with the same bucket (a
burst of a full second's worth).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from airflow_provider_wan.api.pacing import MAX_RETRY_AFTER
from airflow_provider_wan.exceptions import WanValidationError

#: Query, cancel and list requests a second per account (the contract).
VENDOR_TASK_API_RPS = 20.0
THROTTLE_PAUSE = 1.0  # seconds held back after a 429 that sent no Retry-After
RECOVERY_SECONDS = 30.0  # a halved rate climbs back to the configured one over this long
SLOWEST_SHARE = 1 / 16  # throttling never slows a bucket below this share of its configured rate
EPSILON = 1e-9
RATE_ALLOWED = "a positive number of requests a second (the vendor allows 20)"


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; thread-safe, so sync and async callers share it.

    :meth:`take` never blocks: it takes a token or says how long to wait, so the caller sleeps its own
    way (``time.sleep`` or ``asyncio.sleep``) and the lock is held only for arithmetic.
    """

    def __init__(
        self, rate: float, *, burst: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.configured = self.rate = check_rate(rate)
        self.burst = max(1.0, float(burst))
        self.clock = clock
        self.tokens = self.burst
        self.stamp = clock()
        self.paused_until = -math.inf
        self.throttles = 0
        self._lock = threading.Lock()

    def take(self) -> float:
        """0.0 when a token was taken (send now); else the seconds until one may be, nothing taken."""
        with self._lock:
            now = self._refill()
            if now < self.paused_until:
                return self.paused_until - now
            if self.tokens >= 1.0 - EPSILON:  # refills are sums of floats: 0.9999999 is a token
                self.tokens -= 1.0
                return 0.0
            return (1.0 - self.tokens) / self.rate

    def throttled(self, retry_after: float | None = None) -> float:
        """The service answered 429: hold back ``Retry-After`` (capped) and halve the rate; the pause."""
        with self._lock:
            now = self._refill()
            pause = min(retry_after if retry_after and retry_after > 0 else THROTTLE_PAUSE, MAX_RETRY_AFTER)
            self.paused_until = max(self.paused_until, now + pause)
            self.rate = max(self.rate / 2, self.configured * SLOWEST_SHARE)
            self.tokens = min(self.tokens, 0.0)
            self.throttles += 1
            return pause

    def configure(self, rate: float) -> None:
        """A new configured rate (a connection or setting changed); a throttled rate stays lower."""
        check_rate(rate)
        with self._lock:
            self._refill()
            self.configured = float(rate)
            self.rate = min(self.rate, self.configured)

    def _refill(self) -> float:
        now = self.clock()
        elapsed = max(0.0, now - self.stamp)
        self.stamp = now
        if self.rate < self.configured:
            self.rate = min(self.configured, self.rate + self.configured * elapsed / RECOVERY_SECONDS)
        self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
        return now


def check_rate(rate: float) -> float:
    """A usable requests-a-second figure, or a :class:`WanValidationError` saying what is allowed."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate < math.inf:
        raise WanValidationError("task_api_rps", rate, RATE_ALLOWED)
    return float(rate)


def parse_rate(text: str) -> float | None:
    """A requests-a-second setting as written (CLI, ini): a positive number, or ``none`` for no limit."""
    if text.strip().lower() in ("none", "off", "unlimited"):
        return None
    try:
        return check_rate(float(text))
    except ValueError:
        raise WanValidationError(
            "task_api_rps", text, "a positive number of requests a second, or none"
        ) from None
