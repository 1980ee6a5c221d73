"""The create-task request: its fields, its validation against the contract, and its JSON body."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from airflow_provider_wan.api.base import WanRequest
from airflow_provider_wan.api.checks import MAX_NEGATIVE_PROMPT, MAX_SEED, check_duration, require_type
from airflow_provider_wan.api.media import MB, MediaInput, MediaRule
from airflow_provider_wan.api.models import (
    MODELS,
    RATIOS,
    RESOLUTIONS,
    SILENT,
    WAN27_PIXELS,
    ModelSpec,
    check_audio,
    makes_sound,
    parse_pixels,
)
from airflow_provider_wan.exceptions import WanValidationError

__all__ = ["MAX_NEGATIVE_PROMPT", "MAX_SEED", "OutputSpec", "VideoRequest"]

AUDIO_URL_RULE = MediaRule("audio", 15 * MB, seconds=(3, 30))
WAN27_AUDIO_URL_RULE = MediaRule("audio", 15 * MB, seconds=(2, 30))
_SIZE_FORMAT = re.compile(r"^[1-9][0-9]{1,4}\*[1-9][0-9]{1,4}$")

INPUT_FIELDS = ("prompt", "negative_prompt", "audio_url")
PARAMETER_FIELDS = (
    "size",
    "resolution",
    "ratio",
    "duration",
    "shot_type",
    "prompt_extend",
    "watermark",
    "seed",
    "audio",
)


@dataclass(frozen=True)
class OutputSpec:
    """What a successful task produces for a request: pixels, length, frame rate and sound."""

    width: int
    height: int
    duration: int
    fps: int
    has_audio: bool


@dataclass(frozen=True)
class VideoRequest(WanRequest):
    """One text-to-video task as the user asked for it; ``None`` means "leave to the service"."""

    model: str
    prompt: str
    negative_prompt: str | None = None
    audio_url: str | None = None
    audio: bool | None = None
    size: str | None = None
    resolution: str | None = None
    ratio: str | None = None
    duration: int | None = None
    shot_type: str | None = None
    prompt_extend: bool | None = None
    watermark: bool | None = None
    seed: int | None = None

    INPUT_FIELDS: ClassVar[tuple[str, ...]] = INPUT_FIELDS
    PARAMETER_FIELDS: ClassVar[tuple[str, ...]] = PARAMETER_FIELDS
    MODELS: ClassVar[dict[str, ModelSpec]] = MODELS

    @property
    def spec(self) -> ModelSpec | None:
        return super().spec

    def media_inputs(self) -> list[MediaInput]:
        if self.audio_url is None:
            return []
        spec = self.spec
        rule = WAN27_AUDIO_URL_RULE if spec and spec.uses_resolution else AUDIO_URL_RULE
        return [MediaInput("audio_url", self.audio_url, rule)]

    def _check_model_independent(self) -> list[str]:
        if self.size is not None:
            require_type("size", self.size, str, 'a string "WIDTH*HEIGHT" such as "1280*720"')
            if not _SIZE_FORMAT.match(self.size):
                raise WanValidationError(
                    "size", self.size, 'the form "WIDTH*HEIGHT" with a "*", e.g. "1280*720"'
                )
        return []

    def _check_model(self, spec: ModelSpec) -> list[str]:
        family = spec.family
        if spec.uses_resolution:
            if self.size is not None:
                raise WanValidationError(
                    "size", self.size, f"not accepted by {family}; use resolution and ratio instead"
                )
            if self.resolution is not None and self.resolution not in RESOLUTIONS:
                raise WanValidationError("resolution", self.resolution, f"one of {', '.join(RESOLUTIONS)}")
            if self.ratio is not None and self.ratio not in RATIOS:
                raise WanValidationError("ratio", self.ratio, f"one of {', '.join(RATIOS)}")
        else:
            for name in ("resolution", "ratio"):
                if getattr(self, name) is not None:
                    raise WanValidationError(
                        name, getattr(self, name), f"not accepted by {family}; use size instead"
                    )
            if self.size is not None and self.size not in spec.sizes:
                raise WanValidationError("size", self.size, f"one of {', '.join(spec.sizes)} for {family}")
        check_duration(self.duration, spec.durations, family)
        if self.shot_type is not None and not spec.shot_type:
            hint = " (describe the shots in the prompt)" if spec.uses_resolution else ""
            raise WanValidationError("shot_type", self.shot_type, f"only wan2.6 models take it{hint}")
        if self.audio_url is not None and spec.sound == SILENT:
            raise WanValidationError("audio_url", self.audio_url, f"{family} makes silent videos only")
        check_audio(self.audio, spec, MODELS)
        return []

    def _has_audio(self, spec: ModelSpec) -> bool:
        """``audio_url`` wins over ``audio`` (the contract's rule for text-to-video)."""
        return makes_sound(spec.sound, True if self.audio_url is not None else self.audio)

    def output(self) -> OutputSpec:
        """What the service produces for this (valid, known-model) request."""
        spec = self.spec
        if spec is None:
            raise WanValidationError("model", self.model, f"one of {', '.join(sorted(MODELS))}")
        if spec.uses_resolution:
            size = WAN27_PIXELS[self.resolution or "1080P"][self.ratio or "16:9"]
        else:
            size = self.size or spec.default_size
        width, height = parse_pixels(size)
        duration = self.duration or spec.default_duration
        return OutputSpec(width, height, duration, spec.fps, self._has_audio(spec))
