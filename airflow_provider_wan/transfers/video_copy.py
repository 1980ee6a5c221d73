"""One video streamed into one S3 key through boto3's managed multipart upload: verified end to end, and
either fully there or not there at all."""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from boto3.s3.transfer import TransferConfig, create_transfer_manager
from s3transfer.utils import ChunksizeAdjuster

from airflow_provider_wan.exceptions import (
    DownloadInterrupted,
    IntegrityError,
    TransferError,
    TransferRefused,
)
from airflow_provider_wan.transfers.destination import UPLOAD_ARGS
from airflow_provider_wan.transfers.download import VideoDownload

log = logging.getLogger(__name__)

DEFAULT_PART_SIZE = 8 * 1024 * 1024
PARTS_IN_FLIGHT = 2  # memory stays near (PARTS_IN_FLIGHT + 2) * part size, whatever the video's size
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

    Each part carries its SHA-256, which S3 checks on arrival; then S3 is asked for the length and the
    SHA-256 it computed from the parts it stored, compared with ours. Sealing tags the object with the
    whole video's SHA-256 (``wan-sha256``): S3 cannot change an object's metadata without rewriting it,
    which for a 1 GiB video costs more than the upload itself. ``before_seal(sha256, size)`` runs just
    before (the JSON sidecar is written there), so a sealed key has all it should; any failure after the
    upload completed removes the object. Restarts from byte 0 when the video host cannot resume a broken
    stream, within the download's retry budget.
    """
    extra_args = {**UPLOAD_ARGS, "Metadata": dict(metadata), **(s3_args or {})}
    restarts = 0
    while True:
        try:
            body = _upload(download, client, bucket, key, extra_args, part_size)
            break
        except DownloadInterrupted as err:
            if not err.restart_from_zero:
                raise
            restarts += 1
            log.warning("%s (restart %d)", err, restarts)
    size, sha256 = download.received, body.sha256.hexdigest()
    try:
        _check_stored(client, bucket, key, size, body.composite_sha256())
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


class _Body(io.RawIOBase):
    """The download as the file the managed upload reads part by part: hashed whole and part by part on
    the way (S3's checksum of the parts is compared with ours), and stopped once the upload failed or was
    cancelled, so a refused part or a killed task does not wait for the rest of the download."""

    def __init__(self, chunks: Iterator[bytes], part_size: int) -> None:
        self.chunks = chunks
        self.part_size = part_size
        self.upload: Any = None  # the transfer's future, once submitted
        self.sha256 = hashlib.sha256()
        self._chunk = memoryview(b"")
        self._part = hashlib.sha256()
        self._part_filled = 0
        self._part_digests: list[bytes] = []

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.upload is not None and self.upload.done():
            raise TransferError("The upload to S3 stopped; the download stops with it")
        if not self._chunk:
            self._chunk = memoryview(next(self.chunks, b""))
            self.sha256.update(self._chunk)
        size = min(len(buffer), len(self._chunk), self.part_size - self._part_filled)
        buffer[:size] = self._chunk[:size]
        self._part.update(self._chunk[:size])
        self._chunk = self._chunk[size:]
        self._part_filled += size
        if self._part_filled == self.part_size or (size == 0 and self._part_filled):
            self._part_digests.append(self._part.digest())
            self._part, self._part_filled = hashlib.sha256(), 0
        return size

    def composite_sha256(self) -> str:
        """S3's checksum of a multipart object as we compute it: the SHA-256 of the parts' SHA-256s,
        base64, then ``-<parts>``."""
        digest = hashlib.sha256(b"".join(self._part_digests)).digest()
        return f"{base64.b64encode(digest).decode()}-{len(self._part_digests)}"


def _upload(
    download: VideoDownload,
    client: Any,
    bucket: str,
    key: str,
    extra_args: Mapping[str, Any],
    part_size: int,
) -> _Body:
    """One pass from byte 0 through boto3's managed transfer, which aborts the upload on any failure."""
    stream = download.stream()
    with closing(stream):
        first = next(stream, b"")  # opening the stream first: a refusal comes before any S3 call
        if not first:
            raise TransferRefused("The video host served an empty video")
        # at least S3's floor of 5 MiB, grown so a video of known size fits in S3's 10,000 parts
        part_size = ChunksizeAdjuster().adjust_chunksize(part_size, download.content_length)
        body = _Body(itertools.chain((first,), stream), part_size)
        config = TransferConfig(
            multipart_threshold=1,  # every video as a multipart upload, the call the destination check makes
            multipart_chunksize=body.part_size,
            max_concurrency=PARTS_IN_FLIGHT,
            preferred_transfer_client="classic",
        )
        config.max_in_memory_upload_chunks = PARTS_IN_FLIGHT
        # The manager rather than upload_fileobj: its future lets the body stop reading once it failed.
        with create_transfer_manager(client, config) as manager:
            body.upload = manager.upload(io.BufferedReader(body), bucket, key, extra_args)
            body.upload.result()
    return body


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
