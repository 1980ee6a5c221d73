"""One billed Wan task per task instance: the intent recorded before the create, re-attaching to what an
earlier try submitted, reconciling a create whose answer was lost (see ``api/reconcile.py``), and claims.

The task state store (Airflow 3.3+) holds the intent before the create and the task id right after it;
without one (3.1, 3.2) a retry reconciles from the DAG run's start. Each try publishes the Wan task it
holds as a claim (XCom), and reconciling skips tasks that sibling task instances claim.

Airflow 3.3's ``ResumableJobMixin`` is not used: it cannot keep this promise. It writes the external id
only after ``submit_job`` returned, so a worker that dies between the paid create and that write leaves
nothing, and the next try bills a second video (a window its docstring says it cannot close); here the
intent is written before the create, and a try that finds an intent without an id reconciles it, as it
does a create whose answer was lost. It also re-attaches to a stored id whatever the request now is,
waits in the worker (``poll_until_complete``) where we defer, is absent on Airflow 3.1 and 3.2, and is a
mixin of six abstract callbacks, the shape this module replaces. The one step of it that fits,
re-attaching by the stored id, is a few lines of :meth:`Submission.reattach`.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_wan.api import TaskSummary, WanApiError, WanRequest, WanTask, reconcile
from airflow_provider_wan.api.reconcile import Intent, Window, candidates, matches, nearly_matches
from airflow_provider_wan.exceptions import (
    WanCreateUncertainError,
    WanTaskError,
    WanTaskFinalError,
    call_error,
)
from airflow_provider_wan.operators.waiting import cancel_if_pending

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_wan.operators.generation import WanGenerationOperator

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


class Submission:
    """This try's hold on its task instance's one Wan task: :meth:`reattach` to what an earlier try
    submitted, else :meth:`submit` once, whatever fails between two lines."""

    def __init__(self, operator: WanGenerationOperator, context: Context, request: WanRequest) -> None:
        self.operator = operator
        self.hook = operator.hook
        self.log = operator.log
        self.context = context
        self.store = context.get("task_state_store")
        self.request = request  # as shown: s3:// inputs as URIs
        self.record: dict[str, Any] = {}  # what the store holds for this task instance
        ti = context["ti"]
        map_index = getattr(ti, "map_index", None)
        # who claims: this task instance as [task_id, map_index] (JSON, and sortable)
        self.owner = [ti.task_id, -1 if map_index is None else int(map_index)]
        self.try_number = int(getattr(ti, "try_number", 1) or 1)

    @cached_property
    def fingerprint(self) -> str:
        """The request (as shown) and the account it goes to, as one digest (no key in it)."""
        return reconcile.request_fingerprint(
            self.request.to_body(), self.hook.base_url, self.hook.settings.api_key
        )

    def reattach(self) -> WanTask | None:
        """The task an earlier try of this task instance submitted, if it is still worth having.

        Known by its stored id, or (no id stored: the try died between the create and the state write)
        found by reconciling from the recorded intent, or (no store) from the DAG run's start.
        """
        stored = self.store.get(STATE_KEY) if self.store is not None else None
        self.record = stored if isinstance(stored, dict) else {}
        if self.record.get("wan_task_id"):
            return self._reattach_by_id(str(self.record["wan_task_id"]))
        intent = Intent.from_dict(self.record.get("intent"))
        if intent is not None:
            if intent.fingerprint != self.fingerprint:
                self.log.warning(
                    "An earlier try sent a create for a different request or connection and lost its "
                    "answer; that task cannot be told apart, submitting anew"
                )
                return None
            self.log.warning("An earlier try sent a create but recorded no task id; looking for it")
            return self._reconcile(Window.after_intent(intent, _now()))
        if self.store is None and self.try_number > 1:
            started = getattr(self.context.get("dag_run"), "start_date", None)
            self.log.info("A retry without a task state store: looking for a task an earlier try made")
            return self._reconcile(Window.since(started, _now()))
        return None

    def _reattach_by_id(self, wan_task_id: str) -> WanTask | None:
        if self.record.get("request") != self.request.to_body():
            self.log.warning(
                "Wan task %s was submitted for a different request; submitting anew", wan_task_id
            )
            cancel_if_pending(self.operator.wan_conn_id, wan_task_id, self.log)
            return None
        try:
            task = self.hook.get_task(wan_task_id)
        except WanApiError as error:
            raise call_error(error, "checking the task an earlier try submitted", wan_task_id) from error
        if task.status not in reconcile.LIVE_STATUSES:
            self.log.warning(
                "Wan task %s from an earlier try ended %s; submitting anew", wan_task_id, task.status.value
            )
            return None
        self.log.info("Re-attaching to Wan task %s (%s) from an earlier try", wan_task_id, task.status.value)
        self._publish(wan_task_id)
        return task

    def submit(self, to_send: WanRequest) -> WanTask:
        """Create the task (``to_send``: the request exactly as sent), the intent recorded first.

        A create whose answer was lost is reconciled at once; only when no matching (nor nearly
        matching) task turns up is it sent once more. A second lost answer fails the try as retryable:
        the retry reconciles again from the recorded intent.
        """
        intent = Intent(self.fingerprint, time.time())
        self.record = {"request": self.request.to_body(), "intent": intent.to_dict()}
        if self.store is not None:
            self.store.set(STATE_KEY, self.record)
        sent = 1
        while True:
            try:
                task = self.hook.create_task(to_send)
            except WanCreateUncertainError as error:
                self.log.warning("%s. Looking for it in the account's task list", error)
                found = self._reconcile(Window.after_intent(intent, _now()))
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
                continue
            except WanApiError as error:
                raise call_error(error, "submitting the task") from error
            self._keep(task.task_id)
            self._publish(task.task_id)
            return task

    # -- reconciling a lost create ---------------------------------------------------------------

    def _reconcile(self, window: Window) -> WanTask | None:
        """The task a lost create made: same model, prompt (and billed size and duration) in the window,
        claimed by no sibling task instance. None when nothing matches, which is when a create is due.

        Two looks (see :meth:`Window.list_filters`): one dated, and only when it finds no match (or the
        service refuses its times, say an end in the future) one undated, so the task is found whatever
        zone the service reads the list's times in. A list call the key may not make fails the try for
        good (:func:`_unlistable`): a create is never sent blind.

        A task whose prompt only nearly matches (a word the service may have changed) is a guess, and a
        guess never costs a second video: the first try neither takes it nor creates, it fails
        retryable naming the task; a later try (a retry or a cleared task) takes it if no sibling has
        claimed it by then (siblings claim their own tasks as they run), and creates otherwise.
        """
        near: list[WanTask] = []
        read: set[str] = set()
        try:
            for dated in (True, False):
                try:
                    rows = self._list_window(window, dated=dated)
                except WanApiError as error:
                    if not dated or error.http_status != 400:
                        raise
                    self.log.warning("The dated look was refused (%s); looking without times", error)
                    continue
                for row in candidates(rows, window, self._claims(), self.request.model):
                    if row.task_id in read:
                        continue
                    read.add(row.task_id)
                    task = self.hook.get_task(row.task_id)
                    if matches(task, self.request) and self._claim(task.task_id):
                        return self._found(task, "found by its model and prompt")
                    if nearly_matches(task, self.request):
                        near.append(task)
        except WanApiError as error:
            raise call_error(error, "looking for the task a lost create made") from error
        if near:
            return self._take_near(near)
        self.log.info(
            "No unclaimed %s task with this prompt in the window: none was created", self.request.model
        )
        return None

    def _take_near(self, near: list[WanTask]) -> WanTask | None:
        """A nearly matching task, only in a later try and only if still unclaimed; the first try fails."""
        if self.try_number == 1:
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
        taken = self._claims()
        for task in near:
            if task.task_id not in taken and self._claim(task.task_id):
                return self._found(task, "whose prompt nearly matches and no one else claims")
        self.log.warning("The nearly matching tasks are claimed by other task instances now: submitting")
        return None

    def _found(self, task: WanTask, how: str) -> WanTask:
        """Re-attach to ``task``, a reconciled and claimed one."""
        self.log.warning("Re-attaching to Wan task %s (%s), %s", task.task_id, task.status.value, how)
        self._keep(task.task_id)
        return task

    def _list_window(self, window: Window, *, dated: bool) -> list[TaskSummary]:
        model = self.request.model
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

    def _keep(self, wan_task_id: str) -> None:
        """Write the task's id next to the intent, for this task instance's retries (Airflow 3.3+)."""
        if self.store is not None:
            self.store.set(STATE_KEY, {**self.record, "wan_task_id": wan_task_id})

    # -- claims: a match is claimed, then the claims are read again; if a task instance that sorts first
    # claimed it meanwhile, this one withdraws (the window that remains: WanGenerationOperator's docstring)

    def _claims(self) -> dict[str, Any]:
        """Wan task ids claimed by other task instances of this DAG run, each with its claimant."""
        found = self.context["ti"].xcom_pull(task_ids=self._wan_task_ids(), key=CLAIM_KEY) or []
        return {
            str(claim["wan_task_id"]): claim.get("by")
            for claim in (found if isinstance(found, list) else [found])
            if isinstance(claim, dict) and claim.get("wan_task_id") and claim.get("by") != self.owner
        }

    def _claim(self, wan_task_id: str) -> bool:
        """Publish the claim, then read the claims again: the claimant that sorts first keeps the task."""
        self._publish(wan_task_id)
        rival = self._claims().get(wan_task_id)
        if rival is not None and list(rival) < self.owner:
            self.log.info("Wan task %s is claimed by %s too; leaving it to that one", wan_task_id, rival)
            self._publish(None)  # withdrawn
            return False
        return True

    def _publish(self, wan_task_id: str | None) -> None:
        """Tell sibling task instances which Wan task this one holds (None: none any more)."""
        self.context["ti"].xcom_push(key=CLAIM_KEY, value={"wan_task_id": wan_task_id, "by": self.owner})

    def _wan_task_ids(self) -> list[str]:
        """Task ids of this DAG's Wan video tasks of every family (mapped ones included): where sibling
        claims live."""
        from airflow_provider_wan.operators.generation import WanGenerationOperator

        operator = self.operator
        found = []
        for task in operator.dag.tasks if operator.dag else [operator]:
            kind = getattr(task, "operator_class", type(task))
            if isinstance(kind, type) and issubclass(kind, WanGenerationOperator):
                found.append(task.task_id)
        return found or [operator.task_id]


def _now() -> datetime:
    return datetime.now(timezone.utc)


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
