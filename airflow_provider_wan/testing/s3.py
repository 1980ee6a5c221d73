"""A real S3 API on loopback for DAG tests: a moto server, and ``aws_default`` pointing at it."""

from __future__ import annotations

import json
import socket
from functools import cached_property
from typing import Any

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def s3_client(endpoint_url: str, **options: Any) -> Any:
    """A boto3 S3 client with the test credentials on the S3 API at ``endpoint_url`` (a moto server this
    kit or a test started); ``options`` go to ``boto3.client`` (say a ``config``)."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=CREDENTIALS["AWS_DEFAULT_REGION"],
        **options,
    )


class WanS3:
    """A moto S3 server on a free loopback port (``pip install "airflow-provider-wan[testing]"``)."""

    def __init__(self) -> None:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as err:
            raise ImportError(
                'wan_s3 needs moto\'s server: pip install "airflow-provider-wan[testing]"'
            ) from err
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self._server.start()
        self.endpoint_url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        """Forget every bucket and object (moto's own reset call)."""
        import requests

        requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=10).raise_for_status()

    def connection(self) -> dict[str, Any]:
        """An Airflow ``aws`` connection (JSON form) for this server."""
        return {
            "conn_type": "aws",
            "login": CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "password": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            "extra": {"endpoint_url": self.endpoint_url, "region_name": CREDENTIALS["AWS_DEFAULT_REGION"]},
        }

    def environment(self) -> dict[str, str]:
        """``AIRFLOW_CONN_AWS_DEFAULT`` and AWS credentials that reach only this server."""
        return {**CREDENTIALS, "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(self.connection())}

    @cached_property
    def client(self) -> Any:
        """A boto3 S3 client on this server."""
        return s3_client(self.endpoint_url)

    def create_bucket(self, name: str) -> str:
        """Create bucket ``name`` (fine if it exists); returns the name."""
        existing = {found["Name"] for found in self.client.list_buckets().get("Buckets", [])}
        if name not in existing:
            self.client.create_bucket(Bucket=name)
        return name

    def get(self, uri: str) -> bytes:
        """The bytes of the object at ``s3://bucket/key``."""
        if not uri.startswith("s3://") or "/" not in uri[5:]:
            raise ValueError(f"uri={uri!r}: expected s3://bucket/key")
        bucket, key = uri[5:].split("/", 1)
        return bytes(self.client.get_object(Bucket=bucket, Key=key)["Body"].read())
