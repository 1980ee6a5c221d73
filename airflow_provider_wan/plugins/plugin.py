"""The Airflow plugin (entry point ``airflow.plugins``): a "Wan video" tab on task instances and a
"Wan videos" tab on DAG runs, framing pages the plugin's own app serves on the API server.

Every Airflow process loads plugins, so this module only declares: the app is imported when the API
server passes it its first request (no other process sends it any), and on an Airflow without UI
plugins (before 3.1) the plugin registers nothing.
"""

from __future__ import annotations

from typing import Any

from airflow import __version__ as airflow_version
from airflow.plugins_manager import AirflowPlugin

from airflow_provider_wan.plugins.paths import (
    RUN_TAB,
    TASK_TAB,
    URL_PREFIX,
    api_base_url,
    run_page_href,
    task_page_href,
)

UI_PLUGINS_SINCE = (3, 1)


class LazyVideoApp:
    """An ASGI app that hands each request to the plugin's FastAPI app, importing it on first use."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        from airflow_provider_wan.plugins.app import app

        await app(scope, receive, send)


def supports_ui_plugins(version: str) -> bool:
    """Whether this Airflow frames plugin pages in its UI (``external_views``, 3.1+)."""
    release = tuple(int(part) for part in version.split(".")[:2] if part.isdigit())
    return release >= UI_PLUGINS_SINCE


class WanVideoPlugin(AirflowPlugin):
    """See a Wan video, its prompt and its cost in Airflow: per task instance and per DAG run."""

    name = "wan_video"
    if supports_ui_plugins(airflow_version):
        fastapi_apps = [{"app": LazyVideoApp(), "url_prefix": URL_PREFIX, "name": "Wan videos"}]
        external_views = [
            {
                "name": "Wan video",
                "href": task_page_href(api_base_url()),
                "destination": "task_instance",
                "url_route": TASK_TAB,
            },
            {
                "name": "Wan videos",
                "href": run_page_href(api_base_url()),
                "destination": "dag_run",
                "url_route": RUN_TAB,
            },
        ]
