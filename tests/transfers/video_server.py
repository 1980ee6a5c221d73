"""A loopback video host for the transfer tests, for what the emulator does not do: a host without Range
support, a video that changes between requests, redirects, and a record of every request's headers."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_RANGE = re.compile(r"^bytes=(\d+)-$")


@dataclass
class VideoHost:
    """What the server serves and how; tests change the fields while it runs."""

    body: bytes
    etag: str = '"v1"'
    ranges: bool = True  # announce and honour single open-ended ranges
    cut_at: list[int] = field(default_factory=list)  # one entry per coming answer: send that many bytes
    chunked: bool = False  # no Content-Length: chunked transfer encoding
    seen: list[dict[str, Any]] = field(default_factory=list)  # path, query and headers of each request
    before_video: Callable[[VideoHost], None] | None = None  # runs before each video answer

    @property
    def video_gets(self) -> list[dict[str, Any]]:
        return [r for r in self.seen if r["path"] == "/video.mp4"]


def _handler(host: VideoHost) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            return

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            host.seen.append({"path": parts.path, "query": query, "headers": dict(self.headers)})
            if parts.path == "/redirect":
                self.send_response(int(query.get("status", ["302"])[0]))
                self.send_header("Location", query.get("to", ["/redirect"])[0])  # no target: a loop
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if parts.path != "/video.mp4":
                self.send_error(404)
                return
            self._video()

        def _video(self) -> None:
            if host.before_video is not None:
                host.before_video(host)
            start = 0
            wanted = _RANGE.match(self.headers.get("Range", ""))
            if_range = self.headers.get("If-Range")
            partial = bool(host.ranges and wanted and (if_range is None or if_range == host.etag))
            if partial and wanted:
                start = int(wanted[1])
            body = host.body[start:]
            self.send_response(206 if partial else 200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("ETag", host.etag)
            if host.ranges:
                self.send_header("Accept-Ranges", "bytes")
            if partial:
                self.send_header("Content-Range", f"bytes {start}-{len(host.body) - 1}/{len(host.body)}")
            cut = host.cut_at.pop(0) if host.cut_at else None
            if host.chunked:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for offset in range(0, len(body), 65536):
                    piece = body[offset : offset + 65536]
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
                return
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body if cut is None else body[:cut])
            if cut is not None:
                self.close_connection = True

    return Handler


@contextmanager
def serve_video(host: VideoHost) -> Iterator[str]:
    """Serve ``host`` on a free loopback port; yields the root URL ``http://127.0.0.1:PORT``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(host))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
