"""Copy a finished Wan video into S3 before its signed URL dies (24 hours after generation).

Imported at DAG parse time: ``requests``, ``boto3`` and the streaming code load only in ``execute``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import Asset, AssetAlias, BaseOperator

from airflow_provider_wan.api import TaskStatus, WanApiError, WanTask, WanValidationError, check_task_id
from airflow_provider_wan.exceptions import WanTaskFinalError, call_error
from airflow_provider_wan.hooks.wan import WanHook
from airflow_provider_wan.plugins.links import WanVideoLink
from airflow_provider_wan.transfers.destination import check_destination, default_s3_key
from airflow_provider_wan.transfers.errors import TransferRefused
from airflow_provider_wan.transfers.host_policy import VideoHostPolicy, redact_url
from airflow_provider_wan.transfers.video_metadata import (
    TASK_ID_METADATA,
    Generation,
    object_metadata,
    read_generation,
    sidecar_document,
)

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

    from airflow_provider_wan.transfers.video_copy import StoredVideo

GiB = 1024**3
DEFAULT_ASSET_ALIAS = "wan_videos"
DEFAULT_MAX_BYTES = 2 * GiB
MAX_SEALABLE_BYTES = 5 * GiB  # S3's CopyObject limit; the copy in place is how the checksum is sealed


class WanVideoToS3Operator(BaseOperator):
    """
    Stream a finished Wan video into S3, verified, idempotently, with bounded memory.

    The service is asked for the task (a URL in XCom may be stale); the video is downloaded only from
    the vendor's storage (https ``*.aliyuncs.com``), the Wan connection's own host, or ``allowed_hosts``,
    with no credentials, and streamed into a multipart upload that is aborted on any failure. The stored
    object has ``Content-Type: video/mp4``, metadata (``wan-task-id``, ``wan-model``, ``wan-seed``,
    ``wan-size``, ``wan-duration``, ``wan-billed-seconds``), S3's own SHA-256 checksum (checked against
    ours), and the whole video's SHA-256 as the ``wan-sha256`` tag, set last, once all is verified. A
    key that already holds this task's video is left alone. The object is reported as an asset event on
    the ``asset_alias`` alias and as OpenLineage output, with a ``wan`` run facet (model, billed seconds,
    cost where known). Before downloading, an upload is opened at the key and aborted, so a
    missing or unwritable bucket fails naming ``s3_bucket``; put a :class:`WanS3DestinationCheckOperator`
    before the generating task to find that out before the video is billed.

    :param wan_task_id: the Wan task whose video to copy, e.g. ``"{{ ti.xcom_pull('generate')['task_id'] }}"``
        (``generate.output["task_id"]`` would pull an XCom *key* named ``task_id``). (templated)
    :param s3_bucket: the bucket; omit it when ``s3_key`` is a full ``s3://`` URL. (templated)
    :param s3_key: the object key, by default ``wan/<dag_id>/<run id>/<task_id>[-<map_index>].mp4`` with
        the run id made S3-safe (``manual__2026-12-01T072345.578950Z``; see ``destination.s3_safe``).
        (templated)
    :param wan_conn_id: the ``wan`` connection the task belongs to.
    :param aws_conn_id: the AWS connection for S3.
    :param replace: overwrite a different object already at the key (default: refuse).
    :param encrypt: store the object with S3-managed server-side encryption (AES256).
    :param acl_policy: a canned ACL for the object, e.g. ``"bucket-owner-full-control"``.
    :param verify: TLS verification for S3, as in the Amazon provider's transfers.
    :param generation: the generating operator's XCom (``generate.output``): the query answer lacks the
        model and seed, so they come from here, with the billed seconds and cost; omitted from metadata
        when not given. (templated)
    :param write_sidecar: also write ``<s3_key>.json`` with the full request and result, the billed
        seconds and cost.
    :param allowed_hosts: more hosts to download from (``host``, ``host:port`` or ``*.domain``).
    :param max_bytes: refuse a video larger than this (checked on ``Content-Length`` and while streaming).
    :param download_retries: further tries after a broken download (resumed with ``Range`` if possible).
    :param asset_alias: the asset alias that receives the ``s3://bucket/key`` asset event (None: only the
        aliases given in ``outlets``).
    """

    template_fields: Sequence[str] = (
        "wan_task_id",
        "generation",
        "s3_bucket",
        "s3_key",
        "wan_conn_id",
        "aws_conn_id",
    )
    template_fields_renderers = {"generation": "json"}
    ui_color = "#ff6a00"
    operator_extra_links = (WanVideoLink(),)

    def __init__(
        self,
        *,
        wan_task_id: str,
        s3_bucket: str | None = None,
        s3_key: str | None = None,
        wan_conn_id: str = "wan_default",
        aws_conn_id: str | None = "aws_default",
        replace: bool = False,
        encrypt: bool = False,
        acl_policy: str | None = None,
        verify: str | bool | None = None,
        generation: dict[str, Any] | str | None = None,
        write_sidecar: bool = False,
        allowed_hosts: Sequence[str] = (),
        max_bytes: int = DEFAULT_MAX_BYTES,
        download_retries: int = 3,
        asset_alias: str | None = DEFAULT_ASSET_ALIAS,
        **kwargs: Any,
    ) -> None:
        outlets = kwargs.pop("outlets", None) or []
        outlets = list(outlets) if isinstance(outlets, (list, tuple)) else [outlets]
        if asset_alias and not any(isinstance(o, AssetAlias) and o.name == asset_alias for o in outlets):
            outlets.append(AssetAlias(asset_alias))
        super().__init__(outlets=outlets, **kwargs)
        self.max_bytes = _whole_number(
            "max_bytes", max_bytes, 1, MAX_SEALABLE_BYTES, "(the most S3's CopyObject takes)"
        )
        self.download_retries = _whole_number("download_retries", download_retries, 0, 100)
        self.wan_task_id = wan_task_id
        self.s3_bucket = s3_bucket
        self.s3_key = s3_key
        self.wan_conn_id = wan_conn_id
        self.aws_conn_id = aws_conn_id
        self.replace = replace
        self.encrypt = encrypt
        self.acl_policy = acl_policy
        self.verify = verify
        self.generation = generation
        self.write_sidecar = write_sidecar
        self.allowed_hosts = VideoHostPolicy.validate_allowed_hosts(allowed_hosts)
        self.stored: StoredVideo | None = None
        self.billing: dict[str, Any] | None = None

    @cached_property
    def wan_hook(self) -> WanHook:
        return WanHook(self.wan_conn_id)

    @cached_property
    def s3_hook(self) -> S3Hook:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        return S3Hook(aws_conn_id=self.aws_conn_id, verify=self.verify)

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        try:
            wan_task_id = _checked_task_id(self.wan_task_id)
            generation = read_generation(self.generation, wan_task_id)
            if not self.s3_bucket and not str(self.s3_key).startswith("s3://"):
                raise WanValidationError(
                    "s3_bucket", self.s3_bucket, "a bucket, or a full s3:// URL as s3_key"
                )
            s3_key = self.s3_key or default_s3_key(
                context["dag"].dag_id, context["run_id"], self.task_id, context["ti"].map_index
            )
            bucket, key = S3Hook.get_s3_bucket_key(self.s3_bucket, s3_key, "s3_bucket", "s3_key")
            stored = self._already_there(bucket, key, wan_task_id)
            billed = generation.billed_seconds
            if stored is None:
                s3_args = _s3_args(self.encrypt, self.acl_policy)
                check_destination(self.s3_hook.get_conn(), bucket, key, s3_args)
                task = self._finished_task(wan_task_id)
                billed = generation.billed(task)
                stored = self._copy(bucket, key, task, generation)
        except (TransferRefused, WanValidationError) as err:
            raise WanTaskFinalError(str(err)) from err
        self.stored = stored
        self.billing = {
            "task_id": wan_task_id,
            "model": (generation.body or {}).get("model"),
            "billed_seconds": billed,
            "cost": generation.cost,
        }
        self._report_asset(context, stored, wan_task_id)
        return {
            "s3_uri": stored.uri,
            "bucket": stored.bucket,
            "key": stored.key,
            "size": stored.size,
            "sha256": stored.sha256,
            "wan_task_id": wan_task_id,
            "copied": stored.copied,
            "sidecar_key": f"{key}.json" if self.write_sidecar and stored.copied else None,
            "billed_seconds": billed,
        }

    def _already_there(self, bucket: str, key: str, wan_task_id: str) -> StoredVideo | None:
        """This task's sealed video already at the key: nothing to do. Anything else needs ``replace``."""
        from airflow_provider_wan.transfers.video_copy import StoredVideo, sealed_sha256

        head = self.s3_hook.head_object(key, bucket)
        if head is None:
            return None
        owner = (head.get("Metadata") or {}).get(TASK_ID_METADATA)
        sha256 = sealed_sha256(self.s3_hook.get_conn(), bucket, key) if owner == wan_task_id else None
        if sha256:
            self.log.info(
                "s3://%s/%s already holds Wan task %s's video (sha256 %s): nothing to copy",
                bucket,
                key,
                wan_task_id,
                sha256,
            )
            return StoredVideo(bucket, key, int(head["ContentLength"]), sha256, copied=False)
        if owner == wan_task_id:
            self.log.warning(
                "s3://%s/%s holds an unverified copy of this video from an earlier try: replacing it",
                bucket,
                key,
            )
            return None
        if not self.replace:
            held = f"the video of Wan task {owner}" if owner else "an object not written by this operator"
            raise TransferRefused(
                f"s3://{bucket}/{key} already holds {held}; "
                "set replace=True to overwrite it, or choose another s3_key"
            )
        self.log.info("Replacing s3://%s/%s (replace=True)", bucket, key)
        return None

    def _finished_task(self, wan_task_id: str) -> WanTask:
        """The task as the service sees it now; anything but SUCCEEDED with a video fails for good."""
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

    def _copy(self, bucket: str, key: str, task: WanTask, generation: Generation) -> StoredVideo:
        from airflow_provider_wan.transfers.download import VideoDownload
        from airflow_provider_wan.transfers.video_copy import copy_video, delete_quietly

        assert task.video_url is not None
        policy = VideoHostPolicy(self.wan_hook.base_url, self.allowed_hosts)
        download = VideoDownload(
            task.video_url, policy=policy, max_bytes=self.max_bytes, retries=self.download_retries
        )
        client = self.s3_hook.get_conn()
        s3_args = _s3_args(self.encrypt, self.acl_policy)
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
                **s3_args,
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
                s3_args=s3_args,
                before_seal=write_sidecar if self.write_sidecar else None,
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

    def _report_asset(self, context: Context, stored: StoredVideo, wan_task_id: str) -> None:
        """An asset event for ``s3://bucket/key`` on every asset alias among the outlets."""
        asset = Asset(uri=stored.uri)
        extra: dict[str, Any] = {
            "wan_task_id": wan_task_id,
            "size": stored.size,
            "sha256": stored.sha256,
            "copied": stored.copied,
        }
        for outlet in self.outlets:
            if isinstance(outlet, AssetAlias):
                context["outlet_events"][outlet].add(asset, extra=extra)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:
        """The written object as OpenLineage output, and a ``wan`` run facet with the video's model,
        billed seconds and cost (called only where the OpenLineage provider runs)."""
        from airflow.providers.common.compat.openlineage.facet import Dataset
        from airflow.providers.openlineage.extractors import OperatorLineage

        from airflow_provider_wan.lineage import run_facets

        outputs = (
            [Dataset(namespace=f"s3://{self.stored.bucket}", name=self.stored.key)] if self.stored else []
        )
        return OperatorLineage(outputs=outputs, run_facets=run_facets(self.billing))


class WanS3DestinationCheckOperator(BaseOperator):
    """
    Check, before anything is billed, that the videos' bucket exists and this connection may write to it.

    Put it upstream of the generating task (``check >> generate``): a video is billed when it is created,
    and a missing or unwritable bucket otherwise shows only when the copy starts. It opens a multipart
    upload under ``s3_key_prefix`` and aborts it at once (the first call the copy makes, so the same
    bucket policy, KMS and ACL rules apply), writing nothing and costing nothing. A refusal fails the task
    without retries, naming ``s3_bucket``; a transient S3 error (5xx, throttling) is left to retries.

    :param s3_bucket: the bucket the transfer writes to. (templated)
    :param s3_key_prefix: where in the bucket the videos go (the transfer's default key starts ``wan/``).
        (templated)
    :param aws_conn_id: the AWS connection the transfer uses.
    :param encrypt: as the transfer's: the check's upload asks for the same server-side encryption.
    :param acl_policy: as the transfer's canned ACL.
    :param verify: TLS verification for S3.
    """

    template_fields: Sequence[str] = ("s3_bucket", "s3_key_prefix", "aws_conn_id")
    ui_color = "#ff6a00"

    def __init__(
        self,
        *,
        s3_bucket: str,
        s3_key_prefix: str = "wan/",
        aws_conn_id: str | None = "aws_default",
        encrypt: bool = False,
        acl_policy: str | None = None,
        verify: str | bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not s3_bucket:
            raise WanValidationError("s3_bucket", s3_bucket, "the bucket the videos go to")
        self.s3_bucket = s3_bucket
        self.s3_key_prefix = s3_key_prefix
        self.aws_conn_id = aws_conn_id
        self.encrypt = encrypt
        self.acl_policy = acl_policy
        self.verify = verify

    def execute(self, context: Context) -> str:
        import uuid

        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        key = f"{self.s3_key_prefix}.wan-destination-check-{uuid.uuid4().hex}"
        client = S3Hook(aws_conn_id=self.aws_conn_id, verify=self.verify).get_conn()
        try:
            if not self.s3_bucket:
                raise WanValidationError("s3_bucket", self.s3_bucket, "the bucket the videos go to")
            check_destination(client, self.s3_bucket, key, _s3_args(self.encrypt, self.acl_policy))
        except WanValidationError as err:
            raise WanTaskFinalError(str(err)) from err
        self.log.info("s3://%s/%s takes uploads: nothing was written", self.s3_bucket, self.s3_key_prefix)
        return f"s3://{self.s3_bucket}/{self.s3_key_prefix}"


def _s3_args(encrypt: bool, acl_policy: str | None) -> dict[str, Any]:
    """Encryption and ACL arguments of every object written (and of the destination check)."""
    s3_args: dict[str, Any] = {"ServerSideEncryption": "AES256"} if encrypt else {}
    if acl_policy:
        s3_args["ACL"] = acl_policy
    return s3_args


def _whole_number(parameter: str, value: Any, low: int, high: int, why: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise WanValidationError(parameter, value, f"a whole number from {low} to {high} {why}".rstrip())
    return value


def _checked_task_id(value: Any) -> str:
    try:
        return check_task_id(value)
    except WanValidationError:
        raise WanValidationError(
            "wan_task_id", value, "a Wan task id, e.g. \"{{ ti.xcom_pull('generate')['task_id'] }}\""
        ) from None
