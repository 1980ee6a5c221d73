"""Reference-to-video: subjects from reference pictures and clips kept in a new video. wan2.6 takes
``input.reference_urls`` named ``character1``... in the prompt; wan2.7 takes ``input.media`` entries
named "Image 1"/"Video 1". Billed on the reference videos' seconds (capped) plus the output's."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from airflow_provider_wan.api.checks import require_choice
from airflow_provider_wan.api.i2v import image_rule
from airflow_provider_wan.api.media import MB, SUFFIXES, MediaInput, MediaRule
from airflow_provider_wan.api.media_models import R2V_MEDIA_MODELS, R2V_MODELS, MediaSpec, pixels_from_input
from airflow_provider_wan.api.media_request import MediaListRequest, MediaRequest
from airflow_provider_wan.api.models import RATIOS, WAN27_PIXELS, parse_pixels
from airflow_provider_wan.api.request import OutputSpec
from airflow_provider_wan.exceptions import WanValidationError

MAX_REFERENCES = 5
#: Seconds each reference video may bill, by how many share the 5-second input budget (V-RG's table).
INPUT_SECONDS_CAP = {1: 5.0, 2: 2.5, 3: 1.65, 4: 1.25, 5: 1.0}
R26_IMAGE_RULE = MediaRule("image", 20 * MB, sides=(240, 8000))
R26_VIDEO_RULE = MediaRule("video", 100 * MB, seconds=(1, 30))
_CHARACTER = re.compile(r"character(\d+)")
_WAN27_NAME = {
    "reference_image": re.compile(r"(?:Image |图)(\d+)"),
    "reference_video": re.compile(r"(?:Video |视频)(\d+)"),
}


def _reference_rule(url: Any) -> MediaRule:
    """A picture's rule for a picture's suffix, else a clip's: without a known suffix the larger limits
    apply, so nothing valid is refused."""
    last = urlsplit(str(url)).path.rsplit("/", 1)[-1].lower()
    return R26_IMAGE_RULE if last.endswith(SUFFIXES["image"]) else R26_VIDEO_RULE


def _clips(urls: tuple[str, ...]) -> list[str]:
    """The references that name a clip by their suffix (an unknown suffix is not counted as one)."""
    return [url for url in urls if urlsplit(str(url)).path.lower().endswith(SUFFIXES["video"])]


def capped_input_seconds(video_seconds: list[float | None], sharing: int) -> float:
    """Input seconds billed for reference videos: each ``min(actual, cap)``, an unknown length at the cap."""
    if not video_seconds:
        return 0.0
    cap = INPUT_SECONDS_CAP.get(sharing, 5.0 / sharing)
    return sum(cap if seconds is None else min(seconds, cap) for seconds in video_seconds)


def _named_beyond(prompt: str | None, pattern: re.Pattern[str], count: int) -> int | None:
    """The first reference number the prompt names that is past ``count``, if any."""
    return next((int(n) for n in pattern.findall(prompt or "") if not 1 <= int(n) <= count), None)


@dataclass(frozen=True, kw_only=True)
class ReferenceToVideoRequest(MediaRequest):
    """A wan2.6 reference-to-video task: up to 5 references (at most 3 videos), ``size`` in pixels."""

    reference_urls: tuple[str, ...] = ()
    size: str | None = None
    shot_type: str | None = None
    audio: bool | None = None

    PROMPT_REQUIRED: ClassVar[bool] = True
    INPUT_FIELDS: ClassVar[tuple[str, ...]] = ("prompt", "negative_prompt", "reference_urls")
    PARAMETER_FIELDS: ClassVar[tuple[str, ...]] = (
        "size",
        "duration",
        "shot_type",
        "audio",
        "watermark",
        "seed",
    )
    MODELS: ClassVar[dict[str, MediaSpec]] = R2V_MODELS

    @classmethod
    def _decode_inputs(cls, inputs: dict[str, Any]) -> dict[str, Any]:
        urls = inputs.get("reference_urls")
        return {"reference_urls": tuple(urls)} if isinstance(urls, list) else {}

    def media_inputs(self) -> list[MediaInput]:
        if not isinstance(self.reference_urls, tuple):
            return []  # not a list of URLs: refused naming `reference_urls` by the model-independent check
        return [
            MediaInput(f"reference_urls[{at}]", url, _reference_rule(url))
            for at, url in enumerate(self.reference_urls)
        ]

    def _check_model_independent(self) -> list[str]:
        urls = self.reference_urls
        if not isinstance(urls, tuple) or not 1 <= len(urls) <= MAX_REFERENCES:
            raise WanValidationError("reference_urls", urls, f"1 to {MAX_REFERENCES} image or video URLs")
        if len(_clips(urls)) > 3:
            raise WanValidationError(
                "reference_urls", urls, "at most 3 videos (.mp4, .mov) among the references"
            )
        beyond = _named_beyond(self.prompt, _CHARACTER, len(urls))
        if beyond is not None:
            raise WanValidationError(
                "prompt",
                self.prompt,
                f"characters named character1 to character{len(urls)} (one per reference), "
                f"not character{beyond}",
            )
        if not _CHARACTER.search(self.prompt or ""):
            return ["prompt names no reference: refer to them as character1, character2, ... in order."]
        return []

    def _check_family(self, spec: MediaSpec) -> list[str]:
        require_choice("size", self.size, spec.sizes, spec.family)
        return []

    def input_seconds(self, video_seconds: list[float | None] | None = None) -> float:
        """Input seconds this request bills (before it runs): the cap is shared by every reference."""
        clips = _clips(self.reference_urls)
        return capped_input_seconds(video_seconds or [None] * len(clips), len(self.reference_urls))

    def output(self, image_size: tuple[int, int] | None = None) -> OutputSpec:
        """Exactly ``size`` (default 1920*1080), whatever the references look like."""
        return self._output(parse_pixels(self.size or str(self._known_spec().default_size)))


REFERENCE_VOICE_RULE = MediaRule("audio", 15 * MB, seconds=(1, 10))
R27_IMAGE_RULE = image_rule(20 * MB, max_aspect=8)


@dataclass(frozen=True, kw_only=True)
class ReferenceToVideoMediaRequest(MediaListRequest):
    """A wan2.7 reference-to-video task: up to 5 reference images and videos, an optional first frame."""

    resolution: str | None = None
    ratio: str | None = None
    prompt_extend: bool | None = None

    PROMPT_REQUIRED: ClassVar[bool] = True
    INPUT_FIELDS: ClassVar[tuple[str, ...]] = ("prompt", "negative_prompt", "media")
    PARAMETER_FIELDS: ClassVar[tuple[str, ...]] = (
        "resolution", "ratio", "duration", "prompt_extend", "watermark", "seed",
    )  # fmt: skip
    MODELS: ClassVar[dict[str, MediaSpec]] = R2V_MEDIA_MODELS
    ITEM_RULES: ClassVar[dict[str, MediaRule]] = {
        "reference_image": R27_IMAGE_RULE,
        "reference_video": MediaRule("video", 100 * MB, seconds=(1, 30), sides=(240, 4096), max_aspect=8),
        "first_frame": R27_IMAGE_RULE,
    }
    VOICE_RULE: ClassVar[MediaRule | None] = REFERENCE_VOICE_RULE
    VOICE_TYPES: ClassVar[frozenset[str]] = frozenset({"reference_image", "reference_video"})

    def _check_media(self, spec: MediaSpec) -> list[str]:
        references = [t for t in self.types if t in self.VOICE_TYPES]
        if not 1 <= len(references) <= MAX_REFERENCES or self.types.count("first_frame") > 1:
            raise WanValidationError(
                "media",
                self.types,
                f"1 to {MAX_REFERENCES} reference_image/reference_video entries and at most one first_frame",
            )
        for kind, pattern in _WAN27_NAME.items():
            count = len(self.items_of(kind))
            beyond = _named_beyond(self.prompt, pattern, count)
            if beyond is not None:
                raise WanValidationError(
                    "prompt", self.prompt, f"{kind} entries numbered 1 to {count}, not {beyond}"
                )
        if self.items_of("reference_video") and self.duration is not None and self.duration > 10:
            raise WanValidationError(
                "duration", self.duration, f"2 to 10 seconds with a reference_video for {spec.family}"
            )
        require_choice("ratio", self.ratio, RATIOS, spec.family)
        if self.ratio is not None and self.items_of("first_frame"):
            return ["ratio is ignored: with a first_frame the aspect follows that picture."]
        return []

    def input_seconds(self, video_seconds: list[float | None] | None = None) -> float:
        """Input seconds this request bills (before it runs): the cap is shared by the reference videos."""
        videos = len(self.items_of("reference_video"))
        return capped_input_seconds(video_seconds or [None] * videos, videos)

    def output(self, image_size: tuple[int, int] | None = None) -> OutputSpec:
        """The wan2.7 pixels of ``resolution`` x ``ratio``; with a first frame, its shape."""
        resolution = self.resolution or str(self._known_spec().default_resolution)
        if self.items_of("first_frame"):
            return self._output(pixels_from_input(resolution, image_size))
        return self._output(parse_pixels(WAN27_PIXELS[resolution][self.ratio or "16:9"]))
