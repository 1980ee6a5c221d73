"""Service times: the fast ISO path must read exactly what the strptime formats read, nothing zoned."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from airflow_provider_wan.api.responses import parse_time


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-10-23 11:47:23.879", datetime(2025, 10, 23, 11, 47, 23, 879000)),
        ("2025-10-23 11:47:23", datetime(2025, 10, 23, 11, 47, 23)),
        ("2025-10-23 11:47:23.87", datetime(2025, 10, 23, 11, 47, 23, 870000)),
        ("1761220043879", datetime(2025, 10, 23, 11, 47, 23, 879000, tzinfo=timezone.utc)),
        ("2025-10-23 11:47:23+08:00", None),  # the service states no zone; an offset is not its shape
        ("23/10/2025", None),
        ("", None),
    ],
)
def test_service_time_shapes(text: str, expected: datetime | None) -> None:
    assert parse_time(text) == expected
