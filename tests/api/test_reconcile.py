"""The pure parts of reconciling a lost create: fingerprint, window, candidates and matching."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_wan.api import TaskStatus, TaskSummary, Usage, VideoRequest, WanTask
from airflow_provider_wan.api.endpoints import list_params
from airflow_provider_wan.api.reconcile import (
    CLOCK_SKEW,
    Intent,
    Window,
    candidates,
    matches,
    nearly_matches,
    request_fingerprint,
    same_model,
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


def listed_by(filters: dict[str, Any], hours_east: float) -> tuple[datetime, datetime]:
    """The UTC moments the service lists between when it reads the filters' times ``hours_east`` of UTC."""
    shift = timedelta(hours=hours_east)
    start, end = (filters[name].replace(tzinfo=timezone.utc) - shift for name in ("start_time", "end_time"))
    return start, end


@pytest.mark.parametrize(
    "window",
    [
        Window.after_intent(Intent("abc", (NOW - timedelta(seconds=1)).timestamp()), NOW),
        Window.after_intent(Intent("abc", (NOW - timedelta(hours=3)).timestamp()), NOW),
    ],
    ids=["an intent a second old", "an intent three hours old"],
)
def test_a_task_created_now_is_listed_by_the_dated_look_read_as_utc_or_any_zone_east_of_it(
    window: Window,
) -> None:
    filters = window.list_filters("wan2.6-t2v", 1)

    assert filters["end_time"] - filters["start_time"] == timedelta(hours=24)  # the contract's widest
    list_params(**filters)  # which the contract's checks accept
    assert window.holds(NOW)
    for hours_east in (0, 5.5, 8, 14):  # UTC, India, Beijing, the easternmost zone
        start, end = listed_by(filters, hours_east)
        assert start <= NOW <= end, hours_east


def test_the_undated_look_leaves_the_window_to_the_service_where_the_dated_one_misses() -> None:
    minute_old = Window.after_intent(Intent("abc", (NOW - timedelta(minutes=1)).timestamp()), NOW)
    day_long = Window.since(NOW - timedelta(days=3), NOW)  # no room left for a zone east of UTC

    for window, hours_east in ((minute_old, -5), (day_long, 8)):
        start, end = listed_by(window.list_filters("wan2.6-t2v", 1), hours_east)
        assert not start <= NOW <= end, hours_east
        undated = window.list_filters("wan2.6-t2v", 1, dated=False)
        assert undated == {"page_no": 1, "page_size": 100}  # the last 24 hours, rows of every model
    assert day_long.holds(NOW - timedelta(hours=23))  # its rows are kept by gmt_create against the window


def row(
    task_id: str, created: datetime, status: TaskStatus = TaskStatus.PENDING, model: str = "wan2.6-t2v"
) -> TaskSummary:
    return TaskSummary(task_id=task_id, status=status, model_name=model, created=created)


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
    assert [r.task_id for r in candidates(rows, window, {"claimed"}, "wan2.6-t2v")] == ["near", "far"]


def test_a_claimed_task_is_never_a_candidate_however_well_it_matches() -> None:
    window = Window.after_intent(Intent("abc", NOW.timestamp()), NOW)
    rows = [row("a sibling's", NOW), row("free", NOW + timedelta(seconds=1))]
    assert [r.task_id for r in candidates(rows, window, {"a sibling's"}, "wan2.6-t2v")] == ["free"]
    assert candidates(rows[:1], window, {"a sibling's"}, "wan2.6-t2v") == []


@pytest.mark.parametrize(
    ("listed", "sent", "same"),
    [
        ("wan2.7-t2v", "wan2.7-t2v-2026-04-25", True),  # a snapshot filed under its family
        ("wan2.7-t2v-2026-04-25", "wan2.7-t2v", True),  # a family filed under the snapshot it resolved to
        ("wanx2.1-i2v-plus", "wan2.1-i2v-plus", True),  # Beijing's spelling
        ("WAN2.6-T2V", "wan2.6-t2v", True),
        ("wan2.6-t2v-us", "wan2.6-t2v", False),
        ("wan2.6-i2v", "wan2.6-t2v", False),
    ],
)
def test_rows_are_kept_by_model_family(listed: str, sent: str, same: bool) -> None:
    assert same_model(listed, sent) is same
    window = Window.after_intent(Intent("abc", NOW.timestamp()), NOW)
    rows = [row("a", NOW, model=listed), TaskSummary("b", TaskStatus.RUNNING, created=NOW)]  # b: no name
    assert [r.task_id for r in candidates(rows, window, (), sent)] == (["a", "b"] if same else ["b"])


# The prompt as sent and ``orig_prompt`` as the vendor's pages show it (000, 002, 003: the English
# text-to-video pages; 001: the Chinese one), copied verbatim.
SENT_EN = (
    "Shot from a low angle, in a medium close-up, with warm tones, mixed lighting (the practical light "
    "from the desk lamp blends with the overcast light from the window), side lighting, and a central "
    "composition. In a classic detective office, wooden bookshelves are filled with old case files and "
    "ashtrays. A green desk lamp illuminates a case file spread out in the center of the desk. A fox, "
    "wearing a dark brown trench coat and a light gray fedora, sits in a leather chair, its fur crimson, "
    "its tail resting lightly on the edge, its fingers slowly turning yellowed pages. Outside, a steady "
    "drizzle falls beneath a blue sky, streaking the glass with meandering streaks. It slowly raises its "
    "head, its ears twitching slightly, its amber eyes gazing directly at the camera, its mouth clearly "
    "moving as it speaks in a smooth, cynical voice: 'The case was cold, colder than a fish in winter. "
    "But every chicken has its secrets, and I, for one, intended to find them '."
)
SHOWN_EN_000 = (
    "Shot from a low angle, in a medium close-up, with warm tones, mixed lighting (the practical light "
    "from the desk lamp blends with the overcast light from the window), side lighting, and a central "
    "composition. In a classic detective's office, wooden bookshelves are filled with old case files and "
    "ashtrays. A green desk lamp illuminates a case file spread out in the center of the desk. A fox, "
    "wearing a dark brown trench coat and a light gray fedora, sits in a leather chair, its fur crimson, "
    "its tail resting lightly on the edge, its fingers slowly turning yellowed pages. Outside, a steady "
    "drizzle falls beneath a blue sky, streaking the glass with meandering streaks. It slowly raises its "
    "head, its ears twitching slightly, its amber eyes gazing directly at the camera, its mouth clearly "
    "moving as it speaks in a smooth, cynical voice: 'The case was cold, colder than a fish in winter. "
    "But every chicken has its secrets, and I, for one, intended to find them '。"
)
SHOWN_EN_002 = (
    "Shot from a low angle, in a medium close-up, with warm tones, mixed lighting (the practical light "
    "from the desk lamp blends with the overcast light from the window), side lighting, and a central "
    "composition. In a classic detective office, wooden bookshelves are filled with old case files and "
    "ashtrays. A green desk lamp illuminates a case file spread out in the center of the desk. A fox, "
    "wearing a dark brown trench coat and a light gray fedora, sits in a leather chair, its fur crimson, "
    "its tail resting lightly on the edge, its fingers slowly turning yellowed pages. Outside, a steady "
    "drizzle falls beneath a blue sky, streaking the glass with meandering streaks. It slowly raises its "
    "head, its ears twitching slightly, its amber eyes gazing directly at the camera, its mouth clearly "
    "moving as it speaks in a smooth, cynical voice: 'The case was cold, colder than a fish in winter. "
    "But every chicken has its secrets, and I, for one, intended to find them '"
)
SHOWN_EN_003 = (
    "Shot from a low angle, in a medium close-up, with warm tones, mixed lighting (the practical light "
    "from the desk lamp blends with the overcast light from the window), side lighting, and a central "
    "composition. In a classic detective's office, wooden bookshelves are filled with old case files and "
    "ashtrays. A green desk lamp illuminates a case file spread out in the center of the desk. A fox, "
    "wearing a dark brown trench coat and a light gray fedora, sits in a leather chair, its fur crimson, "
    "its tail resting lightly on the edge, its fingers slowly turning yellowed pages. Outside, a steady "
    "drizzle falls beneath a blue sky, streaking the glass with meandering streaks. It slowly raises its "
    "head, its ears twitching slightly, its amber eyes gazing directly at the camera, its mouth clearly "
    "moving as it speaks in a smooth, cynical voice: 'The case was cold, colder than a fish in winter. "
    "But every chicken has its secrets, and I, for one, intended to find them '. "
)
SENT_ZH = (
    "一幅史诗级可爱的场景。一只小巧可爱的卡通小猫将军,身穿细节精致的金色盔甲,头戴一个稍大的头盔,勇敢地站"
    "在悬崖上。他骑着一匹虽小但英勇的战马,说:“青海长云暗雪山,孤城遥望玉门关。黄沙百战穿金甲,不破楼兰终不"
    "还”。悬崖下方,一支由老鼠组成的、数量庞大、无穷无尽的军队正带着临时制作的武器向前冲锋。这是一个戏剧性"
    "的、大规模的战斗场景,灵感来自中国古代的战争史诗。远处的雪山上空,天空乌云密布。整体氛围是“可爱”与“霸"
    "气”的搞笑和史诗般的融合。"
)
SHOWN_ZH = (
    "一幅史诗级可爱的场景。一只小巧可爱的卡通小猫将军,身穿细节精致的金色盔甲,头戴一个稍大的头盔,勇敢地站"
    "在悬崖上。他骑着一匹虽小但英勇的战马,说:”青海长云暗雪山,孤城遥望玉门关。黄沙百战穿金甲,不破楼兰终不"
    "还。“。悬崖下方,一支由老鼠组成的、数量庞大、无穷无尽的军队正带着临时制作的武器向前冲锋。这是一个戏剧"
    "性的、大规模的战斗场景,灵感来自中国古代的战争史诗。远处的雪山上空,天空乌云密布。整体氛围是“可爱”与“"
    "霸气”的搞笑和史诗般的融合。"
)


def shown(orig_prompt: str, usage: Usage | None = None) -> WanTask:
    return WanTask(task_id="t", status=TaskStatus.RUNNING, orig_prompt=orig_prompt, usage=usage)


def sent(prompt: str) -> VideoRequest:
    return VideoRequest(model="wan2.6-t2v", prompt=prompt, size="1280*720", duration=5)


@pytest.mark.parametrize(
    ("prompt", "orig_prompt"),
    [
        pytest.param(SENT_EN, SHOWN_EN_002, id="002: the final '.' dropped"),
        pytest.param(SHOWN_EN_003, SHOWN_EN_000, id="003 as 000: '. ' (a space added) shown as '。'"),
        pytest.param(SENT_ZH, SHOWN_ZH, id="001: quotes swapped, a '。' inserted"),
        pytest.param(SHOWN_ZH, SHOWN_ZH, id="001: as sent"),
        pytest.param(
            "A  fox, running.", "a fox\uff0crunning\u3002 ", id="whitespace, case, full-width punctuation"
        ),
    ],
)
def test_a_prompt_the_service_shows_normalised_matches(prompt: str, orig_prompt: str) -> None:
    assert matches(shown(orig_prompt), sent(prompt))
    assert not nearly_matches(shown(orig_prompt), sent(prompt))


@pytest.mark.parametrize(
    "orig_prompt",
    [
        pytest.param(SHOWN_EN_000, id="000: 'detective office' shown as 'detective's office', '.' as '。'"),
        pytest.param(SHOWN_EN_003, id="003: 'detective's office', and a space added"),
    ],
)
def test_a_word_the_service_changed_only_nearly_matches(orig_prompt: str) -> None:
    assert not matches(shown(orig_prompt), sent(SENT_EN))
    assert nearly_matches(shown(orig_prompt), sent(SENT_EN))
    billed_longer = shown(orig_prompt, Usage(10.0, 1280, 720, 1))
    assert not nearly_matches(billed_longer, sent(SENT_EN))  # what was billed must agree all the same


def test_a_different_word_in_a_short_prompt_neither_matches_nor_nearly_matches() -> None:
    assert not matches(shown("product 1"), sent("product 2"))
    assert not nearly_matches(shown("product 1"), sent("product 2"))
    assert not nearly_matches(shown("a cat"), sent("a fox"))


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
