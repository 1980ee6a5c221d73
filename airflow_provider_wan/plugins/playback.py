"""Where a video plays from, decided when a page or a player asks.

A page links each video through a *ticket*: the task instance it belongs to, signed with the API
server's secret key and valid :data:`TICKET_SECONDS`. A player that opens the ticket is redirected to
the run's S3 copy (only an object the transfer wrote for that Wan task, checked by its ``wan-task-id``
metadata, presigned for :data:`PRESIGN_SECONDS`) or, with no copy, to the URL Wan gives for the task
now (Wan keeps a video 24 hours). Pages hold tickets only: no signed URL is in a page's source, and
nothing the browser sends names a bucket, key or Wan task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_wan.api import WanApiError, WanTask, WanValidationError
from airflow_provider_wan.plugins.records import S3Copy, TaskRef, Video
from airflow_provider_wan.transfers.video_metadata import TASK_ID_METADATA

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

TICKET_SECONDS = 600  # a page's video links play this long after the page was made
PRESIGN_SECONDS = 300  # an S3 URL handed to a player lives this long
LOOKUP_TIMEOUT = 10.0  # seconds for one Wan query made for a page
_SALT = "airflow-provider-wan video ticket"


@dataclass(frozen=True)
class Ticket:
    """What a video link opens: a task instance's video, to play or to download."""

    ref: TaskRef
    download: bool = False


def issue(secret_key: str, ticket: Ticket) -> str:
    """The signed, URL-safe form of ``ticket``."""
    from itsdangerous import URLSafeTimedSerializer

    ref = ticket.ref
    payload = [ref.dag_id, ref.run_id, ref.task_id, ref.map_index, ticket.download]
    return str(URLSafeTimedSerializer(secret_key, salt=_SALT).dumps(payload))


def redeem(secret_key: str, token: str) -> Ticket | None:
    """The ticket ``token`` stands for; None if it was not signed here or is older than its life."""
    from itsdangerous import BadData, URLSafeTimedSerializer

    try:
        dag_id, run_id, task_id, map_index, download = URLSafeTimedSerializer(secret_key, salt=_SALT).loads(
            token, max_age=TICKET_SECONDS
        )
    except (BadData, TypeError, ValueError):
        return None
    return Ticket(TaskRef(str(dag_id), str(run_id), str(task_id), int(map_index)), bool(download))


@dataclass
class Playable:
    """What a video can play from now: a checked S3 copy, or Wan's answer about its task; and why
    something that should play does not."""

    copy: S3Copy | None = None
    wan: WanTask | None = None
    problems: list[str] = field(default_factory=list)


def find_playable(video: Video, preferred: S3Copy | None = None) -> Playable:
    """Check the video's copies (``preferred`` first); ask Wan when none is usable, or when the video
    has no recorded result (a task still running, or failed: its status, code and message)."""
    found = Playable()
    for copy in sorted(video.copies, key=lambda c: c != preferred):
        problem = _check_copy(copy)
        if problem is None:
            found.copy = copy
            break
        found.problems.append(problem)
    if video.wan_task_id and (found.copy is None or video.result is None):
        try:
            found.wan = _wan_hook(video.wan_conn_id).get_task(video.wan_task_id)
        except (WanApiError, WanValidationError) as error:
            found.problems.append(f"Wan could not be asked about task {video.wan_task_id}: {error}")
    return found


def player_url(playable: Playable, download: bool) -> str | None:
    """The URL to hand the player: the copy presigned, else Wan's own while it has the video."""
    if playable.copy is not None:
        return _presigned(playable.copy, download)
    if playable.wan is not None and playable.wan.video_url:
        return playable.wan.video_url
    return None


def _check_copy(copy: S3Copy) -> str | None:
    """Why the copy cannot be played (None: it holds the Wan task's video)."""
    from airflow.providers.common.compat.sdk import AirflowException
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        head = _s3_hook(copy.aws_conn_id).head_object(copy.key, copy.bucket)
    except (BotoCoreError, ClientError, AirflowException) as error:
        return f"{copy.uri} could not be read with connection {copy.aws_conn_id!r}: {error}"
    if head is None:
        return f"{copy.uri} is no longer in S3"
    owner = (head.get("Metadata") or {}).get(TASK_ID_METADATA)
    if owner != copy.wan_task_id:
        return f"{copy.uri} no longer holds the video of Wan task {copy.wan_task_id}"
    return None


def _presigned(copy: S3Copy, download: bool) -> str:
    params: dict[str, Any] = {"Bucket": copy.bucket, "Key": copy.key}
    if download:
        filename = copy.key.rsplit("/", 1)[-1].replace('"', "")
        params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
    client = _s3_hook(copy.aws_conn_id).get_conn()
    return str(client.generate_presigned_url("get_object", Params=params, ExpiresIn=PRESIGN_SECONDS))


def _s3_hook(aws_conn_id: str | None) -> S3Hook:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=aws_conn_id)


def _wan_hook(wan_conn_id: str) -> Any:
    from airflow_provider_wan.hooks.wan import WanHook

    return WanHook(wan_conn_id, timeout=LOOKUP_TIMEOUT, max_retries=1)
