"""What a Wan task costs: a price table, the estimate before sending, the cost after success, and the
caps that refuse a request before anything is billed. Pure: prices come in as parsed JSON.

Wan bills per second of successfully generated video (failed tasks are free), at a price per model that
rises with the tier (480P/720P/1080P) and, on ``-flash`` models, with sound; reference-to-video also
bills the reference videos' (capped) seconds. A model the table does not price has no estimate: nothing
here guesses a price. Where the tier or the sound is not known, or the vendor's pages disagree on it,
the dearer reading is priced and a warning names the field: an estimate is never below the bill.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_wan.api.models import SIZE_TIERS, BilledSound, resolve_in
from airflow_provider_wan.api.responses import parse_number, sr_tier
from airflow_provider_wan.exceptions import WanCostCapError, WanValidationError

ANY_TIER = "*"
TIERS = tuple(SIZE_TIERS)  # 480P, 720P, 1080P
SOUNDS = ("sound", "silent")
_RATE_KEY = re.compile(rf"^(?P<tier>\*|{'|'.join(TIERS)})(?: (?P<sound>{'|'.join(SOUNDS)}))?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
PRICES_FORMAT = (
    'a JSON object of model name -> {"currency": "USD", RATE: PRICE_PER_SECOND, ...} or null (no price), '
    "RATE one of '*' (any tier) or 480P/720P/1080P, optionally followed by ' sound' or ' silent'"
)

#: Where the shipped prices come from: the only per-second prices a public vendor price list gives for
#: models this provider speaks (Singapore; the Beijing spellings ``wanx2.1-`` are not priced).
DEFAULT_PRICES_SOURCE = (
    "Alibaba Cloud Model Studio image-to-video API reference, English edition of June 2025 (Singapore): "
    "https://www.alibabacloud.com/help/en/model-studio/image-to-video-api-reference"
)


@dataclass(frozen=True)
class ModelPrices:
    """One model's prices per second, by tier and sound, in one currency; ``source`` says who set them."""

    currency: str
    rates: Mapping[str, float]
    source: str

    def rate(self, tier: str | None, has_audio: bool | None) -> float | None:
        """The rate for the tier and sound; where either is not known (None), the dearest of the rates
        it may be, and None when one of those has no rate: never less than the bill."""
        tiers = (tier,) if tier else TIERS
        sounds = (has_audio,) if has_audio is not None else (True, False)
        found = [self._most_specific(t, s) for t in tiers for s in sounds]
        return max(r for r in found if r is not None) if None not in found else None

    def _most_specific(self, tier: str, has_audio: bool) -> float | None:
        sound = _sound(has_audio)
        for key in (f"{tier} {sound}", tier, f"{ANY_TIER} {sound}", ANY_TIER):
            if key in self.rates:
                return self.rates[key]
        return None


PriceTable = Mapping[str, "ModelPrices | None"]
UNKNOWN_SOUND = BilledSound(None)

DEFAULT_PRICES: dict[str, ModelPrices | None] = {
    "wan2.1-i2v-turbo": ModelPrices("USD", {ANY_TIER: 0.036}, DEFAULT_PRICES_SOURCE),
    "wan2.1-i2v-plus": ModelPrices("USD", {ANY_TIER: 0.10}, DEFAULT_PRICES_SOURCE),
}


def parse_prices(document: Any, source: str) -> dict[str, ModelPrices | None]:
    """A price table from its JSON form (see :data:`PRICES_FORMAT`); ``source`` names where it was set
    (``[wan] prices``, ``extra.prices``) in errors and in every estimate made from it."""
    if not isinstance(document, Mapping):
        raise WanValidationError(source, document, PRICES_FORMAT)
    table: dict[str, ModelPrices | None] = {}
    for model, entry in document.items():
        if not isinstance(model, str) or not model.strip():
            raise WanValidationError(source, model, "model names as keys")
        table[model] = None if entry is None else _model_prices(entry, f"{source}[{model!r}]", source)
    return table


def _model_prices(entry: Any, parameter: str, source: str) -> ModelPrices:
    if not isinstance(entry, Mapping):
        raise WanValidationError(parameter, entry, PRICES_FORMAT)
    currency = entry.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise WanValidationError(f"{parameter}.currency", currency, "a three-letter currency code, e.g. USD")
    rates: dict[str, float] = {}
    for key, value in entry.items():
        if key == "currency":
            continue
        if not isinstance(key, str) or not _RATE_KEY.match(key):
            raise WanValidationError(parameter, key, PRICES_FORMAT)
        number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        if number is None or not math.isfinite(number) or number < 0:
            raise WanValidationError(f"{parameter}[{key!r}]", value, "a non-negative price per second")
        rates[key] = float(number)
    if not rates:
        raise WanValidationError(parameter, entry, "at least one rate besides the currency")
    return ModelPrices(currency, rates, source)


def price_table(*layers: PriceTable | None) -> dict[str, ModelPrices | None]:
    """The shipped defaults overridden model by model by each layer in turn (a null entry unprices)."""
    table: dict[str, ModelPrices | None] = dict(DEFAULT_PRICES)
    for layer in layers:
        table.update(layer or {})
    return table


def lookup(table: PriceTable, model: str) -> ModelPrices | None:
    """The model's prices, a dated snapshot's from its family's entry; None when unpriced."""
    return resolve_in(model, table) if isinstance(model, str) else None


@dataclass(frozen=True)
class Charge:
    """Billed seconds of one task and what they cost: an estimate before it runs, the cost after.

    ``amount`` is None when the price is not known; ``note`` then says why. ``billed_seconds`` is None
    when even the length is unknown (an unknown model given no ``duration``). ``warnings`` name the
    fields whose dearer reading was priced.
    """

    model: str
    billed_seconds: float | None
    tier: str | None = None
    has_audio: bool | None = None
    currency: str | None = None
    price_per_second: float | None = None
    price_source: str | None = None
    note: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def amount(self) -> float | None:
        if self.price_per_second is None or self.billed_seconds is None:
            return None
        return round(self.price_per_second * self.billed_seconds, 6)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form for XCom and lineage."""
        return {
            "amount": self.amount,
            "currency": self.currency,
            "billed_seconds": self.billed_seconds,
            "price_per_second": self.price_per_second,
            "model": self.model,
            "tier": self.tier,
            "sound": None if self.has_audio is None else _sound(self.has_audio),
            "price_source": self.price_source,
            "note": self.note,
            "warnings": list(self.warnings),
        }

    def describe(self) -> str:
        """One line for the task log."""
        seconds = "unknown seconds" if self.billed_seconds is None else f"{self.billed_seconds:g} s"
        what = ", ".join(p for p in (self.model, self.tier, self.to_dict()["sound"]) if p)
        if self.amount is None:
            return f"{seconds} ({what}), cost unknown: {self.note}"
        return (
            f"{seconds} x {self.currency} {self.price_per_second:g}/s = {self.currency} {self.amount:g} "
            f"({what}; prices from {self.price_source})"
        )


def charge(
    model: str,
    billed_seconds: float | None,
    table: PriceTable,
    *,
    tier: str | None = None,
    sound: BilledSound = UNKNOWN_SOUND,
) -> Charge:
    """What ``billed_seconds`` of ``model`` cost at the table's price for the tier and sound (the dearer
    reading of either where it is not known)."""
    prices = lookup(table, model)
    has_audio = sound.has_audio
    rate = prices.rate(tier, has_audio) if prices is not None else None
    if prices is None:
        note = f"no price for model {model!r} (set it in [wan] prices or the connection's prices extra)"
    elif rate is None:
        asked = f"{tier or 'an unknown tier'}, {'unknown sound' if has_audio is None else _sound(has_audio)}"
        note = f"the prices of {model!r} have no rate for {asked} (rates: {', '.join(prices.rates)})"
    else:
        note = None
    return Charge(
        model,
        billed_seconds,
        tier,
        has_audio,
        currency=prices.currency if prices else None,
        price_per_second=rate,
        price_source=prices.source if prices else None,
        note=note,
        warnings=_dearer_readings(model, prices, tier, sound),
    )


def _dearer_readings(
    model: str, prices: ModelPrices | None, tier: str | None, sound: BilledSound
) -> tuple[str, ...]:
    """What was priced at its dearer reading, where the readings' rates differ: the sound or the tier."""
    if prices is None:
        return ()
    said = []
    if sound.has_audio is None and prices.rate(tier, True) != prices.rate(tier, False):
        why = sound.doubt or f"the sound of {model!r} is not known"
        said.append(f"{why}: the dearer of its sound and silent rates applies")
    if tier is None and len({prices.rate(t, sound.has_audio) for t in TIERS}) > 1:
        said.append(
            f"size or resolution: the tier of {model!r} is not known: the dearest of its tiers' rates applies"
        )
    return tuple(said)


def _sound(has_audio: bool) -> str:
    return SOUNDS[0] if has_audio else SOUNDS[1]


def estimate(request: Any, table: PriceTable) -> Charge:
    """The charge a (validated) request will make if it succeeds: output seconds (``duration`` or the
    model's default) plus, for reference-to-video, the reference videos' capped seconds (a video of
    unknown length counted at its cap), at the rate of the sound it is billed for (the dearer reading
    where that is in doubt): an upper bound."""
    seconds = _output_seconds(request)
    input_seconds = getattr(request, "input_seconds", None)
    if seconds is not None and callable(input_seconds):
        seconds = round(seconds + input_seconds(), 6)
    return charge(request.model, seconds, table, tier=billing_tier(request), sound=request.billed_sound())


def cost(request: Any, billed_seconds: Any, table: PriceTable, usage: Any = None) -> Charge:
    """What a finished task cost: the service's billed seconds at the tier and sound its ``usage``
    reports (``SR``, ``audio``), else at the request's."""
    reported = usage if isinstance(usage, Mapping) else {}
    tier = sr_tier(reported.get("SR")) or billing_tier(request)
    audio = reported.get("audio")
    audio = {"true": True, "false": False}.get(audio.lower()) if isinstance(audio, str) else audio
    sound = BilledSound(audio) if isinstance(audio, bool) else request.billed_sound()
    return charge(request.model, parse_number(billed_seconds), table, tier=tier, sound=sound)


def billing_tier(request: Any) -> str | None:
    """480P, 720P or 1080P: the ``resolution`` asked for, else the tier of the ``size``, else the default."""
    spec = request.spec
    resolution = getattr(request, "resolution", None) or getattr(spec, "default_resolution", None)
    if isinstance(resolution, str) and resolution in TIERS:
        return resolution
    size = getattr(request, "size", None) or getattr(spec, "default_size", None)
    return next((tier for tier, sizes in SIZE_TIERS.items() if size in sizes.values()), None)


def _output_seconds(request: Any) -> float | None:
    duration = parse_number(getattr(request, "duration", None))
    if duration is not None:
        return duration
    spec = request.spec
    return float(spec.default_duration) if spec is not None else None


def check_cap_value(parameter: str, value: Any) -> float | None:
    """A cap as a number (None: no cap); anything but a non-negative number is refused."""
    if value is None:
        return None
    number = parse_number(value)
    if number is None or not math.isfinite(number) or number < 0:
        raise WanValidationError(parameter, value, "a non-negative number (or None for no cap)")
    return number


def check_caps(
    charges: Charge | Iterable[Charge], *, max_cost: Any = None, max_billed_seconds: Any = None
) -> None:
    """Refuse (raise :class:`WanCostCapError`) unless the estimate is known and within each cap given.

    A batch's charges are summed; they must share one currency to be held to ``max_cost``.
    """
    found = [charges] if isinstance(charges, Charge) else list(charges)
    cost_cap = check_cap_value("max_cost", max_cost)
    seconds_cap = check_cap_value("max_billed_seconds", max_billed_seconds)
    what = found[0].model if len(found) == 1 else f"{len(found)} tasks"
    if seconds_cap is not None:
        unknown = [c for c in found if c.billed_seconds is None]
        if unknown:
            raise WanCostCapError(
                "max_billed_seconds",
                seconds_cap,
                f"the billed seconds of {unknown[0].model!r} are unknown (a model this provider does not "
                "know, given no duration): set duration, or drop the cap",
            )
        seconds = round(sum(c.billed_seconds or 0.0 for c in found), 6)
        if seconds > seconds_cap:
            raise WanCostCapError(
                "max_billed_seconds", seconds_cap, f"the estimate for {what} is {seconds:g} billed seconds"
            )
    if cost_cap is not None:
        unpriced = next((c for c in found if c.amount is None), None)
        if unpriced is not None:
            raise WanCostCapError(
                "max_cost", cost_cap, f"no estimate for {unpriced.model!r}: {unpriced.note}"
            )
        currencies = sorted({str(c.currency) for c in found})
        if len(currencies) > 1:
            raise WanCostCapError(
                "max_cost", cost_cap, f"prices in several currencies ({', '.join(currencies)})"
            )
        total = round(sum(c.amount or 0.0 for c in found), 6)
        if total > cost_cap:
            shown = found[0].describe() if len(found) == 1 else f"{currencies[0]} {total:g} in all"
            raise WanCostCapError("max_cost", cost_cap, f"the estimate for {what} is {shown}")
