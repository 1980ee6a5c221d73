"""Where the video pages live: the plugin's URL prefix and routes, the UI tabs that frame them, and links
to both. Standard library only at import: the operators' extra link imports this at DAG parse time."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

URL_PREFIX = "/wan"  # the plugin's FastAPI app, mounted on the API server
RUN_ROUTE = "/dags/{dag_id}/runs/{run_id}"  # a DAG run's gallery, under URL_PREFIX
TASK_ROUTE = RUN_ROUTE + "/tasks/{task_id}"  # a task instance's page (query: map_index)
PLAY_ROUTE = "/play/{token}"  # a player's ticket
TASK_TAB = "wan-video"  # url_route of the task instance tab
RUN_TAB = "wan-videos"  # url_route of the DAG run tab
NO_MAP_INDEX = -1


def api_base_url() -> str:
    """``[api] base_url``; unset, links are paths on the UI's own origin."""
    from airflow.providers.common.compat.sdk import conf

    return str(conf.get("api", "base_url", fallback=None) or "")


def ui_task_tab(base_url: str, dag_id: str, run_id: str, task_id: str, map_index: int) -> str:
    """The task instance's "Wan video" tab in Airflow's UI (absolute when ``base_url`` is a URL)."""
    task = base_url.rstrip("/") + TASK_ROUTE.format(
        dag_id=_part(dag_id), run_id=_part(run_id), task_id=_part(task_id)
    )
    if map_index != NO_MAP_INDEX:
        task += f"/mapped/{map_index}"
    return f"{task}/plugin/{TASK_TAB}"


def task_page(root: str, dag_id: str, run_id: str, task_id: str, map_index: int | str) -> str:
    """A task instance's page under the plugin's app at ``root``."""
    route = TASK_ROUTE.format(dag_id=_part(dag_id), run_id=_part(run_id), task_id=_part(task_id))
    return f"{root}{route}?map_index={map_index}"


def run_page(root: str, dag_id: str, run_id: str) -> str:
    """A DAG run's gallery under the plugin's app at ``root``."""
    return root + RUN_ROUTE.format(dag_id=_part(dag_id), run_id=_part(run_id))


def task_page_href(base_url: str) -> str:
    """The task tab's page, with the placeholders Airflow's UI fills (``{MAP_INDEX}`` stays as is on a
    task that is not mapped)."""
    route = TASK_ROUTE.format(dag_id="{DAG_ID}", run_id="{RUN_ID}", task_id="{TASK_ID}")
    return f"{_base_path(base_url)}{URL_PREFIX}{route}?map_index={{MAP_INDEX}}"


def run_page_href(base_url: str) -> str:
    """The gallery page of a DAG run, with the placeholders Airflow's UI fills."""
    return _base_path(base_url) + URL_PREFIX + RUN_ROUTE.format(dag_id="{DAG_ID}", run_id="{RUN_ID}")


def _base_path(base_url: str) -> str:
    """The path Airflow is served under (``[api] base_url`` may be a full URL or a path), no trailing /."""
    path = urlsplit(base_url).path if "://" in base_url else base_url
    return path.rstrip("/")


def _part(value: str) -> str:
    return quote(value, safe="")
