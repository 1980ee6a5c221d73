"""The ``wan`` connection in each form Airflow accepts it, and the UI's Test button (``test_connection``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from airflow_provider_wan.api import TaskStatus
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.exceptions import WanConnectionError
from airflow_provider_wan.hooks.wan import WanAsyncHook, WanHook
from tests.conftest import free_port
from tests.hooks.conftest import FAST, calls, uri_connection


def _set(monkeypatch: pytest.MonkeyPatch, conn_id: str, value: str | dict[str, object]) -> str:
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}", value if isinstance(value, str) else json.dumps(value)
    )
    return conn_id


def test_json_form_with_the_base_url_in_host(
    wan_emulator: WanEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn_id = _set(
        monkeypatch,
        "wan_json",
        {"conn_type": "wan", "host": wan_emulator.base_url, "password": wan_emulator.api_key},
    )
    hook = WanHook(conn_id, **FAST)

    assert hook.base_url == wan_emulator.base_url
    assert hook.get_task("some-task").status is TaskStatus.UNKNOWN


@pytest.fixture
def emulator_with_awkward_key() -> Iterator[WanEmulator]:
    with WanEmulator(api_key="sk-a/b+c@d=e?f", prerender=False, cache_dir=None) as emulator:
        yield emulator


def test_uri_form_with_the_base_url_encoded_in_host(
    emulator_with_awkward_key: WanEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn_id = _set(monkeypatch, "wan_uri", uri_connection(emulator_with_awkward_key, region="Beijing"))
    hook = WanHook(conn_id, **FAST)

    assert hook.base_url == emulator_with_awkward_key.base_url  # host wins over the region
    assert hook.get_task("some-task").status is TaskStatus.UNKNOWN


def test_uri_form_with_a_scheme_in_front_of_the_host(
    emulator_with_awkward_key: WanEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``wan://http://:KEY@HOST:PORT/api/v1``: Airflow splits the URL into host, port and schema."""
    emulator = emulator_with_awkward_key
    uri = f"wan://http://:{quote(emulator.api_key, safe='')}@127.0.0.1:{emulator.port}/api/v1"
    hook = WanHook(_set(monkeypatch, "wan_split", uri), **FAST)

    assert hook.base_url == emulator.base_url
    assert hook.list_tasks().total == 0


async def test_async_hook_reads_the_same_forms(
    emulator_with_awkward_key: WanEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_wan.hooks.aio import close_sessions

    conn_id = _set(monkeypatch, "wan_uri", uri_connection(emulator_with_awkward_key))

    assert (await WanAsyncHook(conn_id, **FAST).get_task("some-task")).status is TaskStatus.UNKNOWN
    await close_sessions()


@pytest.mark.parametrize(
    ("connection", "base_url"),
    [
        ("wan://:sk-x@", "https://dashscope-intl.aliyuncs.com/api/v1"),
        ("wan://:sk-x@/?region=cn-beijing", "https://dashscope.aliyuncs.com/api/v1"),
        ("wan://:sk-x@/?region=Virginia", "https://dashscope-us.aliyuncs.com/api/v1"),
        ("wan://:sk-x@/?region=hong+kong", "https://cn-hongkong.dashscope.aliyuncs.com/api/v1"),
        (
            "wan://:sk-x@/?region=Frankfurt&workspace_id=ws-1",
            "https://ws-1.eu-central-1.maas.aliyuncs.com/api/v1",
        ),
        (
            {"password": "sk-x", "extra": {"region": "Tokyo", "workspace_id": "llm_7"}},
            "https://llm_7.ap-northeast-1.maas.aliyuncs.com/api/v1",
        ),
        (
            {"password": "sk-x", "extra": {"workspace_id": "abc"}},
            "https://abc.ap-southeast-1.maas.aliyuncs.com/api/v1",
        ),
        (
            {"password": "sk-x", "host": "proxy.example.com", "extra": {"region": "cn-beijing"}},
            "https://proxy.example.com/api/v1",
        ),
        ({"password": "sk-x", "host": "http://10.0.0.5:8080/wan/api/v1/"}, "http://10.0.0.5:8080/wan/api/v1"),
        ("wan://:sk-x@proxy.example.com:8443/api/v1", "https://proxy.example.com:8443/api/v1"),
    ],
)
def test_region_workspace_and_host_choose_the_base_url(
    monkeypatch: pytest.MonkeyPatch, connection: str | dict[str, object], base_url: str
) -> None:
    assert WanHook(_set(monkeypatch, "wan_where", connection)).base_url == base_url


@pytest.mark.parametrize(
    ("connection", "parameter", "says"),
    [
        ({"host": "http://127.0.0.1:1/api/v1"}, "password", "the Wan API key"),
        ("wan://@/?region=Singapore", "password", "the Wan API key"),
        ({"password": "sk-x", "extra": {"region": "Mars"}}, "region", "ap-southeast-1 (Singapore)"),
        ({"password": "sk-x", "extra": {"region": "Frankfurt"}}, "region", "set a workspace_id"),
        ({"password": "sk-x", "extra": {"workspace_id": "no spaces"}}, "workspace_id", "letters, digits"),
        ({"password": "sk-x", "host": "ftp://files.example.com"}, "base_url", "an http(s) URL"),
    ],
)
def test_a_connection_that_cannot_work_says_which_and_why(
    monkeypatch: pytest.MonkeyPatch, connection: str | dict[str, object], parameter: str, says: str
) -> None:
    with pytest.raises(WanConnectionError) as raised:
        WanHook(_set(monkeypatch, "wan_bad", connection)).get_task("some-task")

    assert raised.value.conn_id == "wan_bad"
    assert raised.value.parameter == parameter
    assert str(raised.value).startswith("Connection 'wan_bad': Invalid ")
    assert says in str(raised.value)


def test_missing_key_sends_nothing(wan_emulator: WanEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id = _set(monkeypatch, "wan_keyless", {"host": wan_emulator.base_url})

    with pytest.raises(WanConnectionError, match="Connection 'wan_keyless': Invalid password"):
        WanHook(conn_id).get_task("some-task")
    assert wan_emulator.request_log == []


# -- the Test button


def test_test_connection_accepts_a_good_key_and_bills_nothing(
    hook: WanHook, wan_emulator: WanEmulator
) -> None:
    ok, message = hook.test_connection()

    assert ok, message
    assert wan_emulator.base_url in message
    assert [call["endpoint"] for call in wan_emulator.request_log] == ["list"]
    assert calls(wan_emulator, "list")[0]["query"]["page_size"] == "1"
    assert wan_emulator.create_count() == 0


def test_test_connection_reports_a_refused_key(
    wan_emulator: WanEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn_id = _set(monkeypatch, "wan_wrong", {"host": wan_emulator.base_url, "password": "sk-wrong-key-123"})

    ok, message = WanHook(conn_id, **FAST).test_connection()

    assert not ok
    assert "refused the API key of connection 'wan_wrong'" in message
    assert "InvalidApiKey" in message
    assert "sk-wrong-key-123" not in message
    assert len(wan_emulator.request_log) == 1


def test_test_connection_does_not_blame_the_key_when_only_listing_is_refused(
    hook: WanHook, wan_emulator: WanEmulator
) -> None:
    wan_emulator.set_readings(list_refused=403)  # a key that may query its tasks but not list the account's

    ok, message = hook.test_connection()

    assert not ok
    assert "refused to list tasks for connection 'wan_default'" in message
    assert "may be wrong, or allowed to create and query tasks but not to list" in message
    assert "AccessDenied" in message
    assert "refused the API key" not in message
    assert hook.get_task("some-task").status is TaskStatus.UNKNOWN  # the key does query
    assert [call["status"] for call in wan_emulator.request_log] == [403, 200]


def test_test_connection_reports_an_unreachable_service(monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id = _set(monkeypatch, "wan_gone", {"host": f"http://127.0.0.1:{free_port()}", "password": "sk-x"})

    ok, message = WanHook(conn_id, **FAST).test_connection()

    assert not ok
    assert "Could not reach Wan for connection 'wan_gone'" in message


def test_test_connection_reports_a_connection_without_key(monkeypatch: pytest.MonkeyPatch) -> None:
    ok, message = WanHook(_set(monkeypatch, "wan_keyless", "wan://@/?region=Singapore")).test_connection()

    assert not ok
    assert "Connection 'wan_keyless'" in message
    assert "password" in message
