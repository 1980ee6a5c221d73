"""One billed Wan task per task instance: the intent recorded before the create, re-attaching to what
an earlier try submitted, and reconciling a create whose answer was lost (see ``api/reconcile.py``)."""

from __future__ import annotations

import time
from abc import abstractmethod
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperator

from airflow_provider_wan.api import TaskStatus, TaskSummary, WanApiError, WanRequest, WanTask
from airflow_provider_wan.api.reconcile import Intent, Window, candidates, matches, nearly_matches
from airflow_provider_wan.exceptions import WanTaskError, WanTaskFinalError, call_error
from airflow_provider_wan.operators.waiting import WaitsForTask

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

# The task_state_store key (Airflow 3.3+); renaming it breaks re-attaching retries already in flight.
# Its value: {"request": body as shown, "intent": {"fingerprint", "at"}, "wan_task_id": id once known,
# "reported": that id once its success and billing metrics were sent}.
STATE_KEY = "wan_task"
# The XCom key under which each try publishes the Wan task it holds, {"wan_task_id", "by"}, so that
# sibling task instances reconciling a lost create never take it.
CLAIM_KEY = "wan_task_claim"
MAX_CREATES_PER_TRY = 2  # a lost create with nothing found is sent once more, then left to a retry
# How the list call is refused to a key that may not list the account's tasks (403 AccessDenied), or
# where there is no list endpoint (404): no retry can change either.
LIST_REFUSALS = (403, 404)


class SubmitsOnce(WaitsForTask):
    """Submitting a request at most once per task instance, whatever fails between two lines."""

    @abstractmethod
    def _fingerprint(self, request: WanRequest) -> str:
        """The request (as shown) and the account it goes to, as one digest."""

    @abstractmethod
    def _ready_to_send(self, context: Context, request: WanRequest) -> WanRequest:
        """The request exactly as it will be sent, once every check before billing passed."""

    def _submit(self, context: Context, store: Any, request: WanRequest) -> WanTask:
        """Create the task, the intent recorded first; an ambiguous create is looked for before resending.

        A create whose answer was lost (``WanCreateUncertainError``) is reconciled at once; only when no
        matching (nor nearly matching) task turns up is it sent once more. A second lost answer fails the
        try as retryable: the retry reconciles again from the recorded intent.
        """
        from airflow_provider_wan.exceptions import WanCreateUncertainError

        to_send = self._ready_to_send(context, request)
        intent = Intent(self._fingerprint(request), time.time())
        record = {"request": request.to_body(), "intent": intent.to_dict()}
        if store is not None:
            store.set(STATE_KEY, record)
        sent = 1
        while True:
            try:
                return self._create(context, store, to_send, record)
            except WanCreateUncertainError as error:
                self.log.warning("%s. Looking for it in the account's task list", error)
                found = self._reconcile(context, store, record, request, Window.after_intent(intent, _now()))
                if found is not None:
                    return found
                if sent == MAX_CREATES_PER_TRY:
                    raise WanTaskError(
                        f"{sent} creates in a row lost their answer and no task matching them was found: "
                        f"{error}. A retry looks for them again before submitting",
                        code=error.code,
                    ) from error
                self.log.warning("No task matching the lost create was found; submitting once more")
                sent += 1

    def _create(self, context: Context, store: Any, request: WanRequest, record: dict[str, Any]) -> WanTask:
        from airflow_provider_wan.exceptions import WanCreateUncertainError

        try:
            task = self.hook.create_task(request)
        except WanCreateUncertainError:
            raise
        except WanApiError as error:
            raise call_error(error, "submitting the task") from error
        _keep(store, record, task.task_id)
        _publish_claim(context, task.task_id)
        return task

    def _reattach(self, context: Context, store: Any, request: WanRequest) -> WanTask | None:
        """The task an earlier try of this task instance submitted, if it is still worth having.

        Known by its stored id, or (no id stored: the try died between the create and the state write)
        found by reconciling from the recorded intent. Without a task state store (Airflow 3.1/3.2) a
        retry reconciles from the DAG run's start.
        """
        stored = store.get(STATE_KEY) if store is not None else None
        stored = stored if isinstance(stored, dict) else {}
        if stored.get("wan_task_id"):
            return self._reattach_by_id(context, stored, request)
        intent = Intent.from_dict(stored.get("intent"))
        if intent is not None:
            if intent.fingerprint != self._fingerprint(request):
                self.log.warning(
                    "An earlier try sent a create for a different request or connection and lost its "
                    "answer; that task cannot be told apart, submitting anew"
                )
                return None
            self.log.warning("An earlier try sent a create but recorded no task id; looking for it")
            return self._reconcile(context, store, stored, request, Window.after_intent(intent, _now()))
        if store is None and _try_number(context) > 1:
            started = getattr(context.get("dag_run"), "start_date", None)
            self.log.info("A retry without a task state store: looking for a task an earlier try made")
            return self._reconcile(context, store, {}, request, Window.since(started, _now()))
        return None

    def _reattach_by_id(
        self, context: Context, stored: dict[str, Any], request: WanRequest
    ) -> WanTask | None:
        wan_task_id = str(stored["wan_task_id"])
        if stored.get("request") != request.to_body():
            self.log.warning(
                "Wan task %s was submitted for a different request; submitting anew", wan_task_id
            )
            self._cancel_if_pending(wan_task_id)
            return None
        try:
            task = self.hook.get_task(wan_task_id)
        except WanApiError as error:
            raise call_error(error, "checking the task an earlier try submitted", wan_task_id) from error
        if task.status in (TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.SUCCEEDED):
            self.log.info(
                "Re-attaching to Wan task %s (%s) from an earlier try", wan_task_id, task.status.value
            )
            _publish_claim(context, wan_task_id)
            return task
        self.log.warning(
            "Wan task %s from an earlier try ended %s; submitting anew", wan_task_id, task.status.value
        )
        return None

    # -- reconciling a lost create ---------------------------------------------------------------

    def _reconcile(
        self, context: Context, store: Any, record: dict[str, Any], request: WanRequest, window: Window
    ) -> WanTask | None:
        """The task a lost create made: same model, prompt (and billed size and duration) in the window,
        claimed by no sibling task instance. None when nothing matches, which is when a create is due.

        Two looks (see :meth:`Window.list_filters`): one dated, and only when it finds no match (or the
        service refuses its times, say an end in the future) one undated, so the task is found whatever
        zone the service reads the list's times in. A list call
        the key may not make fails the try for good (:func:`_unlistable`): a create is never sent blind.

        Near matches: a task whose prompt only nearly matches (a word the service may have changed)
        is a guess, and a guess never costs a second video. The first try neither takes it nor
        creates: it fails retryable, naming the task. A later try (a retry or a cleared task) takes
        it if no sibling has claimed it by then (siblings publish claims on their own tasks as they
        run), and creates otherwise.

        Claims: each try publishes the Wan task it holds under the ``wan_task_claim`` XCom key, and a
        reconciling try skips tasks that other task instances (of Wan operators, in this DAG run) claim.
        A match is claimed, then the claims are read again; if a task instance that sorts first claimed
        the same task meanwhile, this one withdraws and tries the next candidate. Residual window (no
        atomic compare-and-set in Airflow): a task instance sorting first that publishes its claim only
        after this one's re-read also keeps the task, so two task instances share one video. Both must
        have lost a create for the same model and prompt at nearly the same moment.
        """
        near: list[WanTask] = []
        read: set[str] = set()
        try:
            for dated in (True, False):
                try:
                    rows = self._list_window(request.model, window, dated=dated)
                except WanApiError as error:
                    if not dated or error.http_status != 400:
                        raise
                    self.log.warning("The dated look was refused (%s); looking without times", error)
                    continue
                for row in candidates(rows, window, self._claims(context), request.model):
                    if row.task_id in read:
                        continue
                    read.add(row.task_id)
                    task = self.hook.get_task(row.task_id)
                    if matches(task, request) and self._claim(context, task.task_id):
                        return self._found(store, record, task, "found by its model and prompt")
                    if nearly_matches(task, request):
                        near.append(task)
        except WanApiError as error:
            raise call_error(error, "looking for the task a lost create made") from error
        if near:
            return self._take_near(context, store, record, near)
        self.log.info("No unclaimed %s task with this prompt in the window: none was created", request.model)
        return None

    def _take_near(
        self, context: Context, store: Any, record: dict[str, Any], near: list[WanTask]
    ) -> WanTask | None:
        """A nearly matching task, only in a later try and only if still unclaimed; the first try fails."""
        if _try_number(context) == 1:
            raise WanTaskError(
                f"No Wan task matches the lost create, but {near[0].task_id} ({near[0].status.value}) "
                "nearly does: its prompt as the service shows it (orig_prompt) differs from this one in "
                "more than whitespace, case and punctuation, as when the service changes a word. It may "
                "be this task instance's video or another's, so this try neither takes it nor creates a "
                "second one. A retry (or clearing this task) takes it if no other task instance of this "
                "DAG run claims it by then, and submits otherwise",
                wan_task_id=near[0].task_id,
                status=near[0].status.value,
            )
        taken = self._claims(context)
        for task in near:
            if task.task_id not in taken and self._claim(context, task.task_id):
                return self._found(store, record, task, "whose prompt nearly matches and no one else claims")
        self.log.warning("The nearly matching tasks are claimed by other task instances now: submitting")
        return None

    def _found(self, store: Any, record: dict[str, Any], task: WanTask, how: str) -> WanTask:
        """Re-attach to ``task``, a reconciled and claimed one."""
        self.log.warning("Re-attaching to Wan task %s (%s), %s", task.task_id, task.status.value, how)
        _keep(store, record, task.task_id)
        return task

    def _list_window(self, model: str, window: Window, *, dated: bool) -> list[TaskSummary]:
        rows: list[TaskSummary] = []
        page_no = 1
        while True:
            try:
                page = self.hook.list_tasks(**window.list_filters(model, page_no, dated=dated))
            except WanApiError as error:
                if error.http_status in LIST_REFUSALS:
                    raise _unlistable(model, error) from error
                raise
            rows.extend(page.tasks)
            if page_no >= page.total_page:
                return rows
            page_no += 1

    def _claims(self, context: Context) -> dict[str, Any]:
        """Wan task ids claimed by other task instances of this DAG run, each with its claimant."""
        mine = _owner(context)
        found = context["ti"].xcom_pull(task_ids=_wan_task_ids(self), key=CLAIM_KEY) or []
        return {
            str(claim["wan_task_id"]): claim.get("by")
            for claim in (found if isinstance(found, list) else [found])
            if isinstance(claim, dict) and claim.get("wan_task_id") and claim.get("by") != mine
        }

    def _claim(self, context: Context, wan_task_id: str) -> bool:
        """Publish the claim, then read the claims again: the claimant that sorts first keeps the task."""
        _publish_claim(context, wan_task_id)
        rival = self._claims(context).get(wan_task_id)
        if rival is not None and list(rival) < _owner(context):
            self.log.info("Wan task %s is claimed by %s too; leaving it to that one", wan_task_id, rival)
            _publish_claim(context, None)  # withdrawn
            return False
        return True


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _try_number(context: Context) -> int:
    return int(getattr(context["ti"], "try_number", 1) or 1)


def _unlistable(model: str, error: WanApiError) -> WanTaskFinalError:
    """The final error of a lost create that cannot be looked for: the key may not list tasks."""
    return WanTaskFinalError(
        f"A {model} task that a create of this task instance made may exist and be billed, but its id "
        f"is not known (the create's answer was lost, or the try that sent it kept no record of it) and "
        f"it cannot be looked for: this API key may not list the account's tasks ({error}). Not "
        f"submitting again, which could bill a second video. Look for the task among the account's "
        f"{model} tasks of the last 24 hours with a key that may list them "
        f"(WanHook.list_tasks(model_name={model!r})), or give this connection such a key and clear this "
        f"task instance: it then re-attaches to the task, or submits once if there is none",
        code=error.code,
        service_message=error.message,
    )


def _keep(store: Any, record: dict[str, Any], wan_task_id: str) -> None:
    """Write the task's id next to the intent, for this task instance's retries (Airflow 3.3+)."""
    if store is not None:
        store.set(STATE_KEY, {**record, "wan_task_id": wan_task_id})


def _publish_claim(context: Context, wan_task_id: str | None) -> None:
    """Tell sibling task instances which Wan task this one holds (None: none any more)."""
    context["ti"].xcom_push(key=CLAIM_KEY, value={"wan_task_id": wan_task_id, "by": _owner(context)})


def _owner(context: Context) -> list[Any]:
    """Who claims: this task instance as ``[task_id, map_index]`` (JSON, and sortable)."""
    ti = context["ti"]
    map_index = getattr(ti, "map_index", None)
    return [ti.task_id, -1 if map_index is None else int(map_index)]


def _wan_task_ids(operator: BaseOperator) -> list[str]:
    """Task ids of this DAG's Wan video tasks of every family (mapped ones included): where sibling
    claims live."""
    found = []
    for task in operator.dag.tasks if operator.dag else [operator]:
        kind = getattr(task, "operator_class", type(task))
        if isinstance(kind, type) and issubclass(kind, SubmitsOnce):
            found.append(task.task_id)
    return found or [operator.task_id]
