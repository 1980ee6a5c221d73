"""The pure parts of reconciling a lost create: fingerprint, window, candidates and matching."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow_provider_wan.api import TaskStatus, TaskSummary, Usage, VideoRequest, WanTask
from airflow_provider_wan.api.reconcile import (
    CLOCK_SKEW,
    Intent,
    Window,
    candidates,
    matches,
    request_fingerprint,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
BODY = VideoRequest(model="wan2.6-t2v", prompt="a fox", size="1280*720", duration=5).to_body()


def test_the_fingerprint_changes_with_the_request_and_the_account_and_hides_the_key() -> None:
    base = request_fingerprint(BODY, "https://h/api/v1", "sk-one")
    assert base == request_fingerprint(dict(BODY), "https://h/api/v1", "sk-one")
    assert base != request_fingerprint({**BODY, "model": "wan2.5-t2v-preview"}, "https://h/api/v1", "sk-one")
    assert base != request_fingerprint(BODY, "https://other/api/v1", "sk-one")
    assert base != request_fingerprint(BODY, "https://h/api/v1", "sk-two")
    assert "sk-one" not in base


def test_an_intent_round_trips_and_junk_is_no_intent() -> None:
    intent = Intent("abc", 1_700_000_000.5)
    assert Intent.from_dict(intent.to_dict()) == intent
    for junk in (
        None,
        "x",
        {"fingerprint": "abc"},
        {"fingerprint": 1, "at": 2.0},
        {"fingerprint": "a", "at": True},
    ):
        assert Intent.from_dict(junk) is None


def test_the_window_starts_before_the_intent_and_never_spans_more_than_a_day() -> None:
    intent = Intent("abc", (NOW - timedelta(minutes=5)).timestamp())
    window = Window.after_intent(intent, NOW)
    assert window.start == NOW - timedelta(minutes=5) - CLOCK_SKEW
    assert window.end == NOW + CLOCK_SKEW
    assert window.anchor == NOW - timedelta(minutes=5)
    old = Window.since(NOW - timedelta(days=3), NOW)
    assert old.end - old.start == timedelta(hours=24)
    filters = window.list_filters("wan2.6-t2v", 2)
    assert filters["model_name"] == "wan2.6-t2v"
    assert (filters["page_no"], filters["page_size"]) == (2, 100)
    assert filters["start_time"].tzinfo is None  # sent as UTC wall time


def row(task_id: str, created: datetime, status: TaskStatus = TaskStatus.PENDING) -> TaskSummary:
    return TaskSummary(task_id=task_id, status=status, created=created)


def test_candidates_are_live_unclaimed_in_the_window_and_nearest_the_anchor_first() -> None:
    anchor = NOW - timedelta(seconds=30)
    window = Window.after_intent(Intent("abc", anchor.timestamp()), NOW)
    rows = [
        row("far", anchor + timedelta(seconds=20)),
        row("near", anchor + timedelta(milliseconds=40)),
        row("claimed", anchor + timedelta(milliseconds=10)),
        row("failed", anchor, TaskStatus.FAILED),
        row("too-early", anchor - CLOCK_SKEW - timedelta(seconds=1)),
    ]
    assert [r.task_id for r in candidates(rows, window, claimed={"claimed"})] == ["near", "far"]


def test_a_match_needs_the_prompt_and_agrees_with_what_was_billed() -> None:
    request = VideoRequest(model="wan2.6-t2v", prompt="a fox", size="1280*720", duration=5)
    pending = WanTask(task_id="t", status=TaskStatus.PENDING, orig_prompt="a fox")
    assert matches(pending, request)
    assert not matches(WanTask(task_id="t", status=TaskStatus.PENDING, orig_prompt="a cat"), request)
    assert not matches(WanTask(task_id="t", status=TaskStatus.CANCELED, orig_prompt="a fox"), request)
    billed = WanTask(
        task_id="t", status=TaskStatus.SUCCEEDED, orig_prompt="a fox", usage=Usage(5.0, 1280, 720, 1)
    )
    assert matches(billed, request)
    longer = WanTask(
        task_id="t", status=TaskStatus.SUCCEEDED, orig_prompt="a fox", usage=Usage(10.0, 1280, 720, 1)
    )
    assert not matches(longer, request)
    smaller = WanTask(
        task_id="t", status=TaskStatus.SUCCEEDED, orig_prompt="a fox", usage=Usage(5.0, 832, 480, 1)
    )
    assert not matches(smaller, request)


def test_a_match_works_for_every_family_and_a_prompt_left_out_matches_none_shown() -> None:
    from airflow_provider_wan.api import KeyframesToVideoRequest, ReferenceToVideoRequest

    keyframes = KeyframesToVideoRequest(model="wan2.2-kf2v-flash", first_frame_url="https://p/a.png")
    references = ReferenceToVideoRequest(
        model="wan2.6-r2v", prompt="character1 bows", reference_urls=("https://p/a.png",), size="1280*720"
    )
    shown_none = WanTask("t", TaskStatus.RUNNING, orig_prompt=None)
    shown_empty = WanTask("t", TaskStatus.RUNNING, orig_prompt="")
    billed = WanTask("t", TaskStatus.SUCCEEDED, orig_prompt="character1 bows", usage=Usage(5, 1280, 720, 1))

    assert matches(shown_none, keyframes)
    assert matches(shown_empty, keyframes)
    assert not matches(WanTask("t", TaskStatus.RUNNING, orig_prompt="a fox"), keyframes)
    assert matches(billed, references)
    assert not matches(billed, ReferenceToVideoRequest(**{**references.__dict__, "size": "720*1280"}))
