"""Fault injection per endpoint: error answers, latency, dropped connections, bad JSON, cut downloads.

Two faults act *after* the call took effect, for the ambiguous outcomes a client must survive:
``accept_then_drop`` (the task is created, counted and billed, then the connection closes without an
answer) and ``accept_then_delay`` (the task is created, then the answer waits that many seconds, a window
in which a test can kill the caller).
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, fields
from typing import Any

ENDPOINTS = ("create", "query", "cancel", "list", "video")


@dataclass(frozen=True)
class FaultSpec:
    """What to do to calls of one endpoint; probabilities are 0..1, ``latency`` seconds, cut in bytes."""

    error_500: float = 0.0
    error_503: float = 0.0
    error_429: float = 0.0
    latency: float = 0.0
    drop: float = 0.0
    malformed: float = 0.0
    cut_video_at: int | None = None
    accept_then_drop: float = 0.0
    accept_then_delay: float = 0.0

    def __post_init__(self) -> None:
        for name in ("error_500", "error_503", "error_429", "drop", "malformed", "accept_then_drop"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"fault {name}={value!r}: a probability from 0 to 1")
        if self.error_500 + self.error_503 + self.error_429 > 1.0:
            raise ValueError("fault error_500 + error_503 + error_429 must not exceed 1")
        for name in ("latency", "accept_then_delay"):
            if getattr(self, name) < 0:
                raise ValueError(f"fault {name}={getattr(self, name)!r}: seconds, 0 or more")
        if self.cut_video_at is not None and self.cut_video_at < 0:
            raise ValueError(f"fault cut_video_at={self.cut_video_at!r}: a byte count, 0 or more")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> FaultSpec:
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown fault setting(s) {sorted(unknown)}; allowed: {sorted(known)}")
        return cls(**values)


@dataclass(frozen=True)
class FaultDecision:
    """The faults drawn for one call."""

    latency: float = 0.0
    drop: bool = False
    error_status: int | None = None
    malformed: bool = False
    cut_video_at: int | None = None
    drop_after_effect: bool = False
    delay_after_effect: float = 0.0


class FaultInjector:
    """Per-endpoint fault settings and a seeded random source, so fault runs are reproducible."""

    def __init__(self, seed: int | None = None) -> None:
        self._seed = seed
        self._random = random.Random(seed)
        self._specs: dict[str, FaultSpec] = {}
        self._lock = threading.Lock()

    def set(self, endpoint: str, spec: FaultSpec) -> None:
        if endpoint not in ENDPOINTS:
            raise ValueError(f"fault endpoint {endpoint!r}: one of {', '.join(ENDPOINTS)}")
        with self._lock:
            self._specs[endpoint] = spec

    def clear(self) -> None:
        with self._lock:
            self._specs.clear()
            self._random.seed(self._seed)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {endpoint: asdict(spec) for endpoint, spec in self._specs.items()}

    def decide(self, endpoint: str) -> FaultDecision | None:
        """The faults for one call of ``endpoint``; None (the common case) when none are set."""
        spec = self._specs.get(endpoint)
        if spec is None:
            return None
        with self._lock:
            drop = self._random.random() < spec.drop
            draw = self._random.random()
            malformed = self._random.random() < spec.malformed
            # drawn only when set, so seeded runs without it see the same sequence as before
            drop_after = bool(spec.accept_then_drop) and self._random.random() < spec.accept_then_drop
        error_status = None
        for status, chance in ((500, spec.error_500), (503, spec.error_503), (429, spec.error_429)):
            if draw < chance:
                error_status = status
                break
            draw -= chance
        return FaultDecision(
            spec.latency, drop, error_status, malformed, spec.cut_video_at, drop_after, spec.accept_then_delay
        )
