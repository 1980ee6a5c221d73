"""The OpenLineage run facet of a Wan video: which model made it, the seconds it was billed, its cost.

Imported only from ``get_openlineage_facets_on_complete``, which Airflow calls only where the
OpenLineage provider (and so its client library) is installed.
"""

from __future__ import annotations

from typing import Any

from attrs import define
from openlineage.client.facet_v2 import RunFacet

FACET_NAME = "wan"


@define
class WanRunFacet(RunFacet):
    """A Wan task's billing: ``cost`` and ``currency`` are None where the model has no price."""

    wanTaskId: str | None  # OpenLineage facets name their fields in camelCase
    model: str | None
    billedSeconds: float | None
    cost: float | None = None
    currency: str | None = None


def run_facets(result: dict[str, Any] | None) -> dict[str, RunFacet]:
    """``{"wan": WanRunFacet}`` from a generation result (XCom), or nothing before there is one."""
    if not result:
        return {}
    charge = result.get("cost") or {}
    return {
        FACET_NAME: WanRunFacet(
            wanTaskId=result.get("task_id"),
            model=result.get("model"),
            billedSeconds=result.get("billed_seconds"),
            cost=charge.get("amount"),
            currency=charge.get("currency") if charge.get("amount") is not None else None,
        )
    }
