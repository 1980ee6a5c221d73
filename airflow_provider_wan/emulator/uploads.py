"""Temporary uploads as the SDKs make them: a policy from ``GET /api/v1/uploads?action=getPolicy``, a
multipart ``POST`` to the upload host it names, and the file then given as ``oss://{key}``.

The upload host is the emulator itself (``/_oss_upload``); files stay in memory until ``reset``. A create
that names an uploaded ``oss://`` key (with ``X-DashScope-OssResourceResolve: enable``) has that file
inspected like a loopback download; an ``oss://`` key never uploaded here is taken on trust and its
size falls back, as for any input the emulator cannot see *(assumed)*. The policy's signature is checked
(a forged one gets OSS's 403); the 48-hour expiry and the binding to the model named in ``getPolicy``
are not enforced *(assumed)*.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from typing import Any

UPLOAD_PATH = "/_oss_upload"
UPLOAD_SECONDS = 48 * 3600  # (assumed) how long a temporary URL lives
MAX_UPLOAD_BYTES = 100 * 1024 * 1024  # the largest input any family takes (a reference video)


class UploadStore:
    """Uploaded files by object key, and the secret their policies are signed with."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._files: dict[str, bytes] = {}

    def policy(self, model: str, upload_host: str) -> dict[str, Any]:
        """What ``getPolicy`` answers in ``data``: a signed policy for one upload directory."""
        upload_dir = f"dashscope-instant/{secrets.token_hex(8)}/{model or 'any'}"
        policy = base64.b64encode(
            json.dumps({"conditions": [["starts-with", "$key", upload_dir]]}).encode()
        ).decode()
        return {
            "policy": policy,
            "signature": self._sign(policy),
            "upload_dir": upload_dir,
            "upload_host": upload_host,
            "expire_in_seconds": UPLOAD_SECONDS,
            "max_file_size_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
            "capacity_limit_mb": 999_999_999,
            "oss_access_key_id": "LTAIemulator",
            "x_oss_object_acl": "private",
            "x_oss_forbid_overwrite": "true",
        }

    def accepts(self, policy: str, signature: str, key: str) -> bool:
        """Whether an upload's form carries a policy signed here whose directory holds ``key``."""
        if not hmac.compare_digest(self._sign(policy), signature):
            return False
        try:
            conditions = json.loads(base64.b64decode(policy))["conditions"]
        except (ValueError, KeyError, TypeError):
            return False
        return any(c[:2] == ["starts-with", "$key"] and key.startswith(c[2] + "/") for c in conditions)

    def clear(self) -> None:
        with self._lock:
            self._files.clear()

    def put(self, key: str, data: bytes) -> None:
        with self._lock:
            self._files[key] = data

    def get(self, url: str) -> bytes | None:
        """The bytes an ``oss://`` URL names, if they were uploaded here."""
        with self._lock:
            return self._files.get(url.removeprefix("oss://"))

    def _sign(self, policy: str) -> str:
        digest = hmac.new(self._secret, policy.encode(), hashlib.sha1).digest()
        return base64.b64encode(digest).decode()
