"""Fixtures of the transfer tests: the kit's moto S3 (``wan_s3``, ``aws_default`` on it), a fresh bucket."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from airflow_provider_wan.testing.s3 import WanS3

_buckets = itertools.count()


@pytest.fixture
def s3(wan_s3: WanS3) -> Any:
    return wan_s3.client


@pytest.fixture
def bucket(wan_s3: WanS3) -> str:
    return wan_s3.create_bucket(f"wan-videos-{next(_buckets)}")
