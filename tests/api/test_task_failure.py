"""Which FAILED tasks are worth submitting again: the operator's retryable/final split rests on this."""

from __future__ import annotations

import pytest

from airflow_provider_wan.api import is_transient_task_failure


@pytest.mark.parametrize(
    "code",
    ["InternalError", "InternalError.Algo", "ModelServiceFailed", "ModelUnavailable", "Throttling.RateQuota"],
)
def test_transient_codes_may_succeed_when_submitted_again(code: str) -> None:
    assert is_transient_task_failure(code)


@pytest.mark.parametrize(
    "code",
    [
        "InvalidParameter",
        "DataInspectionFailed",
        "IPInfringementSuspect",
        "Arrearage",
        "InvalidApiKey",
        "InternalError.Timeout",
        "SomethingNew",
        None,
        "",
    ],
)
def test_parameter_moderation_billing_and_unknown_codes_are_final(code: str | None) -> None:
    assert not is_transient_task_failure(code)
