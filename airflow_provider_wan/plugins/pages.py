"""The HTML of the video pages: plain server-rendered markup, every recorded value escaped.

Players point at tickets (see :mod:`.playback`), never at a signed URL. A page's script marks a player
whose video cannot be loaded, and says how to download where the UI's frame may not start downloads
(Airflow 3.1); the sign-in page's script asks again with the token Airflow 3.1's UI keeps in the browser
(that UI sends it as a header, and an iframe cannot).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from airflow_provider_wan.api import TaskStatus
from airflow_provider_wan.api.responses import parse_number
from airflow_provider_wan.plugins.paths import PLAY_ROUTE, run_page, task_page
from airflow_provider_wan.plugins.playback import TICKET_SECONDS, Playable, Ticket, issue
from airflow_provider_wan.plugins.records import RunVideos, S3Copy, TaskRef, Video, totals

# Codes with which Wan's content moderation refuses a prompt, an input or an output.
MODERATION_CODES = frozenset(
    {"DataInspectionFailed", "IPInfringementSuspect", "InvalidParameter.DataInspection"}
)
UNBILLED = frozenset({TaskStatus.FAILED.value, TaskStatus.CANCELED.value})  # Wan bills successes only
UI_TOKEN_KEY = "token"  # where Airflow 3.1's UI keeps its JWT (localStorage)


STYLE = """
:root { color-scheme: light dark; font: 14px/1.45 system-ui, sans-serif; }
body { margin: 16px; }
h1 { font-size: 16px; margin: 0 0 12px; }
.video { display: grid; grid-template-columns: minmax(320px, 3fr) minmax(260px, 2fr); gap: 20px; }
video { width: 100%; max-height: 72vh; background: #000; border-radius: 6px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; margin: 0; align-content: start; }
dt { font-weight: 600; }
dd { margin: 0; overflow-wrap: anywhere; white-space: pre-wrap; }
.note { padding: 8px 12px; border-radius: 6px; background: color-mix(in srgb, CanvasText 8%, Canvas); }
.refused { border-left: 4px solid #c33; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 16px; }
.tile { border: 1px solid color-mix(in srgb, CanvasText 20%, Canvas); border-radius: 8px; padding: 8px; }
.tile p { margin: 6px 0 0; }
.clip { display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical; overflow: hidden; }
.muted { opacity: 0.75; }
"""

PAGE_SCRIPT = """
const frame = window.frameElement;
if (frame && frame.sandbox.length && !frame.sandbox.contains("allow-downloads")) {
  for (const link of document.querySelectorAll("a[download]")) {
    link.after(" (this Airflow's UI does not let its tabs start a download: open the link in a new "
      + "browser tab from its right-click menu)");
  }
}
document.addEventListener("error", (event) => {
  const player = event.target;
  if (player.tagName !== "VIDEO" || player.dataset.marked) return;
  player.dataset.marked = "1";
  const note = document.createElement("p");
  note.className = "note";
  note.textContent = "This video cannot be played now: its link may have expired (reload the page), "
    + "or the video is gone (its tab says why).";
  player.after(note);
}, true);
"""

SIGN_IN_SCRIPT = f"""
(async () => {{
  const note = document.getElementById("sign-in");
  const token = localStorage.getItem({UI_TOKEN_KEY!r});
  if (!token) {{
    note.textContent = "Not signed in: open this page from Airflow's UI once you are logged in.";
    return;
  }}
  const answer = await fetch(location.href, {{headers: {{Authorization: "Bearer " + token}}}});
  if (answer.status === 401) {{
    note.textContent = "Your Airflow session has expired: log in again.";
    return;
  }}
  const page = new DOMParser().parseFromString(await answer.text(), "text/html");
  document.replaceChild(document.adoptNode(page.documentElement), document.documentElement);
  for (const old of document.querySelectorAll("script")) {{
    const fresh = document.createElement("script");
    fresh.textContent = old.textContent;
    old.replaceWith(fresh);
  }}
}})();
"""


@dataclass(frozen=True)
class Links:
    """URLs of the plugin's pages and tickets under ``root``, where the API server mounts its app. They
    stay in the frame Airflow's UI shows a page in: the UI does not let that frame navigate the UI."""

    root: str
    secret_key: str

    def ticket(self, ticket: Ticket) -> str:
        return self.root + PLAY_ROUTE.format(token=issue(self.secret_key, ticket))

    def task(self, ref: TaskRef) -> str:
        return task_page(self.root, ref.dag_id, ref.run_id, ref.task_id, ref.map_index)

    def run(self, ref: TaskRef) -> str:
        return run_page(self.root, ref.dag_id, ref.run_id)


def sign_in_page() -> str:
    """The answer to a request without credentials: no data, only the step that adds them."""
    body = '<p id="sign-in" class="note">Signing in with your Airflow session...</p>'
    return _page("Wan video", body, SIGN_IN_SCRIPT)


def message_page(title: str, message: str) -> str:
    return _page(title, f'<p class="note">{_e(message)}</p>')


def task_view(
    video: Video | None, ref: TaskRef, state: str | None, playable: Playable | None, links: Links
) -> str:
    """The "Wan video" tab of one task instance: the player beside what made the video and its cost."""
    if video is None:
        what = f"Task {ref.label} ({state or 'not run yet'}) has recorded no Wan video."
        return message_page("Wan video", what)
    playable = playable or Playable()
    heading = f"{ref.label}: Wan task {video.wan_task_id or '(none)'}"
    facts = _dl(_task_facts(video, ref, state, playable, links))
    problems = "".join(f'<p class="note">{_e(problem)}</p>' for problem in playable.problems)
    player = _player(video, ref, playable, links)
    gallery = f'<p><a href="{_e(links.run(ref))}">All Wan videos of this run</a></p>'
    body = f"<h1>{_e(heading)}</h1><div class='video'><div>{player}{problems}{gallery}</div>{facts}</div>"
    return _page(f"Wan video {ref.label}", body, PAGE_SCRIPT)


def run_view(run: RunVideos, links: Links) -> str:
    """The "Wan videos" gallery of a DAG run: a player per video with its row, status and cost."""
    seconds, amounts, unpriced = totals(run.videos)
    spent = " + ".join(f"{currency} {_number(amount)}" for currency, amount in sorted(amounts.items()))
    if unpriced:
        spent = f"{spent} + " if spent else ""
        spent += f"{unpriced} video{'s' if unpriced > 1 else ''} without a price"
    count = len(run.videos)
    summary = f"{count} Wan video{'' if count == 1 else 's'} in run {run.run_id}"
    if seconds:
        summary += f": billed {_number(seconds)} s, cost {spent or 'unknown'}"
    tiles = "".join(_tile(video, links) for video in run.videos)
    body = f"<h1>{_e(summary)}</h1><div class='grid'>{tiles}</div>" if tiles else f"<h1>{_e(summary)}</h1>"
    return _page(f"Wan videos of {run.run_id}", body, PAGE_SCRIPT)


def _tile(video: Video, links: Links) -> str:
    label = f'<a href="{_e(links.task(video.ref))}">{_e(video.ref.label)}</a>'
    row = video.prompt or (video.copies[0].key if video.copies else None) or "(no prompt recorded)"
    status = video.status or video.state or "unknown"
    cost = _cost(video.cost) if video.cost else "none" if video.result is None else "unknown"
    if video.result is not None or video.copies:
        preload = "metadata" if video.copies else "none"  # before S3, Wan is asked only on play
        player = f'<video controls preload="{preload}" src="{_e(links.ticket(Ticket(video.ref)))}"></video>'
    else:
        player = f'<p class="note">No video: Wan task {_e(status)}.</p>'
    return (
        f'<div class="tile">{player}<p>{label} <span class="muted">{_e(status)}</span></p>'
        f'<p class="clip" title="{_e(row)}">{_e(row)}</p><p>Cost: {_e(cost)}</p></div>'
    )


def _plays(playable: Playable) -> bool:
    return playable.copy is not None or (playable.wan is not None and bool(playable.wan.video_url))


def _player(video: Video, ref: TaskRef, playable: Playable, links: Links) -> str:
    wan = playable.wan
    if _plays(playable):
        where = (
            f"the copy at {playable.copy.uri}"
            if playable.copy
            else "Wan, which keeps a video 24 hours after making it"
        )
        player = f'<video controls preload="metadata" src="{_e(links.ticket(Ticket(ref)))}"></video>'
        note = f"Playing from {where}. Links work {TICKET_SECONDS // 60} minutes."
        return f'{player}<p class="muted">{_e(note)}</p>'
    if wan is not None and wan.status is TaskStatus.UNKNOWN:
        where = (
            "its S3 copy cannot be played either" if video.copies else "it was not copied to S3 in this run"
        )
        return f'<p class="note">Expired: Wan keeps a video 24 hours after making it; {_e(where)}.</p>'
    if wan is not None and wan.code:
        refused = wan.code in MODERATION_CODES
        why = "Refused by Wan's content moderation" if refused else f"Wan task {wan.status.value}"
        return f'<p class="note refused">{_e(why)}: {_e(wan.code)}: {_e(wan.message or "")}</p>'
    if wan is not None:
        return f'<p class="note">No video yet: Wan task {_e(wan.status.value)}.</p>'
    return '<p class="note">No video can be played now (see below).</p>'


def _task_facts(
    video: Video,
    ref: TaskRef,
    state: str | None,
    playable: Playable,
    links: Links,
) -> list[tuple[str, str]]:
    """(name, HTML) rows: what made the video, what it cost, where it is."""
    wan = playable.wan
    status = wan.status.value if wan is not None else video.status or "unknown"
    seed = video.seed if video.seed is not None else "chosen by Wan"
    duration = video.duration
    unbilled = "none: Wan bills only the videos it makes" if status in UNBILLED else "none yet"
    billed = video.billed_seconds
    rows = [
        ("Model", _e(video.model or "unknown")),
        ("Prompt", _e(video.prompt or "(none)")),
    ]
    used = video.actual_prompt or (wan.actual_prompt if wan else None)
    if used and used != video.prompt:
        rows.append(("Prompt Wan used", _e(used)))
    rows += [
        ("Size", _e(video.size or "unknown")),
        ("Duration", _e(f"{_number(duration)} s" if duration is not None else "unknown")),
        ("Seed", _e(str(seed))),
        ("Billed seconds", _e(_number(billed) if billed is not None else unbilled)),
        ("Cost", _e(_cost(video.cost) if video.cost else unbilled if video.result is None else "unknown")),
        ("Estimate", _e(_cost(video.estimate) if video.estimate else "none recorded")),
        ("Wan task", _e(f"{video.wan_task_id} ({status})")),
        ("Airflow task", _e(f"{ref.label} ({state or 'no state'})")),
    ]
    if wan is not None and wan.code:
        rows.append(("Wan said", _e(f"{wan.code}: {wan.message or ''}")))
    for copy in video.copies:
        rows.append(("Stored at", _stored(copy, copy == playable.copy, links)))
    if not video.copies:
        rows.append(("Stored at", "not copied to S3 in this run"))
    if video.ref != ref:
        made = f'<a href="{_e(links.task(video.ref))}">{_e(video.ref.label)}</a>'
        rows.append(("Made by", made))
    return rows


def _stored(copy: S3Copy, playable: bool, links: Links) -> str:
    text = _e(copy.uri)
    if playable:
        download = _e(links.ticket(Ticket(copy.ref, download=True)))
        text += f' (<a href="{download}" download>download</a>)'
    return f"{text} <span class='muted'>by {_e(copy.ref.label)}</span>"


def _dl(rows: Iterable[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{_e(name)}</dt><dd>{value}</dd>" for name, value in rows) + "</dl>"


def _cost(charge: dict[str, Any]) -> str:
    """A recorded charge (an estimate or a cost) as one phrase."""
    amount = parse_number(charge.get("amount"))
    seconds = parse_number(charge.get("billed_seconds"))
    of = f" for {_number(seconds)} s" if seconds is not None else ""
    if amount is None:
        return f"unknown{of}: {charge.get('note') or 'no price'}"
    rate = parse_number(charge.get("price_per_second"))
    at = f" at {charge.get('currency')} {_number(rate)}/s" if rate is not None else ""
    return f"{charge.get('currency')} {_number(amount)}{of}{at}"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _page(title: str, body: str, script: str = "") -> str:
    scripts = f"<script>{script}</script>" if script else ""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>{body}{scripts}</body></html>"
    )
