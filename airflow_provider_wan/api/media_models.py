"""Model rules of the media families (image-to-video, keyframes, reference-to-video), and the output
size when the picture's shape comes from an input image."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

from airflow_provider_wan.api.checks import default_duration
from airflow_provider_wan.api.media import MB
from airflow_provider_wan.api.models import ALWAYS, OPTIONAL, SILENT, SIZE_TIERS

BEIJING_SINGAPORE = ("cn-beijing", "ap-southeast-1")
BEIJING = ("cn-beijing",)
EVERYWHERE = ("cn-beijing", "ap-southeast-1", "us-east-1", "eu-central-1")
_2_TO_15 = tuple(range(2, 16))


@dataclass(frozen=True)
class MediaSpec:
    """What one media model family accepts and produces."""

    family: str
    resolutions: tuple[str, ...]  # `resolution` tiers; empty when the family takes `size`
    default_resolution: str | None
    durations: tuple[int, ...]
    prompt_limit: int
    sound: str  # ALWAYS, OPTIONAL or SILENT (api.models' vocabulary)
    image_max_bytes: int = 20 * MB
    takes_audio_url: bool = False
    shot_type: bool = False
    sizes: tuple[str, ...] = ()  # `size` choices (wan2.6 reference-to-video)
    default_size: str | None = None
    fps: int = 30
    max_running: int = 5
    creates_per_second: int = 5
    regions: tuple[str, ...] = BEIJING_SINGAPORE  # region ids that offer the model (V-RL)

    @property
    def default_duration(self) -> int:
        return default_duration(self.durations)


def _table(specs: Iterable[MediaSpec]) -> dict[str, MediaSpec]:
    """Specs by name; each Beijing ``wanx2.1-`` family also under its Singapore spelling ``wan2.1-``."""
    table: dict[str, MediaSpec] = {}
    for spec in specs:
        table[spec.family] = spec
        if spec.family.startswith("wanx2.1-"):
            table.setdefault(spec.family.replace("wanx2.1-", "wan2.1-", 1), spec)
    return table


def _slow(spec: MediaSpec) -> MediaSpec:
    return replace(spec, max_running=2, creates_per_second=2)


# First-frame image-to-video, legacy protocol (`input.img_url`).
I2V_MODELS = _table([
    MediaSpec("wan2.6-i2v-flash", ("720P", "1080P"), "1080P", _2_TO_15, 1500, OPTIONAL,
              takes_audio_url=True, shot_type=True),
    MediaSpec("wan2.6-i2v", ("720P", "1080P"), "1080P", _2_TO_15, 1500, ALWAYS,
              takes_audio_url=True, shot_type=True, regions=EVERYWHERE),
    MediaSpec("wan2.6-i2v-us", ("720P", "1080P"), "1080P", (5, 10, 15), 1500, ALWAYS,
              takes_audio_url=True, shot_type=True, regions=("us-east-1",)),
    MediaSpec("wan2.5-i2v-preview", ("480P", "720P", "1080P"), "1080P", (5, 10), 1500, ALWAYS,
              takes_audio_url=True),
    _slow(MediaSpec("wan2.2-i2v-flash", ("480P", "720P", "1080P"), "720P", (5,), 800, SILENT, 10 * MB,
                    regions=BEIJING)),
    _slow(MediaSpec("wan2.2-i2v-plus", ("480P", "1080P"), "1080P", (5,), 800, SILENT, 10 * MB)),
    _slow(MediaSpec("wanx2.1-i2v-plus", ("720P",), "720P", (5,), 800, SILENT, 10 * MB)),
    _slow(MediaSpec("wanx2.1-i2v-turbo", ("480P", "720P"), "720P", (3, 4, 5), 800, SILENT, 10 * MB)),
])  # fmt: skip

# First-frame image-to-video, media protocol (`input.media`).
I2V_MEDIA_MODELS = _table([MediaSpec("wan2.7-i2v", ("720P", "1080P"), "1080P", _2_TO_15, 5000, ALWAYS)])

# First-and-last-frame, on its own path.
_KF21 = _slow(MediaSpec("wanx2.1-kf2v-plus", ("720P",), "720P", (5,), 800, SILENT, 10 * MB))
KF2V_MODELS = {
    **_table([_slow(MediaSpec("wan2.2-kf2v-flash", ("480P", "720P", "1080P"), "720P", (5,), 800, SILENT,
                              10 * MB, regions=BEIJING)), _KF21]),
    "wan2.1-kf2v-plus": replace(_KF21, creates_per_second=1),  # the Singapore spelling: 1 a second there
}  # fmt: skip

# Reference-to-video, wan2.6 (`input.reference_urls`, `parameters.size`).
_R26_SIZES = tuple(size for tier in ("720P", "1080P") for size in SIZE_TIERS[tier].values())
R2V_MODELS = _table([
    MediaSpec("wan2.6-r2v", (), None, tuple(range(2, 11)), 1500, ALWAYS, shot_type=True,
              sizes=_R26_SIZES, default_size="1920*1080", regions=EVERYWHERE),
    MediaSpec("wan2.6-r2v-flash", (), None, tuple(range(2, 11)), 1500, OPTIONAL, shot_type=True,
              sizes=_R26_SIZES, default_size="1920*1080"),
])  # fmt: skip

# Reference-to-video, wan2.7 (`input.media`, `resolution` + `ratio`).
R2V_MEDIA_MODELS = _table([MediaSpec("wan2.7-r2v", ("720P", "1080P"), "1080P", _2_TO_15, 5000, ALWAYS)])

# Total pixels each tier aims at when the shape comes from an input picture.
TIER_AREAS = {"480P": 832 * 480, "720P": 1280 * 720, "1080P": 1920 * 1080}


def pixels_from_input(resolution: str, size: tuple[int, int] | None) -> tuple[int, int]:
    """Output pixels when ``resolution`` sets the area and the input picture the aspect (assumed rule:
    ``W = floor16(sqrt(A*w/h))``, ``H = floor16(sqrt(A*h/w))``; 750x1000 at 720P gives 816x1104).
    Without the input's size, the tier's 16:9 size (the contract's fallback)."""
    if size is None or min(size) <= 0:
        width, height = SIZE_TIERS[resolution]["16:9"].split("*")
        return int(width), int(height)
    area, (w, h) = TIER_AREAS[resolution], size
    return _floor16(math.isqrt(area * w // h)), _floor16(math.isqrt(area * h // w))


def _floor16(value: int) -> int:
    return max(16, value - value % 16)
