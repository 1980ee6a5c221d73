"""Input media given as ``s3://`` URIs: checked in S3 before anything is billed, presigned for the
service, and shown as the URI everywhere else (a presigned URL grants read access: it is a credential).

Any input a request names in :meth:`~airflow_provider_wan.api.base.WanRequest.media_inputs` may be an
``s3://`` URI; ``boto3`` is imported only when one is presigned.
"""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import urlsplit

from airflow_provider_wan.api import MediaInput, WanRequest, WanValidationError, image_size
from airflow_provider_wan.api.media import MB

Request = TypeVar("Request", bound=WanRequest)
# Content types S3 gives objects uploaded without one: they say nothing about the media.
UNTYPED = frozenset({"", "application/octet-stream", "binary/octet-stream"})
# Bytes read from an S3 image to find its pixel size in its header (PNG, BMP, WEBP; most JPEGs).
IMAGE_HEADER_BYTES = 64 * 1024


def is_s3_uri(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("s3://")


def s3_inputs(request: WanRequest) -> list[MediaInput]:
    return [item for item in request.media_inputs() if is_s3_uri(item.url)]


def with_stand_ins(request: Request) -> Request:
    """For validation before presigning: each ``s3://`` URI replaced by the https URL it will become,
    minus its signature (so its form and file suffix are checked by the contract's rules)."""
    stand_ins = {}
    for item in s3_inputs(request):
        bucket, key = _bucket_and_key(item)
        stand_ins[item.parameter] = f"https://{bucket}.s3.amazonaws.com/{key}"
    return request.with_inputs(stand_ins) if stand_ins else request


def presigned(request: Request, aws_conn_id: str | None, expires_in: int) -> Request:
    """The request with each ``s3://`` input replaced by a presigned GET URL, once S3 confirmed the
    object exists and fits the input's limits (bytes, media type, an image's pixels)."""
    inputs = s3_inputs(request)
    if not inputs:
        return request
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    s3 = S3Hook(aws_conn_id=aws_conn_id)
    urls = {}
    for item in inputs:
        bucket, key = _bucket_and_key(item)
        _check_object(s3, item, bucket, key)
        url = s3.generate_presigned_url(
            "get_object", params={"Bucket": bucket, "Key": key}, expires_in=expires_in
        )
        if not url:
            raise WanValidationError(
                item.parameter, item.url, "an S3 object the connection can presign a URL for"
            )
        try:  # the request was checked with a stand-in URL: check the real one's form too
            item.rule.check_url(item.parameter, str(url))
        except WanValidationError as error:  # naming the URI: the signed URL is a credential
            raise WanValidationError(item.parameter, item.url, error.allowed) from None
        urls[item.parameter] = str(url)
    return request.with_inputs(urls)


def _bucket_and_key(item: MediaInput) -> tuple[str, str]:
    parts = urlsplit(item.url)
    key = parts.path.lstrip("/")
    if not parts.netloc or not key:
        what = item.rule.allowed.rsplit(" of ", 1)[-1]
        raise WanValidationError(item.parameter, item.url, f"s3://BUCKET/KEY of {what}")
    return parts.netloc, key


def _check_object(s3: Any, item: MediaInput, bucket: str, key: str) -> None:
    """Refuse a missing object, or one whose size, content type or pixels the input cannot take."""
    head = s3.head_object(key=key, bucket_name=bucket)
    if head is None:
        raise WanValidationError(item.parameter, item.url, "an S3 object that exists (none found there)")
    rule, size = item.rule, int(head.get("ContentLength", 0))
    if size > rule.max_bytes:
        raise WanValidationError(
            item.parameter,
            item.url,
            f"{_a(rule.kind)} file of at most {rule.max_bytes // MB} MB (it has {size} bytes)",
        )
    content_type = str(head.get("ContentType") or "").split(";")[0].strip().lower()
    if content_type not in UNTYPED and content_type.split("/")[0] != rule.kind:
        raise WanValidationError(
            item.parameter, item.url, f"{_a(rule.kind)} file (S3 says its Content-Type is {content_type})"
        )
    if rule.kind == "image" and rule.sides:
        start = s3.get_conn().get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{IMAGE_HEADER_BYTES - 1}")
        pixels = image_size(start["Body"].read())
        if pixels is not None:
            try:
                rule.check_known(item.parameter, width=pixels[0], height=pixels[1])
            except WanValidationError as error:
                allowed = f"{error.allowed} (it has {pixels[0]}x{pixels[1]})"
                raise WanValidationError(item.parameter, item.url, allowed) from None


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"
