"""A generation operator's own arguments (all but the request fields), checked in one place: by
``__init__``, and by ``partial()`` when a mapped batch is parsed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from airflow_provider_wan.api import WanValidationError
from airflow_provider_wan.operators.values import is_templated
from airflow_provider_wan.transfers.destination import check_if_exists, parse_destination
from airflow_provider_wan.transfers.landing import LandingOptions

#: The arguments of :class:`LandingOptions`, taken by every generation operator under the same names.
LANDING_ARGUMENTS = (
    "encrypt",
    "acl_policy",
    "verify",
    "write_sidecar",
    "allowed_hosts",
    "max_bytes",
    "download_retries",
)


@dataclass(frozen=True)
class OperatorArguments:
    """The checked values: seconds as floats, caps as numbers, the landing options."""

    poll_interval: float
    max_poll_interval: float
    timeout: float
    max_cost: float | None
    max_billed_seconds: float | None
    if_exists: str
    landing: LandingOptions

    @classmethod
    def check(cls, values: Mapping[str, Any]) -> OperatorArguments:
        """``values`` by argument name (every one of them, defaults included); a bad one raises
        :class:`WanValidationError` naming it."""
        poll_interval, max_poll_interval = float(values["poll_interval"]), float(values["max_poll_interval"])
        if not 0 < poll_interval <= max_poll_interval:
            allowed = f"positive seconds, at most max_poll_interval={values['max_poll_interval']}"
            raise WanValidationError("poll_interval", values["poll_interval"], allowed)
        timeout = values["timeout"]
        seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
        if seconds <= 0:
            raise WanValidationError("timeout", timeout, "a positive number of seconds")
        destination = values["destination"]
        if destination is not None:
            if not is_templated(destination):
                parse_destination(destination)
            if not values["wait_for_completion"]:
                allowed = "None with wait_for_completion=False (the video is landed once the task succeeded)"
                raise WanValidationError("destination", destination, allowed)
        return cls(
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
            timeout=seconds,
            max_cost=_cap("max_cost", values["max_cost"]),
            max_billed_seconds=_cap("max_billed_seconds", values["max_billed_seconds"]),
            if_exists=check_if_exists(values["if_exists"]),
            landing=LandingOptions(**{name: values[name] for name in LANDING_ARGUMENTS}),
        )


def _cap(parameter: str, value: Any) -> float | None:
    """A cap as a number; the pricing module loads only for a cap given (DAG parsing is hot)."""
    if value is None:
        return None
    from airflow_provider_wan.api.pricing import check_cap_value

    return check_cap_value(parameter, value)
