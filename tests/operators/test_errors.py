"""Which endings Airflow may retry: only passing trouble; everything a retry cannot fix is final."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_wan.api import WanApiError, WanResponseError, WanValidationError
from airflow_provider_wan.api.rate import check_rate, parse_rate
from airflow_provider_wan.exceptions import (
    WanCreateUncertainError,
    WanTaskError,
    WanTaskFinalError,
    call_error,
    task_error,
)
from airflow_provider_wan.triggers.wan import WanTaskTrigger, check_event, event_error


@pytest.mark.parametrize(
    "code", ["InternalError", "InternalError.Algo", "ModelServiceFailed", "ModelUnavailable"]
)
def test_failed_with_a_passing_code_is_retryable(code: str) -> None:
    error = task_error("t-1", "FAILED", code, "try again later")

    assert type(error) is WanTaskError
    assert isinstance(error, AirflowException)
    assert not isinstance(error, AirflowFailException)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("FAILED", "InvalidParameter"),
        ("FAILED", "DataInspectionFailed"),
        ("FAILED", "IPInfringementSuspect"),
        ("FAILED", "Arrearage"),
        ("FAILED", "InternalError.Timeout"),
        ("FAILED", None),
        ("CANCELED", None),
        ("UNKNOWN", None),
    ],
)
def test_everything_else_is_final_and_carries_the_service_code(status: str, code: str | None) -> None:
    error = task_error("t-2", status, code, "the service's words")

    assert isinstance(error, WanTaskFinalError)
    assert isinstance(error, AirflowFailException)
    assert (error.wan_task_id, error.status, error.code) == ("t-2", status, code)
    assert f"Wan task t-2 ended {status}" in str(error)
    if code:
        assert f"{code}: the service's words" in str(error)


def test_call_errors_follow_the_contract_and_an_uncertain_create_is_final() -> None:
    throttled = WanApiError("slow down", http_status=429, code="Throttling.RateQuota")
    refused = WanApiError("bad key", http_status=401, code="InvalidApiKey")
    uncertain = WanCreateUncertainError(WanApiError("boom", http_status=500, code="InternalError"), model="m")

    assert type(call_error(throttled, "submitting")) is WanTaskError
    assert isinstance(call_error(refused, "submitting"), WanTaskFinalError)
    assert isinstance(call_error(uncertain, "submitting"), WanTaskFinalError)
    assert isinstance(call_error(WanResponseError("not JSON"), "polling"), WanTaskError)
    assert "InvalidApiKey: bad key" in str(call_error(refused, "submitting"))


def test_error_events_are_final_unless_marked_retryable() -> None:
    base = {"status": "error", "wan_task_id": "t-3", "task": None, "code": "X", "message": "gave up"}

    assert type(event_error({**base, "retryable": True})) is WanTaskError
    assert isinstance(event_error({**base, "retryable": False}), WanTaskFinalError)
    failed = {"status": "failed", "wan_task_id": "t-3", "task": {"status": "FAILED", "code": "InternalError"}}
    assert type(event_error(failed)) is WanTaskError


# The emulator is a stand-in for the service and the testing kit a pytest plugin: neither runs in a DAG.
NOT_PROVIDER_CODE = ("airflow_provider_wan.emulator", "airflow_provider_wan.testing")


def provider_exception_classes() -> list[type[BaseException]]:
    """Every public exception class defined in the provider's own modules (all of them imported)."""
    import importlib
    import inspect
    import pkgutil

    import airflow_provider_wan

    found = []
    for module_info in pkgutil.walk_packages(airflow_provider_wan.__path__, "airflow_provider_wan."):
        if module_info.name.startswith(NOT_PROVIDER_CODE):
            continue
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            defined_here = getattr(value, "__module__", None) == module.__name__
            public = not name.startswith("_")  # private ones are caught where they are raised
            if inspect.isclass(value) and issubclass(value, BaseException) and defined_here and public:
                found.append(value)
    return found


def test_every_exception_the_provider_raises_derives_from_wan_error() -> None:
    from airflow_provider_wan.api import WanError
    from airflow_provider_wan.exceptions import WanExecutionTimeoutError, WanTaskTimeoutError

    classes = provider_exception_classes()

    assert len(classes) >= 12  # the walk found the package's errors (api, hooks, exceptions, transfers)
    assert {WanTaskError, WanTaskFinalError, WanCreateUncertainError, WanResponseError} <= set(classes)
    assert [kind.__qualname__ for kind in classes if not issubclass(kind, WanError)] == []
    # the retryable/final split: final errors are AirflowFailException, retryable ones are not
    assert issubclass(WanTaskTimeoutError, AirflowFailException)
    assert not issubclass(WanExecutionTimeoutError, AirflowFailException)
    assert issubclass(WanTaskError, AirflowException)
    assert not issubclass(WanTaskError, AirflowFailException)


@pytest.mark.parametrize(
    ("refuse", "parameter"),
    [
        (lambda: WanTaskTrigger(wan_task_id="t-1", deadline=1.0, poll_interval=0), "poll_interval"),
        (
            lambda: WanTaskTrigger(wan_task_id="t-1", deadline=1.0, max_consecutive_errors=0),
            "max_consecutive_errors",
        ),
        (lambda: check_rate(0), "task_api_rps"),
        (lambda: parse_rate("fast"), "task_api_rps"),
        (lambda: check_event({"status": "done"}), "event"),
    ],
)
def test_bad_values_outside_the_operators_raise_wan_validation_errors_naming_them(
    refuse: Any, parameter: str
) -> None:
    with pytest.raises(WanValidationError, match=f"Invalid {parameter}=") as raised:
        refuse()

    assert raised.value.parameter == parameter
