"""The videos in Airflow's own UI, as a person sees them, in Debian's Chromium driven by Playwright.

One real deployment (API server, scheduler, dag-processor, triggerer; the simple auth manager with a
login, an admin and a user without any role), the ``wan-emulator`` command and a ``moto_server``, runs
four DAGs: the batch example with five prompts (five mapped videos, each landed in S3 by its own task),
the text-to-video example with a prompt Wan's moderation refuses, a DAG whose video is never copied (it
plays from Wan) and one whose video a separate ``WanVideoToS3Operator`` copies. A person logs in, opens
a task's "Wan video" tab and a run's "Wan videos" gallery, and the ``<video>`` elements must really
play: a duration near the requested one, a current time that moves, decoded sound. Pages without a
token, or for a user who may not read the DAG, are refused. Screenshots go to ``.artifacts/browser/``.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from playwright.sync_api import Browser, FrameLocator, Locator, Page, expect, sync_playwright

from airflow_provider_wan.emulator.remote import RemoteEmulator
from airflow_provider_wan.testing.s3 import s3_client
from tests.browser.conftest import OUTCOMES
from tests.browser.test_connection_form import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.deployment.harness import AirflowDeployment
from tests.deployment.test_deployment import API_KEY, BUCKET, connection_env

pytestmark = [pytest.mark.browser, pytest.mark.deployment, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
DAG_FILES = [
    ROOT / "example_dags" / "example_wan_batch.py",
    ROOT / "example_dags" / "example_wan_text_to_video.py",
    Path(__file__).parent / "dags" / "wan_video_only.py",
    Path(__file__).parent / "dags" / "wan_video_copied.py",
]
BATCH, SINGLE = "example_wan_batch", "example_wan_text_to_video"
AT_WAN_ONLY, COPIED = "wan_video_only", "wan_video_copied"
PROMPTS = [
    "A fox <b>leaps</b> & lands in fresh snow",
    "Rain runs down a café window at night",
    "A red kite climbs over green hills",
    "Waves fold onto black sand in slow motion",
    "A candle flickers in a dark room",
]
REFUSED_PROMPT = "A [[blocked]] street at night"
COPIED_PROMPT = "A paper lantern rises over a river at night"  # tests/browser/dags/wan_video_copied.py
SECONDS = 2
PRICE = 0.1  # USD a second at 720P
PRICES = {"wan2.6-t2v": {"currency": "USD", "720P": PRICE, "1080P": 0.15}}
RUN_TIMEOUT = 300.0
# A Wan task takes this long: a deferred try's exit must reach the scheduler before the trigger fires, or
# Airflow 3.3.2 takes the resumed try for the ended one and fails it (seen 6 s late on a loaded machine).
TASK_SECONDS = 12
DAY = 24 * 3600.0
EXPECT_MS = 30_000  # a page's first answer imports the plugin's app, on a machine other work loads too
PLAYWRIGHT_EXPECT_MS = 5_000  # Playwright's own default, for the modules after this one


@dataclass
class Stack:
    airflow: AirflowDeployment
    emulator: RemoteEmulator
    runs: dict[str, str]
    passwords: dict[str, str]

    def xcom(self, dag_id: str, task_id: str, map_index: int = -1) -> dict[str, object]:
        return dict(self.airflow.xcom(dag_id, self.runs[dag_id], task_id, map_index))

    def ui(self, dag_id: str, suffix: str = "") -> str:
        return f"{self.airflow.api_url}/dags/{dag_id}/runs/{quote(self.runs[dag_id], safe='')}{suffix}"

    def page_url(self, dag_id: str, task_id: str | None = None, map_index: int = -1) -> str:
        """The plugin's own page (what the tab frames)."""
        url = f"{self.airflow.api_url}/wan/dags/{dag_id}/runs/{quote(self.runs[dag_id], safe='')}"
        return f"{url}/tasks/{task_id}?map_index={map_index}" if task_id else url


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run .ci/services.sh (installs Debian's chromium)")
    home = tmp_path_factory.mktemp("airflow-video-pages")
    passwords = {"admin": secrets.token_urlsafe(12), "outsider": secrets.token_urlsafe(12)}
    (home / "passwords.json").write_text(json.dumps(passwords))
    airflow = AirflowDeployment(
        home=home,
        dag_files=DAG_FILES,
        api_login=("admin", passwords["admin"]),
        extra_env={
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            # "outsider" has no role: the simple auth manager lets it read no DAG.
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,outsider:",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "AIRFLOW__WAN__PRICES": json.dumps(PRICES),
        },
    )
    try:
        emulator_url = airflow.start_wan_emulator(api_key=API_KEY, task_seconds=TASK_SECONDS)
        s3_url = airflow.start_moto_server()
        airflow.env.update(connection_env(emulator_url, s3_url))
        s3 = s3_client(s3_url)
        s3.create_bucket(Bucket=BUCKET)
        airflow.start()
        airflow.set_pool("wan_api", 5)
        airflow.wait_for_dags([BATCH, SINGLE, AT_WAN_ONLY, COPIED])
        size = {"size": "1280*720", "duration": SECONDS}
        runs = {
            BATCH: airflow.trigger(BATCH, {"prompts": PROMPTS, **size}),
            SINGLE: airflow.trigger(SINGLE, {"prompt": REFUSED_PROMPT, **size}),
            AT_WAN_ONLY: airflow.trigger(AT_WAN_ONLY),
            COPIED: airflow.trigger(COPIED),
        }
        airflow.wait_for_run(BATCH, runs[BATCH], RUN_TIMEOUT)
        assert airflow.wait_for_run(SINGLE, runs[SINGLE], RUN_TIMEOUT, require_success=False) == "failed"
        airflow.wait_for_run(AT_WAN_ONLY, runs[AT_WAN_ONLY], RUN_TIMEOUT)
        airflow.wait_for_run(COPIED, runs[COPIED], RUN_TIMEOUT)
        yield Stack(airflow, RemoteEmulator(emulator_url, API_KEY), runs, passwords)
    finally:
        airflow.stop()


@pytest.fixture(scope="module")
def browser(stack: Stack) -> Iterator[Browser]:
    expect.set_options(timeout=EXPECT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()
            expect.set_options(timeout=PLAYWRIGHT_EXPECT_MS)


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser profile (no session) per test; a failed test leaves a screenshot."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        yield page
        call = request.node.stash.get(OUTCOMES, {}).get("call")
        if call is not None and call.failed:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=ARTIFACTS / f"failed-{request.node.name}.png", full_page=True)
    finally:
        context.close()


def log_in(page: Page, stack: Stack, username: str) -> None:
    """Airflow's login form, as a person fills it in."""
    page.goto(stack.airflow.api_url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(stack.passwords[username])
    page.get_by_role("button", name=re.compile("^(sign|log) ?in$", re.IGNORECASE)).click()
    page.get_by_role("link", name="Dags").first.wait_for()


def open_tab(page: Page, url: str, tab: str) -> FrameLocator:
    """Open a page of the UI, click one of its tabs, and return the frame the tab shows."""
    page.goto(url)
    page.get_by_role("link", name=tab, exact=True).click()
    return page.frame_locator(f"iframe[title='{tab}']")


def assert_plays(video: Locator, seconds: float) -> None:
    """The element loads its video, is about ``seconds`` long, its current time moves when played and its
    sound track decodes (played muted: Chromium lets a script start only a muted player)."""
    video.scroll_into_view_if_needed()
    video.evaluate(
        """v => new Promise((loaded, failed) => {
            if (v.readyState >= 1) return loaded();
            v.addEventListener("loadedmetadata", () => loaded());
            v.addEventListener("error", () => failed(new Error("media error " + (v.error && v.error.code))));
            v.load();
        })"""
    )
    assert video.evaluate("v => v.duration") == pytest.approx(seconds, abs=0.2)
    video.evaluate("v => { v.muted = true; return v.play(); }")
    video.page.wait_for_timeout(1200)
    state = video.evaluate(
        "v => ({time: v.currentTime, error: v.error && v.error.code, audio: v.webkitAudioDecodedByteCount,"
        " frames: v.getVideoPlaybackQuality().totalVideoFrames})"
    )
    assert state["error"] is None
    assert state["time"] > 0.5, state
    assert state["frames"] > 10, state
    assert state["audio"] > 0, state


def stored_at(uri: str, by: str) -> re.Pattern[str]:
    """The "Stored at" row of an object the page can play: its URI, a download link (with Airflow 3.1's
    note after it), and the task instance that wrote it."""
    return re.compile(rf"^{re.escape(uri)} \(download.*\) by {re.escape(by)}$")


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / name)


def test_task_tab_plays_the_video_beside_its_prompt_cost_and_key(page: Page, stack: Stack) -> None:
    """A generation that landed its own video (``destination=``) plays that object from S3."""
    generated = stack.xcom(BATCH, "generate_video", map_index=0)
    assert generated["landed"] == "copied"
    log_in(page, stack, "admin")

    frame = open_tab(page, stack.ui(BATCH, "/tasks/generate_video/mapped/0"), "Wan video")

    facts = frame.locator("dl")
    expect(facts).to_contain_text(PROMPTS[0])  # the prompt as text: its markup is escaped, not rendered
    expect(facts).to_contain_text(f"{PROMPTS[0]} Cinematic lighting")  # the prompt the service used
    expect(facts).to_contain_text("wan2.6-t2v")
    expect(facts).to_contain_text("1280*720")
    cost = f"USD {PRICE * SECONDS:g} for {SECONDS} s at USD {PRICE:g}/s"
    expect(facts.locator("dt:text-is('Cost') + dd")).to_have_text(cost)
    expect(facts.locator("dt:text-is('Estimate') + dd")).to_have_text(cost)
    expect(facts.locator("dt:text-is('Billed seconds') + dd")).to_have_text(str(SECONDS))
    expect(facts).to_contain_text(f"{generated['task_id']} (SUCCEEDED)")
    expect(facts.locator("dt:text-is('Stored at') + dd")).to_have_text(
        stored_at(str(generated["s3_uri"]), "generate_video[0]")
    )
    expect(frame.locator("body")).to_contain_text(f"Playing from the copy at {generated['s3_uri']}")
    assert_plays(frame.locator("video"), SECONDS)
    screenshot(page, "wan-video-tab.png")

    # The download link hands over the S3 object itself, as an attachment. Airflow 3.1 frames a tab
    # without leave to start downloads: there the page says how to use the link instead.
    download = frame.get_by_role("link", name="download")
    filename = str(generated["key"]).rsplit("/", 1)[-1]
    if "allow-downloads" in str(page.locator("iframe[title='Wan video']").get_attribute("sandbox")):
        with page.expect_download() as downloaded:
            download.click()
        assert downloaded.value.suggested_filename == filename
    else:
        expect(facts).to_contain_text("open the link in a new browser tab from its right-click menu")
    answer = page.request.get(stack.airflow.api_url + str(download.get_attribute("href")))
    assert answer.ok
    assert answer.headers["content-type"] == "video/mp4"
    assert answer.headers["content-disposition"] == f'attachment; filename="{filename}"'
    assert answer.body()[4:8] == b"ftyp"  # an MP4


def test_copy_task_tab_plays_its_own_object(page: Page, stack: Stack) -> None:
    """A separate ``WanVideoToS3Operator``'s tab: the video it copied, from its object, made by the
    generation it names."""
    generated = stack.xcom(COPIED, "generate_video")
    copied = stack.xcom(COPIED, "copy_to_s3")
    assert copied["wan_task_id"] == generated["task_id"]
    assert "s3_uri" not in generated  # no destination: the copy is the only object
    log_in(page, stack, "admin")

    frame = open_tab(page, stack.ui(COPIED, "/tasks/copy_to_s3"), "Wan video")

    facts = frame.locator("dl")
    expect(facts).to_contain_text(COPIED_PROMPT)
    expect(facts).to_contain_text(f"{generated['task_id']} (SUCCEEDED)")
    expect(facts.locator("dt:text-is('Stored at') + dd")).to_have_text(
        stored_at(str(copied["s3_uri"]), "copy_to_s3")
    )
    expect(facts.locator("dt:text-is('Made by') + dd")).to_have_text("generate_video")
    expect(frame.locator("body")).to_contain_text(f"Playing from the copy at {copied['s3_uri']}")
    assert_plays(frame.locator("video"), SECONDS)

    # The generation's own tab plays the same copy.
    frame.get_by_role("link", name="generate_video", exact=True).click()
    expect(frame.locator("h1")).to_have_text(f"generate_video: Wan task {generated['task_id']}")
    expect(frame.locator("body")).to_contain_text(f"Playing from the copy at {copied['s3_uri']}")
    assert_plays(frame.locator("video"), SECONDS)


def test_run_gallery_plays_every_video_with_its_row_status_and_cost(page: Page, stack: Stack) -> None:
    log_in(page, stack, "admin")

    frame = open_tab(page, stack.ui(BATCH), "Wan videos")

    total = f"billed {SECONDS * len(PROMPTS)} s, cost USD {PRICE * SECONDS * len(PROMPTS):g}"
    expect(frame.locator("h1")).to_contain_text(f"{len(PROMPTS)} Wan videos in run")
    expect(frame.locator("h1")).to_contain_text(total)
    tiles = frame.locator(".tile")
    expect(tiles).to_have_count(len(PROMPTS))
    for map_index, prompt in enumerate(PROMPTS):
        tile = tiles.nth(map_index)
        expect(tile).to_contain_text(f"generate_video[{map_index}] SUCCEEDED")
        expect(tile).to_contain_text(prompt)
        expect(tile).to_contain_text(f"Cost: USD {PRICE * SECONDS:g}")
        assert_plays(tile.locator("video"), SECONDS)
    screenshot(page, "wan-videos-gallery.png")

    # A tile's task opens its page in the same frame, and leads back to the gallery.
    frame.get_by_role("link", name="generate_video[4]").click()
    expect(frame.locator("dl")).to_contain_text(PROMPTS[4])
    assert_plays(frame.locator("video"), SECONDS)
    frame.get_by_role("link", name="All Wan videos of this run").click()
    expect(tiles).to_have_count(len(PROMPTS))


def test_refused_prompt_says_wan_moderation_refused_it(page: Page, stack: Stack) -> None:
    log_in(page, stack, "admin")

    frame = open_tab(page, stack.ui(SINGLE, "/tasks/generate_video"), "Wan video")

    expect(frame.locator(".refused")).to_have_text(
        "Refused by Wan's content moderation: DataInspectionFailed: "
        "Input data may contain inappropriate content."
    )
    expect(frame.locator("dl")).to_contain_text(REFUSED_PROMPT)
    expect(frame.locator("dl")).to_contain_text("(FAILED)")
    expect(frame.locator("dt:text-is('Cost') + dd")).to_have_text("none: Wan bills only the videos it makes")
    expect(frame.locator("video")).to_have_count(0)
    screenshot(page, "wan-video-refused.png")


def test_pages_refuse_a_request_without_token_and_a_user_without_access(page: Page, stack: Stack) -> None:
    airflow = stack.airflow
    pages = [stack.page_url(BATCH, "generate_video", 0), stack.page_url(BATCH)]
    admin = {"Authorization": f"Bearer {airflow.token('admin', stack.passwords['admin'])}"}
    outsider = {"Authorization": f"Bearer {airflow.token('outsider', stack.passwords['outsider'])}"}
    for url in pages:
        anonymous = requests.get(url, timeout=30)
        assert anonymous.status_code == 401
        assert PROMPTS[0] not in anonymous.text
        assert "/play/" not in anonymous.text
        refused = requests.get(url, headers=outsider, timeout=30)
        assert refused.status_code == 403
        assert PROMPTS[0] not in refused.text
        allowed = requests.get(url, headers=admin, timeout=30)
        assert allowed.status_code == 200
        assert PROMPTS[0] in allowed.text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        assert API_KEY not in allowed.text

    # A player link is a ticket for one task instance: altered, it opens nothing.
    ticket = re.search(r'src="(/wan/play/[^"]+)"', requests.get(pages[0], headers=admin, timeout=30).text)
    assert ticket is not None
    link = airflow.api_url + ticket.group(1)
    assert requests.get(link, allow_redirects=False, timeout=30).status_code == 302
    altered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    assert requests.get(altered, allow_redirects=False, timeout=30).status_code == 403

    # A person without access to the DAG sees the refusal in the tab.
    log_in(page, stack, "outsider")
    page.goto(stack.page_url(BATCH, "generate_video", 0))
    expect(page.locator("body")).to_contain_text("You may not see the results of this DAG.")
    assert API_KEY not in (airflow.home / "service-logs" / "api-server.log").read_text(errors="replace")


def test_the_operators_extra_link_opens_the_tab(page: Page, stack: Stack) -> None:
    """Airflow computed the link when each task ran (failed ones too): it names the tab, never a URL
    signed for a video."""
    for dag_id, task_id, map_index in (
        (BATCH, "generate_video", 2),
        (COPIED, "copy_to_s3", -1),
        (SINGLE, "generate_video", -1),
    ):
        run = quote(stack.runs[dag_id], safe="")
        path = f"/dags/{dag_id}/dagRuns/{run}/taskInstances/{task_id}/links"
        links = stack.airflow.api("GET", path, params={"map_index": map_index})["extra_links"]
        mapped = f"/mapped/{map_index}" if map_index >= 0 else ""
        assert links == {"Wan video": stack.ui(dag_id, f"/tasks/{task_id}{mapped}/plugin/wan-video")}
    log_in(page, stack, "admin")

    for dag_id, task, prompt in (
        (BATCH, "/tasks/generate_video/mapped/2", PROMPTS[2]),
        (COPIED, "/tasks/copy_to_s3", COPIED_PROMPT),
    ):
        page.goto(stack.ui(dag_id, f"{task}/details"))
        link = page.locator(f"a[href^='{stack.airflow.api_url}']", has_text="Wan video")
        if link.get_attribute("target") == "_blank":  # Airflow 3.1 opens extra links in a new tab
            with page.expect_popup() as popup:
                link.click()
            opened = popup.value
        else:
            link.click()
            opened = page

        expect(opened).to_have_url(stack.ui(dag_id, f"{task}/plugin/wan-video"))
        frame = opened.frame_locator("iframe[title='Wan video']")
        expect(frame.locator("dl")).to_contain_text(prompt)
        assert_plays(frame.locator("video"), SECONDS)
        if opened is not page:
            opened.close()


def test_a_video_only_at_wan_plays_from_wan_then_says_it_expired(page: Page, stack: Stack) -> None:
    """Runs last: it moves the emulator's clock a day on."""
    generated = stack.xcom(AT_WAN_ONLY, "generate_video")
    video_path = f"/oss/{generated['task_id']}.mp4"
    log_in(page, stack, "admin")

    frame = open_tab(page, stack.ui(AT_WAN_ONLY, "/tasks/generate_video"), "Wan video")
    expect(frame.locator("body")).to_contain_text("Playing from Wan")
    expect(frame.locator("dl")).to_contain_text("not copied to S3 in this run")
    assert_plays(frame.locator("video"), SECONDS)
    fetched = [entry for entry in stack.emulator.request_log if entry["path"] == video_path]
    assert fetched
    assert not any(entry["authorization"] for entry in fetched)  # the API key never goes to the video host

    stack.emulator.advance_clock(DAY + 60)
    frame = open_tab(page, stack.ui(AT_WAN_ONLY, "/tasks/generate_video"), "Wan video")
    expect(frame.locator("body")).to_contain_text(
        "Expired: Wan keeps a video 24 hours after making it; it was not copied to S3 in this run."
    )
    expect(frame.locator("video")).to_have_count(0)

    # A video in S3 still plays, from there, and says where it is: landed by its generation, or copied.
    for dag_id, task, map_index, holder in (
        (BATCH, "generate_video", 1, "generate_video"),
        (COPIED, "generate_video", -1, "copy_to_s3"),
    ):
        uri = stack.xcom(dag_id, holder, map_index)["s3_uri"]
        mapped = f"/mapped/{map_index}" if map_index >= 0 else ""
        frame = open_tab(page, stack.ui(dag_id, f"/tasks/{task}{mapped}"), "Wan video")
        expect(frame.locator("body")).to_contain_text(f"Playing from the copy at {uri}")
        assert_plays(frame.locator("video"), SECONDS)
