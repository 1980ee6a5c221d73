"""The parts of a query answer whose shape depends on the model family: a succeeded task's ``usage``
(the contract's per-model tables) and whether ``actual_prompt`` comes back.

Numbers are sent as the vendor's examples show them: ``SR`` as a number, reference-to-video's
``duration`` as a float; a capped input length that is whole goes out as an integer (``5``, not ``5.0``).
"""

from __future__ import annotations

import re
from typing import Any

from airflow_provider_wan.api import (
    ImageToVideoMediaRequest,
    ImageToVideoRequest,
    KeyframesToVideoRequest,
    OutputSpec,
    ReferenceToVideoMediaRequest,
    ReferenceToVideoRequest,
    VideoRequest,
    WanRequest,
)
from airflow_provider_wan.api.media_models import OPTIONAL
from airflow_provider_wan.api.models import SIZE_TIERS

_GENERATION = re.compile(r"^wanx?(\d+)\.(\d+)-")


def usage_of(request: WanRequest, spec: Any, out: OutputSpec, input_seconds: float) -> dict[str, Any]:
    """The ``usage`` object of a succeeded task of ``request`` that produced ``out``."""
    family = spec.family
    if isinstance(request, VideoRequest):
        return _text_to_video(family, request, out)
    tier = _tier(getattr(request, "resolution", None) or spec.default_resolution or "")
    if isinstance(request, ReferenceToVideoRequest):
        size = f"{out.width}*{out.height}"
        return {**_billed(out, input_seconds, as_float=True), "size": size, "SR": _size_tier(size)}
    if isinstance(request, ReferenceToVideoMediaRequest):
        return {**_billed(out, input_seconds), "SR": tier, "ratio": request.ratio or "16:9"}
    if isinstance(request, ImageToVideoMediaRequest):
        return {**_billed(out, 0.0), "SR": tier}  # (assumed) a first clip counts as output, not input
    generation = _generation(family)
    if isinstance(request, KeyframesToVideoRequest):
        extra = {"video_ratio": "standard"} if generation < (2, 2) else {"SR": tier}
        return {"video_duration": out.duration, "video_count": 1, **extra}
    assert isinstance(request, ImageToVideoRequest)
    if generation < (2, 2):
        return {"video_duration": out.duration, "video_ratio": "standard", "video_count": 1}
    if generation < (2, 6):
        return {"duration": out.duration, "SR": tier, "video_count": 1}
    sound = {"audio": out.has_audio} if spec.sound == OPTIONAL else {}
    return {**_billed(out, 0.0), "SR": tier, **sound}


def usage_as_text(usage: dict[str, Any]) -> dict[str, Any]:
    """``usage`` as the SDK samples show it (the ``usage_shape="text"`` reading): ``SR`` as a string,
    ``duration`` as a float."""
    shaped = dict(usage)
    if "SR" in shaped:
        shaped["SR"] = str(shaped["SR"])
    if isinstance(shaped.get("duration"), (int, float)):
        shaped["duration"] = float(shaped["duration"])
    return shaped


def gives_actual_prompt(request: WanRequest, spec: Any) -> bool:
    """Whether a succeeded task's answer has ``actual_prompt``: when the prompt was extended, on the
    families whose answers list it (text-to-video, keyframes, first-frame i2v before wan2.6)."""
    if not request.prompt or getattr(request, "prompt_extend", None) is False:
        return False
    if isinstance(request, ImageToVideoRequest):
        return _generation(spec.family) < (2, 6)
    return isinstance(request, (VideoRequest, KeyframesToVideoRequest))


def _billed(out: OutputSpec, input_seconds: float, *, as_float: bool = False) -> dict[str, Any]:
    total = input_seconds + out.duration
    return {
        "duration": float(total) if as_float else _number(total),
        "input_video_duration": _number(input_seconds),
        "output_video_duration": out.duration,
        "video_count": 1,
    }


def _text_to_video(family: str, request: VideoRequest, out: OutputSpec) -> dict[str, Any]:
    size = f"{out.width}*{out.height}"
    if family.startswith("wan2.7"):
        return {
            "video_count": 1,
            "duration": out.duration,
            "input_video_duration": 0,
            "output_video_duration": out.duration,
            "SR": _tier(request.resolution or "1080P"),
            "ratio": request.ratio or "16:9",
        }  # (assumed) the contract names only "ratio" for wan2.7
    if family.startswith("wan2.6"):
        return {
            "video_count": 1,
            "video_duration": 0,
            "video_ratio": "",
            "duration": out.duration,
            "size": size,
            "input_video_duration": 0,
            "output_video_duration": out.duration,
            "SR": _size_tier(size),
        }
    return {"video_count": 1, "video_duration": out.duration, "video_ratio": size}


def _generation(family: str) -> tuple[int, int]:
    match = _GENERATION.match(family)
    return (int(match[1]), int(match[2])) if match else (99, 0)


def _tier(resolution: str) -> int:
    return int(resolution[:-1]) if resolution[:-1].isdigit() else 0


def _size_tier(size: str) -> int:
    for tier, sizes in SIZE_TIERS.items():
        if size in sizes.values():
            return _tier(tier)
    return 0


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 2)
