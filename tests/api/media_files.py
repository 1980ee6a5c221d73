"""Real encoded pictures for the media tests, made with PyAV's encoders (the emulator's own media stack)."""

from __future__ import annotations

import base64

import av

ENCODERS = {  # format: (codec, pixel format, options)
    "png": ("png", "rgb24", {}),
    "png-alpha": ("png", "rgba", {}),
    "jpeg": ("mjpeg", "yuvj420p", {}),
    "bmp": ("bmp", "bgr24", {}),
    "webp": ("libwebp", "yuv420p", {}),
    "webp-lossless": ("libwebp", "bgra", {"lossless": "1"}),
    "webp-extended": ("libwebp", "yuva420p", {}),
}
MIME = {"png": "image/png", "jpeg": "image/jpeg", "bmp": "image/bmp", "webp": "image/webp"}


def encode(kind: str, width: int, height: int) -> bytes:
    codec, pix_fmt, options = ENCODERS[kind]
    context = av.CodecContext.create(codec, "w")
    context.width, context.height, context.pix_fmt, context.options = width, height, pix_fmt, options
    frame = av.VideoFrame(width, height, pix_fmt)
    return b"".join(bytes(packet) for packet in [*context.encode(frame), *context.encode(None)])


def data_url(kind: str, width: int, height: int) -> str:
    mime = MIME[kind.split("-")[0]]
    return f"data:{mime};base64,{base64.b64encode(encode(kind, width, height)).decode()}"
