"""The price table, estimates before sending, costs after success, and the caps that refuse a request."""

from __future__ import annotations

import pytest

from airflow_provider_wan.api import (
    ImageToVideoRequest,
    ReferenceToVideoRequest,
    VideoRequest,
    WanValidationError,
)
from airflow_provider_wan.api.pricing import (
    DEFAULT_PRICES,
    Charge,
    WanCostCapError,
    billing_tier,
    check_caps,
    cost,
    estimate,
    parse_prices,
    price_table,
)

T2V_PRICES = {"wan2.6-t2v": {"currency": "USD", "720P": 0.10, "1080P": 0.15}}


def turbo(duration: int = 3) -> ImageToVideoRequest:
    return ImageToVideoRequest(
        model="wan2.1-i2v-turbo", img_url="https://example.com/a.png", duration=duration
    )


def test_shipped_default_is_the_public_singapore_price_with_its_source() -> None:
    charge = estimate(turbo(3), price_table())
    assert charge.billed_seconds == 3
    assert (charge.amount, charge.currency, charge.price_per_second) == (0.108, "USD", 0.036)
    assert "June 2025" in str(charge.price_source)
    assert set(DEFAULT_PRICES) == {"wan2.1-i2v-turbo", "wan2.1-i2v-plus"}


def test_the_beijing_spelling_has_no_price_and_the_estimate_says_so() -> None:
    request = ImageToVideoRequest(model="wanx2.1-i2v-turbo", img_url="https://example.com/a.png", duration=4)
    charge = estimate(request, price_table())
    assert charge.billed_seconds == 4
    assert charge.amount is None
    assert "no price for model 'wanx2.1-i2v-turbo'" in str(charge.note)
    assert "cost unknown" in charge.describe()


def test_unknown_model_is_never_guessed() -> None:
    charge = estimate(
        VideoRequest(model="wan9.0-t2v", prompt="a fox", duration=7),
        price_table(parse_prices(T2V_PRICES, "[wan] prices")),
    )
    assert (charge.billed_seconds, charge.amount) == (7, None)
    unsized = estimate(VideoRequest(model="wan9.0-t2v", prompt="a fox"), price_table())
    assert unsized.billed_seconds is None
    assert unsized.amount is None


def test_tier_from_size_or_the_models_default() -> None:
    table = price_table(parse_prices(T2V_PRICES, "[wan] prices"))
    small = estimate(VideoRequest(model="wan2.6-t2v", prompt="a fox", size="720*1280", duration=10), table)
    assert (small.tier, small.amount) == ("720P", 1.0)
    default = estimate(VideoRequest(model="wan2.6-t2v", prompt="a fox"), table)  # 1920*1080, 5 s
    assert (default.tier, default.billed_seconds, default.amount) == ("1080P", 5, 0.75)


def test_dated_snapshot_takes_its_familys_price() -> None:
    table = price_table(parse_prices({"wan2.7-t2v": {"currency": "USD", "720P": 0.1, "1080P": 0.2}}, "x"))
    request = VideoRequest(model="wan2.7-t2v-2026-04-25", prompt="a fox", resolution="720P", duration=2)
    assert estimate(request, table).amount == 0.2


def test_sound_picks_the_rate_on_flash_models() -> None:
    prices = {"wan2.6-i2v-flash": {"currency": "USD", "720P sound": 0.2, "720P silent": 0.1}}
    table = price_table(parse_prices(prices, "extra.prices"))
    base = {
        "model": "wan2.6-i2v-flash",
        "img_url": "https://example.com/a.png",
        "resolution": "720P",
        "duration": 5,
    }
    assert estimate(ImageToVideoRequest(**base), table).amount == 1.0  # sound by default
    silent = estimate(ImageToVideoRequest(**base, audio=False), table)
    assert (silent.amount, silent.to_dict()["sound"]) == (0.5, "silent")
    at_1080 = estimate(ImageToVideoRequest(**{**base, "resolution": "1080P"}), table)
    assert at_1080.amount is None
    assert "no rate for 1080P, sound" in str(at_1080.note)


def test_reference_videos_bill_their_capped_input_seconds() -> None:
    table = price_table(parse_prices({"wan2.6-r2v": {"currency": "USD", "*": 0.1}}, "x"))
    request = ReferenceToVideoRequest(
        model="wan2.6-r2v",
        prompt="character1 waves at character2",
        reference_urls=("https://example.com/a.png", "https://example.com/b.mp4"),
        duration=5,
    )
    charge = estimate(request, table)  # one clip sharing the 5 s input budget with one image: 2.5 s
    assert (charge.billed_seconds, charge.amount) == (7.5, 0.75)


def test_a_null_entry_unprices_a_default() -> None:
    table = price_table(parse_prices({"wan2.1-i2v-turbo": None}, "[wan] prices"))
    assert estimate(turbo(), table).amount is None


def test_later_layers_win_model_by_model() -> None:
    config = parse_prices({"wan2.1-i2v-turbo": {"currency": "USD", "*": 0.05}}, "[wan] prices")
    extra = parse_prices({"wan2.1-i2v-turbo": {"currency": "CNY", "*": 0.24}}, "extra.prices")
    charge = estimate(turbo(5), price_table(config, extra))
    assert (charge.currency, charge.amount, charge.price_source) == ("CNY", 1.2, "extra.prices")
    assert estimate(turbo(5), price_table(config)).price_source == "[wan] prices"


@pytest.mark.parametrize(
    ("document", "parameter", "says"),
    [
        ([1, 2], "[wan] prices", "JSON object"),
        ({"m": {"720P": 0.1}}, "[wan] prices['m'].currency", "three-letter"),
        ({"m": {"currency": "usd", "*": 0.1}}, "[wan] prices['m'].currency", "three-letter"),
        ({"m": {"currency": "USD", "4K": 0.1}}, "[wan] prices['m']", "480P/720P/1080P"),
        ({"m": {"currency": "USD", "720P": -1}}, "[wan] prices['m']['720P']", "non-negative"),
        ({"m": {"currency": "USD", "720P": "cheap"}}, "[wan] prices['m']['720P']", "non-negative"),
        ({"m": {"currency": "USD"}}, "[wan] prices['m']", "at least one rate"),
    ],
)
def test_bad_price_tables_are_refused_naming_where(document: object, parameter: str, says: str) -> None:
    with pytest.raises(WanValidationError) as raised:
        parse_prices(document, "[wan] prices")
    assert raised.value.parameter == parameter
    assert says in str(raised.value)


def test_cost_after_success_uses_the_billed_seconds() -> None:
    charge = cost(turbo(5), "4.0", price_table(), usage={"video_duration": 4})
    assert (charge.billed_seconds, charge.amount) == (4.0, 0.144)


def test_cost_of_an_unknown_model_takes_the_tier_from_usage() -> None:
    table = price_table(parse_prices({"wan9.0-t2v": {"currency": "USD", "720P": 0.1}}, "x"))
    request = VideoRequest(model="wan9.0-t2v", prompt="a fox")
    assert billing_tier(request) is None
    assert cost(request, 10, table, usage={"SR": "720"}).amount == 1.0


def test_within_the_caps_passes() -> None:
    check_caps(estimate(turbo(3), price_table()), max_cost=0.108, max_billed_seconds=3)
    check_caps(estimate(turbo(3), price_table()))  # no caps: nothing to check


def test_over_max_cost_names_the_parameter_the_estimate_and_the_cap() -> None:
    with pytest.raises(WanCostCapError) as raised:
        check_caps(estimate(turbo(5), price_table()), max_cost=0.1)
    error = raised.value
    assert isinstance(error, WanValidationError)
    assert error.parameter == "max_cost"
    assert error.cap == 0.1
    assert "max_cost=0.1" in str(error)
    assert "USD 0.18" in str(error)
    assert "5 s" in str(error)


def test_over_max_billed_seconds() -> None:
    with pytest.raises(
        WanCostCapError, match=r"max_billed_seconds=4: the estimate for wan2.1-i2v-turbo is 5 billed"
    ):
        check_caps(estimate(turbo(5), price_table()), max_billed_seconds=4)


def test_a_cap_that_cannot_be_checked_refuses() -> None:
    unpriced = Charge("wanx2.1-i2v-turbo", 5, note="no price")
    with pytest.raises(WanCostCapError, match=r"max_cost=10: no estimate for 'wanx2\.1-i2v-turbo'"):
        check_caps(unpriced, max_cost=10)
    check_caps(unpriced, max_billed_seconds=5)  # its seconds are known
    with pytest.raises(WanCostCapError, match="billed seconds of 'x' are unknown"):
        check_caps(Charge("x", None), max_billed_seconds=100)


def test_a_batch_is_summed_and_must_share_one_currency() -> None:
    charges = [estimate(turbo(5), price_table()) for _ in range(3)]  # 3 x USD 0.18
    check_caps(charges, max_cost=0.54, max_billed_seconds=15)
    with pytest.raises(WanCostCapError, match=r"3 tasks is USD 0\.54 in all"):
        check_caps(charges, max_cost=0.5)
    yuan = Charge("m", 5, currency="CNY", price_per_second=0.2)
    with pytest.raises(WanCostCapError, match="several currencies"):
        check_caps([*charges, yuan], max_cost=100)


@pytest.mark.parametrize("cap", [-1, "lots", float("nan")])
def test_a_bad_cap_is_refused(cap: object) -> None:
    with pytest.raises(WanValidationError) as raised:
        check_caps(estimate(turbo(), price_table()), max_cost=cap)
    assert raised.value.parameter == "max_cost"
    assert "non-negative number" in str(raised.value)


def test_the_xcom_form() -> None:
    assert estimate(turbo(3), price_table()).to_dict() == {
        "amount": 0.108,
        "currency": "USD",
        "billed_seconds": 3.0,
        "price_per_second": 0.036,
        "model": "wan2.1-i2v-turbo",
        "tier": "720P",
        "sound": "silent",
        "price_source": DEFAULT_PRICES["wan2.1-i2v-turbo"].source,  # type: ignore[union-attr]
        "note": None,
        "warnings": [],
    }
