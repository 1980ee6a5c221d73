"""Small checks every request type shares; each raises :class:`WanValidationError` naming the parameter."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from airflow_provider_wan.exceptions import WanValidationError

MAX_NEGATIVE_PROMPT = 500
MAX_SEED = 2_147_483_647
DEFAULT_DURATION = 5  # (assumed) when a multi-duration model is given none


def require_text(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise WanValidationError(name, value, "a non-empty string")


def require_type(name: str, value: Any, kind: type, allowed: str) -> None:
    if not isinstance(value, kind):
        raise WanValidationError(name, value, allowed)


def require_int(name: str, value: Any, allowed: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise WanValidationError(name, value, allowed)


def require_choice(name: str, value: Any, choices: Collection[str], family: str | None = None) -> None:
    if value is not None and value not in choices:
        suffix = f" for {family}" if family else ""
        raise WanValidationError(name, value, f"one of {', '.join(choices)}{suffix}")


def check_common(request: Any) -> None:
    """The model-independent rules of the fields most families share (absent fields are skipped)."""
    negative = getattr(request, "negative_prompt", None)
    if negative is not None:
        require_type("negative_prompt", negative, str, "a string")
        if len(negative) > MAX_NEGATIVE_PROMPT:
            raise WanValidationError(
                "negative_prompt", negative, f"at most {MAX_NEGATIVE_PROMPT} characters (got {len(negative)})"
            )
    for name in ("audio", "prompt_extend", "watermark"):
        value = getattr(request, name, None)
        if value is not None:
            require_type(name, value, bool, "true or false")
    seed = getattr(request, "seed", None)
    if seed is not None:
        require_int("seed", seed, f"an integer from 0 to {MAX_SEED}")
        if not 0 <= seed <= MAX_SEED:
            raise WanValidationError("seed", seed, f"an integer from 0 to {MAX_SEED}")
    duration = getattr(request, "duration", None)
    if duration is not None:
        require_int("duration", duration, "a whole number of seconds")
        if duration < 1:
            raise WanValidationError("duration", duration, "a positive whole number of seconds")
    shot_type = getattr(request, "shot_type", None)
    if shot_type is not None and shot_type not in ("single", "multi"):
        raise WanValidationError("shot_type", shot_type, '"single" or "multi"')
    if shot_type == "multi" and getattr(request, "prompt_extend", None) is False:
        raise WanValidationError("shot_type", shot_type, '"multi" needs prompt_extend=True')


def default_duration(durations: tuple[int, ...]) -> int:
    return DEFAULT_DURATION if DEFAULT_DURATION in durations else durations[0]


def describe_durations(durations: tuple[int, ...]) -> str:
    if len(durations) > 2 and durations == tuple(range(durations[0], durations[-1] + 1)):
        return f"a whole number of seconds from {durations[0]} to {durations[-1]}"
    return " or ".join(str(d) for d in durations) + " seconds"


def check_duration(duration: int | None, durations: tuple[int, ...], family: str) -> None:
    if duration is not None and duration not in durations:
        raise WanValidationError("duration", duration, f"{describe_durations(durations)} for {family}")
