"""The plugin as every Airflow process loads it: cheap to import, registered only where Airflow frames
plugin pages (3.1+); and the player tickets its pages hand out."""

from __future__ import annotations

import pytest

from airflow_provider_wan.plugins.playback import Ticket, issue, redeem
from airflow_provider_wan.plugins.plugin import WanVideoPlugin, supports_ui_plugins
from airflow_provider_wan.plugins.records import TaskRef
from tests.operators.test_import_cost import HEAVY, imports_of

SECRET = "the-api-servers-secret-key"


def test_loading_the_plugin_imports_no_web_app_http_aws_or_media_stack() -> None:
    """Scheduler, workers and DAG processor load every plugin: the app itself loads on the API server's
    first request to it."""
    found = imports_of("airflow_provider_wan.plugins.plugin")

    added = set(found["added"])
    assert "airflow_provider_wan.plugins.plugin" in added
    assert {name.split(".")[0] for name in added}.isdisjoint(HEAVY)
    assert not added & {"airflow_provider_wan.plugins.app", "airflow_provider_wan.plugins.records", "fastapi"}


@pytest.mark.parametrize(
    ("version", "supported"),
    [
        ("3.0.6", False),
        ("3.1.0", True),
        ("3.1.0rc1", True),
        ("3.3.2", True),
        ("3.10.0", True),
        ("4.0.0", True),
    ],
)
def test_ui_pages_register_from_airflow_3_1(version: str, supported: bool) -> None:
    assert supports_ui_plugins(version) is supported


def test_this_airflow_gets_a_task_tab_a_run_tab_and_the_app() -> None:
    destinations = {view["destination"]: view["href"] for view in WanVideoPlugin.external_views}
    assert destinations == {
        "task_instance": "/wan/dags/{DAG_ID}/runs/{RUN_ID}/tasks/{TASK_ID}?map_index={MAP_INDEX}",
        "dag_run": "/wan/dags/{DAG_ID}/runs/{RUN_ID}",
    }
    assert [app["url_prefix"] for app in WanVideoPlugin.fastapi_apps] == ["/wan"]


def test_a_ticket_opens_only_what_it_was_issued_for() -> None:
    ticket = Ticket(TaskRef("batch", "manual__2026-12-01T07:23:45+00:00", "generate", 3), download=True)
    token = issue(SECRET, ticket)

    assert redeem(SECRET, token) == ticket
    assert redeem("another-deployments-secret", token) is None
    assert redeem(SECRET, token[:-2] + ("xx" if not token.endswith("xx") else "yy")) is None
    assert redeem(SECRET, "not-a-ticket") is None
