"""Every example DAG parses cleanly and runs green with ``dag.test()`` against the emulator and moto S3."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.example_dags.conftest import silent_wav, video_facts, xcom_of

pytestmark = pytest.mark.timeout(240)

RunExample = Callable[..., dict[tuple[str, int], Any]]
EXAMPLE_DAG_IDS = {
    "example_wan_text_to_video",
    "example_wan_batch",
    "example_wan_multi_shot",
    "example_wan_lip_sync",
    "example_wan_video_catalog",
}


def states(tis: dict[tuple[str, int], Any]) -> dict[tuple[str, int], str]:
    return {key: str(ti.state) for key, ti in tis.items()}


def all_succeeded(tis: dict[tuple[str, int], Any]) -> bool:
    return bool(tis) and all(str(ti.state) == "success" for ti in tis.values())


def stored_video(s3: Any, uri: str) -> bytes:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    found = s3.get_object(Bucket=bucket, Key=key)
    assert found["ContentType"] == "video/mp4"
    return bytes(found["Body"].read())


def test_every_example_parses_without_errors(example_dagbag: Any) -> None:
    assert example_dagbag.import_errors == {}
    assert set(example_dagbag.dags) == EXAMPLE_DAG_IDS
    for dag in example_dagbag.dags.values():
        assert "example" in dag.tags, dag.dag_id
        assert dag.doc_md, dag.dag_id


def test_text_to_video_lands_the_mp4_in_s3(run_example: RunExample, wan_emulator: Any, s3: Any) -> None:
    tis = run_example("example_wan_text_to_video", {"duration": 2})
    assert all_succeeded(tis), states(tis)

    result = xcom_of(tis[("generate_video", -1)])
    copied = xcom_of(tis[("copy_to_s3", -1)])
    assert copied["wan_task_id"] == result["task_id"]
    assert copied["key"] == f"wan/example_wan_text_to_video/{tis[('copy_to_s3', -1)].run_id}.mp4"
    facts = video_facts(stored_video(s3, copied["s3_uri"]))
    assert facts == {
        "width": 1280,
        "height": 720,
        "duration": 2.0,
        "video_codec": "h264",
        "audio_codec": "aac",
    }
    assert wan_emulator.create_count() == 1


def test_batch_maps_one_video_per_prompt_in_the_pool(
    run_example: RunExample, wan_emulator: Any, wan_pool: str, s3: Any
) -> None:
    prompts = [f"Batch prompt {n}: a lighthouse beam sweeps the fog, take {n}" for n in range(4)]
    tis = run_example("example_wan_batch", {"prompts": prompts, "duration": 2})
    assert all_succeeded(tis), states(tis)

    generated = [key for key in tis if key[0] == "generate_video"]
    assert len(generated) == len(prompts)
    assert {tis[key].pool for key in generated} == {wan_pool}
    uris = {xcom_of(ti)["s3_uri"] for (task_id, _), ti in tis.items() if task_id == "copy_to_s3"}
    assert len(uris) == len(prompts)
    for uri in uris:
        assert video_facts(stored_video(s3, uri))["duration"] == 2.0
    assert [wan_emulator.create_count(prompt=prompt) for prompt in prompts] == [1] * len(prompts)


def test_batch_reads_prompts_from_a_file(
    run_example: RunExample, wan_emulator: Any, wan_pool: str, tmp_path: Any
) -> None:
    prompts_file = tmp_path / "prompts.txt"
    prompts_file.write_text("# storyboard\nA red kite over the dunes\n\nA tram passes in the snow\n")
    tis = run_example("example_wan_batch", {"prompts_file": str(prompts_file), "duration": 2})
    assert all_succeeded(tis), states(tis)
    assert wan_emulator.create_count(prompt="A red kite over the dunes") == 1
    assert wan_emulator.create_count(prompt="A tram passes in the snow") == 1
    assert wan_emulator.create_count() == 2


def test_multi_shot_sends_wan27_resolution_and_wan26_multi_shot(
    run_example: RunExample, wan_emulator: Any, s3: Any
) -> None:
    tis = run_example("example_wan_multi_shot", {"duration": 2})
    assert all_succeeded(tis), states(tis)

    wan27 = wan_emulator.task(xcom_of(tis[("wan27_shot_list", -1)])["task_id"])
    assert wan27["body"]["model"] == "wan2.7-t2v"
    assert wan27["body"]["parameters"]["resolution"] == "720P"
    assert wan27["body"]["parameters"]["ratio"] == "16:9"
    assert "Shot 3" in wan27["body"]["input"]["prompt"]
    wan26 = wan_emulator.task(xcom_of(tis[("wan26_multi_shot", -1)])["task_id"])
    assert wan26["body"]["parameters"]["shot_type"] == "multi"
    assert wan26["body"]["parameters"]["prompt_extend"] is True

    for copy_task in ("copy_wan27_shot_list", "copy_wan26_multi_shot"):
        facts = video_facts(stored_video(s3, xcom_of(tis[(copy_task, -1)])["s3_uri"]))
        assert (facts["width"], facts["height"], facts["duration"]) == (1280, 720, 2.0)


def test_lip_sync_hands_the_service_the_voice_over_from_s3(
    run_example: RunExample, wan_emulator: Any, s3: Any, bucket: str
) -> None:
    voice_over = silent_wav()
    s3.put_object(Bucket=bucket, Key="audio/voice-over.wav", Body=voice_over)

    tis = run_example(
        "example_wan_lip_sync", {"audio_uri": f"s3://{bucket}/audio/voice-over.wav", "duration": 2}
    )
    assert all_succeeded(tis), states(tis)

    result = xcom_of(tis[("generate_talking_presenter", -1)])
    assert result["request"]["input"]["audio_url"] == f"s3://{bucket}/audio/voice-over.wav"
    sent = wan_emulator.task(result["task_id"])["body"]["input"]["audio_url"]
    assert sent.startswith("http"), sent
    assert "Signature=" in sent, sent  # presigned: the service needs no AWS credentials
    assert requests.get(sent, timeout=10).content == voice_over
    facts = video_facts(stored_video(s3, xcom_of(tis[("copy_to_s3", -1)])["s3_uri"]))
    assert facts["audio_codec"] == "aac"


def test_catalog_entry_matches_the_video_the_transfer_reported(
    run_example: RunExample, wan_emulator: Any, s3: Any
) -> None:
    upstream = run_example("example_wan_text_to_video", {"duration": 2})
    copied = xcom_of(upstream[("copy_to_s3", -1)])
    assert reported_through_alias("wan_videos") >= {copied["s3_uri"]}

    tis = run_example("example_wan_video_catalog", {"video_uri": copied["s3_uri"]})
    assert all_succeeded(tis), states(tis)
    [entry] = xcom_of(tis[("catalogue", -1)])
    assert entry == {
        "uri": copied["s3_uri"],
        "bytes": copied["size"],
        "wan_task_id": copied["wan_task_id"],
        "sha256": copied["sha256"],
    }


def reported_through_alias(alias: str) -> set[str]:
    """The asset URIs of events recorded through an asset alias (what schedules the catalog DAG)."""
    from airflow.models.asset import AssetAliasModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        found = session.scalar(select(AssetAliasModel).where(AssetAliasModel.name == alias))
        return {asset.uri for asset in found.assets} if found else set()
