"""The connection page's forms (``docs/examples/connections.sh``), each run in a shell and read back as the
provider reads it: the host each one calls."""

from __future__ import annotations

import pytest

from tests.docs.markers import EXAMPLES, region_names, run_shell

SHELL = EXAMPLES / "connections.sh"
HOSTS = {
    "connection_json": "https://dashscope.aliyuncs.com/api/v1",
    "connection_workspace": "https://ws-123.eu-central-1.maas.aliyuncs.com/api/v1",
    "connection_uri": "https://dashscope-intl.aliyuncs.com/api/v1",
    "connection_emulator": "http://127.0.0.1:8765/api/v1",
}


def test_the_page_shows_each_form_once() -> None:
    assert region_names(SHELL) == list(HOSTS)


@pytest.mark.parametrize("form", HOSTS)
def test_each_form_calls_its_host(form: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_wan.hooks.wan import WanHook

    shell = run_shell(SHELL, form, then='printf %s "$AIRFLOW_CONN_WAN_DEFAULT"')
    assert shell.returncode == 0, shell.stderr
    monkeypatch.setenv("AIRFLOW_CONN_WAN_DEFAULT", shell.stdout)

    hook = WanHook()

    assert hook.base_url == HOSTS[form]
    assert hook.settings.api_key in {"sk-...", "sk-emulator"}
