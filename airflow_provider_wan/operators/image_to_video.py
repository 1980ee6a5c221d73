"""Animate a picture with Wan: first-frame image-to-video, legacy (``img_url``) and wan2.7 (``media``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from airflow_provider_wan.api import ImageToVideoMediaRequest, ImageToVideoRequest, MediaItem, WanRequest
from airflow_provider_wan.operators.generation import WanGenerationOperator


class WanImageToVideoOperator(WanGenerationOperator):
    """
    Generate one video from a first frame (and, on wan2.7, a last frame, driving audio or a first clip).

    wan2.1 to wan2.6 models (``wan2.6-i2v-flash``, ``wan2.2-i2v-plus``...) take the picture in
    ``img_url``; wan2.7-i2v takes ``media``, a list of ``{"type", "url"}`` entries (dicts or
    :class:`~airflow_provider_wan.api.MediaItem`) of types ``first_frame``, ``last_frame``,
    ``driving_audio`` and ``first_clip`` in the combinations the service allows. A model name the
    provider does not know is sent with the protocol its inputs use. Everything else (validation
    before billing, one billed task per task instance, waiting, timeouts, the result) is
    :class:`~airflow_provider_wan.operators.generation.WanGenerationOperator`'s.

    :param model: Wan image-to-video model, e.g. ``wan2.6-i2v-flash`` or ``wan2.7-i2v``.
    :param img_url: The first frame (legacy models): an https, ``oss://``, ``data:image/...`` URL or
        an ``s3://`` URI (checked in S3 and presigned with ``aws_conn_id``).
    :param media: The inputs of wan2.7-i2v, each URL of the same forms as ``img_url``.
    :param prompt: What happens in the video (optional). The other fields (``negative_prompt``,
        ``audio_url``, ``template``, ``resolution``, ``duration``, ``shot_type``, ``audio``,
        ``prompt_extend``, ``watermark``, ``seed``) follow the API; ``None`` leaves them to the service.
    """

    request_types: ClassVar[tuple[type[WanRequest], ...]] = (ImageToVideoRequest, ImageToVideoMediaRequest)
    ui_color = "#ff8a33"

    def __init__(
        self,
        *,
        model: str,
        img_url: str | None = None,
        media: Sequence[dict[str, Any] | MediaItem] | None = None,
        prompt: str | None = None,
        negative_prompt: str | None = None,
        audio_url: str | None = None,
        template: str | None = None,
        resolution: str | None = None,
        duration: int | None = None,
        shot_type: str | None = None,
        audio: bool | None = None,
        prompt_extend: bool | None = None,
        watermark: bool | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(model=model, **kwargs)
        self.set_request(locals())
