"""How long the emulator takes to render a task's MP4, against decoding that MP4 (same run, same sizes).

Rendering happens once per distinct video (then memory and disk caches serve it) and in a worker
thread, but a 1080p 15-second video must still be ready within seconds. Each line prints the render
time, how many times faster than real time that is, and the ratio to PyAV decoding the same file.

    .venv/bin/python bench/emulator_render.py
"""

from __future__ import annotations

import io
import time

from airflow_provider_wan.api import VideoRequest
from airflow_provider_wan.emulator.media import VideoKey, render_mp4

REQUESTS = [
    VideoRequest("wan2.2-t2v-plus", "bench", size="832*480"),
    VideoRequest("wan2.5-t2v-preview", "bench", size="1280*720", duration=10),
    VideoRequest("wan2.6-t2v", "bench", size="1920*1080", duration=5),
    VideoRequest("wan2.6-t2v", "bench", size="1920*1080", duration=15),
    VideoRequest("wan2.7-t2v", "bench", resolution="1080P", ratio="3:4", duration=15),
]


def decode_seconds(data: bytes) -> float:
    import av

    started = time.perf_counter()
    with av.open(io.BytesIO(data)) as container:
        for _ in container.decode(*container.streams):
            pass
    return time.perf_counter() - started


def main() -> None:
    print(
        f"{'request':<44} {'render s':>9} {'x realtime':>10} {'MB':>6} {'decode s':>9} {'render/decode':>13}"
    )
    for request in REQUESTS:
        out = request.output()
        started = time.perf_counter()
        data = render_mp4(VideoKey(request.prompt, 1, out))
        render = time.perf_counter() - started
        decode = decode_seconds(data)
        sound = "sound" if out.has_audio else "silent"
        label = f"{request.model} {out.width}x{out.height} {out.duration}s {sound}"
        print(
            f"{label:<44} {render:9.2f} {out.duration / render:10.1f} {len(data) / 1e6:6.2f} {decode:9.2f} "
            f"{render / decode:13.1f}"
        )


if __name__ == "__main__":
    main()
