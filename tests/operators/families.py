"""The four media families as test cases: each operator with small, fast arguments, and real input files
(PNG pictures, a WAV sound) for the kit's S3 server."""

from __future__ import annotations

import io
import struct
import wave
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from airflow_provider_wan.operators.wan import (
    WanGenerationOperator,
    WanImageToVideoOperator,
    WanKeyframesToVideoOperator,
    WanReferenceToVideoOperator,
)

BUCKET = "pictures"
PORTRAIT = (480, 640)  # the output's shape follows it where the family says so


def png(width: int, height: int) -> bytes:
    """A real RGB PNG (no alpha channel) of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xc0\x60\x30" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def wav(seconds: float) -> bytes:
    """A real mono 16 kHz WAV of silence."""
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(16000)
        sound.writeframes(b"\x00\x00" * int(16000 * seconds))
    return out.getvalue()


@dataclass(frozen=True)
class Family:
    """One family's operator, with arguments whose inputs are the ``s3://`` URIs ``uri`` makes."""

    name: str
    operator: type[WanGenerationOperator]
    arguments: Callable[[Callable[[str], str]], dict[str, Any]]
    seconds: int  # the video's (and the bill's) length
    shaped_by_input: bool  # whether the output's aspect follows the first picture

    def kwargs(self, uri: Callable[[str], str] = lambda key: f"s3://{BUCKET}/{key}") -> dict[str, Any]:
        return self.arguments(uri)


FAMILIES = [
    Family(
        "i2v",
        WanImageToVideoOperator,
        lambda uri: {
            "model": "wan2.2-i2v-flash",
            "img_url": uri("first.png"),
            "prompt": "the boat sails off",
            "resolution": "480P",
        },
        5,
        True,
    ),
    Family(
        "i2v-media",
        WanImageToVideoOperator,
        lambda uri: {
            "model": "wan2.7-i2v",
            "media": [
                {"type": "first_frame", "url": uri("first.png")},
                {"type": "driving_audio", "url": uri("voice.wav")},
            ],
            "prompt": "the captain sings",
            "resolution": "720P",
            "duration": 3,
        },
        3,
        True,
    ),
    Family(
        "kf2v",
        WanKeyframesToVideoOperator,
        lambda uri: {
            "model": "wan2.2-kf2v-flash",
            "first_frame_url": uri("first.png"),
            "last_frame_url": uri("last.png"),
            "prompt": "dawn turns to noon",
            "resolution": "480P",
        },
        5,
        True,
    ),
    Family(
        "r2v",
        WanReferenceToVideoOperator,
        lambda uri: {
            "model": "wan2.6-r2v-flash",
            "reference_urls": [uri("first.png")],
            "prompt": "character1 waves at the camera",
            "size": "1280*720",
            "duration": 2,
            "audio": False,
        },
        2,
        False,
    ),
    Family(
        "r2v-media",
        WanReferenceToVideoOperator,
        lambda uri: {
            "model": "wan2.7-r2v",
            "media": [{"type": "reference_image", "url": uri("first.png")}],
            "prompt": "Image 1 walks through the rain",
            "resolution": "720P",
            "ratio": "1:1",
            "duration": 2,
        },
        2,
        False,
    ),
]
BY_NAME = {family.name: family for family in FAMILIES}


def upload_inputs(s3: Any) -> None:
    """Every input the families' arguments name, in the kit's S3 server."""
    s3.create_bucket(BUCKET)
    for key, body, content_type in (
        ("first.png", png(*PORTRAIT), "image/png"),
        ("last.png", png(*PORTRAIT), "image/png"),
        ("voice.wav", wav(3), "audio/wav"),
    ):
        s3.client.put_object(Bucket=BUCKET, Key=key, Body=body, ContentType=content_type)


def s3_uris(value: Any) -> list[str]:
    """Every ``s3://`` URI anywhere in a JSON-like value."""
    if isinstance(value, str):
        return [value] if value.startswith("s3://") else []
    if isinstance(value, dict):
        return [uri for item in value.values() for uri in s3_uris(item)]
    if isinstance(value, (list, tuple)):
        return [uri for item in value for uri in s3_uris(item)]
    return []
