"""A DAG run's budget: refuse a mapped batch of Wan videos before any of it is submitted.

A mapping over 10,000 rows instead of 100 is billed task by task; each task's own ``max_cost`` cannot
see the others. Put :class:`WanBatchBudgetCheckOperator` upstream of the mapped task, over the same
rows: it estimates every task exactly as the operator will build its request, and fails (without
retries) when the total is over budget, so the mapped tasks never start.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperator

from airflow_provider_wan.api import WanValidationError
from airflow_provider_wan.api.pricing import Charge, PriceTable, check_cap_value, check_caps, estimate
from airflow_provider_wan.exceptions import WanTaskFinalError
from airflow_provider_wan.hooks.connection import DEFAULT_CONN_ID
from airflow_provider_wan.operators.values import parameter_root

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_wan.operators.generation import WanGenerationOperator


def estimate_batch(
    video_operator: type[WanGenerationOperator],
    partial: Mapping[str, Any],
    rows: Iterable[Mapping[str, Any]],
    prices: PriceTable,
) -> list[Charge]:
    """The estimate of each task of ``video_operator.partial(**partial).expand_kwargs(rows)``, each
    request built and validated as that operator builds it. A bad value is refused naming where it
    came from: ``partial_kwargs.size``, or ``rows[3].prompt`` for a row's."""
    charges = []
    for at, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise WanValidationError(f"rows[{at}]", row, "a dict of the operator's arguments")
        try:
            operator = video_operator(task_id=f"wan_estimate_{at}", **{**partial, **row})
            request, _ = operator._checked_request()
        except WanValidationError as error:
            root = parameter_root(error.parameter)
            where = "partial_kwargs" if root in partial and root not in row else f"rows[{at}]"
            raise WanValidationError(f"{where}.{error.parameter}", error.value, error.allowed) from None
        charges.append(estimate(request, prices))
    return charges


class WanBatchBudgetCheckOperator(BaseOperator):
    """
    Refuse a mapped batch of Wan videos whose total estimate is over budget, before any is submitted.

    Give it what the mapped task gets: ``video_operator``, the ``.partial()`` arguments and the
    ``.expand_kwargs()`` rows (a list, or the XCom of the task that makes it), and set it upstream::

        rows = make_rows()  # [{"prompt": ...}, ...]
        budget = WanBatchBudgetCheckOperator(
            task_id="budget", partial_kwargs={"model": "wan2.6-t2v"}, rows=rows, max_cost=20
        )
        budget >> WanTextToVideoOperator.partial(task_id="video", model="wan2.6-t2v").expand_kwargs(rows)

    For ``.expand(prompt=prompts)`` pass ``rows=[{"prompt": p} for p in prompts]``. Prices come
    from ``[wan] prices`` and the connection's ``prices`` extra, as the operators' do; a model without a
    price cannot be held to ``max_cost`` and is refused. The summary is returned to XCom: ``tasks``,
    ``billed_seconds``, ``amount`` and ``currency`` (None where any task is unpriced), and ``unpriced``.

    :param video_operator: The mapped Wan operator (default: ``WanTextToVideoOperator``).
    :param partial_kwargs: The arguments given to ``.partial()`` (model, request fields). (templated)
    :param rows: The rows given to ``.expand_kwargs()``. (templated)
    :param max_cost: The most the batch may cost, in the prices' currency.
    :param max_billed_seconds: The most seconds the batch may bill.
    :param wan_conn_id: The connection whose ``prices`` extra applies.
    """

    template_fields: Sequence[str] = ("partial_kwargs", "rows", "wan_conn_id")
    ui_color = "#ff6a00"

    def __init__(
        self,
        *,
        rows: Any,
        partial_kwargs: Mapping[str, Any] | None = None,
        video_operator: type[WanGenerationOperator] | None = None,
        max_cost: float | None = None,
        max_billed_seconds: float | None = None,
        wan_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if video_operator is None:
            from airflow_provider_wan.operators.wan import WanTextToVideoOperator

            video_operator = WanTextToVideoOperator
        self.video_operator = video_operator
        self.partial_kwargs = dict(partial_kwargs or {})
        self.rows = rows
        self.max_cost = check_cap_value("max_cost", max_cost)
        self.max_billed_seconds = check_cap_value("max_billed_seconds", max_billed_seconds)
        self.wan_conn_id = wan_conn_id

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_wan.cost import connection_prices

        try:
            prices = connection_prices(self.partial_kwargs.get("wan_conn_id", self.wan_conn_id))
            charges = estimate_batch(self.video_operator, self.partial_kwargs, list(self.rows or []), prices)
            summary = _summary(charges)
            self.log.info(
                "Wan batch estimate: %d tasks, %s billed seconds, %s",
                summary["tasks"],
                summary["billed_seconds"],
                f"{summary['currency']} {summary['amount']:g}"
                if summary["amount"] is not None
                else "cost unknown",
            )
            check_caps(charges, max_cost=self.max_cost, max_billed_seconds=self.max_billed_seconds)
        except WanValidationError as error:  # the same rows give the same estimate: no retry
            raise WanTaskFinalError(f"Refused the batch before anything was sent to Wan: {error}") from error
        return summary


def _summary(charges: list[Charge]) -> dict[str, Any]:
    unpriced = sum(1 for c in charges if c.amount is None)
    currencies = {c.currency for c in charges if c.amount is not None}
    seconds = [c.billed_seconds for c in charges]
    one_currency = not unpriced and len(currencies) <= 1
    return {
        "tasks": len(charges),
        "billed_seconds": round(sum(s or 0.0 for s in seconds), 6) if None not in seconds else None,
        "amount": round(sum(c.amount or 0.0 for c in charges), 6) if one_currency else None,
        "currency": next(iter(currencies), None) if one_currency else None,
        "unpriced": unpriced,
    }
