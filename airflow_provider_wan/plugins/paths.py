"""Where the video pages live: the plugin's URL prefix, the UI tabs that frame them, and links to those
tabs. Standard library only at import: the operators' extra link imports this at DAG parse time."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

URL_PREFIX = "/wan"  # the plugin's FastAPI app, mounted on the API server
TASK_TAB = "wan-video"  # url_route of the task instance tab
RUN_TAB = "wan-videos"  # url_route of the DAG run tab
NO_MAP_INDEX = -1


def api_base_url() -> str:
    """``[api] base_url``; unset, links are paths on the UI's own origin."""
    from airflow.providers.common.compat.sdk import conf

    return str(conf.get("api", "base_url", fallback=None) or "")


def base_path(base_url: str) -> str:
    """The path Airflow is served under (``[api] base_url`` may be a full URL or a path), no trailing /."""
    path = urlsplit(base_url).path if "://" in base_url else base_url
    return path.rstrip("/")


def ui_task_tab(base_url: str, dag_id: str, run_id: str, task_id: str, map_index: int) -> str:
    """The task instance's "Wan video" tab in Airflow's UI (absolute when ``base_url`` is a URL)."""
    root = base_url.rstrip("/")
    task = f"{root}/dags/{_part(dag_id)}/runs/{_part(run_id)}/tasks/{_part(task_id)}"
    if map_index != NO_MAP_INDEX:
        task += f"/mapped/{map_index}"
    return f"{task}/plugin/{TASK_TAB}"


def task_page_href(base_url: str) -> str:
    """The task tab's page, with the placeholders Airflow's UI fills (``{MAP_INDEX}`` stays as is on a
    task that is not mapped)."""
    run = _run_href(base_url)
    return f"{run}/tasks/{{TASK_ID}}?map_index={{MAP_INDEX}}"


def run_page_href(base_url: str) -> str:
    """The gallery page of a DAG run, with the placeholders Airflow's UI fills."""
    return _run_href(base_url)


def _run_href(base_url: str) -> str:
    return f"{base_path(base_url)}{URL_PREFIX}/dags/{{DAG_ID}}/runs/{{RUN_ID}}"


def _part(value: str) -> str:
    return quote(value, safe="")
