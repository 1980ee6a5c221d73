"""Generate a video from text with Wan: submit once, wait (deferred or not), return the result.

Every family's operator is importable from here too (each lives in its own module), and so are the
submission's and the wait's constants, loaded only when asked for: DAG parsing needs neither module."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_wan.api import VideoRequest, WanRequest
from airflow_provider_wan.api.request import AUDIO_URL_RULE
from airflow_provider_wan.operators.generation import WanGenerationOperator, request_fields
from airflow_provider_wan.operators.image_to_video import WanImageToVideoOperator
from airflow_provider_wan.operators.keyframes_to_video import WanKeyframesToVideoOperator
from airflow_provider_wan.operators.reference_to_video import WanReferenceToVideoOperator

if TYPE_CHECKING:
    from airflow_provider_wan.operators.submission import CLAIM_KEY, MAX_CREATES_PER_TRY, STATE_KEY
    from airflow_provider_wan.operators.waiting import TIMEOUT_MARGIN_MAX, TIMEOUT_MARGIN_SHARE
    from airflow_provider_wan.triggers.wan import DEFERRAL_GRACE

__all__ = [
    "CLAIM_KEY",
    "DEFERRAL_GRACE",
    "MAX_AUDIO_BYTES",
    "MAX_CREATES_PER_TRY",
    "REQUEST_FIELDS",
    "STATE_KEY",
    "TIMEOUT_MARGIN_MAX",
    "TIMEOUT_MARGIN_SHARE",
    "WanGenerationOperator",
    "WanImageToVideoOperator",
    "WanKeyframesToVideoOperator",
    "WanReferenceToVideoOperator",
    "WanTextToVideoOperator",
]

#: Request fields of :class:`VideoRequest` besides ``model``; each is an operator argument and template field.
REQUEST_FIELDS = request_fields(VideoRequest)
MAX_AUDIO_BYTES = AUDIO_URL_RULE.max_bytes  # the service refuses larger audio files
_LAZY = {
    **dict.fromkeys(("CLAIM_KEY", "MAX_CREATES_PER_TRY", "STATE_KEY"), "operators.submission"),
    **dict.fromkeys(("TIMEOUT_MARGIN_MAX", "TIMEOUT_MARGIN_SHARE"), "operators.waiting"),
    "DEFERRAL_GRACE": "triggers.wan",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"airflow_provider_wan.{_LAZY[name]}"), name)


class WanTextToVideoOperator(WanGenerationOperator):
    """
    Generate one video with Alibaba's Wan text-to-video service and return its result to XCom.

    Everything but the request fields comes from
    :class:`~airflow_provider_wan.operators.generation.WanGenerationOperator`: validation before
    anything is billed, one billed task per task instance (re-attach and reconcile), deferred or
    in-worker waiting, timeouts that cancel a ``PENDING`` task, and the result.

    :param model: Wan model, e.g. ``wan2.6-t2v`` (required: it decides the price).
    :param prompt: What the video shows. The other request fields (``negative_prompt``,
        ``audio_url``, ``audio``, ``size``, ``resolution``, ``ratio``, ``duration``, ``shot_type``,
        ``prompt_extend``, ``watermark``, ``seed``) follow the API; ``None`` leaves them to the service.
        ``audio_url`` may be an ``s3://bucket/key.mp3`` URI: the service gets a presigned URL for it,
        valid ``audio_url_expires_in`` seconds, made with the ``aws_conn_id`` connection.
    """

    request_types: ClassVar[tuple[type[WanRequest], ...]] = (VideoRequest,)

    def __init__(
        self,
        *,
        model: str,
        prompt: str,
        negative_prompt: str | None = None,
        audio_url: str | None = None,
        audio: bool | None = None,
        size: str | None = None,
        resolution: str | None = None,
        ratio: str | None = None,
        duration: int | None = None,
        shot_type: str | None = None,
        prompt_extend: bool | None = None,
        watermark: bool | None = None,
        seed: int | None = None,
        audio_url_expires_in: int = 3600,
        **kwargs: Any,
    ) -> None:
        super().__init__(model=model, input_url_expires_in=audio_url_expires_in, **kwargs)
        self.set_request(locals())
        self.audio_url_expires_in = audio_url_expires_in
