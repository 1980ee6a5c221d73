"""Join two keyframes into a shot with Wan: first-and-last-frame video (kf2v), on its own endpoint."""

from __future__ import annotations

from typing import Any, ClassVar

from airflow_provider_wan.api import KeyframesToVideoRequest, WanRequest
from airflow_provider_wan.operators.generation import WanGenerationOperator


class WanKeyframesToVideoOperator(WanGenerationOperator):
    """
    Generate one 5-second silent video that moves from ``first_frame_url`` to ``last_frame_url``.

    Models ``wan2.2-kf2v-flash`` and ``wanx2.1-kf2v-plus`` (``wan2.1-kf2v-plus`` in Singapore). With a
    ``template`` (an effect such as ``hanfu-1``) only the first frame is sent, without prompt or last
    frame. Everything else (validation before billing, one billed task per task instance, waiting,
    timeouts, the result) is :class:`~airflow_provider_wan.operators.generation.WanGenerationOperator`'s.

    :param model: Wan keyframes model, e.g. ``wan2.2-kf2v-flash``.
    :param first_frame_url: The first frame, which also sets the aspect ratio: an https, ``oss://``,
        ``data:image/...`` URL or an ``s3://`` URI (checked in S3 and presigned with ``aws_conn_id``).
    :param last_frame_url: The last frame (same forms; optional).
    :param prompt: The motion between the frames (optional). The other fields (``negative_prompt``,
        ``template``, ``resolution``, ``duration``, ``prompt_extend``, ``watermark``, ``seed``) follow
        the API; ``None`` leaves them to the service.
    """

    request_types: ClassVar[tuple[type[WanRequest], ...]] = (KeyframesToVideoRequest,)
    ui_color = "#ffa366"

    def __init__(
        self,
        *,
        model: str,
        first_frame_url: str,
        last_frame_url: str | None = None,
        prompt: str | None = None,
        negative_prompt: str | None = None,
        template: str | None = None,
        resolution: str | None = None,
        duration: int | None = None,
        prompt_extend: bool | None = None,
        watermark: bool | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(model=model, **kwargs)
        self.set_request(locals())
