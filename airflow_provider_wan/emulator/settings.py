"""How an emulated account behaves: its keys, task timing, moderation markers, limits and region."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from airflow_provider_wan.api.rate import VENDOR_TASK_API_RPS, check_rate

LIST_REFUSALS = (404, 403)
FUTURE_ENDS = ("accepted", "refused")
MODEL_NAMES = ("as-sent", "family")
ORIG_PROMPTS = ("as-sent", "normalised")
USAGE_SHAPES = ("numbers", "text")


@dataclass(frozen=True)
class Readings:
    """Where the contract is an assumption, which reading the emulator plays: the provider's own by
    default, each switchable to another reading the vendor's pages allow, so tests can check that the
    provider holds under both.

    * ``list_refused``: 404 or 403 ``AccessDenied`` for every list call (a sub-account key that may
      query its tasks but not list the account's); None: the list call works.
    * ``list_utc_offset``: hours east of UTC of the zone the list call reads ``start_time`` and
      ``end_time`` in (8: Beijing time); 0: UTC, the provider's reading.
    * ``list_future_end``: ``refused`` answers 400 ``InvalidParameter`` to a list call whose
      ``end_time`` lies in the future (as the service reads it); ``accepted`` lists up to it.
    * ``list_model_name``: ``family`` files a task under its model family (a dated snapshot such as
      ``wan2.7-t2v-2026-04-25`` as ``wan2.7-t2v``): its list rows show the family, and ``model_name``
      filters on the family alone; ``as-sent`` shows the name the create sent and filters on either.
    * ``orig_prompt``: ``normalised`` answers ``orig_prompt`` changed as the vendor's examples show it
      (whitespace collapsed, ASCII punctuation turned full-width, the final stop dropped, a space
      added); ``as-sent`` echoes the prompt.
    * ``usage_shape``: ``text`` sends ``usage`` numbers as the SDK samples show them (``SR`` as a
      string, ``duration`` as a float) and no ``actual_prompt``; ``numbers`` as the pages' examples.
    """

    list_refused: int | None = None
    list_utc_offset: float = 0.0
    list_future_end: str = "accepted"
    list_model_name: str = "as-sent"
    orig_prompt: str = "as-sent"
    usage_shape: str = "numbers"

    def __post_init__(self) -> None:
        if self.list_refused is not None and self.list_refused not in LIST_REFUSALS:
            raise ValueError(f"list_refused={self.list_refused!r}: one of 404, 403, or None")
        offset = self.list_utc_offset
        if isinstance(offset, bool) or not isinstance(offset, (int, float)) or not -12 <= offset <= 14:
            raise ValueError(f"list_utc_offset={offset!r}: hours from -12 to 14")
        if self.list_future_end not in FUTURE_ENDS:
            raise ValueError(f"list_future_end={self.list_future_end!r}: one of {', '.join(FUTURE_ENDS)}")
        if self.list_model_name not in MODEL_NAMES:
            raise ValueError(f"list_model_name={self.list_model_name!r}: one of {', '.join(MODEL_NAMES)}")
        if self.orig_prompt not in ORIG_PROMPTS:
            raise ValueError(f"orig_prompt={self.orig_prompt!r}: one of {', '.join(ORIG_PROMPTS)}")
        if self.usage_shape not in USAGE_SHAPES:
            raise ValueError(f"usage_shape={self.usage_shape!r}: one of {', '.join(USAGE_SHAPES)}")

    def with_changes(self, **changes: Any) -> Readings:
        """A copy with the named readings changed (unknown names are refused)."""
        names = {item.name for item in fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(f"unknown reading {unknown[0]!r}: one of {', '.join(sorted(names))}")
        return replace(self, **changes)

    @classmethod
    def parse(cls, text: str) -> Readings:
        """``list-refused=403 list-utc-offset=8 orig-prompt=normalised usage-shape=text`` (any subset,
        separated by spaces or commas), as the CLI's and the pytest kit's options write them."""
        changes: dict[str, Any] = {}
        for item in text.replace(",", " ").split():
            name, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"reading {item!r}: write it as name=value, e.g. list-refused=403")
            key = name.strip().replace("-", "_")
            if key == "list_refused":
                changes[key] = None if value.lower() in ("", "none", "no") else int(value)
            elif key == "list_utc_offset":
                changes[key] = float(value)
            else:
                changes[key] = value
        return cls().with_changes(**changes)

    def to_dict(self) -> dict[str, Any]:
        return {item.name: getattr(self, item.name) for item in fields(self)}


@dataclass(frozen=True)
class Settings:
    """How the emulated account behaves; see :mod:`.limits` and :mod:`.tasks`."""

    api_keys: tuple[str, ...]
    task_seconds: float = 2.0
    queue_seconds: float = 0.2
    moderation_marker: str | None = "[[blocked]]"
    ip_marker: str | None = "[[ip-infringement]]"
    limits: bool = True
    queue_limit: int = 500
    region: str = "ap-southeast-1"
    task_api_rate: float | None = VENDOR_TASK_API_RPS  # query+cancel+list a second; None: not limited
    max_running: int | None = None  # tasks running at once per family; None: the model's (5 or 2)
    creates_per_second: int | None = None  # per family; None: the model's (5 or 2)
    readings: Readings = field(default_factory=Readings)  # where the contract is an assumption

    def __post_init__(self) -> None:
        if not self.api_keys or not all(isinstance(k, str) and k for k in self.api_keys):
            raise ValueError("the emulator needs at least one non-empty API key")
        if self.task_seconds < 0 or self.queue_seconds < 0:
            raise ValueError("task_seconds and queue_seconds must be 0 or more")
        if self.task_api_rate is not None:
            check_rate(self.task_api_rate)
        for name in ("max_running", "creates_per_second"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name}={value!r}: a whole number of 1 or more, or None for the model's")

    @property
    def run_seconds(self) -> float:
        return max(self.task_seconds - self.queue_seconds, 0.0)
