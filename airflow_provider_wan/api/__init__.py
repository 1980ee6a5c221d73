"""The Wan text-to-video API contract: pure, I/O-free, shared by both hooks and the emulator."""

from __future__ import annotations

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
from airflow_provider_wan.api.errors import (
    WanApiError,
    WanError,
    WanResponseError,
    WanValidationError,
    is_retryable,
    is_transient_task_failure,
)
from airflow_provider_wan.api.models import MODELS, ModelSpec, resolve_model
from airflow_provider_wan.api.pacing import backoff_delay, poll_delay
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

__all__ = [
    "CREATE_PATH",
    "LIST_PATH",
    "MODELS",
    "REGIONS",
    "ModelSpec",
    "OutputSpec",
    "TaskPage",
    "TaskStatus",
    "TaskSummary",
    "Usage",
    "VideoRequest",
    "WanApiError",
    "WanError",
    "WanResponseError",
    "WanTask",
    "WanValidationError",
    "auth_headers",
    "backoff_delay",
    "cancel_path",
    "check_task_id",
    "create_headers",
    "is_retryable",
    "is_transient_task_failure",
    "is_vendor_storage_host",
    "list_params",
    "parse_error",
    "parse_task",
    "parse_task_page",
    "parse_usage",
    "poll_delay",
    "redact_url",
    "resolve_base_url",
    "resolve_model",
    "resolve_region",
    "task_path",
]
