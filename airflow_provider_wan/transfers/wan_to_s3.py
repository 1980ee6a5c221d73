"""Copy a finished Wan video into S3 before its signed URL dies (24 hours after generation).

Imported at DAG parse time: ``requests``, ``boto3`` and the streaming code load only in ``execute``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperator

from airflow_provider_wan.api import WanValidationError, check_task_id
from airflow_provider_wan.exceptions import TransferRefused, WanTaskFinalError
from airflow_provider_wan.hooks.connection import DEFAULT_AWS_CONN_ID, DEFAULT_CONN_ID
from airflow_provider_wan.hooks.wan import WanHook
from airflow_provider_wan.plugins.links import WanVideoLink
from airflow_provider_wan.transfers.destination import check_destination, default_s3_key
from airflow_provider_wan.transfers.landing import (
    DEFAULT_ASSET_ALIAS,
    DEFAULT_MAX_BYTES,
    ExistingObject,
    Landing,
    LandingOptions,
    report_asset,
    s3_args,
    with_asset_alias,
)
from airflow_provider_wan.transfers.video_metadata import read_generation

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

    from airflow_provider_wan.transfers.video_copy import StoredVideo

_TASK_ID_HELP = (
    "a Wan task id, e.g. \"{{ ti.xcom_pull('generate')['task_id'] }}\", or generation=generate.output"
)


class WanVideoToS3Operator(BaseOperator):
    """
    Stream a finished Wan video into S3, verified, idempotently, with bounded memory.

    For a separate copy step; a generation operator's own ``destination=`` lands its video in the same
    way without one. The service is asked for the task (a URL in XCom may be stale); the video is
    downloaded only from the vendor's storage (https ``*.aliyuncs.com``), the Wan connection's own host,
    or ``allowed_hosts``, with no credentials, and streamed into a multipart upload that is aborted on
    any failure. The stored object has ``Content-Type: video/mp4``, metadata (``wan-task-id``,
    ``wan-model``, ``wan-seed``, ``wan-size``, ``wan-duration``, ``wan-billed-seconds`` and, given the
    generation, ``wan-request-sha256``), S3's own SHA-256 checksum (checked against ours), and the whole
    video's SHA-256 as the ``wan-sha256`` tag, set last, once all is verified. A key that already holds
    this task's video is left alone. The object is reported as an asset event on the ``asset_alias``
    alias and as OpenLineage output, with a ``wan`` run facet (model, billed seconds, cost where
    known). Before downloading, an upload is opened at the key and aborted, so a missing or unwritable
    bucket fails naming ``s3_bucket``; put a :class:`WanS3DestinationCheckOperator` before the
    generating task to find that out before the video is billed.

    :param generation: the generating operator's XCom (``generate.output``; in a mapped task group each
        row gets its own): the Wan task id, and the model and seed the query answer lacks, with the
        billed seconds and cost; omitted from metadata when not given. (templated)
    :param wan_task_id: the Wan task whose video to copy, when no ``generation`` gives it, e.g.
        ``"{{ ti.xcom_pull('generate')['task_id'] }}"`` (``generate.output["task_id"]`` would pull an
        XCom *key* named ``task_id``). (templated)
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
        wan_task_id: str | None = None,
        s3_bucket: str | None = None,
        s3_key: str | None = None,
        wan_conn_id: str = DEFAULT_CONN_ID,
        aws_conn_id: str | None = DEFAULT_AWS_CONN_ID,
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
        super().__init__(outlets=with_asset_alias(kwargs.pop("outlets", None), asset_alias), **kwargs)
        self.landing_options = LandingOptions(
            encrypt=encrypt,
            acl_policy=acl_policy,
            verify=verify,
            write_sidecar=write_sidecar,
            allowed_hosts=allowed_hosts,  # type: ignore[arg-type]  # checked and made a tuple
            max_bytes=max_bytes,
            download_retries=download_retries,
        )
        if wan_task_id is None and generation is None:
            raise WanValidationError("wan_task_id", None, _TASK_ID_HELP)
        self.wan_task_id = wan_task_id
        self.s3_bucket = s3_bucket
        self.s3_key = s3_key
        self.wan_conn_id = wan_conn_id
        self.aws_conn_id = aws_conn_id
        self.replace = replace
        self.generation = generation
        self.stored: StoredVideo | None = None
        self.billing: dict[str, Any] | None = None

    @cached_property
    def wan_hook(self) -> WanHook:
        return WanHook(self.wan_conn_id)

    @cached_property
    def landing(self) -> Landing:
        return Landing(
            self.landing_options, aws_conn_id=self.aws_conn_id, wan_hook=self.wan_hook, log=self.log
        )

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        landing = self.landing
        try:
            generation = read_generation(self.generation, self.wan_task_id or None)
            wan_task_id = _checked_task_id(self.wan_task_id or generation.task_id)
            if not self.s3_bucket and not str(self.s3_key).startswith("s3://"):
                raise WanValidationError(
                    "s3_bucket", self.s3_bucket, "a bucket, or a full s3:// URL as s3_key"
                )
            s3_key = self.s3_key or default_s3_key(
                context["dag"].dag_id, context["run_id"], self.task_id, context["ti"].map_index
            )
            bucket, key = S3Hook.get_s3_bucket_key(self.s3_bucket, s3_key, "s3_bucket", "s3_key")
            existing = landing.existing(bucket, key, "s3_key", f"s3://{bucket}/{key}")
            stored = self._already_there(existing, wan_task_id)
            billed = generation.billed_seconds
            if stored is None:
                landing.check_writable(bucket, key, "s3_bucket", bucket)
                task = landing.finished_task(wan_task_id)
                billed = generation.billed(task)
                stored = landing.copy(bucket, key, task, generation)
        except (TransferRefused, WanValidationError) as err:
            raise WanTaskFinalError(str(err)) from err
        self.stored = stored
        self.billing = {
            "task_id": wan_task_id,
            "model": (generation.body or {}).get("model"),
            "billed_seconds": billed,
            "cost": generation.cost,
        }
        extra = {
            "wan_task_id": wan_task_id,
            "size": stored.size,
            "sha256": stored.sha256,
            "copied": stored.copied,
        }
        report_asset(context, self.outlets, stored.uri, extra)
        return {
            "s3_uri": stored.uri,
            "bucket": stored.bucket,
            "key": stored.key,
            "size": stored.size,
            "sha256": stored.sha256,
            "wan_task_id": wan_task_id,
            "copied": stored.copied,
            "sidecar_key": f"{key}.json" if self.landing_options.write_sidecar and stored.copied else None,
            "billed_seconds": billed,
        }

    def _already_there(self, existing: ExistingObject | None, wan_task_id: str) -> StoredVideo | None:
        """This task's sealed video already at the key: nothing to do. Anything else needs ``replace``."""
        if existing is None:
            return None
        uri = existing.uri
        if existing.wan_task_id == wan_task_id and existing.sha256:
            self.log.info(
                "%s already holds Wan task %s's video (sha256 %s): nothing to copy",
                uri,
                wan_task_id,
                existing.sha256,
            )
            return existing.as_stored()
        if existing.wan_task_id == wan_task_id:
            self.log.warning(
                "%s holds an unverified copy of this video from an earlier try: replacing it", uri
            )
            return None
        if not self.replace:
            raise TransferRefused(
                f"{uri} already holds {existing.describe()}; "
                "set replace=True to overwrite it, or choose another s3_key"
            )
        self.log.info("Replacing %s (replace=True)", uri)
        return None

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
        aws_conn_id: str | None = DEFAULT_AWS_CONN_ID,
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
            check_destination(client, self.s3_bucket, key, s3_args(self.encrypt, self.acl_policy))
        except WanValidationError as err:
            raise WanTaskFinalError(str(err)) from err
        self.log.info("s3://%s/%s takes uploads: nothing was written", self.s3_bucket, self.s3_key_prefix)
        return f"s3://{self.s3_bucket}/{self.s3_key_prefix}"


def _checked_task_id(value: Any) -> str:
    try:
        return check_task_id(value)
    except WanValidationError:
        raise WanValidationError("wan_task_id", value, _TASK_ID_HELP) from None
