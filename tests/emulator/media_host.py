"""A loopback web server for input media (pictures and clips made in the test), counting what it serves."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from airflow_provider_wan.api import OutputSpec
from airflow_provider_wan.emulator.media import VideoKey, render_mp4


@dataclass(frozen=True)
class Served:
    body: bytes
    status: int = 200
    delay: float = 0.0
    piece: int | None = None  # sent in pieces this long, a pause between them (a slow link)


class MediaHost:
    """``put(path, bytes)`` then ``url(path)``; ``hits[path]`` counts the GETs each path got."""

    def __init__(self) -> None:
        self.files: dict[str, Served] = {}
        self.hits: Counter[str] = Counter()
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host.hits[self.path] += 1
                served = host.files.get(self.path, Served(b"not found", 404))
                time.sleep(served.delay)
                try:
                    self.send_response(served.status)
                    self.send_header("Content-Length", str(len(served.body)))
                    self.end_headers()
                    step = served.piece or len(served.body) or 1
                    for start in range(0, len(served.body), step):
                        self.wfile.write(served.body[start : start + step])
                        self.wfile.flush()
                        if served.piece:
                            time.sleep(0.01)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client gave up waiting (the timeout test)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def put(
        self, path: str, body: bytes, status: int = 200, delay: float = 0.0, piece: int | None = None
    ) -> str:
        self.files[path] = Served(body, status, delay, piece)
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def __enter__(self) -> MediaHost:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


def clip(width: int, height: int, seconds: int, *, fps: int = 10) -> bytes:
    """A real MP4 clip of that size and length, from the emulator's own renderer."""
    return render_mp4(VideoKey(f"clip {width}x{height}", 1, OutputSpec(width, height, seconds, fps, False)))
