"""Which request type speaks for a model: the one whose model table knows it."""

from __future__ import annotations

from airflow_provider_wan.api.base import WanRequest
from airflow_provider_wan.api.i2v import ImageToVideoMediaRequest, ImageToVideoRequest
from airflow_provider_wan.api.kf2v import KeyframesToVideoRequest
from airflow_provider_wan.api.models import resolve_in
from airflow_provider_wan.api.r2v import ReferenceToVideoMediaRequest, ReferenceToVideoRequest
from airflow_provider_wan.api.request import VideoRequest

REQUEST_TYPES: tuple[type[WanRequest], ...] = (
    VideoRequest,
    ImageToVideoRequest,
    ImageToVideoMediaRequest,
    KeyframesToVideoRequest,
    ReferenceToVideoRequest,
    ReferenceToVideoMediaRequest,
)


def request_type_for(model: str) -> type[WanRequest] | None:
    """The request type whose table knows ``model`` or its dated snapshot; None for an unknown model
    (the emulator's "Model not exist."; a caller that knows the family uses its type directly)."""
    return next((cls for cls in REQUEST_TYPES if resolve_in(model, cls.MODELS) is not None), None)
