"""Where a video goes in S3: the default key, a ``destination`` URI, and a check that the bucket takes it,
made before billing.

A video is billed when it is created; a missing or unwritable bucket found only when the copy starts
costs a video. :func:`check_destination` opens a multipart upload at the key with the copy's own
:data:`UPLOAD_ARGS` and aborts it at once: the first call the copy makes, so it meets the same refusals
(``NoSuchBucket``, ``AccessDenied``, KMS or ACL rules) while writing nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from airflow_provider_wan.api import WanValidationError

_TIMESTAMP = re.compile(r"(\d{4}-\d{2}-\d{2}T)(\d{2}):(\d{2}):(\d{2})(\.\d+)?\+00:00")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: What every video upload opens with (and the destination check too): each part's SHA-256 checked by S3.
UPLOAD_ARGS = {"ContentType": "video/mp4", "ChecksumAlgorithm": "SHA256"}
SKIP, REPLACE = "skip", "replace"
IF_EXISTS = (SKIP, REPLACE)  # what a generation operator does with a destination key already taken
_RETRYABLE_STATUS = {408, 429}  # S3's RequestTimeout and throttling: worth another try
_WHY = {
    "NoSuchBucket": "the bucket does not exist",
    "AccessDenied": "this AWS connection may not write to it (s3:PutObject)",
    "AllAccessDisabled": "all access to the bucket is disabled",
    "InvalidBucketName": "not a valid bucket name",
}


def s3_safe(run_id: str) -> str:
    """``run_id`` as a key part that needs no escaping in S3 URLs, event notifications or shells.

    Airflow's UTC timestamps keep their reading in ISO basic form
    (``manual__2026-12-01T07:23:45.578950+00:00`` -> ``manual__2026-12-01T072345.578950Z``); any other
    character outside ``A-Z a-z 0-9 . _ -`` becomes ``-``, and then a short digest of the original keeps
    two such run ids apart.
    """
    readable = _TIMESTAMP.sub(lambda m: f"{m[1]}{m[2]}{m[3]}{m[4]}{m[5] or ''}Z", run_id)
    if not _UNSAFE.search(readable):
        return readable
    digest = hashlib.sha256(run_id.encode()).hexdigest()[:8]
    return f"{_UNSAFE.sub('-', readable)}-{digest}"


def default_s3_key(dag_id: str, run_id: str, task_id: str, map_index: int | None) -> str:
    """``wan/<dag_id>/<run id, S3-safe>/<task_id>[-<map_index>].mp4``."""
    suffix = f"-{map_index}" if map_index is not None and map_index >= 0 else ""
    return f"wan/{dag_id}/{s3_safe(run_id)}/{task_id}{suffix}.mp4"


def parse_destination(value: Any) -> tuple[str, str]:
    """``s3://bucket/key`` as ``(bucket, key)``; anything else is refused naming ``destination``."""
    text = value if isinstance(value, str) else ""
    bucket, _, key = text.removeprefix("s3://").partition("/")
    if not text.startswith("s3://") or not bucket or not key or key.endswith("/"):
        raise WanValidationError(
            "destination", value, 's3://BUCKET/KEY of the video, e.g. "s3://videos/a.mp4"'
        )
    return bucket, key


def check_if_exists(value: Any) -> str:
    if value not in IF_EXISTS:
        allowed = (
            '"skip" (an object from the same request is the result; another request\'s fails before '
            'anything is billed) or "replace" (generate and overwrite)'
        )
        raise WanValidationError("if_exists", value, allowed)
    return str(value)


def check_destination(
    client: Any,
    bucket: str,
    key: str,
    s3_args: Mapping[str, Any],
    *,
    parameter: str = "s3_bucket",
    shown: str | None = None,
) -> None:
    """Open and abort a multipart upload at ``s3://bucket/key``.

    A refusal no retry can change (a 4xx other than throttling or a timeout) raises
    :class:`WanValidationError` naming ``parameter`` (with the value ``shown``, the bucket by default);
    anything else (5xx, ``SlowDown``, the network) is raised as it is, for the task's retries.
    """
    from botocore.exceptions import ClientError

    try:
        upload = client.create_multipart_upload(Bucket=bucket, Key=key, **UPLOAD_ARGS, **s3_args)
    except ClientError as err:
        error = err.response.get("Error", {})
        code = str(error.get("Code", "unknown"))
        status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code not in _WHY and (not 400 <= status < 500 or status in _RETRYABLE_STATUS):
            raise
        why = _WHY.get(code, "S3 refused a write there")
        raise WanValidationError(
            parameter,
            bucket if shown is None else shown,
            f"{why} (S3 {code} on CreateMultipartUpload for key {key}: {error.get('Message', '')})",
        ) from err
    client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"])
