"""Keep each test's outcome on its item so the page fixture can photograph a failure."""

from __future__ import annotations

from collections.abc import Generator

import pytest


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(OUTCOMES, {})[report.when] = report
    return report


OUTCOMES = pytest.StashKey[dict[str, pytest.TestReport]]()
