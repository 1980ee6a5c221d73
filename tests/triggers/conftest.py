"""Each trigger test starts with fresh rate limiters: a test that throttles on purpose halves the rate
its process may use, which would slow the next test on the same emulator for half a minute."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_wan.hooks.limiters import forget_limiters


@pytest.fixture(autouse=True)
def _fresh_limiters() -> Iterator[None]:
    yield
    forget_limiters()
