"""Input media rules every media family shares: URL forms, media types, and the limits that can be
checked before anything is sent (bytes, pixels, seconds) when the caller knows them."""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_wan.exceptions import WanValidationError

MB = 1024 * 1024  # (assumed) the pages' "MB" read as MiB: the larger reading never refuses a valid input
OSS_RESOLVE_HEADER = "X-DashScope-OssResourceResolve"
URL_SCHEMES = ("http", "https", "oss")
SUFFIXES = {
    "image": (".jpg", ".jpeg", ".png", ".bmp", ".webp"),
    "audio": (".wav", ".mp3"),
    "video": (".mp4", ".mov"),
}
IMAGE_MIME_TYPES = ("image/jpeg", "image/png", "image/bmp", "image/webp")
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)$", re.DOTALL)


@dataclass(frozen=True)
class MediaRule:
    """What one input slot accepts: its media kind, byte limit and, where stated, seconds and pixels."""

    kind: str  # "image", "audio" or "video"
    max_bytes: int
    seconds: tuple[float, float] | None = None
    sides: tuple[int, int] | None = None  # each of width and height within [min, max] pixels
    max_aspect: float | None = None  # 8 for "1:8 to 8:1"
    data_url: bool = False  # whether a data:{MIME};base64 URL is documented for this slot

    @property
    def allowed(self) -> str:
        schemes = "an http(s), oss:// or data: URL" if self.data_url else "an http(s) or oss:// URL"
        *rest, last = SUFFIXES[self.kind]
        return f"{schemes} of a {', '.join(rest)} or {last} file"

    def check_url(self, parameter: str, url: Any) -> None:
        """Refuse a URL of the wrong form or media type; a data: image is also checked for its limits."""
        if not isinstance(url, str) or not url or any(c.isspace() for c in url):
            raise WanValidationError(parameter, url, self.allowed)
        if url.startswith("data:"):
            self._check_data_url(parameter, url)
            return
        parts = urlsplit(url)
        if parts.scheme not in URL_SCHEMES or not parts.netloc:
            raise WanValidationError(parameter, url, self.allowed)
        last = parts.path.rsplit("/", 1)[-1].lower()
        if "." in last and not last.endswith(SUFFIXES[self.kind]):
            raise WanValidationError(parameter, url, self.allowed)

    def check_known(
        self,
        parameter: str,
        *,
        size_bytes: int | None = None,
        seconds: float | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> None:
        """Refuse an input whose known size, length or pixels break this slot's limits."""
        if size_bytes is not None and size_bytes > self.max_bytes:
            limit = f"at most {self.max_bytes // MB} MB (got {size_bytes} bytes)"
            raise WanValidationError(parameter, f"{size_bytes} bytes", f"a {self.kind} of {limit}")
        if seconds is not None and self.seconds and not self.seconds[0] <= seconds <= self.seconds[1]:
            low, high = self.seconds
            raise WanValidationError(parameter, seconds, f"a {self.kind} of {low:g} to {high:g} seconds")
        if width is None or height is None:
            return
        if self.sides and not all(self.sides[0] <= side <= self.sides[1] for side in (width, height)):
            low, high = self.sides
            raise WanValidationError(
                parameter, f"{width}x{height}", f"width and height from {low} to {high} pixels"
            )
        if self.max_aspect and max(width / height, height / width) > self.max_aspect:
            ratio = f"1:{self.max_aspect:g} to {self.max_aspect:g}:1"
            raise WanValidationError(parameter, f"{width}x{height}", f"an aspect ratio from {ratio}")

    def _check_data_url(self, parameter: str, url: str) -> None:
        if not self.data_url:
            raise WanValidationError(parameter, url, f"{self.allowed} (no data: URL here)")
        data = data_url_bytes(url)
        if data is None:
            allowed = f"data:{{MIME}};base64,{{data}} with MIME one of {', '.join(IMAGE_MIME_TYPES)}"
            raise WanValidationError(parameter, url, allowed)
        self.check_known(parameter, size_bytes=len(data))
        size = image_size(data)
        if size is None:
            raise WanValidationError(parameter, url, "a readable JPEG, PNG, BMP or WEBP image")
        if data.startswith(_PNG) and data[25] in (4, 6):
            raise WanValidationError(parameter, url, "a PNG without an alpha channel")
        self.check_known(parameter, width=size[0], height=size[1])


@dataclass(frozen=True)
class MediaInput:
    """One input URL of a request, by the parameter it came from, with the rule it must meet."""

    parameter: str
    url: str
    rule: MediaRule


def check_inputs(inputs: Iterable[MediaInput]) -> None:
    for item in inputs:
        item.rule.check_url(item.parameter, item.url)


def needs_oss_resolve(inputs: Iterable[MediaInput]) -> bool:
    """Whether the create call must carry ``X-DashScope-OssResourceResolve: enable``."""
    return any(item.url.startswith("oss://") for item in inputs)


def data_url_bytes(url: str) -> bytes | None:
    """The decoded payload of a ``data:image/...;base64,`` URL, or None if it is not one."""
    match = _DATA_URL.match(url)
    if match is None or match["mime"].lower() not in IMAGE_MIME_TYPES:
        return None
    try:
        return base64.b64decode(match["data"], validate=True)
    except (binascii.Error, ValueError):
        return None


_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG, JPEG, BMP or WEBP header, without decoding the picture."""
    try:
        if data.startswith(_PNG):
            return struct.unpack(">II", data[16:24])
        if data.startswith(b"BM"):
            width, height = struct.unpack("<ii", data[18:26])
            return width, abs(height)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp_size(data)
        if data.startswith(b"\xff\xd8"):
            return _jpeg_size(data)
    except struct.error:
        return None
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        width, height = (int.from_bytes(data[at : at + 3], "little") + 1 for at in (24, 27))
        return width, height
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    at = 2
    while at + 9 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        at += 2 + struct.unpack(">H", data[at + 2 : at + 4])[0]
    return None
