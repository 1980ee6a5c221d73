"""Every example DAG parses cleanly and runs green against the emulator and moto S3, with the users' kit."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
import requests

from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.testing.dag_runs import WanDagRun, WanDagRunFailed
from airflow_provider_wan.testing.s3 import WanS3
from tests.example_dags.conftest import BUCKET, silent_wav, video_facts

pytestmark = pytest.mark.timeout(240)

RunExample = Callable[..., WanDagRun]
EXAMPLE_DAG_IDS = {
    "example_wan_text_to_video",
    "example_wan_batch",
    "example_wan_multi_shot",
    "example_wan_lip_sync",
    "example_wan_video_catalog",
    "example_wan_content_review",
    "example_wan_product_photos",
    "example_wan_storyboard_shot",
    "example_wan_character_series",
}
GENERATING = sorted(EXAMPLE_DAG_IDS - {"example_wan_video_catalog"})


def stored_video(wan_s3: WanS3, uri: str) -> bytes:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    assert wan_s3.client.head_object(Bucket=bucket, Key=key)["ContentType"] == "video/mp4"
    return wan_s3.get(uri)


def test_every_example_parses_without_errors(example_dagbag: Any) -> None:
    assert example_dagbag.import_errors == {}
    assert set(example_dagbag.dags) == EXAMPLE_DAG_IDS
    for dag in example_dagbag.dags.values():
        assert "example" in dag.tags, dag.dag_id
        assert dag.doc_md, dag.dag_id


def test_text_to_video_lands_the_mp4_in_s3_in_one_task(
    run_example: RunExample, wan_emulator: WanEmulator, wan_s3: WanS3, bucket: str
) -> None:
    run = run_example("example_wan_text_to_video", {"duration": 2})

    result = run.xcom("generate_video")
    assert result["landed"] == "copied"
    assert result["key"] == "wan/example_wan_text_to_video/paper-boat.mp4"
    facts = video_facts(stored_video(wan_s3, result["s3_uri"]))
    assert facts == {
        "width": 1280,
        "height": 720,
        "duration": 2.0,
        "video_codec": "h264",
        "audio_codec": "aac",
    }
    assert wan_emulator.create_count() == 1
    assert wan_s3.client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []

    again = run_example("example_wan_text_to_video", {"duration": 2}).xcom("generate_video")
    assert again["landed"] == "skipped"  # the same request: its video is there, nothing is billed
    assert wan_emulator.create_count() == 1
    with pytest.raises(WanDagRunFailed, match=r"holds the video of Wan task \S+ made from another request"):
        run_example("example_wan_text_to_video", {"duration": 3})
    assert wan_emulator.create_count(include_refused=True) == 1


@pytest.mark.parametrize("dag_id", GENERATING)
def test_a_missing_bucket_fails_before_anything_is_billed(
    run_example: RunExample, wan_emulator: WanEmulator, dag_id: str
) -> None:
    with pytest.raises(WanDagRunFailed) as failed:
        run_example(dag_id, {"duration": 2, "audio_uri": f"s3://{BUCKET}/audio/voice-over.wav"})

    if failed.value.task_id == "check_s3_bucket":
        assert f"Invalid s3_bucket='{BUCKET}': the bucket does not exist" in str(failed.value)
    else:  # the generating task checks its own destination
        assert failed.value.task_id in {"generate_video", "make_episode"}
        assert f"Invalid destination='s3://{BUCKET}/" in str(failed.value)
        assert "the bucket does not exist" in str(failed.value)
    assert wan_emulator.create_count(include_refused=True) == 0


def test_batch_maps_one_video_per_prompt_in_the_pool(
    run_example: RunExample, wan_emulator: WanEmulator, wan_pool: str, wan_s3: WanS3, bucket: str
) -> None:
    prompts = [f"Batch prompt {n}: a lighthouse beam sweeps the fog, take {n}" for n in range(4)]
    run = run_example("example_wan_batch", {"prompts": prompts, "duration": 2})

    generated = [key for key in run.task_instances if key[0] == "generate_video"]
    assert len(generated) == len(prompts)
    assert {run.task_instances[key].pool for key in generated} == {wan_pool}
    results = run.xcom("generate_video")
    for n, (result, prompt) in enumerate(zip(results, prompts, strict=True)):
        assert result["key"].startswith(f"batch/batch-prompt-{n}-a-lighthouse-"), result["key"]
        assert result["key"].endswith(f"-{digest(prompt)}.mp4"), result["key"]  # the same key every run
    assert [run.ti("generate_video", n).rendered_map_index for n in range(4)] == [r["key"] for r in results]
    for result in results:
        assert video_facts(stored_video(wan_s3, result["s3_uri"]))["duration"] == 2.0
    assert [wan_emulator.create_count(prompt=prompt) for prompt in prompts] == [1] * len(prompts)


def digest(prompt: str) -> str:
    return hashlib.sha256(prompt.encode()).hexdigest()[:8]


def test_nightly_batch_with_a_refused_prompt_lands_the_others_and_a_rerun_bills_nothing_twice(
    run_example: RunExample, wan_emulator: WanEmulator, wan_pool: str, wan_s3: WanS3, bucket: str
) -> None:
    products = ["MUG-101", "BAG-203", "LAMP-7", "VASE-12", "SHOE-44"]
    prompts = [f"Product {sku} turns slowly on a white stand, soft studio light" for sku in products]
    prompts[1] += " [[blocked]]"  # moderation refuses this one
    conf = {"prompts": prompts, "duration": 2, "key_prefix": "products/"}

    with pytest.raises(WanDagRunFailed) as failed:
        run_example("example_wan_batch", conf)

    run = failed.value.run
    assert "task generate_video[1] (products/product-bag-203-turns-" in str(failed.value)  # the row, named
    assert f"-{digest(prompts[1])}.mp4) failed" in str(failed.value)
    assert "DataInspectionFailed" in str(failed.value)
    assert [ti.state for _, ti in sorted(run.task_instances.items()) if _[0] == "generate_video"] == [
        "success",
        "failed",
        "success",
        "success",
        "success",
    ]
    stored = wan_s3.client.list_objects_v2(Bucket=bucket, Prefix="products/")["Contents"]
    assert len(stored) == 4
    for n in (0, 2, 3, 4):
        result = run.xcom("generate_video", map_index=n)
        assert hashlib.sha256(wan_s3.get(result["s3_uri"])).hexdigest() == result["sha256"]  # verified
    assert [wan_emulator.create_count(prompt=p, include_refused=True) for p in prompts] == [1] * 5

    with pytest.raises(WanDagRunFailed, match=r"task generate_video\[1\] ") as failed_again:
        run_example("example_wan_batch", conf)

    again = failed_again.value.run
    assert [again.xcom("generate_video", map_index=n)["landed"] for n in (0, 2, 3, 4)] == ["skipped"] * 4
    sent = [wan_emulator.create_count(prompt=p, include_refused=True) for p in prompts]
    assert sent == [1, 2, 1, 1, 1]  # only the refused prompt is sent again (a refusal bills nothing)
    assert len(wan_s3.client.list_objects_v2(Bucket=bucket, Prefix="products/")["Contents"]) == 4


def test_nightly_batch_run_again_makes_nothing(
    run_example: RunExample, wan_emulator: WanEmulator, wan_pool: str, wan_s3: WanS3, bucket: str
) -> None:
    prompts = [f"Product SKU-{n} turns slowly on a white stand" for n in range(5)]
    conf = {"prompts": prompts, "duration": 2}
    first = run_example("example_wan_batch", conf).xcom("generate_video")
    creates = wan_emulator.create_count(include_refused=True)

    again = run_example("example_wan_batch", conf).xcom("generate_video")

    assert creates == 5
    assert wan_emulator.create_count(include_refused=True) == 5  # 0 creates
    assert [result["landed"] for result in first] == ["copied"] * 5
    assert [result["landed"] for result in again] == ["skipped"] * 5
    assert [result["sha256"] for result in again] == [result["sha256"] for result in first]


def test_batch_reads_prompts_from_a_file(
    run_example: RunExample, wan_emulator: WanEmulator, wan_pool: str, bucket: str, tmp_path: Any
) -> None:
    prompts_file = tmp_path / "prompts.txt"
    prompts_file.write_text("# storyboard\nA red kite over the dunes\n\nA tram passes in the snow\n")
    run_example("example_wan_batch", {"prompts_file": str(prompts_file), "duration": 2})
    assert wan_emulator.create_count(prompt="A red kite over the dunes") == 1
    assert wan_emulator.create_count(prompt="A tram passes in the snow") == 1
    assert wan_emulator.create_count() == 2


def test_multi_shot_sends_wan27_resolution_and_wan26_multi_shot(
    run_example: RunExample, wan_emulator: WanEmulator, wan_s3: WanS3, bucket: str
) -> None:
    run = run_example("example_wan_multi_shot", {"duration": 2})

    wan27 = wan_emulator.task(run.xcom("wan27_shot_list")["task_id"])
    assert wan27["body"]["model"] == "wan2.7-t2v"
    assert wan27["body"]["parameters"]["resolution"] == "720P"
    assert wan27["body"]["parameters"]["ratio"] == "16:9"
    assert "Shot 3" in wan27["body"]["input"]["prompt"]
    wan26 = wan_emulator.task(run.xcom("wan26_multi_shot")["task_id"])
    assert wan26["body"]["parameters"]["shot_type"] == "multi"
    assert wan26["body"]["parameters"]["prompt_extend"] is True

    for copy_task in ("copy_wan27_shot_list", "copy_wan26_multi_shot"):
        facts = video_facts(stored_video(wan_s3, run.xcom(copy_task)["s3_uri"]))
        assert (facts["width"], facts["height"], facts["duration"]) == (1280, 720, 2.0)


def test_lip_sync_hands_the_service_the_voice_over_from_s3(
    run_example: RunExample, wan_emulator: WanEmulator, wan_s3: WanS3, bucket: str
) -> None:
    voice_over = silent_wav()
    wan_s3.client.put_object(Bucket=bucket, Key="audio/voice-over.wav", Body=voice_over)

    run = run_example(
        "example_wan_lip_sync", {"audio_uri": f"s3://{bucket}/audio/voice-over.wav", "duration": 2}
    )

    result = run.xcom("generate_talking_presenter")
    assert result["request"]["input"]["audio_url"] == f"s3://{bucket}/audio/voice-over.wav"
    sent = wan_emulator.task(result["task_id"])["body"]["input"]["audio_url"]
    assert sent.startswith("http"), sent
    assert "Signature=" in sent, sent  # presigned: the service needs no AWS credentials
    assert requests.get(sent, timeout=10).content == voice_over
    facts = video_facts(stored_video(wan_s3, run.xcom("copy_to_s3")["s3_uri"]))
    assert facts["audio_codec"] == "aac"


def test_catalog_entry_matches_the_video_the_generation_landed(
    run_example: RunExample, wan_emulator: WanEmulator, bucket: str
) -> None:
    landed = run_example("example_wan_text_to_video", {"duration": 2}).xcom("generate_video")
    assert reported_through_alias("wan_videos") >= {landed["s3_uri"]}

    run = run_example("example_wan_video_catalog", {"video_uri": landed["s3_uri"]})
    [entry] = run.xcom("catalogue")
    assert entry == {
        "uri": landed["s3_uri"],
        "bytes": landed["size"],
        "wan_task_id": landed["task_id"],
        "sha256": landed["sha256"],
    }


def reported_through_alias(alias: str) -> set[str]:
    """The asset URIs of events recorded through an asset alias (what schedules the catalog DAG)."""
    from airflow.models.asset import AssetAliasModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        found = session.scalar(select(AssetAliasModel).where(AssetAliasModel.name == alias))
        return {asset.uri for asset in found.assets} if found else set()
