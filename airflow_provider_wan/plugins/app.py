"""The plugin's FastAPI app on the API server: the task tab, the run gallery and the player links.

Pages need the caller to be allowed to read the DAG's XComs (Airflow's own ``requires_access_dag``,
so whichever auth manager is configured decides); without credentials a page answers 401 with only the
step that adds them, a caller without access 403. Player links are tickets the pages issue.
"""

from __future__ import annotations

from typing import Annotated

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import requires_access_dag
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from airflow_provider_wan.plugins import pages, playback
from airflow_provider_wan.plugins.paths import NO_MAP_INDEX, PLAY_ROUTE, RUN_ROUTE, TASK_ROUTE
from airflow_provider_wan.plugins.records import RunVideos, TaskRef, load_run

NO_STORE = {"Cache-Control": "no-store"}
MayReadResults = Depends(requires_access_dag("GET", DagAccessEntity.XCOM))

app = FastAPI(title="Wan videos", docs_url=None, redoc_url=None, openapi_url=None)


@app.exception_handler(HTTPException)
def refused(request: Request, error: HTTPException) -> Response:
    """A page refused: 401 carries the sign-in step, 403 says who may see it; anything else as usual."""
    if error.status_code == 401:
        return HTMLResponse(pages.sign_in_page(), 401, headers=NO_STORE)
    if error.status_code == 403:
        return _message(403, "You may not see the results of this DAG.")
    return _message(error.status_code, str(error.detail))


@app.get(TASK_ROUTE, dependencies=[MayReadResults])
def task_tab(
    request: Request, dag_id: str, run_id: str, task_id: str, map_index: Annotated[str, Query()] = ""
) -> HTMLResponse:
    """A task instance's video, what made it and what it cost (``map_index`` as the UI fills it in:
    left as ``{MAP_INDEX}`` for a task that is not mapped)."""
    row = int(map_index) if map_index.lstrip("-").isdigit() else NO_MAP_INDEX
    run = _run(dag_id, run_id)
    ref = TaskRef(dag_id, run_id, task_id, row)
    if (task_id, row) not in run.states:
        raise HTTPException(404, f"Run {run_id} of DAG {dag_id} has no task instance {ref.label}.")
    video = run.for_task(task_id, row)
    playable = playback.find_playable(video, video.copy_made_by(ref)) if video else None
    page = pages.task_view(video, ref, run.states[(task_id, row)], playable, _links(request))
    return HTMLResponse(page, headers=NO_STORE)


@app.get(RUN_ROUTE, dependencies=[MayReadResults])
def run_gallery(request: Request, dag_id: str, run_id: str) -> HTMLResponse:
    """Every video of a DAG run, with the run's billed seconds and cost."""
    page = pages.run_view(_run(dag_id, run_id), _links(request))
    return HTMLResponse(page, headers=NO_STORE)


@app.get(PLAY_ROUTE)
def play(token: str) -> Response:
    """Redirect a player to where the ticket's video is now: its S3 copy presigned, or Wan's URL."""
    ticket = playback.redeem(_secret_key(), token)
    if ticket is None:
        return _message(403, "This video link is not valid (links work for a few minutes): reload the page.")
    ref = ticket.ref
    video = _run(ref.dag_id, ref.run_id).for_task(ref.task_id, ref.map_index)
    if video is None:
        return _message(404, f"Task {ref.label} has no Wan video.")
    url = playback.player_url(playback.find_playable(video, video.copy_made_by(ref)), ticket.download)
    if url is None:
        return _message(410, "This video is no longer at Wan and no copy of it can be played.")
    return RedirectResponse(url, 302, headers=NO_STORE)


def _run(dag_id: str, run_id: str) -> RunVideos:
    from airflow.utils.session import create_session

    with create_session() as session:
        run = load_run(session, dag_id, run_id)
    if run is None:
        raise HTTPException(404, f"DAG {dag_id} has no run {run_id}.")
    return run


def _message(status: int, message: str) -> HTMLResponse:
    return HTMLResponse(pages.message_page("Wan video", message), status, headers=NO_STORE)


def _links(request: Request) -> pages.Links:
    """Links under this app, wherever the API server mounts it."""
    return pages.Links(request.scope.get("root_path", ""), _secret_key())


def _secret_key() -> str:
    from airflow.configuration import conf

    return str(conf.get("api", "secret_key"))
