"""Regions, workspaces, explicit base URLs, call paths and pacing."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from airflow_provider_wan.api import (
    CREATE_PATH,
    WanValidationError,
    backoff_delay,
    cancel_path,
    create_headers,
    is_vendor_storage_host,
    list_params,
    poll_delay,
    resolve_base_url,
    resolve_region,
    task_path,
)


@pytest.mark.parametrize(
    ("region", "url"),
    [
        (None, "https://dashscope-intl.aliyuncs.com/api/v1"),
        ("ap-southeast-1", "https://dashscope-intl.aliyuncs.com/api/v1"),
        ("Singapore", "https://dashscope-intl.aliyuncs.com/api/v1"),
        ("cn-beijing", "https://dashscope.aliyuncs.com/api/v1"),
        ("beijing", "https://dashscope.aliyuncs.com/api/v1"),
        ("Virginia", "https://dashscope-us.aliyuncs.com/api/v1"),
        ("US-EAST-1", "https://dashscope-us.aliyuncs.com/api/v1"),
        ("Hong Kong", "https://cn-hongkong.dashscope.aliyuncs.com/api/v1"),
        ("hongkong", "https://cn-hongkong.dashscope.aliyuncs.com/api/v1"),
        ("cn-hongkong", "https://cn-hongkong.dashscope.aliyuncs.com/api/v1"),
    ],
)
def test_shared_hosts(region: str | None, url: str) -> None:
    assert resolve_base_url(region) == url


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("Frankfurt", "ws-1.eu-central-1.maas.aliyuncs.com"),
        ("ap-northeast-1", "ws-1.ap-northeast-1.maas.aliyuncs.com"),
        ("Tokyo", "ws-1.ap-northeast-1.maas.aliyuncs.com"),
        ("Singapore", "ws-1.ap-southeast-1.maas.aliyuncs.com"),
        ("cn-beijing", "ws-1.cn-beijing.maas.aliyuncs.com"),
    ],
)
def test_workspace_hosts(region: str, host: str) -> None:
    assert resolve_base_url(region, workspace_id="ws-1") == f"https://{host}/api/v1"


@pytest.mark.parametrize("region", ["Frankfurt", "eu-central-1", "Tokyo"])
def test_regions_without_a_shared_host_need_a_workspace(region: str) -> None:
    with pytest.raises(WanValidationError, match="workspace_id"):
        resolve_base_url(region)


@pytest.mark.parametrize("workspace", ["-ws", "ws/1", "w" * 65, "ws 1", "ws.1"])
def test_bad_workspace_ids(workspace: str) -> None:
    with pytest.raises(WanValidationError) as refused:
        resolve_base_url("Singapore", workspace_id=workspace)
    assert refused.value.parameter == "workspace_id"


def test_unknown_region_lists_the_known_ones() -> None:
    with pytest.raises(WanValidationError) as refused:
        resolve_region("mars-1")
    assert refused.value.parameter == "region"
    assert "ap-southeast-1 (Singapore)" in str(refused.value)


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("http://127.0.0.1:8765/api/v1", "http://127.0.0.1:8765/api/v1"),
        ("http://127.0.0.1:8765/api/v1/", "http://127.0.0.1:8765/api/v1"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765/api/v1"),
        ("https://proxy.corp/wan/api/v1", "https://proxy.corp/wan/api/v1"),
    ],
)
def test_explicit_base_url_wins(base_url: str, expected: str) -> None:
    assert resolve_base_url("Frankfurt", workspace_id="ws", base_url=base_url) == expected


@pytest.mark.parametrize("base_url", ["ftp://host/api/v1", "127.0.0.1:8765", "http:///api/v1"])
def test_bad_base_urls(base_url: str) -> None:
    with pytest.raises(WanValidationError, match="base_url"):
        resolve_base_url(base_url=base_url)


def test_paths_and_headers() -> None:
    assert CREATE_PATH == "/services/aigc/video-generation/video-synthesis"
    assert task_path("5b65411f-d946") == "/tasks/5b65411f-d946"
    assert cancel_path("5b65411f-d946") == "/tasks/5b65411f-d946/cancel"
    assert create_headers("sk-1") == {
        "Authorization": "Bearer sk-1",
        "Content-Type": "application/json",
        "X-DashScope-Async": "enable",
    }


@pytest.mark.parametrize("task_id", ["../admin", "a/b", "", "a?b=1", "x" * 200, None])
def test_task_ids_that_would_escape_the_path(task_id: str | None) -> None:
    with pytest.raises(WanValidationError, match="task_id"):
        task_path(task_id)  # type: ignore[arg-type]


def test_list_params() -> None:
    start = datetime(2026, 11, 20, 8, 0, 0)
    params = list_params(
        start_time=start, end_time=start + timedelta(hours=24), model_name="wan2.6-t2v", status="RUNNING"
    )
    assert params == {
        "page_no": "1",
        "page_size": "10",
        "start_time": "20261120080000",
        "end_time": "20261121080000",
        "model_name": "wan2.6-t2v",
        "status": "RUNNING",
    }


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"start_time": datetime(2026, 1, 1), "end_time": datetime(2026, 1, 2, 0, 0, 1)}, "end_time"),
        ({"start_time": datetime(2026, 1, 2), "end_time": datetime(2026, 1, 1)}, "end_time"),
        ({"page_no": 0}, "page_no"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 101}, "page_size"),
    ],
)
def test_list_params_refused(kwargs: dict, parameter: str) -> None:
    with pytest.raises(WanValidationError) as refused:
        list_params(**kwargs)
    assert refused.value.parameter == parameter


def test_list_status_must_be_a_task_status() -> None:
    with pytest.raises(WanValidationError) as refused:
        list_params(status="DONE")
    assert refused.value.parameter == "status"
    assert "SUCCEEDED" in str(refused.value)


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("dashscope-result-sh.oss-accelerate.aliyuncs.com", True),
        ("dashscope-result-bj.oss-cn-beijing.aliyuncs.com", True),
        ("aliyuncs.com.evil.example", False),
        ("evilaliyuncs.com", False),
        ("127.0.0.1", False),
        (None, False),
    ],
)
def test_vendor_storage_hosts(host: str | None, allowed: bool) -> None:
    assert is_vendor_storage_host(host) is allowed


def test_backoff_grows_with_jitter_and_honours_retry_after() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(attempt, base=1.0, cap=30.0, rng=rng) for attempt in range(8)]
    for attempt, delay in enumerate(delays):
        ceiling = min(30.0, 2.0**attempt)
        assert ceiling / 2 <= delay <= ceiling
    assert backoff_delay(0, base=1.0, retry_after=12.0, rng=rng) == 12.0
    assert backoff_delay(0, base=1.0, retry_after=86_400.0, rng=rng) == 300.0


def test_poll_delay_starts_soon_then_approaches_the_vendors_interval() -> None:
    delays = [poll_delay(n, minimum=0.5) for n in range(8)]
    assert delays[0] == 0.5
    assert delays == sorted(delays)
    assert delays[-1] == 15.0
    assert poll_delay(0, minimum=20.0) == 20.0
