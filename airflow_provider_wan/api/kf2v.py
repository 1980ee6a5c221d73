"""First-and-last-frame video ("kf2v"): two keyframes joined into a 5-second silent shot, created on
its own path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from airflow_provider_wan.api.i2v import image_rule
from airflow_provider_wan.api.media import MB, MediaInput
from airflow_provider_wan.api.media_models import KF2V_MODELS, MediaSpec
from airflow_provider_wan.api.media_request import MediaRequest
from airflow_provider_wan.exceptions import WanValidationError

KF2V_PATH = "/services/aigc/image2video/video-synthesis"
KF2V_IMAGE_RULE = image_rule(10 * MB)


@dataclass(frozen=True, kw_only=True)
class KeyframesToVideoRequest(MediaRequest):
    """A first-and-last-frame task; with a ``template`` only the first frame is sent."""

    first_frame_url: str | None = None
    last_frame_url: str | None = None
    template: str | None = None
    resolution: str | None = None
    prompt_extend: bool | None = None

    INPUT_FIELDS: ClassVar[tuple[str, ...]] = (
        "prompt", "negative_prompt", "first_frame_url", "last_frame_url", "template",
    )  # fmt: skip
    PARAMETER_FIELDS: ClassVar[tuple[str, ...]] = (
        "resolution",
        "duration",
        "prompt_extend",
        "watermark",
        "seed",
    )
    MODELS: ClassVar[dict[str, MediaSpec]] = KF2V_MODELS
    CREATE_PATH: ClassVar[str] = KF2V_PATH

    def media_inputs(self) -> list[MediaInput]:
        frames = (("first_frame_url", self.first_frame_url), ("last_frame_url", self.last_frame_url))
        return [MediaInput(name, url, KF2V_IMAGE_RULE) for name, url in frames if url is not None]

    def _check_model_independent(self) -> list[str]:
        if self.first_frame_url is None:
            raise WanValidationError(
                "first_frame_url", None, "the first frame's URL: " + KF2V_IMAGE_RULE.allowed
            )
        if self.template is not None:
            if not isinstance(self.template, str) or not self.template:
                raise WanValidationError("template", self.template, "an effect name such as 'hanfu-1'")
            for name in ("last_frame_url", "prompt"):
                if getattr(self, name) is not None:
                    raise WanValidationError(
                        name, getattr(self, name), "not sent with a template (first frame only)"
                    )
        return []
