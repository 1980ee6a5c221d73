"""Checks on what the transfer left in S3."""

from __future__ import annotations

from typing import Any


def assert_nothing_written(s3: Any, bucket: str) -> None:
    """No object and no open multipart upload anywhere in the bucket."""
    assert s3.list_objects_v2(Bucket=bucket).get("Contents", []) == []
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def read_object(s3: Any, bucket: str, key: str) -> bytes:
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
