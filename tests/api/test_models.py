"""Every model row and every size, ratio and duration rule of the contract page, table-driven."""

from __future__ import annotations

import pytest

from airflow_provider_wan.api import MODELS, VideoRequest, WanValidationError, resolve_model

# The contract page's model table, written out again here so the module is checked against the page.
# family: (tiers, default size, durations, prompt limit, sound, fps). Sound: "silent" (wan2.1/2.2),
# "always" (wan2.6/2.7: the newer pages say only wan2.1/2.2 go silent), "disputed" (wan2.5: `audio=False`
# silent on the older pages only).
CONTRACT_MODELS = {
    "wanx2.1-t2v-turbo": (("480P", "720P"), "1280*720", {5}, 800, "silent", 30),
    "wanx2.1-t2v-plus": (("720P",), "1280*720", {5}, 800, "silent", 30),
    "wan2.2-t2v-plus": (("480P", "1080P"), "1920*1080", {5}, 800, "silent", 30),
    "wan2.5-t2v-preview": (("480P", "720P", "1080P"), "1920*1080", {5, 10}, 1500, "disputed", 24),
    "wan2.6-t2v": (("720P", "1080P"), "1920*1080", set(range(2, 16)), 1500, "always", 30),
    "wan2.6-t2v-us": (("720P", "1080P"), "1920*1080", {5, 10}, 1500, "always", 30),
    "wan2.7-t2v": ((), "1920*1080", set(range(2, 16)), 5000, "always", 30),
}
CONTRACT_TIERS = {
    "480P": {"832*480", "480*832", "624*624"},
    "720P": {"1280*720", "720*1280", "960*960", "1088*832", "832*1088"},
    "1080P": {"1920*1080", "1080*1920", "1440*1440", "1632*1248", "1248*1632"},
}
ALL_SIZES = sorted(set().union(*CONTRACT_TIERS.values()))
WAN27_PIXELS = {
    ("720P", "16:9"): (1280, 720),
    ("720P", "9:16"): (720, 1280),
    ("720P", "1:1"): (960, 960),
    ("720P", "4:3"): (1104, 832),
    ("720P", "3:4"): (832, 1104),
    ("1080P", "16:9"): (1920, 1080),
    ("1080P", "9:16"): (1080, 1920),
    ("1080P", "1:1"): (1440, 1440),
    ("1080P", "4:3"): (1648, 1248),
    ("1080P", "3:4"): (1248, 1648),
}
SIZE_MODELS = [name for name, row in CONTRACT_MODELS.items() if row[0]]


def test_module_knows_exactly_the_contract_models() -> None:
    assert set(MODELS) == set(CONTRACT_MODELS)


@pytest.mark.parametrize(("family", "row"), CONTRACT_MODELS.items())
def test_model_row(family: str, row: tuple) -> None:
    tiers, default_size, durations, prompt_limit, sound, fps = row
    spec = MODELS[family]
    assert spec.tiers == tiers
    assert set(spec.sizes) == set().union(*(CONTRACT_TIERS[t] for t in tiers)) if tiers else not spec.sizes
    assert spec.default_size == default_size
    assert set(spec.durations) == durations
    assert spec.prompt_limit == prompt_limit
    assert spec.sound == sound
    assert spec.fps == fps
    assert spec.shot_type is family.startswith("wan2.6")
    assert spec.uses_resolution is (family == "wan2.7-t2v")
    assert (spec.max_running, spec.creates_per_second) == ((2, 2) if sound == "silent" else (5, 5))


@pytest.mark.parametrize("family", SIZE_MODELS)
@pytest.mark.parametrize("size", ALL_SIZES)
def test_size_accepted_exactly_in_the_models_tiers(family: str, size: str) -> None:
    tiers = CONTRACT_MODELS[family][0]
    allowed = any(size in CONTRACT_TIERS[t] for t in tiers)
    request = VideoRequest(model=family, prompt="a fox", size=size)
    if allowed:
        assert request.validate() == []
        output = request.output()
        assert (output.width, output.height) == tuple(int(p) for p in size.split("*"))
    else:
        with pytest.raises(WanValidationError) as refused:
            request.validate()
        assert refused.value.parameter == "size"
        assert size in str(refused.value)


@pytest.mark.parametrize("family", list(CONTRACT_MODELS))
@pytest.mark.parametrize("duration", range(1, 17))
def test_duration_accepted_exactly_in_the_models_set(family: str, duration: int) -> None:
    request = VideoRequest(model=family, prompt="a fox", duration=duration)
    if duration in CONTRACT_MODELS[family][2]:
        assert request.validate() == []
        assert request.output().duration == duration
    else:
        with pytest.raises(WanValidationError, match=rf"Invalid duration={duration}: .*{family}"):
            request.validate()


@pytest.mark.parametrize(("tier_ratio", "pixels"), WAN27_PIXELS.items())
def test_wan27_resolution_and_ratio_give_the_contract_pixels(tier_ratio: tuple, pixels: tuple) -> None:
    resolution, ratio = tier_ratio
    request = VideoRequest(model="wan2.7-t2v", prompt="a fox", resolution=resolution, ratio=ratio)
    assert request.validate() == []
    assert (request.output().width, request.output().height) == pixels


@pytest.mark.parametrize("family", SIZE_MODELS)
@pytest.mark.parametrize("field", ["resolution", "ratio"])
def test_resolution_and_ratio_refused_before_wan27(family: str, field: str) -> None:
    with pytest.raises(WanValidationError) as refused:
        VideoRequest(
            model=family, prompt="a fox", **{field: "720P" if field == "resolution" else "16:9"}
        ).validate()
    assert refused.value.parameter == field
    assert "use size" in str(refused.value)


@pytest.mark.parametrize(("family", "row"), CONTRACT_MODELS.items())
def test_defaults_when_nothing_is_set(family: str, row: tuple) -> None:
    output = VideoRequest(model=family, prompt="a fox").output()
    assert (output.width, output.height) == tuple(int(p) for p in row[1].split("*"))
    assert output.fps == row[5]
    assert output.has_audio is (row[4] != "silent")
    assert output.duration == (5 if 5 in row[2] else min(row[2]))


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("wan2.7-t2v-2026-04-25", "wan2.7-t2v"),
        ("wan2.6-t2v-2025-12-16", "wan2.6-t2v"),
        ("wan2.6-t2v-us-2026-01-02", "wan2.6-t2v-us"),
        ("wan2.5-t2v-preview", "wan2.5-t2v-preview"),
    ],
)
def test_dated_snapshots_resolve_to_their_family(name: str, family: str) -> None:
    spec = resolve_model(name)
    assert spec is not None
    assert spec.family == family


@pytest.mark.parametrize("name", ["wan3.0-t2v", "wan2.7-t2v-latest", "wan2.7-i2v", "wan2.7-t2v-2026-04"])
def test_unknown_models_pass_model_independent_checks_with_a_warning(name: str) -> None:
    assert resolve_model(name) is None
    warnings = VideoRequest(model=name, prompt="a fox", size="1234*567", duration=7).validate()
    assert len(warnings) == 1
    assert name in warnings[0]
    with pytest.raises(WanValidationError, match="seed"):
        VideoRequest(model=name, prompt="a fox", seed=-1).validate()


@pytest.mark.parametrize(
    ("name", "nearest"),
    [
        ("wan2.6-t2w", "wan2.6-t2v"),
        ("wan2.7-t2v-2026-13-99x", None),
        ("wanx2.1-t2v-turb", "wanx2.1-t2v-turbo"),
    ],
)
def test_a_mistyped_model_warning_names_the_nearest_known_one(name: str, nearest: str | None) -> None:
    (warning,) = VideoRequest(model=name, prompt="a fox").validate()
    assert f"Unknown model {name!r}" in warning
    assert "sent as it is" in warning  # new models stay usable: a warning, not a refusal
    if nearest:
        assert f"(did you mean {nearest}?)" in warning
    else:
        assert "did you mean" not in warning


@pytest.mark.parametrize(("family", "row"), CONTRACT_MODELS.items())
def test_prompt_over_the_limit_warns_and_is_not_refused(family: str, row: tuple) -> None:
    limit = row[3]
    assert VideoRequest(model=family, prompt="x" * limit).validate() == []
    warnings = VideoRequest(model=family, prompt="x" * (limit + 1)).validate()
    assert len(warnings) == 1
    assert str(limit) in warnings[0]
    assert "truncates" in warnings[0]


@pytest.mark.parametrize(
    ("model", "extra", "has_audio"),
    [
        ("wan2.5-t2v-preview", {}, True),
        ("wan2.5-t2v-preview", {"audio": False}, False),
        ("wan2.5-t2v-preview", {"audio": False, "audio_url": "https://x.example/a.mp3"}, True),
        ("wan2.6-t2v", {"audio_url": "https://x.example/a.wav"}, True),
        ("wan2.7-t2v", {}, True),
        ("wan2.2-t2v-plus", {}, False),
        ("wan2.2-t2v-plus", {"audio": False}, False),
    ],
)
def test_sound_follows_audio_url_over_audio(model: str, extra: dict, has_audio: bool) -> None:
    request = VideoRequest(model=model, prompt="a fox", **extra)
    request.validate()
    assert request.output().has_audio is has_audio


@pytest.mark.parametrize("family", ["wan2.6-t2v", "wan2.6-t2v-us", "wan2.7-t2v", "wan2.7-t2v-2026-04-25"])
def test_audio_false_on_an_always_sound_model_is_refused_naming_the_model_that_takes_it(family: str) -> None:
    # sent, it would be billed as sound (the newer pages: only wan2.1/wan2.2 make silent videos)
    with pytest.raises(WanValidationError) as refused:
        VideoRequest(model=family, prompt="a fox", audio=False).validate()
    assert refused.value.parameter == "audio"
    assert "always makes sound; audio=False is taken only by wan2.5-t2v-preview" in str(refused.value)
