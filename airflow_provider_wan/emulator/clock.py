"""The emulator's clock: wall time plus an offset tests can move forward."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone


class Clock:
    """Seconds since the epoch, advanced on demand so queue, run and 24-hour expiry pass instantly."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        return self._offset

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move the clock forward (never back: the service's time does not run backwards)."""
        if seconds < 0:
            raise ValueError(f"advance_clock needs seconds >= 0, got {seconds}")
        with self._lock:
            self._offset += seconds
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0


def utc(epoch: float) -> datetime:
    """An emulator instant as a naive UTC datetime: the service's answers state no zone *(assumed UTC)*."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc).replace(tzinfo=None)
