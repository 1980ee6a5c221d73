"""First-frame image-to-video: the legacy protocol (wan2.1-2.6, ``input.img_url``) and the media
protocol (wan2.7-i2v, ``input.media``); both on the text-to-video create path."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from airflow_provider_wan.api.media import MB, MediaInput, MediaRule
from airflow_provider_wan.api.media_models import I2V_MEDIA_MODELS, I2V_MODELS, MediaSpec
from airflow_provider_wan.api.media_request import MediaListRequest, MediaRequest
from airflow_provider_wan.exceptions import WanValidationError

_MEDIA_VERSION = re.compile(r"^wanx?(?P<major>\d+)\.(?P<minor>\d+)-")


def uses_media_protocol(model: str) -> bool:
    """Whether an image-to-video model takes ``input.media``: wan2.7 and later, and names of no version."""
    match = _MEDIA_VERSION.match(model)
    return match is None or (int(match["major"]), int(match["minor"])) >= (2, 7)


def image_rule(max_bytes: int, *, max_aspect: float | None = None) -> MediaRule:
    return MediaRule("image", max_bytes, sides=(240, 8000), max_aspect=max_aspect, data_url=True)


I2V_AUDIO_RULE = MediaRule("audio", 15 * MB, seconds=(3, 30))


@dataclass(frozen=True, kw_only=True)
class ImageToVideoRequest(MediaRequest):
    """An image-to-video task of the legacy protocol: the first frame in ``img_url``."""

    img_url: str | None = None
    audio_url: str | None = None
    template: str | None = None
    resolution: str | None = None
    shot_type: str | None = None
    audio: bool | None = None
    prompt_extend: bool | None = None

    INPUT_FIELDS: ClassVar[tuple[str, ...]] = (
        "prompt",
        "negative_prompt",
        "img_url",
        "audio_url",
        "template",
    )
    PARAMETER_FIELDS: ClassVar[tuple[str, ...]] = (
        "resolution", "duration", "prompt_extend", "shot_type", "audio", "watermark", "seed",
    )  # fmt: skip
    MODELS: ClassVar[dict[str, MediaSpec]] = I2V_MODELS

    def media_inputs(self) -> list[MediaInput]:
        spec = self.spec
        image = image_rule(spec.image_max_bytes if spec else 20 * MB)
        inputs = [MediaInput("img_url", self.img_url, image)] if self.img_url is not None else []
        if self.audio_url is not None:
            inputs.append(MediaInput("audio_url", self.audio_url, I2V_AUDIO_RULE))
        return inputs

    def _check_model_independent(self) -> list[str]:
        if self.img_url is None:
            raise WanValidationError("img_url", None, "the first frame's URL: " + image_rule(20 * MB).allowed)
        if self.template is not None and not isinstance(self.template, str):
            raise WanValidationError("template", self.template, "an effect name such as 'flying'")
        if self.template and self.prompt:
            return ["prompt is ignored: the service reads only the template when one is set."]
        return []

    def _check_family(self, spec: MediaSpec) -> list[str]:
        if self.audio_url is not None and not spec.takes_audio_url:
            raise WanValidationError("audio_url", self.audio_url, f"{spec.family} makes silent videos only")
        return []


WAN27_IMAGE_RULE = image_rule(20 * MB, max_aspect=8)
WAN27_CLIP_RULE = MediaRule("video", 100 * MB, seconds=(2, 10), sides=(240, 4096), max_aspect=8)

#: The sets of ``media`` types wan2.7-i2v accepts; any other set is an error.
I2V_MEDIA_COMBINATIONS = frozenset(
    frozenset(types)
    for types in (
        {"first_frame"},
        {"first_frame", "driving_audio"},
        {"first_frame", "last_frame"},
        {"first_frame", "last_frame", "driving_audio"},
        {"first_clip"},
        {"first_clip", "last_frame"},
    )
)


@dataclass(frozen=True, kw_only=True)
class ImageToVideoMediaRequest(MediaListRequest):
    """An image-to-video task of the media protocol: first frame, last frame, driving audio, first clip."""

    resolution: str | None = None
    prompt_extend: bool | None = None

    INPUT_FIELDS: ClassVar[tuple[str, ...]] = ("prompt", "negative_prompt", "media")
    PARAMETER_FIELDS: ClassVar[tuple[str, ...]] = (
        "resolution",
        "duration",
        "prompt_extend",
        "watermark",
        "seed",
    )
    MODELS: ClassVar[dict[str, MediaSpec]] = I2V_MEDIA_MODELS
    ITEM_RULES: ClassVar[dict[str, MediaRule]] = {
        "first_frame": WAN27_IMAGE_RULE,
        "last_frame": WAN27_IMAGE_RULE,
        "driving_audio": MediaRule("audio", 15 * MB, seconds=(2, 30)),
        "first_clip": WAN27_CLIP_RULE,
    }

    def _check_media(self, spec: MediaSpec) -> list[str]:
        types = self.types
        if len(set(types)) != len(types) or frozenset(types) not in I2V_MEDIA_COMBINATIONS:
            allowed = "; ".join(" + ".join(sorted(c)) for c in sorted(I2V_MEDIA_COMBINATIONS, key=sorted))
            raise WanValidationError("media", types, f"each type at most once, in one of: {allowed}")
        return []
