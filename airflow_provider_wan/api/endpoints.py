"""Where the service lives (regions, workspaces, explicit base URLs) and how each call is addressed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from airflow_provider_wan.api.media import OSS_RESOLVE_HEADER
from airflow_provider_wan.api.responses import TaskStatus
from airflow_provider_wan.exceptions import WanValidationError

DEFAULT_REGION = "ap-southeast-1"
CREATE_PATH = "/services/aigc/video-generation/video-synthesis"
LIST_PATH = "/tasks/"
LIST_TIME_FORMAT = "%Y%m%d%H%M%S"
MAX_LIST_WINDOW = timedelta(hours=24)

_WORKSPACE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_TASK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class Region:
    id: str
    name: str
    shared_host: str | None


REGIONS: dict[str, Region] = {
    region.id: region
    for region in (
        Region("cn-beijing", "Beijing", "dashscope.aliyuncs.com"),
        Region("ap-southeast-1", "Singapore", "dashscope-intl.aliyuncs.com"),
        Region("us-east-1", "Virginia", "dashscope-us.aliyuncs.com"),
        Region("eu-central-1", "Frankfurt", None),
        Region("cn-hongkong", "Hong Kong", "cn-hongkong.dashscope.aliyuncs.com"),
        Region("ap-northeast-1", "Tokyo", None),
    )
}


def _fold(name: str) -> str:
    return re.sub(r"[\s_-]", "", name.lower())


_BY_NAME = {_fold(r.name): r for r in REGIONS.values()}


def resolve_region(region: str | None) -> Region:
    """A region by id (``ap-southeast-1``) or friendly name (``Singapore``, ``hong kong``)."""
    if not region:
        return REGIONS[DEFAULT_REGION]
    found = REGIONS.get(region.strip().lower()) or _BY_NAME.get(_fold(region))
    if found is None:
        allowed = ", ".join(f"{r.id} ({r.name})" for r in REGIONS.values())
        raise WanValidationError("region", region, f"one of {allowed}")
    return found


def resolve_base_url(
    region: str | None = None, workspace_id: str | None = None, base_url: str | None = None
) -> str:
    """The ``https://HOST/api/v1`` base; an explicit ``base_url`` wins over region and workspace."""
    if base_url:
        return normalise_base_url(base_url)
    found = resolve_region(region)
    if workspace_id:
        if not _WORKSPACE_ID.match(workspace_id):
            raise WanValidationError(
                "workspace_id", workspace_id, "letters, digits, '_' and '-', 1 to 64, starting alphanumeric"
            )
        return f"https://{workspace_id}.{found.id}.maas.aliyuncs.com/api/v1"
    if found.shared_host is None:
        raise WanValidationError(
            "region", region, f"{found.name} ({found.id}) has no shared host: set a workspace_id"
        )
    return f"https://{found.shared_host}/api/v1"


def normalise_base_url(base_url: str) -> str:
    """Check an explicit base URL; a bare ``http://host:port`` gets ``/api/v1``."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WanValidationError("base_url", base_url, "an http(s) URL such as https://HOST/api/v1")
    path = parts.path.rstrip("/") or "/api/v1"
    return f"{parts.scheme}://{parts.netloc}{path}"


def check_task_id(task_id: Any) -> str:
    """A task id safe to put in a URL path."""
    if not isinstance(task_id, str) or not _TASK_ID.match(task_id):
        raise WanValidationError("task_id", task_id, "a Wan task id (letters, digits, '-', up to 128)")
    return task_id


def task_path(task_id: str) -> str:
    return f"/tasks/{quote(check_task_id(task_id))}"


def cancel_path(task_id: str) -> str:
    return f"{task_path(task_id)}/cancel"


def auth_headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


def create_headers(api_key: str, *, resolve_oss: bool = False) -> dict[str, str]:
    """Headers of a create call; ``resolve_oss`` when an input is an ``oss://`` URL (see
    :attr:`~airflow_provider_wan.api.base.WanRequest.needs_oss_resolve`)."""
    headers = {**auth_headers(api_key), "Content-Type": "application/json", "X-DashScope-Async": "enable"}
    return {**headers, OSS_RESOLVE_HEADER: "enable"} if resolve_oss else headers


def list_params(
    *,
    start_time: datetime | None = None,
    end_time: datetime | None = None,
    model_name: str | None = None,
    status: TaskStatus | str | None = None,
    task_id: str | None = None,
    page_no: int = 1,
    page_size: int = 10,
) -> dict[str, str]:
    """Query parameters of the list call; the window may span at most 24 hours."""
    if start_time and end_time and not timedelta(0) <= end_time - start_time <= MAX_LIST_WINDOW:
        raise WanValidationError("end_time", end_time, "after start_time and at most 24 hours later")
    if page_no < 1:
        raise WanValidationError("page_no", page_no, "1 or more")
    if not 1 <= page_size <= 100:
        raise WanValidationError("page_size", page_size, "from 1 to 100")
    params: dict[str, str] = {"page_no": str(page_no), "page_size": str(page_size)}
    if start_time:
        params["start_time"] = start_time.strftime(LIST_TIME_FORMAT)
    if end_time:
        params["end_time"] = end_time.strftime(LIST_TIME_FORMAT)
    if model_name:
        params["model_name"] = model_name
    if status:
        if status not in set(TaskStatus):
            raise WanValidationError("status", status, f"one of {', '.join(s.value for s in TaskStatus)}")
        params["status"] = TaskStatus(status).value
    if task_id:
        params["task_id"] = check_task_id(task_id)
    return params


def is_vendor_storage_host(host: str | None) -> bool:
    """The vendor's object storage, where finished videos are served (``*.aliyuncs.com``)."""
    return bool(host) and (host == "aliyuncs.com" or str(host).endswith(".aliyuncs.com"))
