"""Keep a character across videos with Wan: reference-to-video, wan2.6 (``reference_urls``) and wan2.7
(``media``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from airflow_provider_wan.api import (
    MediaItem,
    ReferenceToVideoMediaRequest,
    ReferenceToVideoRequest,
    WanRequest,
)
from airflow_provider_wan.operators.generation import WanGenerationOperator


class WanReferenceToVideoOperator(WanGenerationOperator):
    """
    Generate one video in which the subjects of reference pictures and clips appear.

    wan2.6-r2v models take ``reference_urls`` (up to 5, at most 3 videos), named ``character1``,
    ``character2``... in the prompt in their order, and ``size``; wan2.7-r2v takes ``media`` entries
    (dicts or :class:`~airflow_provider_wan.api.MediaItem`) of types ``reference_image``,
    ``reference_video`` (named "Image 1", "Video 1"... in the prompt, optionally with a
    ``reference_voice``) and ``first_frame``, and ``resolution``/``ratio``. Billed on the reference
    videos' seconds (capped) plus the output's: the result's ``billed_seconds`` says how many.
    Everything else is :class:`~airflow_provider_wan.operators.generation.WanGenerationOperator`'s.

    :param model: Wan reference-to-video model, e.g. ``wan2.6-r2v-flash`` or ``wan2.7-r2v``.
    :param prompt: What the video shows, naming the references (required).
    :param reference_urls: The references of wan2.6: https, ``oss://`` URLs or ``s3://`` URIs (checked
        in S3 and presigned with ``aws_conn_id``).
    :param media: The inputs of wan2.7, each URL of the same forms.
    :param negative_prompt: The other fields (``size``, ``resolution``, ``ratio``, ``duration``,
        ``shot_type``, ``audio``, ``prompt_extend``, ``watermark``, ``seed``) follow the API too;
        ``None`` leaves them to the service.
    """

    request_types: ClassVar[tuple[type[WanRequest], ...]] = (
        ReferenceToVideoRequest,
        ReferenceToVideoMediaRequest,
    )
    ui_color = "#ffbb8a"

    def __init__(
        self,
        *,
        model: str,
        prompt: str,
        reference_urls: Sequence[str] | None = None,
        media: Sequence[dict[str, Any] | MediaItem] | None = None,
        negative_prompt: str | None = None,
        size: str | None = None,
        resolution: str | None = None,
        ratio: str | None = None,
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
