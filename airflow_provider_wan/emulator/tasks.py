"""One emulated task: what it was asked, how it will end, where it is in its life, and its query answer.

A task's state is worked out lazily from the :class:`~.clock.Clock` when someone looks at it (no timers),
so thousands of tasks cost nothing while nobody polls them and ``advance_clock`` takes effect at once: a
task waits ``queue_seconds`` as ``PENDING``, then runs ``task_seconds - queue_seconds`` as ``RUNNING``
(subject to its family's slots, :mod:`.limits`) and ends ``SUCCEEDED``. Requests the service refuses only
after accepting them (parameter mistakes, moderation markers) end ``FAILED`` once their queue time has
passed *(assumed)*. Tasks older than 24 hours are gone (``UNKNOWN``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from airflow_provider_wan.api import OutputSpec, TaskStatus, WanRequest
from airflow_provider_wan.api.responses import format_time
from airflow_provider_wan.emulator.clock import utc
from airflow_provider_wan.emulator.media import VideoKey
from airflow_provider_wan.emulator.settings import Readings
from airflow_provider_wan.emulator.usage import gives_actual_prompt

DAY = 24 * 3600.0
_FULL_WIDTH = str.maketrans(",.!?:;", "\uff0c\u3002\uff01\uff1f\uff1a\uff1b")
_FINAL_STOPS = ".\u3002\uff0e"


def normalised_prompt(prompt: str) -> str:
    """``orig_prompt`` as the ``normalised`` reading shows it, every change at once that the vendor's
    example pairs show (internal whitespace collapsed, ASCII punctuation turned full-width, the final
    stop dropped, a trailing space added)."""
    text = " ".join(prompt.split()).translate(_FULL_WIDTH).rstrip(_FINAL_STOPS)
    return text + " "


PROMPT_EXTENSION = " Cinematic lighting, smooth camera movement, rich detail."  # (assumed) the rewrite


@dataclass(eq=False)
class TaskRecord:
    """One emulated task, with what the tests may want to check about it."""

    task_id: str
    request_id: str
    key_id: str
    model: str
    family: str
    body: dict[str, Any]
    request: WanRequest
    spec: Any  # the model's FamilySpec
    created_at: float
    ready_at: float
    run_seconds: float
    seed: int
    output: OutputSpec | None
    failure: tuple[str, str] | None
    warnings: list[str]
    input_seconds: float = 0.0  # reference video seconds billed on top of the output's
    status: TaskStatus = TaskStatus.PENDING
    started_at: float | None = None
    ended_at: float | None = None
    stamps: dict[float, str] = field(default_factory=dict, repr=False)

    def stamp(self, moment: float) -> str:
        """``moment`` in the service's time format, formatted once (queries are hot)."""
        text = self.stamps.get(moment)
        if text is None:
            text = self.stamps[moment] = format_time(utc(moment))
        return text

    @property
    def video_key(self) -> VideoKey | None:
        if self.output is None:
            return None
        return VideoKey(self.rendered_prompt, self.seed, self.output)

    @property
    def rendered_prompt(self) -> str:
        return (self.request.prompt or "")[: self.spec.prompt_limit]

    def to_dict(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "request_id": self.request_id,
            "api_key_id": self.key_id,
            "model": self.model,
            "family": self.family,
            "status": self.status.value,
            "prompt": self.request.prompt,
            "body": self.body,
            "request": asdict(self.request),  # type: ignore[call-overload]  # every request is a dataclass
            "seed": self.seed,
            "output": asdict(self.output) if self.output else None,
            "code": self.failure[0] if self.failure else None,
            "message": self.failure[1] if self.failure else None,
            "warnings": list(self.warnings),
            "input_seconds": self.input_seconds,
            "created_at": self.created_at,
            "ready_at": self.ready_at,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
        }

    def answer_output(self, video_url: str | None, readings: Readings) -> dict[str, Any]:
        """The ``output`` of a query answer about this task (``video_url`` once it has succeeded), as the
        ``orig_prompt`` and ``usage_shape`` readings shape it."""
        output: dict[str, Any] = {"task_id": self.task_id, "task_status": self.status.value}
        if video_url is not None:
            output["video_url"] = video_url
        output["submit_time"] = self.stamp(self.created_at)
        if self.started_at is not None:
            output["scheduled_time"] = self.stamp(self.started_at)
        if self.ended_at is not None:
            output["end_time"] = self.stamp(self.ended_at)
        if self.request.prompt is not None:
            prompt = self.request.prompt
            normalised = readings.orig_prompt == "normalised"
            output["orig_prompt"] = normalised_prompt(prompt) if normalised else prompt
        if (
            self.status is TaskStatus.SUCCEEDED
            and readings.usage_shape != "text"
            and gives_actual_prompt(self.request, self.spec)
        ):
            output["actual_prompt"] = self.rendered_prompt + PROMPT_EXTENSION
        if self.failure is not None and self.status is TaskStatus.FAILED:
            output["code"], output["message"] = self.failure
        return output
