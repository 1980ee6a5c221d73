from __future__ import annotations

import boto3


def test_moto_server_round_trip(s3_endpoint: str) -> None:
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        region_name="us-east-1",
    )
    s3.create_bucket(Bucket="smoke")
    s3.put_object(Bucket="smoke", Key="k", Body=b"hello")
    assert s3.get_object(Bucket="smoke", Key="k")["Body"].read() == b"hello"
