"""Each trigger test starts with fresh account budgets: a test that throttles on purpose halves the rate
its process may use, which would slow the next test on the same emulator for half a minute."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_wan.api.budget import forget_budgets


@pytest.fixture(autouse=True)
def _fresh_budgets() -> Iterator[None]:
    yield
    forget_budgets()
