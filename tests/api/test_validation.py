"""Requests the contract rules out are refused before anything is sent, naming the parameter."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_wan.api import VideoRequest, WanValidationError

LONG_URL = "https://cdn.example.com/voice.mp3"

# (model, other fields, parameter that must be named, a fragment of what is allowed)
INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    # model and prompt
    ("", {}, "model", "non-empty"),
    ("   ", {}, "model", "non-empty"),
    ("wan2.6-t2v", {"prompt": ""}, "prompt", "non-empty"),
    ("wan2.6-t2v", {"prompt": "   \n"}, "prompt", "non-empty"),
    ("wan2.6-t2v", {"prompt": None}, "prompt", "non-empty"),
    ("wan2.6-t2v", {"prompt": 42}, "prompt", "non-empty"),
    # negative prompt
    ("wan2.6-t2v", {"negative_prompt": "n" * 501}, "negative_prompt", "at most 500"),
    ("wan3-t2v", {"negative_prompt": "n" * 501}, "negative_prompt", "at most 500"),
    ("wan2.6-t2v", {"negative_prompt": 7}, "negative_prompt", "a string"),
    # seed
    ("wan2.6-t2v", {"seed": -1}, "seed", "0 to 2147483647"),
    ("wan2.6-t2v", {"seed": 2_147_483_648}, "seed", "0 to 2147483647"),
    ("wan2.6-t2v", {"seed": "42"}, "seed", "integer"),
    ("wan2.6-t2v", {"seed": 4.5}, "seed", "integer"),
    ("wan2.6-t2v", {"seed": True}, "seed", "integer"),
    # duration
    ("wanx2.1-t2v-turbo", {"duration": 10}, "duration", "5 seconds"),
    ("wanx2.1-t2v-plus", {"duration": 3}, "duration", "5 seconds"),
    ("wan2.2-t2v-plus", {"duration": 10}, "duration", "5 seconds"),
    ("wan2.5-t2v-preview", {"duration": 7}, "duration", "5 or 10"),
    ("wan2.6-t2v", {"duration": 1}, "duration", "from 2 to 15"),
    ("wan2.6-t2v", {"duration": 16}, "duration", "from 2 to 15"),
    ("wan2.6-t2v-us", {"duration": 15}, "duration", "5 or 10"),
    ("wan2.7-t2v", {"duration": 20}, "duration", "from 2 to 15"),
    ("wan2.7-t2v", {"duration": 5.5}, "duration", "whole number"),
    ("wan2.7-t2v", {"duration": "10"}, "duration", "whole number"),
    ("wan9-t2v", {"duration": 0}, "duration", "positive"),
    # size
    ("wanx2.1-t2v-turbo", {"size": "1920*1080"}, "size", "832*480"),
    ("wanx2.1-t2v-plus", {"size": "832*480"}, "size", "1280*720"),
    ("wan2.2-t2v-plus", {"size": "1280*720"}, "size", "1920*1080"),
    ("wan2.6-t2v", {"size": "832*480"}, "size", "1280*720"),
    ("wan2.6-t2v", {"size": "1280x720"}, "size", '"*"'),
    ("wan2.6-t2v", {"size": "1280*"}, "size", '"*"'),
    ("wan2.5-t2v-preview", {"size": "1104*832"}, "size", "1088*832"),
    ("wan2.7-t2v", {"size": "1280*720"}, "size", "resolution and ratio"),
    ("wan2.7-t2v-2026-04-25", {"size": "1920*1080"}, "size", "resolution and ratio"),
    ("wan2.6-t2v", {"size": 1280}, "size", "WIDTH*HEIGHT"),
    # resolution and ratio
    ("wan2.6-t2v", {"resolution": "720P"}, "resolution", "use size"),
    ("wan2.5-t2v-preview", {"ratio": "16:9"}, "ratio", "use size"),
    ("wanx2.1-t2v-turbo", {"resolution": "480P", "ratio": "1:1"}, "resolution", "use size"),
    ("wan2.7-t2v", {"resolution": "480P"}, "resolution", "720P, 1080P"),
    ("wan2.7-t2v", {"resolution": "1080p"}, "resolution", "720P, 1080P"),
    ("wan2.7-t2v", {"ratio": "21:9"}, "ratio", "16:9"),
    ("wan2.7-t2v", {"ratio": "16/9"}, "ratio", "16:9"),
    # shot_type
    ("wan2.5-t2v-preview", {"shot_type": "multi"}, "shot_type", "only wan2.6"),
    ("wan2.7-t2v", {"shot_type": "multi"}, "shot_type", "describe the shots in the prompt"),
    ("wan2.2-t2v-plus", {"shot_type": "single"}, "shot_type", "only wan2.6"),
    ("wan2.6-t2v", {"shot_type": "multi", "prompt_extend": False}, "shot_type", "prompt_extend=True"),
    ("wan2.6-t2v", {"shot_type": "many"}, "shot_type", '"single" or "multi"'),
    # sound on silent-only models
    ("wanx2.1-t2v-turbo", {"audio": True}, "audio", "silent videos only"),
    ("wan2.2-t2v-plus", {"audio": True}, "audio", "silent videos only"),
    ("wan2.2-t2v-plus", {"audio_url": LONG_URL}, "audio_url", "silent videos only"),
    ("wanx2.1-t2v-plus", {"audio_url": LONG_URL}, "audio_url", "silent videos only"),
    # booleans
    ("wan2.6-t2v", {"audio": "yes"}, "audio", "true or false"),
    ("wan2.6-t2v", {"prompt_extend": 1}, "prompt_extend", "true or false"),
    ("wan2.6-t2v", {"watermark": "false"}, "watermark", "true or false"),
    # malformed URLs
    ("wan2.6-t2v", {"audio_url": "voice.mp3"}, "audio_url", "http(s) or oss://"),
    ("wan2.6-t2v", {"audio_url": "ftp://host/voice.mp3"}, "audio_url", "http(s) or oss://"),
    ("wan2.6-t2v", {"audio_url": "https:///voice.mp3"}, "audio_url", "http(s) or oss://"),
    ("wan2.6-t2v", {"audio_url": "https://host/my voice.mp3"}, "audio_url", "http(s) or oss://"),
    ("wan2.6-t2v", {"audio_url": "https://host/voice.ogg"}, "audio_url", ".wav or .mp3"),
    ("wan2.6-t2v", {"audio_url": "s3://bucket/voice.mp3"}, "audio_url", "http(s) or oss://"),
]


def _ids() -> list[str]:
    return [f"{model or 'empty'}-{param}-{i}" for i, (model, _, param, _) in enumerate(INVALID)]


def test_table_has_at_least_forty_refusals() -> None:
    assert len(INVALID) >= 40


@pytest.mark.parametrize(("model", "fields", "parameter", "allowed"), INVALID, ids=_ids())
def test_invalid_request_is_refused_naming_the_parameter(
    model: str, fields: dict[str, Any], parameter: str, allowed: str
) -> None:
    request = VideoRequest(**{"model": model, "prompt": "a fox in the rain", **fields})
    with pytest.raises(WanValidationError) as refused:
        request.validate()
    error = refused.value
    assert error.parameter == parameter
    message = str(error)
    assert message.startswith(f"Invalid {parameter}=")
    assert allowed in message
    shown = fields.get(parameter, model if parameter == "model" else None)
    if isinstance(shown, str) and shown.strip() and len(shown) < 60:
        assert shown in message


def test_long_values_are_shortened_in_messages() -> None:
    with pytest.raises(WanValidationError) as refused:
        VideoRequest(model="wan2.6-t2v", prompt="p", negative_prompt="n" * 900).validate()
    assert len(str(refused.value)) < 200


@pytest.mark.parametrize(
    "fields",
    [
        {"audio_url": "oss://bucket/voice.wav"},
        {"audio_url": "https://bucket.s3.amazonaws.com/voice.mp3?X-Amz-Signature=abc"},
        {"audio_url": "https://host/stream"},
        {"shot_type": "multi", "prompt_extend": True},
        {"shot_type": "single", "prompt_extend": False},
        {"seed": 0},
        {"seed": 2_147_483_647},
        {"negative_prompt": "n" * 500},
        {"audio": True, "watermark": True},
    ],
)
def test_edge_values_the_contract_allows(fields: dict[str, Any]) -> None:
    assert VideoRequest(model="wan2.6-t2v", prompt="a fox", **fields).validate() == []


def test_silent_model_takes_audio_false() -> None:
    assert VideoRequest(model="wan2.2-t2v-plus", prompt="a fox", audio=False).validate() == []


def test_body_leaves_out_what_was_not_set() -> None:
    request = VideoRequest(model="wan2.6-t2v", prompt="a fox", seed=0, prompt_extend=False)
    assert request.to_body() == {
        "model": "wan2.6-t2v",
        "input": {"prompt": "a fox"},
        "parameters": {"prompt_extend": False, "seed": 0},
    }


def test_body_carries_every_field() -> None:
    request = VideoRequest(
        model="wan2.5-t2v-preview",
        prompt="a fox",
        negative_prompt="blur",
        audio_url=LONG_URL,
        audio=True,
        size="832*480",
        duration=10,
        prompt_extend=True,
        watermark=False,
        seed=12345,
    )
    assert request.to_body() == {
        "model": "wan2.5-t2v-preview",
        "input": {"prompt": "a fox", "negative_prompt": "blur", "audio_url": LONG_URL},
        "parameters": {
            "size": "832*480",
            "duration": 10,
            "prompt_extend": True,
            "watermark": False,
            "seed": 12345,
            "audio": True,
        },
    }
    assert VideoRequest.from_body(request.to_body()) == request


def test_from_body_refuses_a_non_object() -> None:
    with pytest.raises(WanValidationError, match="body"):
        VideoRequest.from_body(["not", "an", "object"])
