"""The example DAGs as a user runs them: parsed from ``example_dags/``, run with the test kit users get
(``wan_airflow``, ``wan_emulator``, ``wan_s3``), with the settings they read from the environment."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from airflow_provider_wan.emulator import WanEmulator
    from airflow_provider_wan.testing.dag_runs import WanAirflow, WanDagRun
    from airflow_provider_wan.testing.s3 import WanS3

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "example_dags"
BUCKET = f"example-dags-{uuid.uuid4().hex[:8]}"
EXAMPLE_ENV = {
    "WAN_EXAMPLE_BUCKET": BUCKET,
    "WAN_EXAMPLE_POOL": "wan_api",
    "WAN_EXAMPLE_POLL_SECONDS": "0.5",
    "WAN_EXAMPLE_MAX_POLL_SECONDS": "1",
}


def load_dagbag() -> Any:
    """Parse ``example_dags/`` the way the DAG processor does (Airflow 3.3 moved ``DagBag``)."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.1
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]
    return DagBag(dag_folder=EXAMPLE_DAGS)


@pytest.fixture(scope="session")
def example_dagbag() -> Iterator[Any]:
    """The example DAGs, parsed with their environment settings pointing at this session's bucket."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in EXAMPLE_ENV.items():
            patch.setenv(name, value)
        yield load_dagbag()


@pytest.fixture
def bucket(wan_s3: WanS3) -> str:
    return wan_s3.create_bucket(BUCKET)


@pytest.fixture
def wan_pool(wan_airflow: WanAirflow) -> str:
    """The pool the batch example runs in, with the account's 5 slots."""
    from airflow.models.pool import Pool

    Pool.create_or_update_pool(
        name=EXAMPLE_ENV["WAN_EXAMPLE_POOL"],
        slots=5,
        description="Wan account: 5 tasks at once",
        include_deferred=False,
    )
    return EXAMPLE_ENV["WAN_EXAMPLE_POOL"]


@pytest.fixture
def run_example(
    example_dagbag: Any,
    wan_airflow: WanAirflow,
    wan_emulator: WanEmulator,
    wan_connection: str,
    wan_s3: WanS3,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., WanDagRun]:
    """Run one example DAG with the kit's ``wan_airflow.run`` (raises naming a failed task).

    ``dag.test()`` runs tasks and triggers one after another, so the emulator's videos take half a second.
    """
    wan_emulator.set_timing(task_seconds=0.5, queue_seconds=0.1)
    for name, value in EXAMPLE_ENV.items():
        monkeypatch.setenv(name, value)

    def run(dag_id: str, conf: dict[str, Any] | None = None) -> WanDagRun:
        return wan_airflow.run(example_dagbag.dags[dag_id], conf)

    return run


def video_facts(data: bytes) -> dict[str, Any]:
    """Width, height, duration (s) and codecs of an MP4, read with PyAV."""
    import av

    with av.open(io.BytesIO(data)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio
        return {
            "width": video.codec_context.width,
            "height": video.codec_context.height,
            "duration": round(float(container.duration or 0) / 1_000_000, 1),
            "video_codec": video.codec_context.name,
            "audio_codec": audio[0].codec_context.name if audio else None,
        }


def silent_wav(seconds: float = 4.0, rate: int = 16_000) -> bytes:
    """A real (silent) mono WAV file: the lip-sync examples' voice-over."""
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(bytes(2 * int(rate * seconds)))
    return buffer.getvalue()
