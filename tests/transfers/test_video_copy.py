"""The streaming core against real servers: a loopback video host of our own and the moto S3 server."""

from __future__ import annotations

import base64
import hashlib
import os
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from s3transfer.utils import MIN_UPLOAD_CHUNKSIZE as MIN_PART_SIZE

from airflow_provider_wan.exceptions import DownloadInterrupted, TransferRefused
from airflow_provider_wan.transfers.download import VideoDownload
from airflow_provider_wan.transfers.host_policy import VideoHostPolicy
from airflow_provider_wan.transfers.video_copy import StoredVideo, copy_video
from tests.transfers.helpers import assert_nothing_written, read_object
from tests.transfers.video_server import VideoHost, serve_video

MiB = 1024 * 1024
KEY = "videos/clip.mp4"


@pytest.fixture
def body() -> bytes:
    return os.urandom(12 * MiB + 12345)  # three parts of 5 MiB: the multipart path, not a single part


@pytest.fixture
def host(body: bytes) -> VideoHost:
    return VideoHost(body)


@pytest.fixture
def root(host: VideoHost) -> Iterator[str]:
    with serve_video(host) as url:
        yield url


def download(root: str, url: str | None = None, **options: Any) -> VideoDownload:
    allowed = options.pop("allowed_hosts", ())
    options.setdefault("max_bytes", 64 * MiB)
    options.setdefault("retry_base_delay", 0.01)
    return VideoDownload(
        url or f"{root}/video.mp4?Expires=1&Signature=abc",
        policy=VideoHostPolicy(f"{root}/api/v1", allowed),
        **options,
    )


def copy(s3: Any, bucket: str, fetch: VideoDownload) -> StoredVideo:
    return copy_video(fetch, s3, bucket, KEY, metadata={"wan-task-id": "t-1"}, part_size=MIN_PART_SIZE)


def test_copy_stores_the_served_bytes_with_checksums(
    s3: Any, bucket: str, host: VideoHost, root: str
) -> None:
    stored = copy(s3, bucket, download(root))

    sha256 = hashlib.sha256(host.body).hexdigest()
    assert read_object(s3, bucket, KEY) == host.body
    assert (stored.size, stored.sha256, stored.copied) == (len(host.body), sha256, True)
    head = s3.head_object(Bucket=bucket, Key=KEY, ChecksumMode="ENABLED")
    assert head["ContentType"] == "video/mp4"
    assert head["Metadata"] == {"wan-task-id": "t-1"}
    part_digests = [
        hashlib.sha256(host.body[i : i + MIN_PART_SIZE]).digest()
        for i in range(0, len(host.body), MIN_PART_SIZE)
    ]
    composite = base64.b64encode(hashlib.sha256(b"".join(part_digests)).digest()).decode()
    assert head["ChecksumSHA256"].removesuffix("-3") == composite  # S3's own, from the bytes it stored
    assert s3.get_object_tagging(Bucket=bucket, Key=KEY)["TagSet"] == [{"Key": "wan-sha256", "Value": sha256}]
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert all("Authorization" not in r["headers"] for r in host.seen)


def test_broken_stream_resumes_with_range_and_if_range(
    s3: Any, bucket: str, host: VideoHost, root: str
) -> None:
    host.cut_at = [7 * MiB]
    fetch = download(root)

    stored = copy(s3, bucket, fetch)

    assert read_object(s3, bucket, KEY) == host.body
    assert (fetch.resumes, stored.restarts) == (1, 0)
    first, second = (r["headers"] for r in host.video_gets)
    assert "Range" not in first
    assert (second["Range"], second["If-Range"]) == (f"bytes={7 * MiB}-", '"v1"')


def test_host_without_range_support_is_downloaded_again_from_zero(
    s3: Any, bucket: str, host: VideoHost, root: str
) -> None:
    host.ranges = False
    host.cut_at = [7 * MiB]  # past the first part: that part is uploaded, then thrown away with its upload

    stored = copy(s3, bucket, download(root))

    assert read_object(s3, bucket, KEY) == host.body
    assert stored.restarts == 1
    assert [("Range" in r["headers"]) for r in host.video_gets] == [False, False]
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_video_changed_while_resuming_is_not_spliced(
    s3: Any, bucket: str, host: VideoHost, root: str
) -> None:
    new_body = os.urandom(len(host.body))

    def change_on_second_request(video: VideoHost) -> None:
        if len(video.video_gets) == 2:
            video.body, video.etag = new_body, '"v2"'

    host.cut_at = [7 * MiB]
    host.before_video = change_on_second_request

    stored = copy(s3, bucket, download(root))

    assert read_object(s3, bucket, KEY) == new_body
    assert stored.sha256 == hashlib.sha256(new_body).hexdigest()
    assert stored.restarts == 1
    assert len(host.video_gets) == 3  # cut, refused resume (If-Range failed: whole new video), fresh start


def test_download_that_keeps_breaking_leaves_nothing(
    s3: Any, bucket: str, host: VideoHost, root: str
) -> None:
    host.ranges = False
    host.cut_at = [7 * MiB] * 5

    with pytest.raises(DownloadInterrupted, match="failed 3 times") as caught:
        copy(s3, bucket, download(root, retries=2))

    assert not caught.value.restart_from_zero
    assert len(host.video_gets) == 3
    assert_nothing_written(s3, bucket)


def test_announced_size_over_the_cap_is_refused_before_any_upload(
    s3: Any, bucket: str, host: VideoHost, root: str
) -> None:
    with pytest.raises(TransferRefused, match=f"{len(host.body)} bytes, over max_bytes={10 * MiB}"):
        copy(s3, bucket, download(root, max_bytes=10 * MiB))
    assert len(host.video_gets) == 1
    assert_nothing_written(s3, bucket)


def test_stream_without_length_is_cut_at_the_cap(s3: Any, bucket: str, host: VideoHost, root: str) -> None:
    host.chunked = True

    with pytest.raises(TransferRefused, match=f"larger than max_bytes={6 * MiB}"):
        copy(s3, bucket, download(root, max_bytes=6 * MiB))
    assert_nothing_written(s3, bucket)


def test_chunked_stream_without_length_is_copied(s3: Any, bucket: str, host: VideoHost, root: str) -> None:
    host.chunked = True

    stored = copy(s3, bucket, download(root))

    assert stored.sha256 == hashlib.sha256(read_object(s3, bucket, KEY)).hexdigest()
    assert read_object(s3, bucket, KEY) == host.body


def test_redirect_to_another_host_is_refused(s3: Any, bucket: str, body: bytes, root: str) -> None:
    elsewhere = VideoHost(body)
    refused = pytest.raises(TransferRefused, match=r"Refusing .*127\.0\.0\.1:\d+.*allowed_hosts")
    with serve_video(elsewhere) as other, refused:
        copy(s3, bucket, download(root, f"{root}/redirect?to={other}/video.mp4"))
    assert elsewhere.seen == []
    assert_nothing_written(s3, bucket)


def test_redirect_to_an_allowed_host_is_followed(s3: Any, bucket: str, body: bytes, root: str) -> None:
    elsewhere = VideoHost(body)
    with serve_video(elsewhere) as other:
        port = other.rsplit(":", 1)[1]
        fetch = download(
            root, f"{root}/redirect?status=307&to={other}/video.mp4", allowed_hosts=[f"127.0.0.1:{port}"]
        )
        copy(s3, bucket, fetch)
    assert read_object(s3, bucket, KEY) == body


def test_redirect_loop_is_refused(s3: Any, bucket: str, root: str) -> None:
    with pytest.raises(TransferRefused, match="redirected more than 5 times"):
        copy(s3, bucket, download(root, f"{root}/redirect"))
    assert_nothing_written(s3, bucket)


@pytest.mark.parametrize(
    "url",
    [
        "http://user:secret@{host}/video.mp4",  # requests would turn these into Basic Authorization
        "ftp://{host}/video.mp4",
        "http://example.com/video.mp4",
    ],
)
def test_urls_outside_the_policy_are_refused_before_any_request(
    s3: Any, bucket: str, host: VideoHost, root: str, url: str
) -> None:
    with pytest.raises(TransferRefused, match="Refusing"):
        copy(s3, bucket, download(root, url.format(host=root.removeprefix("http://"))))
    assert host.seen == []
    assert_nothing_written(s3, bucket)


def test_netrc_credentials_never_reach_the_video_host(
    s3: Any, bucket: str, host: VideoHost, root: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login wan password sk-should-not-leak\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))

    copy(s3, bucket, download(root))

    assert host.video_gets
    assert all("Authorization" not in r["headers"] for r in host.seen)


def test_expired_signed_url_is_refused_without_retry(
    s3: Any, bucket: str, host: VideoHost, root: str
) -> None:
    with pytest.raises(TransferRefused, match="HTTP 404"):
        copy(s3, bucket, download(root, f"{root}/gone.mp4"))
    assert len(host.seen) == 1
    assert_nothing_written(s3, bucket)


def test_failure_after_the_upload_completed_removes_the_object(
    s3: Any, bucket: str, host: VideoHost, root: str
) -> None:
    def sidecar_refused(sha256: str, size: int) -> None:
        assert read_object(s3, bucket, KEY) == host.body  # completed, not yet sealed
        raise RuntimeError("sidecar refused")

    with pytest.raises(RuntimeError, match="sidecar refused"):
        copy_video(download(root), s3, bucket, KEY, metadata={}, before_seal=sidecar_refused)
    assert_nothing_written(s3, bucket)


def test_errors_and_logs_never_show_the_signed_query(
    s3: Any, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.conftest import free_port

    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: urllib3's error quotes the whole URL
    fetch = download(dead, f"{dead}/video.mp4?Expires=1&Signature=do-not-log", retries=1)

    with pytest.raises(DownloadInterrupted, match="failed 2 times") as caught:
        copy(s3, bucket, fetch)

    shown = "".join(traceback.format_exception(caught.value)) + caplog.text
    assert "Connection refused" in shown
    assert "do-not-log" not in shown
    assert_nothing_written(s3, bucket)
