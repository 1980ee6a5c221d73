"""Never an estimate below the bill: for every model of every family's table and each ``audio`` value
its request takes, the estimate's price is the dearest the vendor's pages let that request be billed at;
an unknown model, sound or tier is priced at its dearer reading, with a warning naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_wan.api import (
    ImageToVideoMediaRequest,
    ImageToVideoRequest,
    MediaItem,
    ReferenceToVideoRequest,
    VideoRequest,
    WanRequest,
    WanValidationError,
)
from airflow_provider_wan.api.pricing import cost, estimate, parse_prices, price_table
from tests.api.test_media_models import ROWS, minimal
from tests.api.test_models import CONTRACT_MODELS

# What a request may be billed as, by the sound the contract pages give its model (as tests/api writes
# them out) and the `audio` value sent: True for sound, False for silent. A value missing is refused.
# wan2.5's `audio=False` ("disputed"): silent on the older text-to-video pages, while the newer ones
# say only wan2.1/wan2.2 make silent videos, so it may be billed either way.
BILLABLE: dict[str, dict[bool | None, set[bool]]] = {
    "silent": {None: {False}, False: {False}},
    "always": {None: {True}, True: {True}},
    "optional": {None: {True}, True: {True}, False: {False}},
    "disputed": {None: {True}, True: {True}, False: {True, False}},
}
PICTURE = "https://a.example/f.png"
SOUND_DEARER = {"* sound": 0.15, "* silent": 0.10}
SILENT_DEARER = {"* sound": 0.10, "* silent": 0.15}  # no such price list; the rule holds for it too
MODELS = [
    *((name, row[4], lambda name, **audio: VideoRequest(model=name, prompt="a fox", **audio))
      for name, row in CONTRACT_MODELS.items()),
    *((name, row[4], minimal) for _, name, row in ROWS),
]  # fmt: skip
# each model with each `audio` value its request type has a field for (None alone where it has none)
CASES = [
    (name, sound, build, audio)
    for name, sound, build in MODELS
    for audio in (None, True, False)
    if audio is None or "audio" in type(build(name)).PARAMETER_FIELDS
]


def table_for(model: str, rates: dict[str, float]) -> Any:
    return price_table(parse_prices({model: {"currency": "USD", **rates}}, "[wan] prices"))


@pytest.mark.parametrize("rates", [SOUND_DEARER, SILENT_DEARER], ids=["sound-dearer", "silent-dearer"])
@pytest.mark.parametrize(
    ("model", "sound", "build", "audio"), CASES, ids=[f"{case[0]}-audio={case[3]}" for case in CASES]
)
def test_every_models_estimate_is_the_dearest_price_it_can_be_billed_at(
    model: str, sound: str, build: Any, audio: bool | None, rates: dict[str, float]
) -> None:
    request = build(model, **({} if audio is None else {"audio": audio}))
    billable = BILLABLE[sound].get(audio)
    if billable is None:
        with pytest.raises(WanValidationError) as refused:
            request.validate()
        assert refused.value.parameter == "audio"
        return
    request.validate()

    charge = estimate(request, table_for(model, rates))

    dearest = max(rates["* sound" if has_audio else "* silent"] for has_audio in billable)
    assert charge.price_per_second == dearest
    seconds = request.output().duration  # type: ignore[attr-defined]
    assert charge.amount is not None
    assert charge.amount >= round(dearest * seconds, 6)
    if len(billable) > 1:
        (warning,) = charge.warnings
        assert warning.startswith("audio=False: ")
        assert "dearer of its sound and silent rates" in warning
    else:
        assert charge.warnings == ()


def test_the_issues_case_wan25_audio_false_is_estimated_at_the_sound_price() -> None:
    request = VideoRequest(model="wan2.5-t2v-preview", prompt="a fox", duration=10, audio=False)
    prices = {"wan2.5-t2v-preview": {"currency": "USD", "1080P sound": 0.15, "1080P silent": 0.10}}

    charge = estimate(request, price_table(parse_prices(prices, "[wan] prices")))

    assert request.validate() == []  # sent, and rendered silent (the older pages' reading)
    assert request.output().has_audio is False
    assert (charge.amount, charge.price_per_second, charge.tier) == (1.5, 0.15, "1080P")
    assert "wan2.5-t2v-preview silent, its newer ones say only the wan2.1 and wan2.2" in charge.warnings[0]


@pytest.mark.parametrize(
    "request_",
    [
        VideoRequest(model="wan9.0-t2v", prompt="a fox", size="1280*720", duration=5, audio=False),
        VideoRequest(model="wan9.0-t2v", prompt="a fox", size="1280*720", duration=5),
        ImageToVideoRequest(model="wan9.0-i2v", img_url=PICTURE, resolution="720P", duration=5, audio=False),
        ImageToVideoMediaRequest(
            model="wan9.0-i2v",
            media=(MediaItem("first_frame", PICTURE),),
            resolution="720P",
            duration=5,
        ),
    ],
    ids=["t2v-audio-false", "t2v-audio-unset", "i2v-audio-false", "i2v-media"],
)
@pytest.mark.parametrize("rates", [SOUND_DEARER, SILENT_DEARER], ids=["sound-dearer", "silent-dearer"])
def test_an_unknown_models_sound_is_priced_at_the_dearer_rate(
    request_: WanRequest, rates: dict[str, float]
) -> None:
    charge = estimate(request_, table_for(request_.model, rates))

    assert (charge.price_per_second, charge.amount, charge.to_dict()["sound"]) == (0.15, 0.75, None)
    (warning,) = charge.warnings
    audio = getattr(request_, "audio", None)
    assert warning.startswith("audio not set: " if audio is None else f"audio={audio}: ")
    assert f"{request_.model!r} is a model this provider does not know" in warning


def test_an_unknown_model_with_audio_true_bills_sound_if_billed_at_all() -> None:
    request = VideoRequest(model="wan9.0-t2v", prompt="a fox", size="1280*720", duration=5, audio=True)
    charge = estimate(request, table_for("wan9.0-t2v", SILENT_DEARER))
    assert (charge.price_per_second, charge.to_dict()["sound"], charge.warnings) == (0.10, "sound", ())


def test_only_sound_keyed_rates_and_an_unknown_sound_take_the_dearer_one() -> None:
    rates = {"720P sound": 0.2, "720P silent": 0.1}
    request = VideoRequest(model="wan9.0-t2v", prompt="a fox", size="1280*720", duration=5, audio=False)
    assert estimate(request, table_for("wan9.0-t2v", rates)).amount == 1.0
    only_silent = estimate(request, table_for("wan9.0-t2v", {"720P silent": 0.1}))
    assert only_silent.amount is None  # its sound price is not known: no estimate, and a cap refuses
    assert "no rate for 720P, unknown sound" in str(only_silent.note)


def test_a_plain_rate_and_a_dearer_sound_rate_take_the_sound_one_when_the_sound_is_unknown() -> None:
    # "720P" alone once applied to an unknown sound: cheaper than the "720P sound" it may be billed at
    request = VideoRequest(model="wan9.0-t2v", prompt="a fox", size="1280*720", duration=5)
    assert estimate(request, table_for("wan9.0-t2v", {"720P": 0.1, "720P sound": 0.3})).amount == 1.5


def test_an_unknown_tier_is_priced_at_the_dearest_tier_naming_size_or_resolution() -> None:
    request = VideoRequest(model="wan9.0-t2v", prompt="a fox", duration=5, audio=True)
    charge = estimate(request, table_for("wan9.0-t2v", {"*": 0.1, "1080P": 0.2}))
    assert (charge.tier, charge.price_per_second, charge.amount) == (None, 0.2, 1.0)
    (warning,) = charge.warnings
    assert warning.startswith("size or resolution: the tier of 'wan9.0-t2v' is not known")
    flat = estimate(request, table_for("wan9.0-t2v", {"*": 0.1}))
    assert (flat.amount, flat.warnings) == (0.5, ())


@pytest.mark.parametrize(
    ("usage", "rate"),
    [
        ({"duration": 5, "SR": 720, "audio": False}, 0.1),
        ({"duration": 5, "SR": 720, "audio": True}, 0.2),
        ({"duration": 5.0, "SR": "720", "audio": "false"}, 0.1),
        ({"duration": 5, "SR": 1080, "audio": False}, 0.3),  # the tier the service reports
        ({"duration": 5, "SR": "1080P"}, 0.4),  # no report of the sound: the request's (sound)
    ],
)
def test_the_cost_takes_the_tier_and_sound_the_service_reports(usage: dict[str, Any], rate: float) -> None:
    rates = {"720P silent": 0.1, "720P sound": 0.2, "1080P silent": 0.3, "1080P sound": 0.4}
    request = ImageToVideoRequest(model="wan2.6-i2v-flash", img_url=PICTURE, resolution="720P")
    charge = cost(request, request.billed_seconds(usage), table_for("wan2.6-i2v-flash", rates), usage)
    assert (charge.billed_seconds, charge.price_per_second) == (5, rate)


def test_the_cost_of_wan25_audio_false_without_a_report_is_the_dearer_reading() -> None:
    request = VideoRequest(model="wan2.5-t2v-preview", prompt="a fox", size="832*480", audio=False)
    usage = {"video_count": 1, "video_duration": 5, "video_ratio": "832*480"}  # no word of the sound
    table = table_for("wan2.5-t2v-preview", SOUND_DEARER)
    charge = cost(request, request.billed_seconds(usage), table, usage)
    assert (charge.amount, charge.to_dict()["sound"]) == (0.75, None)
    assert charge.warnings[0].startswith("audio=False: ")


def test_a_reference_requests_sound_switch_prices_as_documented() -> None:
    request = ReferenceToVideoRequest(
        model="wan2.6-r2v-flash",
        prompt="character1 waves",
        reference_urls=(PICTURE,),
        duration=5,
        audio=False,
    )
    charge = estimate(request, table_for("wan2.6-r2v-flash", SOUND_DEARER))
    assert (charge.price_per_second, charge.to_dict()["sound"], charge.warnings) == (0.10, "silent", ())
