"""The Wan video API contract (text-, image-, keyframes- and reference-to-video): pure, I/O-free,
shared by both hooks and the emulator."""

from __future__ import annotations

from airflow_provider_wan.api.base import FamilySpec, WanRequest
from airflow_provider_wan.api.endpoints import (
    CREATE_PATH,
    LIST_PATH,
    REGIONS,
    auth_headers,
    cancel_path,
    check_task_id,
    create_headers,
    is_vendor_storage_host,
    list_params,
    resolve_base_url,
    resolve_region,
    task_path,
)
from airflow_provider_wan.api.families import REQUEST_TYPES, request_type_for
from airflow_provider_wan.api.i2v import ImageToVideoMediaRequest, ImageToVideoRequest, uses_media_protocol
from airflow_provider_wan.api.kf2v import KF2V_PATH, KeyframesToVideoRequest
from airflow_provider_wan.api.media import OSS_RESOLVE_HEADER, MediaInput, MediaRule, image_size
from airflow_provider_wan.api.media_models import (
    I2V_MEDIA_MODELS,
    I2V_MODELS,
    KF2V_MODELS,
    R2V_MEDIA_MODELS,
    R2V_MODELS,
    MediaSpec,
    pixels_from_input,
)
from airflow_provider_wan.api.media_request import MediaItem
from airflow_provider_wan.api.models import MODELS, ModelSpec, resolve_model
from airflow_provider_wan.api.pacing import backoff_delay, poll_delay
from airflow_provider_wan.api.r2v import ReferenceToVideoMediaRequest, ReferenceToVideoRequest
from airflow_provider_wan.api.request import OutputSpec, VideoRequest
from airflow_provider_wan.api.responses import (
    TaskPage,
    TaskStatus,
    TaskSummary,
    Usage,
    WanTask,
    parse_error,
    parse_task,
    parse_task_page,
    parse_usage,
    redact_url,
)
from airflow_provider_wan.exceptions import (
    WanApiError,
    WanError,
    WanResponseError,
    WanValidationError,
    is_retryable,
    is_transient_task_failure,
)

__all__ = [
    "CREATE_PATH",
    "I2V_MEDIA_MODELS",
    "I2V_MODELS",
    "KF2V_MODELS",
    "KF2V_PATH",
    "LIST_PATH",
    "MODELS",
    "OSS_RESOLVE_HEADER",
    "R2V_MEDIA_MODELS",
    "R2V_MODELS",
    "REGIONS",
    "REQUEST_TYPES",
    "FamilySpec",
    "ImageToVideoMediaRequest",
    "ImageToVideoRequest",
    "KeyframesToVideoRequest",
    "MediaInput",
    "MediaItem",
    "MediaRule",
    "MediaSpec",
    "ModelSpec",
    "OutputSpec",
    "ReferenceToVideoMediaRequest",
    "ReferenceToVideoRequest",
    "TaskPage",
    "TaskStatus",
    "TaskSummary",
    "Usage",
    "VideoRequest",
    "WanApiError",
    "WanError",
    "WanRequest",
    "WanResponseError",
    "WanTask",
    "WanValidationError",
    "auth_headers",
    "backoff_delay",
    "cancel_path",
    "check_task_id",
    "create_headers",
    "image_size",
    "is_retryable",
    "is_transient_task_failure",
    "is_vendor_storage_host",
    "list_params",
    "parse_error",
    "parse_task",
    "parse_task_page",
    "parse_usage",
    "pixels_from_input",
    "poll_delay",
    "redact_url",
    "request_type_for",
    "resolve_base_url",
    "resolve_model",
    "resolve_region",
    "task_path",
    "uses_media_protocol",
]
