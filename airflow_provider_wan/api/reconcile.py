"""Finding a task Wan created but whose id was lost, without an idempotency key (pure: no I/O).

Wan has no idempotency key, so a create whose answer never arrived (a dropped connection, a timeout, a
worker killed the moment Wan accepted it) leaves a task nobody knows the id of. Before each create the
operator records an :class:`Intent`: a fingerprint of the request and the connection, and the time. A
later look for that task lists the account's tasks of the model created in the intent's
:class:`Window` (in whatever zone the service reads the list's times), reads each candidate (the query
answer carries ``orig_prompt`` and, once done, the billed duration and size) and takes the one that
:func:`matches` the request and no other task instance has claimed. Candidates are read nearest to the
intent's time first, so the task a crash lost is usually the first one read. One whose prompt only
:func:`nearly_matches` is a guess, left to a later try (see ``operators/submission.py``).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from difflib import SequenceMatcher
from typing import Any

from airflow_provider_wan.api.base import WanRequest
from airflow_provider_wan.api.endpoints import MAX_LIST_WINDOW
from airflow_provider_wan.api.responses import TaskStatus, TaskSummary, WanTask

#: How far the service's clock may be behind ours: a task can look created this long before the intent.
CLOCK_SKEW = timedelta(seconds=60)
#: Rows per list call while reconciling (the contract's largest page).
LIST_PAGE_SIZE = 100
#: Statuses of a candidate worth re-attaching to; a failed or cancelled one is as good as none.
LIVE_STATUSES = frozenset({TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.SUCCEEDED})
#: How alike (difflib's ratio of the compared prompts) a prompt must be to nearly match: a changed word
#: in a long prompt is above it, "product 1" against "product 2" below.
NEAR_PROMPT_RATIO = 0.9
_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def request_fingerprint(body: dict[str, Any], base_url: str, api_key: str) -> str:
    """One opaque digest of the create body and the account it goes to (the key only as a hash)."""
    account = hashlib.sha256(api_key.encode()).hexdigest()
    canonical = json.dumps({"body": body, "base_url": base_url, "account": account}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Intent:
    """A create about to be sent: what (its fingerprint) and when (epoch seconds, our clock)."""

    fingerprint: str
    at: float

    def to_dict(self) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "at": self.at}

    @classmethod
    def from_dict(cls, value: Any) -> Intent | None:
        """The intent a task state holds, or None if it holds none (or something unreadable)."""
        if not isinstance(value, dict):
            return None
        fingerprint, at = value.get("fingerprint"), value.get("at")
        if not isinstance(fingerprint, str) or not isinstance(at, (int, float)) or isinstance(at, bool):
            return None
        return cls(fingerprint, float(at))


@dataclass(frozen=True)
class Window:
    """When a lost task may have been created: from ``start`` (minus clock skew) to ``end``, UTC."""

    start: datetime
    end: datetime
    anchor: datetime  # when the create most likely landed: candidates are read nearest to it first

    @classmethod
    def after_intent(cls, intent: Intent, now: datetime) -> Window:
        """From just before the intent's create to now."""
        at = datetime.fromtimestamp(intent.at, tz=timezone.utc)
        return cls._bounded(at - CLOCK_SKEW, now, anchor=at)

    @classmethod
    def since(cls, start: datetime | None, now: datetime) -> Window:
        """From ``start`` (say the DAG run's start, when no intent was recorded) to now."""
        begin = (start or now - MAX_LIST_WINDOW).astimezone(timezone.utc) - CLOCK_SKEW
        return cls._bounded(begin, now, anchor=begin)

    @classmethod
    def _bounded(cls, start: datetime, now: datetime, *, anchor: datetime) -> Window:
        end = now.astimezone(timezone.utc) + CLOCK_SKEW
        start = max(start, end - MAX_LIST_WINDOW)  # the list call looks back at most 24 hours
        return cls(start, end, max(anchor, start))

    def list_filters(self, model: str, page_no: int, *, dated: bool = True) -> dict[str, Any]:
        """Keyword arguments of the list call for one page of this window's tasks of ``model``.

        The contract does not say in which zone the service reads ``start_time`` and ``end_time``. A
        *dated* look sends the window's start as UTC wall time and an end the contract's 24 hours
        later: read as UTC, the extra hours lie in the future, where no task was created; read in a
        zone east of UTC (Beijing's UTC+8, up to 24 hours less the window's length), the window
        still holds every task created since its start. An *undated* look (the one to fall back to)
        sends no times, so the service lists its own last 24 hours, in no zone at all. Either way each
        row's ``gmt_create`` (epoch milliseconds) is checked against the window in :func:`candidates`.

        The undated look sends no ``model_name`` either: which name the service files a task under (the
        dated snapshot sent, or its family) is not stated, so :func:`candidates` compares the rows'
        names itself (:func:`same_model`).
        """
        page = {"page_no": page_no, "page_size": LIST_PAGE_SIZE}
        if not dated:
            return page
        times = {"start_time": _wall(self.start), "end_time": _wall(self.start + MAX_LIST_WINDOW)}
        return {**times, "model_name": model, **page}

    def holds(self, created: datetime | None) -> bool:
        if created is None:
            return False
        moment = created if created.tzinfo else created.replace(tzinfo=timezone.utc)
        return self.start <= moment <= self.end


def candidates(
    rows: Iterable[TaskSummary], window: Window, claimed: Iterable[str], model: str
) -> list[TaskSummary]:
    """Live rows of ``model`` created in the window that no other task instance claimed, nearest the
    anchor first."""
    taken = set(claimed)
    found = [
        row
        for row in rows
        if row.task_id not in taken
        and row.status in LIVE_STATUSES
        and window.holds(row.created)
        and (row.model_name is None or same_model(row.model_name, model))
    ]
    return sorted(found, key=lambda row: (abs(_utc(row.created) - window.anchor), row.task_id))


def same_model(listed: str, sent: str) -> bool:
    """Whether a list row's ``model_name`` may name the model a create sent: the same name, or the same
    family (a dated snapshot ``wan2.7-t2v-2026-04-25`` filed as ``wan2.7-t2v``, or the other way round;
    Beijing's ``wanx2.1-`` spelling for Singapore's ``wan2.1-``)."""
    return _family(listed) == _family(sent)


def _family(model: str) -> str:
    name = _SNAPSHOT.sub("", model.strip().lower())
    return name.replace("wanx2.1-", "wan2.1-", 1)


def matches(task: WanTask, request: WanRequest) -> bool:
    """Whether ``task`` is what ``request`` (of any family) would have made, as far as its query answer tells.

    The answer carries the prompt as the service shows it (``orig_prompt``), which the vendor's own
    examples show changed: the final stop dropped or made full-width, a space added, quotes swapped.
    So prompts are compared by :func:`prompt_key` (none sent and none shown count as the same). Once
    the task has succeeded the answer also shows the billed duration and size, and a request that
    names these must agree with them. What still cannot be told apart: a word the service changed
    (that is at best :func:`nearly_matches`), prompts that differ only in whitespace, case or
    punctuation, tasks differing only in their input media (not shown), and the same prompt sent by
    another run, DAG or client of the account in the window. A task another task instance claimed is
    never a candidate (:func:`candidates`).
    """
    return _billed_alike(task, request) and prompt_key(task.orig_prompt) == prompt_key(request.prompt)


def nearly_matches(task: WanTask, request: WanRequest) -> bool:
    """Whether ``task`` would match but for a prompt that differs a little more than :func:`matches`
    allows, as when the service changes a word (the vendor's examples show "detective office" shown
    as "detective's office"): at least :data:`NEAR_PROMPT_RATIO` alike. Only a guess, so never taken
    in a first try."""
    sent, shown = prompt_key(request.prompt), prompt_key(task.orig_prompt)
    if sent == shown or not _billed_alike(task, request):
        return False
    alike = SequenceMatcher(None, sent, shown, autojunk=False)
    return alike.real_quick_ratio() >= NEAR_PROMPT_RATIO and alike.ratio() >= NEAR_PROMPT_RATIO


def prompt_key(prompt: str | None) -> str:
    """A prompt as compared: Unicode NFKC (full-width forms as their ASCII twins), casefolded, every
    whitespace and punctuation character (of any script: 。 “ ” included) dropped."""
    folded = unicodedata.normalize("NFKC", prompt or "").casefold()
    return "".join(ch for ch in folded if not ch.isspace() and not unicodedata.category(ch).startswith("P"))


def _billed_alike(task: WanTask, request: WanRequest) -> bool:
    """Live, and (once billed) the duration and size the request names, where it names them."""
    if task.status not in LIVE_STATUSES:
        return False
    usage = task.usage
    if usage is None:
        return True
    duration, size = getattr(request, "duration", None), getattr(request, "size", None)
    same_duration = duration is None or usage.duration in (None, duration)
    billed_size = f"{usage.width}*{usage.height}" if usage.width and usage.height else None
    same_size = not size or billed_size in (None, size)
    return same_duration and same_size


def _wall(moment: datetime) -> datetime:
    """A UTC moment as the wall time the list call's ``YYYYMMDDhhmmss`` writes."""
    return moment.replace(tzinfo=None)


def _utc(moment: datetime | None) -> datetime:
    assert moment is not None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
