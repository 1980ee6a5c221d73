"""The base of every Wan video operator: the request from the operator's fields, then submit once,
wait (deferred or not) and return the result. A family names only its request types and fields."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import fields
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.compat.sdk import conf

from airflow_provider_wan.api import (
    TaskStatus,
    WanRequest,
    WanTask,
    WanValidationError,
    uses_media_protocol,
)
from airflow_provider_wan.api.media_request import MediaListRequest
from airflow_provider_wan.api.models import resolve_in
from airflow_provider_wan.api.pricing import check_cap_value
from airflow_provider_wan.api.reconcile import request_fingerprint
from airflow_provider_wan.exceptions import WanTaskFinalError
from airflow_provider_wan.operators import inputs
from airflow_provider_wan.operators.submission import STATE_KEY, SubmitsOnce
from airflow_provider_wan.operators.values import coerce, is_set, is_templated, request_fields
from airflow_provider_wan.operators.waiting import task_view
from airflow_provider_wan.plugins.links import WanVideoLink

__all__ = ["WanGenerationOperator", "request_fields"]

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context
    from airflow.providers.openlineage.extractors import OperatorLineage


class WanGenerationOperator(SubmitsOnce):
    """
    Generate one video with a Wan model and return its result to XCom; the base of every family.

    A family declares ``request_types`` (its request classes from ``airflow_provider_wan.api``; with
    two, the model picks one: the class whose model table knows it, else for an unknown name the
    protocol its inputs speak, else the one its version implies), takes each request field as an
    argument (``None`` leaves it to the service) and hands them to :meth:`set_request` after
    ``super().__init__``. Each field becomes an attribute and a template field.

    The request is validated before anything is sent (at DAG parse time when no field is templated,
    again after rendering), so a bad value fails with the parameter's name and what is allowed, and
    costs nothing; an unknown model name gets only the checks that do not depend on the model. An
    input given as ``s3://bucket/key`` is checked in S3 (it exists, fits the input's byte limit and
    media type, an image's pixels) and sent as a presigned URL valid ``input_url_expires_in`` seconds,
    made with ``aws_conn_id``; logs, XCom and rendered fields show the ``s3://`` URI.

    The result is JSON: the Wan ``task_id``, ``status``, ``video_url`` (without its signed query: the
    signature is a 24-hour credential; ``WanVideoToS3Operator`` or ``WanHook().get_task(task_id)``
    give a fresh one), ``model``, the ``request`` body as sent (``s3://`` URIs as such), normalised
    ``usage``, ``billed_seconds`` (what the task is billed for, reference input seconds included),
    ``cost`` (those seconds at the configured price; ``amount`` None where the model has no price),
    ``orig_prompt``/``actual_prompt`` and the service's times. Never the API key. With
    ``wait_for_completion=False`` it returns only the Wan task id (for ``WanTaskSensor``).

    **One billed task per task instance.** On Airflow 3.3+ the task state store (key ``wan_task``)
    holds the intent (a fingerprint of request and connection, and the time) *before* the create is
    sent, and the Wan task id right after. A retry, a crashed worker's next try, or a try after a
    failure that came after success re-attaches to that task: it waits again while it is
    ``PENDING``/``RUNNING`` and returns it if it ``SUCCEEDED``. The id is kept after success, as
    Airflow keeps task state (``[state_store] clear_on_success``, default False): clearing a
    succeeded task instance returns the same video while the service still has it (24 hours), and
    makes a new one once it has expired (``UNKNOWN``), ``FAILED``, was ``CANCELED``, or the request
    changed. A try that finds an intent but no id (the worker died between the create and the state
    write), or a create whose answer was lost (timeout, dropped connection, 5xx after sending), is
    *reconciled*: the account's tasks of the model created since the intent are listed, read, and
    the one with the same prompt (and billed size and duration) that no sibling task instance
    claims is taken; a create is sent only when none matches. On Airflow 3.1 and 3.2 there is no
    task state store: a retry reconciles the same way from the DAG run's start.

    Claims: each try publishes the Wan task it holds under the XCom key ``wan_task_claim``, and
    reconciling skips tasks claimed by other task instances of Wan operators in the same DAG run.
    Airflow has no atomic compare-and-set across task instances, so a residual window remains: two
    task instances of one run, both reconciling lost creates for the same model and prompt at the
    same moment, may both take one task (one video for two task instances; the other task, if it
    was created, is billed and left unclaimed). Tasks from other DAG runs, DAGs or clients with the
    same model and prompt in the window are not told apart, nor are tasks differing only in their
    input media (the query answer does not show them). A user's kill of a *deferred* task is
    handled by the trigger (``on_kill`` on 3.3+, ``cleanup`` before), which cancels a ``PENDING`` task.

    **Failures.** A task that ends ``FAILED`` with a passing code (``InternalError``,
    ``ModelUnavailable``, throttling...) raises :class:`~airflow_provider_wan.exceptions.WanTaskError`,
    which Airflow may retry; a refused prompt or input (``DataInspectionFailed``,
    ``IPInfringementSuspect``), a bad parameter, key or account, ``CANCELED`` or ``UNKNOWN`` raise
    :class:`~airflow_provider_wan.exceptions.WanTaskFinalError`, which Airflow does not retry. Both
    carry the service's code and message. The wait ends at ``timeout`` or, if sooner, when
    ``execution_timeout`` is nearly used up (a margin of a quarter of it, at most 5 s, is kept to
    cancel and fail cleanly before Airflow's own timeout): the task is cancelled if still
    ``PENDING`` and the error names the limit and whether the cancel worked.
    :class:`~airflow_provider_wan.exceptions.WanTaskTimeoutError` (``timeout``) is final;
    :class:`~airflow_provider_wan.exceptions.WanExecutionTimeoutError` (``execution_timeout``) is
    retryable, as Airflow's own task timeout is, and the retry re-attaches.

    :param model: Wan model (required: it decides the price and the rules).
    :param wan_conn_id: The ``wan`` connection (API key, region or base URL).
    :param aws_conn_id: The AWS connection that reads and presigns ``s3://`` inputs.
    :param input_url_expires_in: Seconds a presigned ``s3://`` input URL stays valid.
    :param deferrable: Wait in the triggerer, freeing the worker slot (default:
        ``[operators] default_deferrable``).
    :param wait_for_completion: False: submit and return the Wan task id at once.
    :param poll_interval: Shortest pause between status checks, seconds (checks start soon after
        submission and slow down toward ``max_poll_interval``).
    :param max_poll_interval: Longest pause between status checks, seconds (the vendor suggests 15).
    :param timeout: Seconds to wait for the task to finish.
    :param max_consecutive_errors: Polling failures in a row the trigger rides out before failing.
    :param max_cost: Refuse, before sending, a request whose estimate (billed seconds at the price of
        ``[wan] prices`` or the connection's ``prices`` extra, in that price's currency) is higher, or
        cannot be made (no price for the model). The estimate is logged and pushed to XCom as
        ``estimated_cost`` before every create.
    :param max_billed_seconds: Refuse, before sending, a request that would bill more seconds (output
        seconds, plus reference videos' capped input seconds) or whose seconds are unknown.
    """

    #: The family's request classes; each subclass sets them (and gets its request and template fields).
    request_types: ClassVar[tuple[type[WanRequest], ...]] = ()
    request_fields: ClassVar[tuple[str, ...]] = ()
    template_fields: Sequence[str] = ("model", "wan_conn_id", "aws_conn_id")
    ui_color = "#ff6a00"
    operator_extra_links = (WanVideoLink(),)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "request_types" in cls.__dict__:
            cls.request_fields = request_fields(*cls.request_types)
            if "template_fields" not in cls.__dict__:
                cls.template_fields = ("model", *cls.request_fields, "wan_conn_id", "aws_conn_id")

    def __init__(
        self,
        *,
        model: str,
        wan_conn_id: str = "wan_default",
        aws_conn_id: str | None = "aws_default",
        input_url_expires_in: int = 3600,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        wait_for_completion: bool = True,
        poll_interval: float = 2.0,
        max_poll_interval: float = 15.0,
        timeout: float | timedelta = 3600.0,
        max_consecutive_errors: int = 5,
        max_cost: float | None = None,
        max_billed_seconds: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.max_cost = check_cap_value("max_cost", max_cost)
        self.max_billed_seconds = check_cap_value("max_billed_seconds", max_billed_seconds)
        self.wan_result: dict[str, Any] | None = None
        self.wan_conn_id = wan_conn_id
        self.aws_conn_id = aws_conn_id
        self.input_url_expires_in = input_url_expires_in
        self.deferrable = deferrable
        self.wait_for_completion = wait_for_completion
        self.poll_interval = float(poll_interval)
        self.max_poll_interval = float(max_poll_interval)
        self.timeout = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
        self.max_consecutive_errors = max_consecutive_errors
        self.wan_task_id: str | None = None
        if not 0 < self.poll_interval <= self.max_poll_interval:
            allowed = f"positive seconds, at most max_poll_interval={max_poll_interval}"
            raise WanValidationError("poll_interval", poll_interval, allowed)
        if self.timeout <= 0:
            raise WanValidationError("timeout", timeout, "a positive number of seconds")

    def set_request(self, arguments: dict[str, Any]) -> None:
        """Take the request fields from a family's ``__init__`` arguments (its ``locals()``; other names
        are ignored) and, when none is templated, validate the request now, at DAG parse time."""
        for name in self.request_fields:
            setattr(self, name, arguments.get(name))
        if not any(is_templated(value) for value in self._request_values().values()):
            for warning in self._checked_request()[1]:
                self.log.warning("Wan request of task %s: %s", self.task_id, warning)

    def execute(self, context: Context) -> Any:
        self._started = time.monotonic()
        try:
            return self._submit_and_wait(context)
        except WanValidationError as error:  # bad rendered values or connection: a retry finds them the same
            raise WanTaskFinalError(f"Refused before anything was sent to Wan: {error}") from error

    def _submit_and_wait(self, context: Context) -> Any:
        request, _ = self._checked_request()  # the hook logs the warnings when it sends
        store = context.get("task_state_store")
        task = self._reattach(context, store, request)
        if task is None:
            task = self._submit(context, store, request)
        self.wan_task_id = task.task_id
        if not self.wait_for_completion:
            return task.task_id
        if task.status is not TaskStatus.SUCCEEDED:
            if self.deferrable:
                self._defer(task.task_id)
            task = self._wait(context, task.task_id)
        return self._succeed(context, task, request)

    def on_trigger_success(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        self.wan_task_id = str(event["wan_task_id"])
        return self._succeed(context, event["task"], self._requested())

    def on_kill(self) -> None:
        """Cancel the task if it is still ``PENDING`` (a ``RUNNING`` task cannot be cancelled)."""
        if self.wan_task_id:
            self._cancel_if_pending(self.wan_task_id)

    def before_create(self, context: Context, request: WanRequest) -> None:
        """Called once the request is final and valid, just before its create is sent (never when a
        try re-attaches): the place for checks that must pass before anything is billed. ``request``
        shows ``s3://`` inputs as their URIs; raise to refuse (a ``WanValidationError`` is final).

        Logs the estimate (and a warning for each field priced at its dearer reading), pushes it to XCom
        (``estimated_cost``) and refuses it over ``max_cost`` or ``max_billed_seconds``.
        """
        from airflow_provider_wan import metrics
        from airflow_provider_wan.api.pricing import check_caps, estimate
        from airflow_provider_wan.cost import ESTIMATE_KEY, configured_prices

        charge = estimate(request, configured_prices(self.hook.settings.prices))
        self.log.info("Wan estimate: %s", charge.describe())
        for warning in charge.warnings:
            self.log.warning("Wan estimate: %s", warning)
        context["ti"].xcom_push(key=ESTIMATE_KEY, value=charge.to_dict())
        check_caps(charge, max_cost=self.max_cost, max_billed_seconds=self.max_billed_seconds)
        metrics.estimated(charge, self.wan_conn_id)

    def build_result(
        self, found: dict[str, Any], request: WanRequest, usage: Any, *, first_report: bool = True
    ) -> dict[str, Any]:
        """The XCom result of a succeeded task: ``found`` (the task as shown), the model, the request
        as shown, the seconds billed (``usage`` as the service sent it) and their cost. The success
        and billing metrics are sent on the ``first_report`` of the task only."""
        from airflow_provider_wan import metrics
        from airflow_provider_wan.cost import cost_after_success

        billed = request.billed_seconds(usage)
        charge = cost_after_success(request, billed, usage, lambda: self.hook.settings, self.log)
        self.log.info("Wan task %s billed %s", found["task_id"], charge.describe())
        for warning in charge.warnings:
            self.log.warning("Wan cost: %s", warning)
        if first_report:
            metrics.task_ended("SUCCEEDED", self.model, self.wan_conn_id)
            metrics.billed(charge, self.wan_conn_id)
        self.wan_result = {
            **found,
            "model": self.model,
            "request": request.to_body(),
            "billed_seconds": billed,
            "cost": charge.to_dict(),
        }
        return self.wan_result

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:
        """A ``wan`` run facet: the model, the seconds billed and their cost (where Airflow runs
        OpenLineage)."""
        from airflow.providers.openlineage.extractors import OperatorLineage

        from airflow_provider_wan.lineage import run_facets

        return OperatorLineage(run_facets=run_facets(self.wan_result))

    # -- the request ------------------------------------------------------------------------------

    def _request_values(self) -> dict[str, Any]:
        return {"model": self.model, **{name: getattr(self, name) for name in self.request_fields}}

    def request_type(self) -> type[WanRequest]:
        """The family's request class this model (and, for an unknown name, the inputs) call for."""
        if len(self.request_types) == 1:
            return self.request_types[0]
        model = self.model
        known = [kind for kind in self.request_types if resolve_in(str(model), kind.MODELS) is not None]
        if known:
            return known[0]
        given = [
            kind for kind in self.request_types if any(is_set(getattr(self, n)) for n in _own(kind, self))
        ]
        if len(given) == 1:
            return given[0]
        media = uses_media_protocol(str(model))
        return next(kind for kind in self.request_types if issubclass(kind, MediaListRequest) == media)

    def _requested(self) -> WanRequest:
        """The request as the task instance shows it: rendered values read as the API wants them,
        ``s3://`` inputs as URIs. Refuses a field the model's request type does not take."""
        kind = self.request_type()
        taken = {field.name for field in fields(kind)}  # type: ignore[arg-type]
        values = self._request_values()
        for name, value in values.items():
            if name not in taken and is_set(value):
                allowed = ", ".join(sorted(taken - {"model"}))
                raise WanValidationError(name, value, f"not taken by {self.model} (it takes {allowed})")
        return kind(**{name: coerce(name, values[name]) for name in taken})

    def _checked_request(self) -> tuple[WanRequest, list[str]]:
        """The shown request once the contract's rules passed (an ``s3://`` URI judged by the URL it
        will become), and their warnings."""
        request = self._requested()
        return request, inputs.with_stand_ins(request).validate()

    def _fingerprint(self, request: WanRequest) -> str:
        """The request (as shown) and the account it goes to, as one digest (no key in it)."""
        return request_fingerprint(request.to_body(), self.hook.base_url, self.hook.settings.api_key)

    def _ready_to_send(self, context: Context, request: WanRequest) -> WanRequest:
        """``s3://`` inputs checked in S3 and presigned, the copy validated again, ``before_create`` run.

        An error about the presigned copy names the ``s3://`` URI, never the signed URL.
        """
        to_send = inputs.presigned(request, self.aws_conn_id, self.input_url_expires_in)
        if to_send is not request:
            try:
                to_send.validate()
            except WanValidationError as error:
                shown = {item.parameter: item.url for item in request.media_inputs()}
                raise WanValidationError(error.parameter, shown.get(error.parameter), error.allowed) from None
        self.before_create(context, request)
        return to_send

    def _succeed(
        self, context: Context, task: WanTask | dict[str, Any], request: WanRequest
    ) -> dict[str, Any]:
        """The XCom result. The stored id stays (Airflow's ``[state_store] clear_on_success`` decides),
        so a failure after this point makes the retry return this same task rather than a new one; the
        store also marks the task ``reported``, so that retry does not count its success and billing
        twice (Airflow 3.3+; without a store, each try that returns the task counts it).
        The video URL is kept without its signed query: ask the service for a fresh one."""
        usage = task.service_usage if isinstance(task, WanTask) else task.get("service_usage")
        found = task_view(task)
        self.log.info("Wan task %s succeeded: %s", found["task_id"], found.get("video_url"))
        store = context.get("task_state_store")
        stored = store.get(STATE_KEY) if store is not None else None
        reported = isinstance(stored, dict) and stored.get("reported") == found["task_id"]
        result = self.build_result(found, request, usage, first_report=not reported)
        if isinstance(stored, dict) and not reported:
            store.set(STATE_KEY, {**stored, "reported": found["task_id"]})  # type: ignore[union-attr]
        return result


def _own(kind: type[WanRequest], operator: WanGenerationOperator) -> set[str]:
    """The fields only ``kind`` of the operator's request types has (what tells its protocol apart)."""
    others = {field.name for other in operator.request_types if other is not kind for field in fields(other)}  # type: ignore[arg-type]
    return {field.name for field in fields(kind)} - others  # type: ignore[arg-type]
