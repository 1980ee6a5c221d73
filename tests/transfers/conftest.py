"""Fixtures of the transfer tests: a boto3 client on the session's moto S3 server and a fresh bucket."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

_buckets = itertools.count()


@pytest.fixture
def s3(s3_endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"wan-videos-{next(_buckets)}"
    s3.create_bucket(Bucket=name)
    return name
