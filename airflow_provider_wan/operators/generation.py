"""The base of every Wan video operator: the request from the operator's fields, checked once per try,
then the task instance's one :class:`~airflow_provider_wan.operators.submission.Submission`, one
:class:`~airflow_provider_wan.operators.waiting.TaskWait` (deferred or in the worker) and the result,
landed by a :class:`~airflow_provider_wan.operators.video_destination.VideoDestination` if asked. A
family names only its request types and fields. Those parts load when a task runs, not at DAG parse."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.compat.sdk import BaseOperator, conf

from airflow_provider_wan.api import TaskStatus, WanRequest, WanTask, WanValidationError, uses_media_protocol
from airflow_provider_wan.api.media_request import MediaListRequest
from airflow_provider_wan.api.models import did_you_mean, resolve_in
from airflow_provider_wan.api.pacing import MAX_CONSECUTIVE_ERRORS, MAX_POLL_INTERVAL, POLL_INTERVAL
from airflow_provider_wan.exceptions import TransferRefused, WanTaskError, WanTaskFinalError, with_model_hint
from airflow_provider_wan.hooks.connection import DEFAULT_AWS_CONN_ID, DEFAULT_CONN_ID
from airflow_provider_wan.operators.arguments import OperatorArguments
from airflow_provider_wan.operators.values import coerce, is_set, is_templated, request_fields
from airflow_provider_wan.plugins.links import WanVideoLink
from airflow_provider_wan.transfers.landing import (
    DEFAULT_ASSET_ALIAS,
    DEFAULT_MAX_BYTES,
    report_asset,
    with_asset_alias,
)

__all__ = ["ROW_LABEL_TEMPLATE", "WanGenerationOperator", "request_fields"]

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk.definitions.mappedoperator import OperatorPartial

    from airflow_provider_wan.hooks.wan import WanHook
    from airflow_provider_wan.operators.video_destination import VideoDestination

#: The default ``map_index_template``: a mapped batch reads as its rows (see ``row_label``), not 0, 1, 2...
ROW_LABEL_TEMPLATE = "{{ task.row_label }}"
ROW_LABEL_LENGTH = 60


class WanGenerationOperator(BaseOperator):
    """
    Generate one video with a Wan model and return its result to XCom; the base of every family.

    A family declares ``request_types`` (its request classes from ``airflow_provider_wan.api``; with
    two, the model picks one: the class whose model table knows it, else for an unknown name the
    protocol its inputs speak, else the one its version implies), takes each request field as an
    argument (``None`` leaves it to the service) and hands them to :meth:`set_request` after
    ``super().__init__``. Each field becomes an attribute and a template field.

    The request is checked before anything is sent (when the DAG is parsed if no field is templated,
    and once per try after rendering), so a bad value fails with the parameter's name and what is
    allowed, and costs nothing; an unknown model name gets only the checks that do not depend on the
    model. An input given as ``s3://bucket/key`` is checked in S3 (it exists, fits the input's byte
    limit and media type, an image's pixels) and sent as a presigned URL valid ``input_url_expires_in``
    seconds, made with ``aws_conn_id``; logs, XCom and rendered fields show the ``s3://`` URI.

    The result is JSON: the Wan ``task_id``, ``status``, ``video_url`` (without its signed query: the
    signature is a 24-hour credential; ``WanVideoToS3Operator`` or ``WanHook().get_task(task_id)``
    give a fresh one), ``model``, the ``request`` body as sent (``s3://`` URIs as such), normalised
    ``usage``, ``billed_seconds`` (what the task is billed for, reference input seconds included),
    ``cost`` (those seconds at the configured price; ``amount`` None where the model has no price),
    ``orig_prompt``/``actual_prompt`` and the service's times. Never the API key. With
    ``wait_for_completion=False`` it returns only the Wan task id (for ``WanTaskSensor``).

    **Landing in S3.** With ``destination="s3://bucket/key"`` the task lands its video there itself once
    it succeeded (in the worker, also after a deferral), as ``WanVideoToS3Operator`` does: streamed,
    verified, with metadata (and ``write_sidecar``), an asset event on ``asset_alias`` and OpenLineage
    output. Before anything is billed, the key is read: one holding the video of the same request (the
    ``wan-request-sha256`` digest of the request as shown: model, every field, ``s3://`` inputs as
    URIs; no key, no account) is the result, with nothing created (``if_exists="skip"``, the default);
    one holding anything else fails the task naming ``destination``, unless ``if_exists="replace"``;
    then the bucket must take a test write. The result adds ``landed`` (``"copied"`` or
    ``"skipped"``), ``s3_uri``, ``bucket``, ``key``, ``size``, ``sha256``, ``sidecar_key``; a skipped
    one has ``billed_seconds`` 0 and ``made_by``, what the object tells of the Wan task that made it.
    A failed landing is retried as any failure: the retry re-attaches to the same Wan task and lands it.
    A mapped batch (``.partial(...).expand_kwargs(rows)``) is then one task per video, each row
    failing on its own; its rows show in the UI as :attr:`row_label` (the key, or the prompt).

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
    :param destination: ``s3://bucket/key`` to land the video at (None: the video stays at the service,
        24 hours). (templated)
    :param if_exists: ``"skip"``: a key holding this request's video is the result, anything else there
        fails before billing; ``"replace"``: generate and overwrite.
    :param encrypt: As ``WanVideoToS3Operator``'s, and so are ``acl_policy``, ``verify``,
        ``write_sidecar``, ``allowed_hosts``, ``max_bytes``, ``download_retries`` and ``asset_alias``
        (which applies only with a ``destination``).
    """

    #: The family's request classes; each subclass sets them (and gets its request and template fields).
    request_types: ClassVar[tuple[type[WanRequest], ...]] = ()
    request_fields: ClassVar[tuple[str, ...]] = ()
    template_fields: Sequence[str] = ("model", "destination", "wan_conn_id", "aws_conn_id")
    ui_color = "#ff6a00"
    operator_extra_links = (WanVideoLink(),)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "request_types" in cls.__dict__:
            cls.request_fields = request_fields(*cls.request_types)
            if "template_fields" not in cls.__dict__:
                cls.template_fields = (
                    "model",
                    *cls.request_fields,
                    "destination",
                    "wan_conn_id",
                    "aws_conn_id",
                )

    def __init__(
        self,
        *,
        model: str,
        wan_conn_id: str = DEFAULT_CONN_ID,
        aws_conn_id: str | None = DEFAULT_AWS_CONN_ID,
        input_url_expires_in: int = 3600,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        wait_for_completion: bool = True,
        poll_interval: float = POLL_INTERVAL,
        max_poll_interval: float = MAX_POLL_INTERVAL,
        timeout: float | timedelta = 3600.0,
        max_consecutive_errors: int = MAX_CONSECUTIVE_ERRORS,
        max_cost: float | None = None,
        max_billed_seconds: float | None = None,
        destination: str | None = None,
        if_exists: str = "skip",
        encrypt: bool = False,
        acl_policy: str | None = None,
        verify: str | bool | None = None,
        write_sidecar: bool = False,
        allowed_hosts: Sequence[str] = (),
        max_bytes: int = DEFAULT_MAX_BYTES,
        download_retries: int = 3,
        asset_alias: str | None = DEFAULT_ASSET_ALIAS,
        **kwargs: Any,
    ) -> None:
        checked = OperatorArguments.check(locals())
        if destination is not None:
            kwargs["outlets"] = with_asset_alias(kwargs.pop("outlets", None), asset_alias)
        super().__init__(**kwargs)
        self.model = model
        self.max_cost = checked.max_cost
        self.max_billed_seconds = checked.max_billed_seconds
        self.wan_result: dict[str, Any] | None = None
        self.wan_conn_id = wan_conn_id
        self.aws_conn_id = aws_conn_id
        self.input_url_expires_in = input_url_expires_in
        self.deferrable = deferrable
        self.wait_for_completion = wait_for_completion
        self.poll_interval = checked.poll_interval
        self.max_poll_interval = checked.max_poll_interval
        self.timeout = checked.timeout
        self.max_consecutive_errors = max_consecutive_errors
        self.destination = destination
        self.if_exists = checked.if_exists
        self.landing_options = checked.landing
        self.wan_task_id: str | None = None

    @classmethod
    def partial(cls, **kwargs: Any) -> OperatorPartial:
        """As Airflow's, with the arguments given checked now, at DAG parse time, as an unmapped
        operator's are (those no row can make valid are refused, naming the parameter), and the rows
        labelled in the UI by ``row_label`` unless ``map_index_template`` is given."""
        from airflow_provider_wan.operators.mapping import check_partial

        check_partial(cls, kwargs)
        return super().partial(**{"map_index_template": ROW_LABEL_TEMPLATE, **kwargs})

    def set_request(self, arguments: dict[str, Any]) -> None:
        """Take the request fields from a family's ``__init__`` arguments (its ``locals()``; other names
        are ignored) and, when none is templated, check the request now, at DAG parse time.

        Not when the DAG is parsed to run one of its tasks (the worker's parse, at each try and each
        resume): the try checks the rendered request itself. Warnings (an unknown model...) are logged
        here only where a DAG is defined, for the DAG processor or a test; a task's own log gets them
        once, from the hook, when the create is sent (nor from a budget check's rows)."""
        for name in self.request_fields:
            setattr(self, name, arguments.get(name))
        if _parsed_for_a_task() or any(is_templated(value) for value in self._request_values().values()):
            return
        warnings = self._checked_request()[1]
        if self.has_dag():
            for warning in warnings:
                self.log.warning("Wan request of task %s: %s", self.task_id, warning)

    @cached_property
    def hook(self) -> WanHook:
        from airflow_provider_wan.hooks.wan import WanHook

        return WanHook(self.wan_conn_id)

    def execute(self, context: Context) -> Any:
        from airflow_provider_wan.operators.submission import Submission
        from airflow_provider_wan.operators.waiting import TaskWait

        wait = TaskWait(self, context)  # execution_timeout's clock starts with the try
        try:
            request, _ = self._checked_request()  # the hook logs the warnings when it sends
            destination = self._destination(request)
            if destination is not None and (kept := destination.before_billing()) is not None:
                return self._report_landed(context, kept)
            submission = Submission(self, context, request)
            task = submission.reattach() or submission.submit(self._ready_to_send(context, request))
            self.wan_task_id = task.task_id
            if not self.wait_for_completion:
                return task.task_id
            if task.status is not TaskStatus.SUCCEEDED:
                if self.deferrable:
                    wait.defer(task.task_id)
                task = wait.in_worker(task.task_id)
            return self._succeed(context, task, request)
        except WanValidationError as error:  # bad rendered values or connection: a retry finds them the same
            raise WanTaskFinalError(f"Refused before anything was sent to Wan: {error}") from error
        except WanTaskError as error:
            known = {name: None for kind in self.request_types for name in kind.MODELS}
            hinted = with_model_hint(error, str(self.model), did_you_mean(str(self.model), known))
            if hinted is error:
                raise
            raise hinted from error

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after the trigger fired: the task's result, or the error its end amounts to."""
        from airflow_provider_wan.operators.waiting import TaskWait
        from airflow_provider_wan.triggers.wan import check_event

        event = check_event(event)
        if event["status"] != "success":
            raise TaskWait(self, context).after_event(event)
        self.wan_task_id = str(event["wan_task_id"])
        return self._succeed(context, event["task"], self._requested())

    def on_kill(self) -> None:
        """Cancel the task if it is still ``PENDING`` (a ``RUNNING`` task cannot be cancelled)."""
        if self.wan_task_id:
            from airflow_provider_wan.operators.waiting import cancel_if_pending

            cancel_if_pending(self.wan_conn_id, self.wan_task_id, self.log)

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
        """A ``wan`` run facet: the model, the seconds billed and their cost, and the landed object as
        output (where Airflow runs OpenLineage)."""
        from airflow.providers.common.compat.openlineage.facet import Dataset
        from airflow.providers.openlineage.extractors import OperatorLineage

        from airflow_provider_wan.lineage import run_facets

        landed = self.wan_result or {}
        outputs = (
            [Dataset(namespace=f"s3://{landed['bucket']}", name=landed["key"])] if "key" in landed else []
        )
        return OperatorLineage(outputs=outputs, run_facets=run_facets(self.wan_result))

    # -- the request ------------------------------------------------------------------------------

    def _request_values(self) -> dict[str, Any]:
        return {"model": self.model, **{name: getattr(self, name) for name in self.request_fields}}

    def request_type(self) -> type[WanRequest]:
        """The family's request class this model (and, for an unknown name, the inputs) call for."""
        return self.request_type_for(self._request_values())

    @classmethod
    def request_type_for(cls, values: Mapping[str, Any]) -> type[WanRequest]:
        """The request class for ``values`` (the model and request fields by name)."""
        if len(cls.request_types) == 1:
            return cls.request_types[0]
        model = str(values.get("model"))
        known = [kind for kind in cls.request_types if resolve_in(model, kind.MODELS) is not None]
        if known:
            return known[0]
        given = [
            kind
            for kind in cls.request_types
            if any(is_set(values.get(name)) for name in _own(kind, cls.request_types))
        ]
        if len(given) == 1:
            return given[0]
        media = uses_media_protocol(model)
        return next(kind for kind in cls.request_types if issubclass(kind, MediaListRequest) == media)

    @classmethod
    def build_request(cls, values: Mapping[str, Any]) -> WanRequest:
        """The request ``values`` describe (the model and request fields by name; rendered text read
        as the API wants it). Refuses a field the model's request type does not take."""
        kind = cls.request_type_for(values)
        taken = {field.name for field in fields(kind)}  # type: ignore[arg-type]
        for name, value in values.items():
            if name not in taken and is_set(value):
                allowed = ", ".join(sorted(taken - {"model"}))
                raise WanValidationError(
                    name, value, f"not taken by {values.get('model')} (it takes {allowed})"
                )
        return kind(**{name: coerce(name, values.get(name)) for name in taken})

    def _requested(self) -> WanRequest:
        """The request as the task instance shows it: rendered values read as the API wants them,
        ``s3://`` inputs as URIs. Refuses a field the model's request type does not take."""
        return self.build_request(self._request_values())

    def _checked_request(self) -> tuple[WanRequest, list[str]]:
        """The shown request once the contract's rules passed (an ``s3://`` URI judged by the URL it
        will become), and their warnings."""
        from airflow_provider_wan.operators import inputs

        request = self._requested()
        return request, inputs.with_stand_ins(request).validate()

    def _ready_to_send(self, context: Context, request: WanRequest) -> WanRequest:
        """The request as it will be sent: ``s3://`` inputs checked in S3 and presigned (an error names
        the URI, never the signed URL), once ``before_create`` passed."""
        from airflow_provider_wan.operators import inputs

        to_send = inputs.presigned(request, self.aws_conn_id, self.input_url_expires_in)
        self.before_create(context, request)
        return to_send

    def _succeed(
        self, context: Context, task: WanTask | dict[str, Any], request: WanRequest
    ) -> dict[str, Any]:
        """The XCom result, the video landed first if there is a ``destination``.

        The stored id stays (Airflow's ``[state_store] clear_on_success`` decides), so a failure after
        this point makes the retry return this same task rather than a new one; the store also marks
        the task ``reported``, so that retry does not count its success and billing twice (Airflow
        3.3+; without a store, each try that returns the task counts it).
        """
        from airflow_provider_wan.operators.submission import STATE_KEY
        from airflow_provider_wan.triggers.wan import task_view

        usage = task.service_usage if isinstance(task, WanTask) else task.get("service_usage")
        found = task_view(task)
        self.log.info("Wan task %s succeeded: %s", found["task_id"], found.get("video_url"))
        store = context.get("task_state_store")
        stored = store.get(STATE_KEY) if store is not None else None
        reported = isinstance(stored, dict) and stored.get("reported") == found["task_id"]
        result = self.build_result(found, request, usage, first_report=not reported)
        if isinstance(stored, dict) and not reported:
            store.set(STATE_KEY, {**stored, "reported": found["task_id"]})  # type: ignore[union-attr]
        destination = self._destination(request)
        if destination is None:
            return result
        try:
            landed = destination.land(task, result)
        except (TransferRefused, WanValidationError) as error:  # a retry would find the same
            raise WanTaskFinalError(
                f"Wan task {found['task_id']}'s video could not land at {destination.uri}: {error}. The "
                "service keeps it 24 hours: WanVideoToS3Operator can copy it elsewhere",
                wan_task_id=found["task_id"],
            ) from error
        return self._report_landed(context, landed)

    # -- the destination --------------------------------------------------------------------------

    @property
    def row_label(self) -> str:
        """What a mapped task instance shows instead of its index (the default ``map_index_template``):
        the destination's key, else the prompt (shortened), else the first input, else the model."""
        if isinstance(self.destination, str) and self.destination.startswith("s3://"):
            return self.destination.removeprefix("s3://").partition("/")[2] or self.destination
        prompt = getattr(self, "prompt", None)
        if isinstance(prompt, str) and prompt.strip():
            text = " ".join(prompt.split())
            return text if len(text) <= ROW_LABEL_LENGTH else text[: ROW_LABEL_LENGTH - 1] + "…"
        try:
            found = self._requested().media_inputs()
        except (WanValidationError, TypeError):
            found = []
        return found[0].url.rsplit("/", 1)[-1] if found else str(self.model)

    def _destination(self, request: WanRequest) -> VideoDestination | None:
        """This try's ``destination`` (its rendered value), None without one."""
        if self.destination is None:
            return None
        from airflow_provider_wan.operators.video_destination import VideoDestination
        from airflow_provider_wan.transfers.landing import Landing

        landing = Landing(
            self.landing_options, aws_conn_id=self.aws_conn_id, wan_hook=self.hook, log=self.log
        )
        return VideoDestination(self.destination, self.if_exists, request.to_body(), landing, self.log)

    def _report_landed(self, context: Context, result: dict[str, Any]) -> dict[str, Any]:
        """The result of a try that landed (or kept) a video: an asset event for it, and lineage."""
        self.wan_result = result
        extra = {"wan_task_id": result["task_id"], "size": result["size"], "sha256": result["sha256"]}
        report_asset(context, self.outlets, result["s3_uri"], {**extra, "landed": result["landed"]})
        return result


def _parsed_for_a_task() -> bool:
    """Whether this DAG file is being parsed to run one of its tasks (the worker's parse, each try and
    each resume after a deferral), rather than by the DAG processor or a test."""
    from airflow.sdk import get_parsing_context

    return get_parsing_context().task_id is not None


def _own(kind: type[WanRequest], request_types: tuple[type[WanRequest], ...]) -> set[str]:
    """The fields only ``kind`` of the request types has (what tells its protocol apart)."""
    others = {field.name for other in request_types if other is not kind for field in fields(other)}  # type: ignore[arg-type]
    return {field.name for field in fields(kind)} - others  # type: ignore[arg-type]
