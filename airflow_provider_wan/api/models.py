"""Model rules of the Wan text-to-video contract: sizes, durations, sound and limits per family."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from airflow_provider_wan.api.checks import default_duration
from airflow_provider_wan.exceptions import WanValidationError

RESOLUTIONS = ("720P", "1080P")
RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4")

# How a model family makes sound, the one vocabulary of every family's table (its spec's ``sound``):
ALWAYS = "always"  # every video has sound; `audio=False` is refused
OPTIONAL = "optional"  # sound unless `audio=False`, documented to make it silent and billed as silent
DISPUTED = "disputed"  # `audio=False` silent on older vendor pages, not on newer: sent, priced the dearer
SILENT = "silent"  # never sound; `audio=True` (and `audio_url`) refused
SOUND_SWITCHES = (OPTIONAL, DISPUTED)  # the families whose `audio=False` is sent


def makes_sound(sound: str, audio: Any) -> bool:
    """Whether a family whose sound is ``sound`` makes a video with sound, given the ``audio`` switch."""
    return sound == ALWAYS or (sound in SOUND_SWITCHES and audio is not False)


def check_audio(audio: Any, spec: Any, table: Mapping[str, Any]) -> None:
    """Refuse an ``audio`` switch the family cannot honour, naming the models of ``table`` that take it:
    ``audio=False`` on an always-sound model would be sent and billed as sound."""
    if audio is False and spec.sound == ALWAYS:
        takers = sorted({other.family for other in table.values() if other.sound in SOUND_SWITCHES})
        allowed = f"{spec.family} always makes sound; audio=False is taken only by {', '.join(takers)}"
        raise WanValidationError("audio", audio, allowed)
    if audio and spec.sound == SILENT:
        raise WanValidationError("audio", audio, f"{spec.family} makes silent videos only")


@dataclass(frozen=True)
class BilledSound:
    """The sound a successful task is billed for: ``has_audio`` True (sound), False (silent), or None
    where the vendor's pages disagree or are silent about it (then ``doubt`` names the field and why,
    and prices take the dearer reading)."""

    has_audio: bool | None
    doubt: str | None = None


# Pixels of each ``size`` tier (wan2.1-2.6), by ratio.
SIZE_TIERS: dict[str, dict[str, str]] = {
    "480P": {"16:9": "832*480", "9:16": "480*832", "1:1": "624*624"},
    "720P": {
        "16:9": "1280*720",
        "9:16": "720*1280",
        "1:1": "960*960",
        "4:3": "1088*832",
        "3:4": "832*1088",
    },
    "1080P": {
        "16:9": "1920*1080",
        "9:16": "1080*1920",
        "1:1": "1440*1440",
        "4:3": "1632*1248",
        "3:4": "1248*1632",
    },
}

# Pixels wan2.7 produces for ``resolution`` x ``ratio``.
WAN27_PIXELS: dict[str, dict[str, str]] = {
    "720P": {
        "16:9": "1280*720",
        "9:16": "720*1280",
        "1:1": "960*960",
        "4:3": "1104*832",
        "3:4": "832*1104",
    },
    "1080P": {
        "16:9": "1920*1080",
        "9:16": "1080*1920",
        "1:1": "1440*1440",
        "4:3": "1648*1248",
        "3:4": "1248*1648",
    },
}


@dataclass(frozen=True)
class ModelSpec:
    """What one model family accepts and produces."""

    family: str
    tiers: tuple[str, ...]  # size tiers; empty for resolution + ratio models
    default_size: str
    durations: tuple[int, ...]
    prompt_limit: int
    sound: str  # ALWAYS, DISPUTED or SILENT
    fps: int
    shot_type: bool = False
    uses_resolution: bool = False
    max_running: int = 5
    creates_per_second: int = 5

    @property
    def sizes(self) -> tuple[str, ...]:
        return tuple(size for tier in self.tiers for size in SIZE_TIERS[tier].values())

    @property
    def default_duration(self) -> int:
        return default_duration(self.durations)

    @property
    def audio_url_min_seconds(self) -> int:
        return 2 if self.uses_resolution else 3


_SPAN_2_15 = tuple(range(2, 16))

MODELS: dict[str, ModelSpec] = {
    spec.family: spec
    for spec in (
        ModelSpec("wanx2.1-t2v-turbo", ("480P", "720P"), "1280*720", (5,), 800, SILENT, 30,
                  max_running=2, creates_per_second=2),
        ModelSpec("wanx2.1-t2v-plus", ("720P",), "1280*720", (5,), 800, SILENT, 30,
                  max_running=2, creates_per_second=2),
        ModelSpec("wan2.2-t2v-plus", ("480P", "1080P"), "1920*1080", (5,), 800, SILENT, 30,
                  max_running=2, creates_per_second=2),
        ModelSpec("wan2.5-t2v-preview", ("480P", "720P", "1080P"), "1920*1080", (5, 10), 1500, DISPUTED, 24),
        ModelSpec("wan2.6-t2v", ("720P", "1080P"), "1920*1080", _SPAN_2_15, 1500, ALWAYS, 30, shot_type=True),
        ModelSpec("wan2.6-t2v-us", ("720P", "1080P"), "1920*1080", (5, 10), 1500, ALWAYS, 30, shot_type=True),
        ModelSpec("wan2.7-t2v", (), "1920*1080", _SPAN_2_15, 5000, ALWAYS, 30, uses_resolution=True),
    )
}  # fmt: skip

_SNAPSHOT = re.compile(r"^(?P<family>.+?)-\d{4}-\d{2}-\d{2}$")


Spec = TypeVar("Spec")


def resolve_in(name: str, table: Mapping[str, Spec]) -> Spec | None:
    """The family of a model name or dated snapshot in ``table``; None if unknown."""
    if name in table:
        return table[name]
    match = _SNAPSHOT.match(name)
    return table.get(match["family"]) if match else None


def resolve_model(name: str) -> ModelSpec | None:
    """The text-to-video family of a model name or dated snapshot (``wan2.7-t2v-2026-04-25``)."""
    return resolve_in(name, MODELS)


def nearest_model(name: str, known: Mapping[str, object] = MODELS) -> str | None:
    """The known model a mistyped name most likely meant (``wan2.6-t2w`` -> ``wan2.6-t2v``), if any."""
    family = _SNAPSHOT.match(name)
    close = difflib.get_close_matches(family["family"] if family else name, known, n=1, cutoff=0.8)
    return close[0] if close else None


def did_you_mean(name: str, known: Mapping[str, object] = MODELS) -> str:
    """`` (did you mean wan2.6-t2v?)`` for a name close to a known model, else ""."""
    nearest = nearest_model(name, known)
    return f" (did you mean {nearest}?)" if nearest else ""


def unknown_model_warning(name: str, known: Mapping[str, object] = MODELS) -> str:
    """The warning for a model no table knows: it stays usable, with the model-independent checks."""
    guess = did_you_mean(name, known)
    return (
        f"Unknown model {name!r}{guess}: only the model-independent checks were made, and "
        f"the request is sent as it is. Known models: {', '.join(sorted(known))}."
    )


def parse_pixels(size: str) -> tuple[int, int]:
    """``"1280*720"`` as ``(1280, 720)``."""
    width, height = size.split("*")
    return int(width), int(height)
