"""Where a video may be downloaded from (pure rules, no I/O)."""

from __future__ import annotations

import pytest

from airflow_provider_wan.api import WanValidationError
from airflow_provider_wan.exceptions import TransferRefused
from airflow_provider_wan.transfers.host_policy import VideoHostPolicy, redact_url

EMULATOR = "http://127.0.0.1:8080/api/v1"
VENDOR = "https://dashscope-intl.aliyuncs.com/api/v1"


@pytest.mark.parametrize(
    ("base_url", "url", "allowed"),
    [
        (VENDOR, "https://dashscope-result-sh.oss-accelerate.aliyuncs.com/x.mp4?Expires=1&Signature=s", ()),
        (VENDOR, "https://DASHSCOPE-RESULT-BJ.OSS-CN-BEIJING.ALIYUNCS.COM./x.mp4", ()),
        (EMULATOR, "http://127.0.0.1:8080/oss/t.mp4?Expires=1", ()),
        (EMULATOR, "https://127.0.0.1:8080/oss/t.mp4", ()),  # same origin, upgraded to https
        ("https://wan.internal/api/v1", "https://wan.internal:443/oss/t.mp4", ()),
        (VENDOR, "http://cdn.example.com/x.mp4", ("cdn.example.com",)),
        (VENDOR, "https://a.b.example.com:8443/x.mp4", ("*.example.com",)),
        (VENDOR, "http://mirror.local:9000/x.mp4", ("mirror.local:9000",)),
    ],
)
def test_allowed(base_url: str, url: str, allowed: tuple[str, ...]) -> None:
    VideoHostPolicy(base_url, allowed).check(url)


@pytest.mark.parametrize(
    ("base_url", "url", "allowed"),
    [
        (VENDOR, "http://dashscope-result-sh.oss-accelerate.aliyuncs.com/x.mp4", ()),  # vendor needs https
        (VENDOR, "https://aliyuncs.com.evil.example/x.mp4", ()),
        (VENDOR, "https://evilaliyuncs.com/x.mp4", ()),
        (VENDOR, "https://x.aliyuncs.com@evil.example/x.mp4", ()),  # credentials, and not the vendor's host
        (VENDOR, "https://user:pw@x.aliyuncs.com/x.mp4", ()),  # credentials would become Authorization
        (VENDOR, "https://evil.example\\.aliyuncs.com/x.mp4", ()),
        (VENDOR, "ftp://x.aliyuncs.com/x.mp4", ()),
        (VENDOR, "file:///etc/passwd", ()),
        (VENDOR, "https://x.aliyuncs.com:99999/x.mp4", ()),  # unparsable port
        (EMULATOR, "http://127.0.0.1:8081/oss/t.mp4", ()),  # another port of the same host
        (EMULATOR, "http://localhost:8080/oss/t.mp4", ()),
        ("https://wan.internal/api/v1", "http://wan.internal/oss/t.mp4", ()),  # downgraded to http
        (VENDOR, "http://mirror.local:9001/x.mp4", ("mirror.local:9000",)),
        (VENDOR, "https://example.com/x.mp4", ("*.example.com",)),  # a wildcard means subdomains
        (VENDOR, "https://badexample.com/x.mp4", ("*.example.com",)),
    ],
)
def test_refused(base_url: str, url: str, allowed: tuple[str, ...]) -> None:
    with pytest.raises(TransferRefused, match="Refusing to download the video from"):
        VideoHostPolicy(base_url, allowed).check(url)


@pytest.mark.parametrize(
    "allowed_hosts",
    ["cdn.example.com", ["https://cdn.example.com"], ["cdn.example.com/videos"], ["cdn:port"], [""], [42]],
)
def test_bad_allowed_hosts_are_refused_naming_the_parameter(allowed_hosts: object) -> None:
    with pytest.raises(WanValidationError, match="Invalid allowed_hosts="):
        VideoHostPolicy.validate_allowed_hosts(allowed_hosts)  # type: ignore[arg-type]


def test_redacted_url_drops_the_signature() -> None:
    url = "https://bucket.oss-cn-beijing.aliyuncs.com/v/x.mp4?Expires=1&OSSAccessKeyId=LTAI&Signature=secret"
    assert redact_url(url) == "https://bucket.oss-cn-beijing.aliyuncs.com/v/x.mp4?…"
