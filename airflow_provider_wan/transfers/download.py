"""Fetching a video over plain HTTP(S): no credentials, each redirect hop checked, size capped, and a broken
stream continued with ``Range`` + ``If-Range`` so a video that changed meanwhile is never spliced."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Generator
from urllib.parse import urljoin

import requests
import urllib3

from airflow_provider_wan import __version__
from airflow_provider_wan.api import backoff_delay
from airflow_provider_wan.exceptions import DownloadInterrupted, TransferError, TransferRefused
from airflow_provider_wan.transfers.host_policy import VideoHostPolicy, redact_url

log = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_TRANSIENT_STATUSES = frozenset({408, 425, 429})
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
_QUERY = re.compile(r"\?[^\s'\")]+")


class _Transient(Exception):
    """A failure worth another request: a broken or short stream, or a 5xx/429 answer."""


class _NoCredentials(requests.auth.AuthBase):
    """Makes sure no ``Authorization`` header (from ``.netrc`` or anywhere else) reaches the video host."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.pop("Authorization", None)
        return request


def plain_session() -> requests.Session:
    """A session of its own for the video host: never the Wan hook's, which carries the API key."""
    session = requests.Session()
    session.auth = _NoCredentials()
    session.headers.update(
        {"User-Agent": f"airflow-provider-wan/{__version__}", "Accept-Encoding": "identity"}
    )
    return session


class VideoDownload:
    """One video's bytes, streamed in chunks; ``stream()`` may be called again to start over from byte 0."""

    def __init__(
        self,
        url: str,
        *,
        policy: VideoHostPolicy,
        max_bytes: int,
        retries: int = 3,
        timeout: tuple[float, float] = (10.0, 60.0),
        retry_base_delay: float = 1.0,
        chunk_size: int = CHUNK_SIZE,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url
        self.policy = policy
        self.max_bytes = max_bytes
        self.retries = retries
        self.timeout = timeout
        self.retry_base_delay = retry_base_delay
        self.chunk_size = chunk_size
        self.session = session or plain_session()
        self._sleep = sleep
        self.failures = 0
        self.resumes = 0
        self.received = 0
        self.content_length: int | None = None
        self._validator: str | None = None
        self._accepts_ranges = False

    def stream(self) -> Generator[bytes, None, None]:
        """The video from byte 0, continued in place after breaks the server lets us resume.

        Raises :class:`DownloadInterrupted` with ``restart_from_zero`` when it cannot continue but a fresh
        download is still within the retry budget, and without it once the budget is spent.
        """
        self.received = 0
        while True:
            try:
                with self._open(self.received) as response:
                    # read1: whatever has arrived, so a break loses no byte that was received before it
                    while chunk := response.raw.read1(self.chunk_size, decode_content=True):
                        self._take(len(chunk))
                        yield chunk
                if self.content_length is None or self.received == self.content_length:
                    return
                raise _Transient(f"stream ended at byte {self.received} of {self.content_length}")
            except (requests.RequestException, urllib3.exceptions.HTTPError, _Transient) as err:
                self._after_failure(err)

    def _take(self, size: int) -> None:
        self.received += size
        if self.received > self.max_bytes:
            raise TransferRefused(
                f"The video is larger than max_bytes={self.max_bytes}; raise max_bytes to copy it"
            )

    def _after_failure(self, err: Exception) -> None:
        """Count a failure, give up when the budget is spent, else wait and check we may continue."""
        self.failures += 1
        reason = _QUERY.sub("?…", str(err))  # urllib3 quotes the URL, signature included
        if self.failures > self.retries:
            raise DownloadInterrupted(
                f"Download of {redact_url(self.url)} failed {self.failures} times, last: {reason}",
                restart_from_zero=False,
            ) from None
        delay = backoff_delay(self.failures - 1, base=self.retry_base_delay, cap=30.0)
        log.warning(
            "Video download broke off at byte %d (%s); try %d of %d in %.1fs",
            self.received,
            reason,
            self.failures + 1,
            self.retries + 1,
            delay,
        )
        self._sleep(delay)
        if self.received and not (self._accepts_ranges and self._validator):
            raise DownloadInterrupted(
                "The video host does not support resuming (no Accept-Ranges with an ETag or "
                "Last-Modified); starting over",
                restart_from_zero=True,
            ) from None

    def _open(self, start: int) -> requests.Response:
        """GET from ``start``, following redirects by hand so every hop passes the host policy."""
        headers = {"Range": f"bytes={start}-", "If-Range": self._validator or ""} if start else {}
        url = self.url
        for _hop in range(MAX_REDIRECTS + 1):
            self.policy.check(url)
            response = self.session.get(
                url, headers=headers, stream=True, allow_redirects=False, timeout=self.timeout
            )
            if response.status_code not in _REDIRECT_STATUSES:
                return self._accept(response, start)
            response.close()
            location = response.headers.get("Location")
            if not location:
                raise TransferError(f"The video host redirected without a Location ({response.status_code})")
            url = urljoin(url, location)
        raise TransferRefused(f"The video URL redirected more than {MAX_REDIRECTS} times")

    def _accept(self, response: requests.Response, start: int) -> requests.Response:
        status = response.status_code
        if start == 0 and status == 200:
            self._learn(response)
            return response
        if start and status == 206 and self._continues(response.headers.get("Content-Range", ""), start):
            self.resumes += 1
            log.info("Resumed the video download at byte %d", start)
            return response
        response.close()
        if start and status in (200, 206, 416):
            raise DownloadInterrupted(
                f"The video host answered the resume request with HTTP {status} (video changed or no "
                "Range support); starting over",
                restart_from_zero=True,
            )
        if status >= 500 or status in _TRANSIENT_STATUSES:
            raise _Transient(f"HTTP {status} from the video host")
        raise TransferRefused(
            f"The video host answered HTTP {status} for {redact_url(response.url)}; the signed URL may have "
            "expired (it lives 24 hours)"
        )

    def _learn(self, response: requests.Response) -> None:
        """Length, validator and Range support of a full answer; refuse an oversize or empty video early."""
        headers = response.headers
        encoded = headers.get("Content-Encoding", "identity").lower() != "identity"
        length = headers.get("Content-Length", "")
        self.content_length = int(length) if length.isdigit() and not encoded else None
        etag = headers.get("ETag")
        self._validator = etag if etag and not etag.startswith("W/") else headers.get("Last-Modified")
        self._accepts_ranges = headers.get("Accept-Ranges", "").lower() == "bytes" and not encoded
        if self.content_length is not None and self.content_length > self.max_bytes:
            response.close()
            raise TransferRefused(
                f"The video is {self.content_length} bytes, over max_bytes={self.max_bytes}; "
                "raise max_bytes to copy it"
            )
        if self.content_length == 0:
            response.close()
            raise TransferRefused("The video host served an empty video (Content-Length: 0)")

    def _continues(self, content_range: str, start: int) -> bool:
        """Whether a 206 answer is exactly the rest of the same video."""
        match = _CONTENT_RANGE.match(content_range.strip())
        if not match:
            return False
        total = None if match[3] == "*" else int(match[3])
        return int(match[1]) == start and total == self.content_length
