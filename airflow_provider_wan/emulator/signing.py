"""Signed video URLs like the vendor's object storage: ``Expires``, ``OSSAccessKeyId``, ``Signature``;
valid 24 hours after the task ended, refused when tampered with or expired."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import quote

from airflow_provider_wan.emulator.tasks import DAY, TaskRecord


class VideoSigner:
    """Signs and checks video paths with a secret of its own (new for every emulator)."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)

    def signed_path(self, task: TaskRecord) -> str:
        assert task.ended_at is not None
        expires = int(task.ended_at + DAY)
        signature = quote(self._sign(task.task_id, expires), safe="")
        return f"/oss/{task.task_id}.mp4?Expires={expires}&OSSAccessKeyId=LTAIemulator&Signature={signature}"

    def refusal(self, task_id: str, expires: str | None, signature: str | None, now: float) -> str | None:
        """The OSS error code refusing a signed URL, or None when it grants the video."""
        if not expires or not signature or not expires.isdigit():
            return "AccessDenied"
        if not hmac.compare_digest(self._sign(task_id, int(expires)), signature):
            return "SignatureDoesNotMatch"
        if now > int(expires):
            return "AccessDenied"
        return None

    def _sign(self, task_id: str, expires: int) -> str:
        digest = hmac.new(self._secret, f"GET\n{task_id}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:20]).decode().rstrip("=")
