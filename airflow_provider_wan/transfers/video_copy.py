"""One video streamed into one S3 key: verified end to end, and either fully there or not there at all."""

from __future__ import annotations

import base64
import hashlib
import itertools
import logging
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from airflow_provider_wan.transfers.download import VideoDownload
from airflow_provider_wan.transfers.errors import DownloadInterrupted, IntegrityError, TransferRefused
from airflow_provider_wan.transfers.multipart import DEFAULT_PART_SIZE, MultipartUpload, part_size_for

log = logging.getLogger(__name__)

CONTENT_TYPE = "video/mp4"
SHA256_METADATA = "sha256"


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
    """Stream ``download`` into ``s3://bucket/key`` as a multipart upload, then seal it.

    Sealing copies the object onto itself with its final metadata (the SHA-256 now known) and asks S3
    for a SHA-256 of what it stored, compared with ours; any mismatch or failure removes the object.
    ``before_seal(sha256, size)`` runs between the two (the JSON sidecar is written there), so a key
    carrying our ``sha256`` metadata always has all it should. Restarts from byte 0 when the video host
    cannot resume a broken stream, within the download's retry budget.
    """
    args = {"ContentType": CONTENT_TYPE, **(s3_args or {})}
    restarts = 0
    while True:
        try:
            digest, composite = _upload(download, client, bucket, key, metadata, args, part_size)
            sha256 = digest.hex()
            break
        except DownloadInterrupted as err:
            if not err.restart_from_zero:
                raise
            restarts += 1
            log.warning("%s (restart %d)", err, restarts)
    size = download.received
    try:
        if before_seal is not None:
            before_seal(sha256, size)
        _seal(client, bucket, key, {**metadata, SHA256_METADATA: sha256}, args, digest, composite)
    except BaseException:
        delete_quietly(client, bucket, key)
        raise
    return StoredVideo(bucket, key, size, sha256, copied=True, resumes=download.resumes, restarts=restarts)


def _upload(
    download: VideoDownload,
    client: Any,
    bucket: str,
    key: str,
    metadata: Mapping[str, str],
    args: Mapping[str, Any],
    part_size: int,
) -> tuple[bytes, str]:
    """One pass from byte 0; returns our SHA-256 of the whole video and S3's composite one of its parts."""
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
    return digest.digest(), composite


def _seal(
    client: Any,
    bucket: str,
    key: str,
    metadata: Mapping[str, str],
    args: Mapping[str, Any],
    digest: bytes,
    composite: str,
) -> None:
    """Rewrite the object's metadata in place and check S3's own SHA-256 of the stored bytes."""
    answer = client.copy_object(
        Bucket=bucket,
        Key=key,
        CopySource={"Bucket": bucket, "Key": key},
        MetadataDirective="REPLACE",
        Metadata=dict(metadata),
        ChecksumAlgorithm="SHA256",
        **args,
    )
    reported = answer.get("CopyObjectResult", {}).get("ChecksumSHA256")
    whole = base64.b64encode(digest).decode()
    if reported is not None and reported not in (whole, composite):
        raise IntegrityError(
            f"S3 reports SHA-256 {reported} for s3://{bucket}/{key}, the download hashed to {whole}"
        )


def s3_checksum(sha256_hex: str) -> str:
    """The form S3 gives a SHA-256 in (``ChecksumSHA256``): base64 of the digest."""
    return base64.b64encode(bytes.fromhex(sha256_hex)).decode()


def delete_quietly(client: Any, bucket: str, key: str) -> None:
    """Remove an object we wrote but could not verify; a failure here is logged, not raised over the cause."""
    try:
        client.delete_object(Bucket=bucket, Key=key)
    except Exception:
        log.exception("Could not remove the unverified object s3://%s/%s", bucket, key)
    else:
        log.warning("Removed s3://%s/%s: it could not be verified", bucket, key)
