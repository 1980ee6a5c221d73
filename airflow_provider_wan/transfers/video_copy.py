"""One video streamed into one S3 key: verified end to end, and either fully there or not there at all."""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from airflow_provider_wan.exceptions import DownloadInterrupted, IntegrityError, TransferRefused
from airflow_provider_wan.transfers.download import VideoDownload
from airflow_provider_wan.transfers.multipart import DEFAULT_PART_SIZE, MultipartUpload, part_size_for

log = logging.getLogger(__name__)

CONTENT_TYPE = "video/mp4"
SHA256_TAG = "wan-sha256"


@dataclass(frozen=True)
class StoredVideo:
    """What landed in S3 (or was already there)."""

    bucket: str
    key: str
    size: int
    sha256: str  # hex digest of the whole video, as ``sha256sum`` prints it
    copied: bool  # False when the key already held this video
    resumes: int = 0
    restarts: int = 0

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def copy_video(
    download: VideoDownload,
    client: Any,
    bucket: str,
    key: str,
    *,
    metadata: Mapping[str, str],
    s3_args: Mapping[str, Any] | None = None,
    part_size: int = DEFAULT_PART_SIZE,
    before_seal: Callable[[str, int], None] | None = None,
) -> StoredVideo:
    """Stream ``download`` into ``s3://bucket/key`` as a multipart upload, check it, then seal it.

    The check asks S3 for the length and the SHA-256 it computed from the parts it stored, compared with
    ours. Sealing tags the object with the whole video's SHA-256 (``wan-sha256``): S3 cannot change an
    object's metadata without rewriting it, which for a 1 GiB video costs more than the upload itself.
    ``before_seal(sha256, size)`` runs just before (the JSON sidecar is written there), so a sealed key
    has all it should; any failure after the upload completed removes the object. Restarts from byte 0
    when the video host cannot resume a broken stream, within the download's retry budget.
    """
    args = {"ContentType": CONTENT_TYPE, **(s3_args or {})}
    restarts = 0
    while True:
        try:
            sha256, composite = _upload(download, client, bucket, key, metadata, args, part_size)
            break
        except DownloadInterrupted as err:
            if not err.restart_from_zero:
                raise
            restarts += 1
            log.warning("%s (restart %d)", err, restarts)
    size = download.received
    try:
        _check_stored(client, bucket, key, size, composite)
        if before_seal is not None:
            before_seal(sha256, size)
        client.put_object_tagging(
            Bucket=bucket, Key=key, Tagging={"TagSet": [{"Key": SHA256_TAG, "Value": sha256}]}
        )
    except BaseException:
        delete_quietly(client, bucket, key)
        raise
    return StoredVideo(bucket, key, size, sha256, copied=True, resumes=download.resumes, restarts=restarts)


def sealed_sha256(client: Any, bucket: str, key: str) -> str | None:
    """The SHA-256 a finished copy left on the object; None for an object we did not seal."""
    tags = client.get_object_tagging(Bucket=bucket, Key=key).get("TagSet", [])
    return next((tag["Value"] for tag in tags if tag.get("Key") == SHA256_TAG), None)


def _upload(
    download: VideoDownload,
    client: Any,
    bucket: str,
    key: str,
    metadata: Mapping[str, str],
    args: Mapping[str, Any],
    part_size: int,
) -> tuple[str, str]:
    """One pass from byte 0; returns the whole video's SHA-256 (hex) and S3's composite one of its parts."""
    digest = hashlib.sha256()
    stream = download.stream()
    with closing(stream):
        first = next(stream, b"")  # opening the stream first: a refusal comes before any S3 call
        upload = MultipartUpload(
            client,
            bucket,
            key,
            part_size=part_size_for(download.content_length, part_size),
            create_args={**args, "Metadata": dict(metadata)},
        )
        with upload:
            for chunk in itertools.chain((first,), stream):
                digest.update(chunk)
                upload.write(chunk)
            if download.received == 0:
                raise TransferRefused("The video host served an empty video")
            if download.content_length is not None and download.received != download.content_length:
                raise IntegrityError(
                    f"Received {download.received} bytes, Content-Length said {download.content_length}"
                )
            composite = upload.complete()
    return digest.hexdigest(), composite


def _check_stored(client: Any, bucket: str, key: str, size: int, composite: str) -> None:
    """S3's own account of what it stored: its length, and the SHA-256 it computed from the parts."""
    head = client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    reported = head.get("ChecksumSHA256")  # "<base64>-<parts>"; some servers leave the suffix out
    if head["ContentLength"] != size:
        raise IntegrityError(
            f"S3 holds {head['ContentLength']} bytes at s3://{bucket}/{key}, {size} were sent"
        )
    if reported is not None and reported not in (composite, composite.rpartition("-")[0]):
        raise IntegrityError(
            f"S3 reports SHA-256 {reported} for s3://{bucket}/{key}, the parts sent hash to {composite}"
        )


def delete_quietly(client: Any, bucket: str, key: str) -> None:
    """Remove an object we wrote but could not verify; a failure here is logged, not raised over the cause."""
    try:
        client.delete_object(Bucket=bucket, Key=key)
    except Exception:
        log.exception("Could not remove the unverified object s3://%s/%s", bucket, key)
    else:
        log.warning("Removed s3://%s/%s: it could not be verified", bucket, key)
