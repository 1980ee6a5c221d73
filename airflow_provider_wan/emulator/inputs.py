"""What the emulator can learn about a create request's input media before it accepts the task.

The service downloads every input at create and refuses what it cannot fetch ("data inspection"). The
emulator never goes to the internet: it decodes ``data:`` URLs, fetches loopback http(s) URLs (``127.*``,
``::1``, ``localhost``) with a short timeout, and reads each picture's size and each clip's length and
size. Anything else it cannot see, so the contract's fallbacks apply (16:9 size of the tier, reference
videos at their billing cap); so does content it cannot read (tests' stand-in bytes), while content of
another kind (a clip where a picture belongs) is refused *(assumed)*. Files uploaded to the emulator
(:mod:`.uploads`) are read as ``oss://`` inputs. By convention *(assumed)* a host under ``.invalid`` is
unreachable, and an ``oss://`` input without ``X-DashScope-OssResourceResolve: enable`` cannot be
resolved; both are refused at create with ``InvalidParameter.DataInspection`` and the vendor's messages.
"""

from __future__ import annotations

import asyncio
import io
import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from airflow_provider_wan.api import MediaInput, WanRequest, image_size
from airflow_provider_wan.api.media import data_url_bytes
from airflow_provider_wan.emulator.uploads import UploadStore

FETCH_TIMEOUT = 10.0  # seconds per input, connect and read together (a loaded test machine is slow)
DATA_INSPECTION = "InvalidParameter.DataInspection"
INSPECTION_MESSAGES = {
    "timeout": "Download the media resource timed out during the data inspection process.",
    "missing": "Failed to find the requested media resource during the data inspection process.",
    "forbidden": "Don't have authorization to access the media resource during the data inspection process.",
    "format": "The media format is not supported or incorrect for the data inspection.",
}


@dataclass(frozen=True)
class MediaFacts:
    """What one input turned out to be: its kind, pixels and seconds, where readable."""

    kind: str  # "image", "video" or "audio"
    width: int | None = None
    height: int | None = None
    seconds: float | None = None
    size_bytes: int | None = None

    @property
    def pixels(self) -> tuple[int, int] | None:
        return (self.width, self.height) if self.width and self.height else None


class InspectionRefused(Exception):
    """An input the service would refuse at create; ``reason`` keys :data:`INSPECTION_MESSAGES`."""

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(INSPECTION_MESSAGES[reason])
        self.parameter = parameter
        self.reason = reason


async def inspect_inputs(
    request: WanRequest, oss_resolve: bool, uploads: UploadStore
) -> dict[str, MediaFacts]:
    """Facts about each input the emulator can read, by input URL (``oss://`` ones from ``uploads``);
    raises :class:`InspectionRefused`."""
    inputs = [item for item in request.media_inputs() if isinstance(item.url, str)]
    for item in inputs:
        if item.url.startswith("oss://") and not oss_resolve:
            raise InspectionRefused(item.parameter, "forbidden")
        host = urlsplit(item.url).hostname or ""
        if host == "invalid" or host.endswith(".invalid"):
            raise InspectionRefused(item.parameter, "missing")
    fetched = [item for item in inputs if _is_loopback(item.url)]
    facts = {item.url: found for item in inputs if (found := _decoded(item)) is not None}
    for item in inputs:
        uploaded = uploads.get(item.url) if item.url.startswith("oss://") else None
        found = await _inspected(item, uploaded) if uploaded is not None else None
        if found is not None:
            facts[item.url] = found
    if fetched:
        timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            read = await asyncio.gather(*(_fetch(session, item) for item in fetched))
        facts.update((item.url, fact) for item, fact in zip(fetched, read, strict=True) if fact is not None)
    return facts


def _decoded(item: MediaInput) -> MediaFacts | None:
    """A ``data:`` image's facts (its limits are the request's own checks, not the inspection's)."""
    if not item.url.startswith("data:"):
        return None
    data = data_url_bytes(item.url)
    size = image_size(data) if data is not None else None
    return MediaFacts("image", *size, size_bytes=len(data or b"")) if size else None


def _is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    host = parts.hostname
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _fetch(session: aiohttp.ClientSession, item: MediaInput) -> MediaFacts | None:
    try:
        async with session.get(item.url, allow_redirects=False) as answer:
            if answer.status in (401, 403):
                raise InspectionRefused(item.parameter, "forbidden")
            if answer.status != 200:
                raise InspectionRefused(item.parameter, "missing")
            data = await _read_up_to(answer.content, item.rule.max_bytes + 1)
    except (TimeoutError, asyncio.TimeoutError):
        raise InspectionRefused(item.parameter, "timeout") from None
    except aiohttp.ClientError:
        raise InspectionRefused(item.parameter, "missing") from None
    return await _inspected(item, data)


async def _read_up_to(content: aiohttp.StreamReader, limit: int) -> bytes:
    """The body, or its first ``limit`` bytes: ``read(n)`` alone returns what has arrived so far, and
    a clip or sound cut short reads as shorter than it is."""
    data = bytearray()
    while len(data) < limit and (chunk := await content.read(limit - len(data))):
        data += chunk
    return bytes(data)


async def _inspected(item: MediaInput, data: bytes) -> MediaFacts | None:
    """The facts of an input's bytes (read off the event loop), None when unreadable; refused when they
    are media of a kind the slot does not take."""
    facts = await asyncio.get_running_loop().run_in_executor(None, read_media, data)
    if facts is not None and facts.kind not in _kinds_taken(item):
        raise InspectionRefused(item.parameter, "format")
    return facts


def _kinds_taken(item: MediaInput) -> set[str]:
    """The media kinds an input slot takes: its rule's, and either picture or clip for a wan2.6
    reference (``reference_urls`` mixes them; its rule is only a guess from the URL's suffix)."""
    return {"image", "video"} if item.parameter.startswith("reference_urls[") else {item.rule.kind}


def read_media(data: bytes) -> MediaFacts | None:
    """An image's size from its header; a clip's or a sound's length (and a clip's size) via PyAV."""
    pixels = image_size(data)
    if pixels is not None:
        return MediaFacts("image", *pixels, size_bytes=len(data)) if min(pixels) > 0 else None
    import av

    try:
        with av.open(io.BytesIO(data)) as container:
            seconds = container.duration / 1_000_000 if container.duration else None
            if container.streams.video:
                stream: Any = container.streams.video[0]
                return MediaFacts("video", stream.width, stream.height, seconds, len(data))
            if container.streams.audio:
                return MediaFacts("audio", seconds=seconds, size_bytes=len(data))
    except (av.FFmpegError, ValueError):
        return None
    return None
