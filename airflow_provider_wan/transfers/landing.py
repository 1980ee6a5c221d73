"""One finished Wan video into one S3 key, the way both ``WanVideoToS3Operator`` and a generation
operator's ``destination=`` do it: what the key holds now, whether the bucket takes a write, the
streamed and verified copy with its metadata and sidecar, and the asset event.

Imported at DAG parse time: ``boto3``, ``requests`` and the streaming code load only in the calls.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from airflow.providers.common.compat.sdk import Asset, AssetAlias

from airflow_provider_wan.api import TaskStatus, WanApiError, WanTask, WanValidationError
from airflow_provider_wan.exceptions import WanTaskFinalError, call_error
from airflow_provider_wan.transfers.destination import check_destination
from airflow_provider_wan.transfers.host_policy import VideoHostPolicy, redact_url
from airflow_provider_wan.transfers.video_metadata import (
    BILLED_SECONDS_METADATA,
    REQUEST_METADATA,
    TASK_ID_METADATA,
    Generation,
    object_metadata,
    sidecar_document,
)

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from airflow_provider_wan.hooks.wan import WanHook
    from airflow_provider_wan.transfers.video_copy import StoredVideo

GiB = 1024**3
DEFAULT_ASSET_ALIAS = "wan_videos"
DEFAULT_MAX_BYTES = 2 * GiB
MAX_OBJECT_BYTES = 5 * 1024 * GiB  # S3's largest object
# What the object's metadata tells about the Wan task that made it, by the name the results use.
_MADE_BY = {
    TASK_ID_METADATA: "task_id",
    "wan-model": "model",
    "wan-seed": "seed",
    "wan-size": "size",
    "wan-duration": "duration",
    BILLED_SECONDS_METADATA: "billed_seconds",
}


@dataclass(frozen=True)
class LandingOptions:
    """How a video is written, with the transfer's names and meanings; checked when built (at parse).

    :param encrypt: S3-managed server-side encryption (AES256).
    :param acl_policy: a canned ACL, e.g. ``"bucket-owner-full-control"``.
    :param verify: TLS verification for S3, as in the Amazon provider's transfers.
    :param write_sidecar: also write ``<key>.json`` with the full request and result.
    :param allowed_hosts: more hosts to download from (``host``, ``host:port`` or ``*.domain``).
    :param max_bytes: refuse a bigger video (``Content-Length``, and while streaming).
    :param download_retries: further tries after a broken download (resumed with ``Range`` if possible).
    """

    encrypt: bool = False
    acl_policy: str | None = None
    verify: str | bool | None = None
    write_sidecar: bool = False
    allowed_hosts: tuple[str, ...] = ()
    max_bytes: int = DEFAULT_MAX_BYTES
    download_retries: int = 3

    def __post_init__(self) -> None:
        object.__setattr__(self, "allowed_hosts", VideoHostPolicy.validate_allowed_hosts(self.allowed_hosts))
        _whole_number("max_bytes", self.max_bytes, 1, MAX_OBJECT_BYTES, "(S3's largest object)")
        _whole_number("download_retries", self.download_retries, 0, 100)

    @property
    def s3_args(self) -> dict[str, Any]:
        """Encryption and ACL arguments of every object written (and of the destination check)."""
        return s3_args(self.encrypt, self.acl_policy)


@dataclass(frozen=True)
class ExistingObject:
    """What a key holds already: its size, our metadata on it, and the SHA-256 a finished copy sealed
    it with (None for an object no copy of ours finished)."""

    bucket: str
    key: str
    size: int
    metadata: dict[str, str]
    sha256: str | None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def wan_task_id(self) -> str | None:
        return self.metadata.get(TASK_ID_METADATA)

    @property
    def request_sha256(self) -> str | None:
        return self.metadata.get(REQUEST_METADATA)

    def describe(self) -> str:
        """The holder as an error names it."""
        if self.wan_task_id:
            return f"the video of Wan task {self.wan_task_id}"
        return "an object not written by this provider"

    def as_stored(self) -> StoredVideo:
        """The object as a finished copy's outcome (``copied`` False); only for a sealed one."""
        from airflow_provider_wan.transfers.video_copy import StoredVideo

        assert self.sha256 is not None
        return StoredVideo(self.bucket, self.key, self.size, self.sha256, copied=False)

    def made_by(self) -> dict[str, str]:
        """The Wan task that made the video, as the object's metadata tells it."""
        return {name: self.metadata[meta] for meta, name in _MADE_BY.items() if meta in self.metadata}


class Log(Protocol):
    """The part of an operator's logger landing uses (stdlib and Airflow's structlog loggers)."""

    def info(self, msg: Any, /, *args: Any) -> Any: ...

    def warning(self, msg: Any, /, *args: Any) -> Any: ...


class Landing:
    """The S3 side of landing videos, for one try: ``aws_conn_id`` and the options, and the Wan hook
    whose connection the video's task belongs to (its base URL is a host the video may come from)."""

    def __init__(self, options: LandingOptions, *, aws_conn_id: str | None, wan_hook: WanHook, log: Log):
        self.options = options
        self.aws_conn_id = aws_conn_id
        self.wan_hook = wan_hook
        self.log = log

    @cached_property
    def s3_hook(self) -> S3Hook:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        return S3Hook(aws_conn_id=self.aws_conn_id, verify=self.options.verify)

    def existing(self, bucket: str, key: str, parameter: str, shown: str) -> ExistingObject | None:
        """What ``s3://bucket/key`` holds, None when nothing (a missing bucket too: the write check
        names it). A refused read fails naming ``parameter`` (its value ``shown``)."""
        from botocore.exceptions import ClientError

        from airflow_provider_wan.transfers.video_copy import sealed_sha256

        try:
            head = self.s3_hook.head_object(key, bucket)
        except ClientError as err:
            status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status != 403:
                raise
            allowed = f"a key this AWS connection may read (s3:GetObject; S3 answered 403 for {key})"
            raise WanValidationError(parameter, shown, allowed) from err
        if head is None:
            return None
        metadata = {str(k).lower(): str(v) for k, v in (head.get("Metadata") or {}).items()}
        ours = TASK_ID_METADATA in metadata
        sha256 = sealed_sha256(self.s3_hook.get_conn(), bucket, key) if ours else None
        return ExistingObject(bucket, key, int(head["ContentLength"]), metadata, sha256)

    def sidecar(self, bucket: str, key: str) -> dict[str, Any] | None:
        """The JSON sidecar next to a video, if one was written and reads as JSON."""
        if self.s3_hook.head_object(f"{key}.json", bucket) is None:
            return None
        try:
            document = json.loads(self.s3_hook.read_key(f"{key}.json", bucket))
        except ValueError:
            return None
        return document if isinstance(document, dict) else None

    def check_writable(self, bucket: str, key: str, parameter: str, shown: str) -> None:
        """The bucket exists and takes a write at the key (an upload opened and aborted): before billing."""
        check_destination(
            self.s3_hook.get_conn(), bucket, key, self.options.s3_args, parameter=parameter, shown=shown
        )

    def finished_task(self, wan_task_id: str) -> WanTask:
        """The task as the service sees it now (a fresh signed URL); without a video it fails for good."""
        try:
            task = self.wan_hook.get_task(wan_task_id)
        except WanApiError as err:
            raise call_error(err, f"looking up task {wan_task_id}", wan_task_id) from err
        if task.status is TaskStatus.SUCCEEDED and task.video_url:
            return task
        if task.status is TaskStatus.UNKNOWN:
            why = "the service does not know it: older than 24 hours (its video is gone) or never created"
        elif task.status.is_terminal:
            why = f"it ended {task.status.value}" + (f" ({task.code}: {task.message})" if task.code else "")
        else:
            why = (
                f"it is still {task.status.value}; copy it after it succeeded (WanTaskSensor or the operator)"
            )
        raise WanTaskFinalError(
            f"Wan task {wan_task_id} has no video to copy: {why}",
            wan_task_id=wan_task_id,
            status=task.status.value,
            code=task.code,
            service_message=task.message,
        )

    def copy(self, bucket: str, key: str, task: WanTask, generation: Generation) -> StoredVideo:
        """Stream the task's video into the key, verified and sealed, with metadata and (if asked) the
        sidecar; on any failure nothing stays at the key."""
        from airflow_provider_wan.transfers.download import VideoDownload
        from airflow_provider_wan.transfers.video_copy import copy_video, delete_quietly

        assert task.video_url is not None
        options = self.options
        policy = VideoHostPolicy(self.wan_hook.base_url, options.allowed_hosts)
        download = VideoDownload(
            task.video_url, policy=policy, max_bytes=options.max_bytes, retries=options.download_retries
        )
        client = self.s3_hook.get_conn()
        sidecar_key = f"{key}.json"
        sidecar_written = []

        def write_sidecar(sha256: str, size: int) -> None:
            stored = {"bucket": bucket, "key": key, "size": size, "sha256": sha256}
            sidecar_written.append(sidecar_key)
            client.put_object(
                Bucket=bucket,
                Key=sidecar_key,
                Body=sidecar_document(task, generation, stored),
                ContentType="application/json",
                Metadata={TASK_ID_METADATA: task.task_id},
                **options.s3_args,
            )

        self.log.info(
            "Copying Wan task %s's video from %s to s3://%s/%s",
            task.task_id,
            redact_url(task.video_url),
            bucket,
            key,
        )
        try:
            stored = copy_video(
                download,
                client,
                bucket,
                key,
                metadata=object_metadata(task, generation),
                s3_args=options.s3_args,
                before_seal=write_sidecar if options.write_sidecar else None,
            )
        except BaseException:
            for written in sidecar_written:
                delete_quietly(client, bucket, written)
            raise
        self.log.info(
            "Stored %d bytes at %s (sha256 %s; %d resumed, %d restarted downloads)",
            stored.size,
            stored.uri,
            stored.sha256,
            stored.resumes,
            stored.restarts,
        )
        return stored


def with_asset_alias(outlets: Any, asset_alias: str | None) -> list[Any]:
    """``outlets`` as a list, with the alias ``asset_alias`` among them (once)."""
    found = list(outlets) if isinstance(outlets, (list, tuple)) else ([outlets] if outlets else [])
    if asset_alias and not any(isinstance(o, AssetAlias) and o.name == asset_alias for o in found):
        found.append(AssetAlias(asset_alias))
    return found


def report_asset(context: Mapping[str, Any], outlets: Iterable[Any], uri: str, extra: dict[str, Any]) -> None:
    """An asset event for ``uri`` on every asset alias among the outlets."""
    asset = Asset(uri=uri)
    for outlet in outlets:
        if isinstance(outlet, AssetAlias):
            context["outlet_events"][outlet].add(asset, extra=extra)


def s3_args(encrypt: bool, acl_policy: str | None) -> dict[str, Any]:
    """Encryption and ACL arguments of every object written (and of the destination check)."""
    found: dict[str, Any] = {"ServerSideEncryption": "AES256"} if encrypt else {}
    if acl_policy:
        found["ACL"] = acl_policy
    return found


def _whole_number(parameter: str, value: Any, low: int, high: int, why: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise WanValidationError(parameter, value, f"a whole number from {low} to {high} {why}".rstrip())
    return value
