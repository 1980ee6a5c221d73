"""The content-review example with a person in the loop, in a real deployment answered through the REST API.

Scheduler, dag-processor, triggerer and api-server run as their own processes (the deployment harness,
LocalExecutor), beside the ``wan-emulator`` command and a ``moto_server``. The reviewer (a thread here)
does what a person does on the Required actions page: reads each open review from the api-server, watches
the draft through the review's link, and answers. Airflow 3.3 parks a review as ``awaiting_input`` and the
answer resumes it; Airflow 3.1 defers it to the HITL trigger in the triggerer, which reads the answer.
(``dag.test()`` cannot stand in on 3.1.0: its in-process supervisor does not serve the HITL trigger's
``GetHITLDetailResponse`` request.)
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from airflow_provider_wan.emulator.remote import RemoteEmulator
from airflow_provider_wan.testing.s3 import s3_client
from airflow_provider_wan.transfers.destination import s3_safe
from tests.deployment.harness import AirflowDeployment
from tests.deployment.test_deployment import API_KEY, connection_env

pytestmark = [pytest.mark.deployment, pytest.mark.timeout(900)]

EXAMPLE = Path(__file__).resolve().parents[2] / "example_dags" / "example_wan_content_review.py"
DAG_ID = EXAMPLE.stem
BUCKET = "wan-content-review"
MAX_REVIEWS = 3  # the example's default
REVIEW_SECONDS = 2 * 3600  # the example's default review window
RUN_TIMEOUT = 300.0
# Airflow 3.3.2 fails a review answered before the scheduler has processed the executor event of the try
# that parked it: the resumed try, already queued under the same key, is taken to have ended
# (scheduler_job_runner.process_executor_events; seen here with that event 6 s late on a loaded machine).
# A person takes longer; the reviewer here answers once the scheduler logged the parked try's end.
PARKED = (
    "TaskInstance Finished: dag_id={dag_id}, task_id={task_id}, run_id={dag_run_id}, "
    ".*state=(awaiting_input|deferred),"
)
LINK = re.compile(r"\[Watch the draft\]\((?P<url>[^)]+)\)")


@dataclass
class Stack:
    airflow: AirflowDeployment
    emulator: RemoteEmulator
    emulator_url: str
    s3: Any
    s3_url: str

    def get(self, uri: str) -> bytes:
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        return bytes(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    def keys(self, prefix: str) -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
        return sorted(found["Key"] for found in listed)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    airflow = AirflowDeployment(home=tmp_path_factory.mktemp("content-review"), dag_files=[EXAMPLE])
    try:
        emulator_url = airflow.start_wan_emulator(api_key=API_KEY, task_seconds=1)
        s3_url = airflow.start_moto_server()
        airflow.env.update(connection_env(emulator_url, s3_url) | {"WAN_EXAMPLE_BUCKET": BUCKET})
        s3 = s3_client(s3_url)
        s3.create_bucket(Bucket=BUCKET)
        airflow.start()
        airflow.wait_for_dags([DAG_ID])
        yield Stack(airflow, RemoteEmulator(emulator_url, API_KEY), emulator_url, s3, s3_url)
    finally:
        airflow.stop()


@dataclass
class Review:
    """One review as the reviewer saw it: what it said, the video behind its link, the answer given."""

    task_id: str
    subject: str
    body: str
    options: list[str]
    link: str
    video: bytes
    answer: str


@dataclass
class Reviewer:
    """A person on the Required actions page: answers the DAG's open reviews, in turn, with ``answers``."""

    airflow: AirflowDeployment
    answers: list[str]
    reviews: list[Review] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    _done: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Reviewer:
        self._thread = threading.Thread(target=self._review, name="reviewer", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._thread.join(timeout=60)
        if self.errors:
            raise self.errors[0]

    def _review(self) -> None:
        try:
            path = f"/dags/{DAG_ID}/dagRuns/~/hitlDetails"
            while not self._done.wait(0.5):
                found = self.airflow.api("GET", path, params={"response_received": False})
                for detail in found["hitl_details"]:
                    self._answer(detail)
        except BaseException as error:  # raised again by __exit__, in the test's thread
            self.errors.append(error)

    def _answer(self, detail: dict[str, Any]) -> None:
        if len(self.reviews) == len(self.answers):
            raise AssertionError(f"a review the test did not expect: {detail['subject']}")
        ti = detail["task_instance"]
        link = LINK.search(detail["body"] or "")
        assert link, detail["body"]
        video = requests.get(link["url"], timeout=30)
        video.raise_for_status()
        parked = PARKED.format(**{key: re.escape(ti[key]) for key in ("dag_id", "task_id", "dag_run_id")})
        self.airflow.services["scheduler"].wait_for_output(parked)
        answer = self.answers[len(self.reviews)]
        self.reviews.append(
            Review(
                ti["task_id"],
                detail["subject"],
                detail["body"],
                detail["options"],
                link["url"],
                video.content,
                answer,
            )
        )
        path = f"/dags/{DAG_ID}/dagRuns/{ti['dag_run_id']}/taskInstances/{ti['task_id']}/{ti['map_index']}"
        self.airflow.api("PATCH", f"{path}/hitlDetails", json={"chosen_options": [answer]})


def reviewed_run(stack: Stack, answers: list[str], conf: dict[str, Any]) -> tuple[str, str, list[Review]]:
    """Trigger the example and answer its reviews with ``answers``; run id, final state, the reviews."""
    stack.emulator.reset()
    with Reviewer(stack.airflow, answers) as reviewer:
        run_id = stack.airflow.trigger(DAG_ID, conf)
        state = stack.airflow.wait_for_run(DAG_ID, run_id, timeout=RUN_TIMEOUT, require_success=False)
    return run_id, state, reviewer.reviews


def states(stack: Stack, run_id: str) -> dict[str, str]:
    return {ti["task_id"]: ti["state"] for ti in stack.airflow.task_instances(DAG_ID, run_id)}


def assert_safe_link(review: Review, stack: Stack) -> None:
    """The link is presigned S3 that dies with the review; nothing of Wan's (URL, host, key) is in it."""
    link = urlparse(review.link)
    assert f"{link.scheme}://{link.netloc}" == stack.s3_url
    query = parse_qs(link.query)
    if "X-Amz-Expires" in query:  # SigV4: a lifetime in seconds
        assert "X-Amz-Signature" in query
        lifetime = float(query["X-Amz-Expires"][0])
    else:  # SigV2, as boto3 presigns for moto's us-east-1: the moment it expires
        assert "Signature" in query
        lifetime = float(query["Expires"][0]) - time.time()
    assert 0 < lifetime <= REVIEW_SECONDS
    for text in (review.body, review.subject):
        assert API_KEY not in text
        assert urlparse(stack.emulator_url).netloc not in text


def test_a_rejected_draft_is_regenerated_with_a_new_seed_and_the_approved_one_published(
    stack: Stack,
) -> None:
    prompt = "A ceramic teapot turns on a potter's wheel, studio light"
    run_id, state, reviews = reviewed_run(stack, ["Reject", "Approve"], {"prompt": prompt, "duration": 2})
    airflow = stack.airflow

    assert state == "success", airflow.run_diagnostics(DAG_ID, run_id)()
    assert [review.task_id for review in reviews] == ["attempt_1.review", "attempt_2.review"]
    assert reviews[0].subject.startswith("Review draft 1 of 3: A ceramic teapot")
    assert reviews[0].options == ["Approve", "Reject"]
    drafts = [airflow.xcom(DAG_ID, run_id, f"attempt_{n}.copy_to_s3") for n in (1, 2)]
    for review, draft in zip(reviews, drafts, strict=True):
        assert review.video == stack.get(draft["s3_uri"])  # the link shows the draft under review
        assert_safe_link(review, stack)

    # Two billed tasks, one per attempt: the same prompt, different seeds.
    assert stack.emulator.create_count() == 2
    assert stack.emulator.create_count(prompt=prompt) == 2
    seeds = [stack.emulator.task(draft["wan_task_id"])["body"]["parameters"]["seed"] for draft in drafts]
    assert seeds[0] != seeds[1]
    assert f"seed {seeds[1]}" in reviews[1].body

    published = airflow.xcom(DAG_ID, run_id, "attempt_2.publish")
    assert published["attempt"] == 2
    assert published["draft"] == drafts[1]["s3_uri"]
    assert stack.get(published["s3_uri"]) == stack.get(drafts[1]["s3_uri"])
    found = states(stack, run_id)
    assert found["attempt_1.publish"] == "skipped"
    assert found["attempt_3.generate_video"] == "skipped"
    assert found["all_drafts_rejected"] == "skipped"
    assert published["s3_uri"] == f"s3://{BUCKET}/published/{DAG_ID}/{s3_safe(run_id)}.mp4"
    assert sorted(stack.keys(drafts[0]["key"].rsplit("/", 1)[0])) == sorted(d["key"] for d in drafts)

    # The link lives in the review only: the review task's rendered fields show the s3:// URI.
    review_ti = airflow.task_instance(DAG_ID, run_id, "attempt_2.review")
    assert review_ti["rendered_fields"]["video_uri"] == drafts[1]["s3_uri"]
    assert "Signature=" not in str(review_ti["rendered_fields"])
    entries = f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/attempt_2.review/xcomEntries"
    for entry in airflow.api("GET", entries)["xcom_entries"]:
        assert "Signature=" not in str(airflow.api("GET", f"{entries}/{entry['key']}")["value"]), entry


def test_when_every_draft_is_rejected_the_run_fails_and_nothing_is_published(stack: Stack) -> None:
    run_id, state, reviews = reviewed_run(stack, ["Reject"] * MAX_REVIEWS, {"duration": 2})
    airflow = stack.airflow

    assert state == "failed"
    assert [review.task_id for review in reviews] == [f"attempt_{n}.review" for n in (1, 2, 3)]
    assert "Reject ends the run unpublished" in reviews[-1].body
    assert stack.emulator.create_count() == MAX_REVIEWS  # one billed task per attempt, no more
    found = states(stack, run_id)
    assert found["all_drafts_rejected"] == "failed"
    assert {found[f"attempt_{n}.publish"] for n in (1, 2, 3)} == {"skipped"}
    drafts = [airflow.xcom(DAG_ID, run_id, f"attempt_{n}.copy_to_s3")["s3_uri"] for n in (1, 2, 3)]
    log = airflow.task_log(DAG_ID, run_id, "all_drafts_rejected")
    assert f"All {MAX_REVIEWS} drafts were rejected, so nothing was published: {', '.join(drafts)}" in log
    assert stack.keys(f"published/{DAG_ID}/{s3_safe(run_id)}") == []
