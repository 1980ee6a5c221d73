"""An S3 multipart upload fed chunk by chunk, with memory bounded by the part size, aborted on any failure."""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any

log = logging.getLogger(__name__)

MiB = 1024 * 1024
MIN_PART_SIZE = 5 * MiB  # S3's floor for every part but the last
DEFAULT_PART_SIZE = 8 * MiB
MAX_PARTS = 10_000


def part_size_for(expected_size: int | None, preferred: int = DEFAULT_PART_SIZE) -> int:
    """``preferred``, grown when needed so ``expected_size`` fits in S3's 10,000 parts."""
    if expected_size is None:
        return preferred
    return max(preferred, -(-expected_size // MAX_PARTS))


def b64_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


class MultipartUpload:
    """Parts go up from background threads, at most ``max_in_flight`` at a time, while the caller keeps
    writing; memory stays near ``(max_in_flight + 1) * part_size`` whatever the object's size: each part
    is filled in place in a buffer of its own, handed to its thread as is, never copied.

    Each part carries its SHA-256, which S3 checks on arrival. Leaving the ``with`` block before
    :meth:`complete` succeeded aborts the upload, after the parts in flight have settled, so no
    upload stays open and nothing appears at the key.
    """

    def __init__(
        self,
        client: Any,
        bucket: str,
        key: str,
        *,
        part_size: int = DEFAULT_PART_SIZE,
        max_in_flight: int = 2,
        create_args: Mapping[str, Any] | None = None,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.key = key
        self.part_size = max(part_size, MIN_PART_SIZE)
        self.create_args = dict(create_args or {})
        self.upload_id: str | None = None
        self.completed = False
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._pool = ThreadPoolExecutor(max_in_flight, thread_name_prefix="wan-s3-part")
        self._parts: list[Future[tuple[dict[str, Any], bytes]]] = []
        self._buffer = bytearray(self.part_size)
        self._filled = 0

    def __enter__(self) -> MultipartUpload:
        answer = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=self.key, ChecksumAlgorithm="SHA256", **self.create_args
        )
        self.upload_id = answer["UploadId"]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        if not self.completed:
            self.abort()

    def write(self, data: bytes) -> None:
        """Copy ``data`` into the current part; a full part goes to an upload thread (waiting for a slot)."""
        view = memoryview(data)
        while view:
            taken = view[: self.part_size - self._filled]
            self._buffer[self._filled : self._filled + len(taken)] = taken
            self._filled += len(taken)
            view = view[len(taken) :]
            if self._filled == self.part_size:
                self._send_buffer()

    def complete(self) -> str:
        """Send the last part, wait for all, complete the upload; returns S3's composite SHA-256 of the
        parts (``<base64>-<count>``) as we computed it, to compare with what S3 reports."""
        if self._filled or not self._parts:
            del self._buffer[self._filled :]  # the last part: shrunk in place
            self._send_buffer()
        results = [future.result() for future in self._parts]
        parts = [part for part, _digest in results]
        self.client.complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, MultipartUpload={"Parts": parts}
        )
        self.completed = True
        return f"{b64_sha256(b''.join(digest for _part, digest in results))}-{len(parts)}"

    def abort(self) -> None:
        """Abort the upload; a failure to abort is logged with the upload id (a lifecycle rule's job)."""
        if self.upload_id is None:
            return
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
        except Exception:
            log.exception(
                "Could not abort multipart upload %s of s3://%s/%s; an AbortIncompleteMultipartUpload "
                "lifecycle rule will remove it",
                self.upload_id,
                self.bucket,
                self.key,
            )
        else:
            log.info("Aborted multipart upload of s3://%s/%s: nothing was written", self.bucket, self.key)

    def _send_buffer(self) -> None:
        body = self._buffer
        self._buffer = bytearray(self.part_size)
        self._filled = 0
        self._raise_failed()
        self._slots.acquire()
        try:
            future = self._pool.submit(self._upload_part, len(self._parts) + 1, body)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(lambda _done: self._slots.release())
        self._parts.append(future)

    def _raise_failed(self) -> None:
        """Stop feeding an upload one of whose parts already failed."""
        for future in self._parts:
            if future.done() and future.exception() is not None:
                future.result()

    def _upload_part(self, number: int, body: bytearray) -> tuple[dict[str, Any], bytes]:
        digest = hashlib.sha256(body).digest()
        checksum = base64.b64encode(digest).decode()
        answer = self.client.upload_part(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            PartNumber=number,
            Body=body,
            ChecksumSHA256=checksum,
        )
        return {"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": checksum}, digest
