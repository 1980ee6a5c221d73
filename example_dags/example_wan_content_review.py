"""Content review: a person approves each Wan video in the Airflow UI before it is published.

Each attempt generates a draft (its own seed), lands it in S3 and asks for a review in the UI's
*Required actions* (Airflow 3.1+ human-in-the-loop). The reviewer watches the draft through a presigned
S3 link made when the review opens, valid only while the review is open (``WAN_EXAMPLE_REVIEW_HOURS``,
default 2): never Wan's signed URL, never a key. **Approve** copies the draft to
``published/<dag_id>/<run id>.mp4``. **Reject** starts the next attempt with a new seed, at most
``WAN_EXAMPLE_MAX_REVIEWS`` attempts (default 3) in all.

Every attempt is its own task group (``attempt_1``, ``attempt_2``, ...), so every regeneration is its own
billed task instance with the operator's guarantee (one billed task per task instance; a retry re-attaches
instead of submitting again). Seeds come from the run id and the attempt number: a retry or a clear
renders the same seed (the same request, so nothing new is billed), another run gets other seeds.

How a run ends:

- a draft approved: ``attempt_<n>.publish`` succeeds and the run succeeds; later attempts are skipped;
- every draft rejected: ``all_drafts_rejected`` fails the run, naming the drafts; nothing is published;
- nobody answers while the link lives: that review fails (no default answer, so nothing more is billed).

Rejected drafts stay under ``wan/<dag_id>/<run id>/`` (a lifecycle rule on that prefix can expire them).
A script answering through the REST API should not answer the instant a review opens: Airflow 3.3.2 fails
a review answered before the scheduler has processed the end of the try that parked it (a second or two,
more on a loaded scheduler), taking that end for the resumed try's.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.providers.standard.operators.hitl import HITLBranchOperator
from airflow.sdk import DAG, Param, TaskGroup, task

from airflow_provider_wan.operators.wan import WanTextToVideoOperator
from airflow_provider_wan.transfers.wan_to_s3 import WanS3DestinationCheckOperator, WanVideoToS3Operator

if TYPE_CHECKING:
    from airflow.sdk import Context

BUCKET = os.environ.get("WAN_EXAMPLE_BUCKET", "wan-videos")
MAX_REVIEWS = int(os.environ.get("WAN_EXAMPLE_MAX_REVIEWS", "3"))
REVIEW_WINDOW = timedelta(hours=float(os.environ.get("WAN_EXAMPLE_REVIEW_HOURS", "2")))
# Pauses between status checks: a first look soon, then slower up to the vendor's suggested 15 s.
POLLING = {
    "poll_interval": float(os.environ.get("WAN_EXAMPLE_POLL_SECONDS", "2")),
    "max_poll_interval": float(os.environ.get("WAN_EXAMPLE_MAX_POLL_SECONDS", "15")),
}
APPROVE, REJECT = "Approve", "Reject"
MAX_SEED = 2_147_483_647


def draft_seed(run_id: str, attempt: int) -> int:
    """The seed of an attempt: the same for every try of one task instance, different between attempts."""
    return int.from_bytes(hashlib.sha256(f"{run_id}/{attempt}".encode()).digest()[:4], "big") % MAX_SEED


class VideoReviewOperator(HITLBranchOperator):
    """Ask a person to approve a video in S3 through a presigned link that dies when the review closes.

    The link is made in ``execute``, when the review opens, so it is in the review's body only: not in
    XCom, not in the rendered fields, not in the log. The review stays open for ``response_timeout``
    (required, at most 7 days: the longest a presigned S3 URL can live) and has no default answer.
    """

    template_fields: Sequence[str] = (*HITLBranchOperator.template_fields, "video_uri")
    MAX_LINK_LIFETIME = timedelta(days=7)

    def __init__(
        self,
        *,
        video_uri: str,
        on_approve: str,
        on_reject: str,
        response_timeout: timedelta,
        aws_conn_id: str | None = "aws_default",
        **kwargs: Any,
    ) -> None:
        if not timedelta(seconds=1) <= response_timeout <= self.MAX_LINK_LIFETIME:
            raise ValueError(
                f"Invalid response_timeout={response_timeout}: from 1 second to 7 days "
                "(the review link lives exactly as long as the review)"
            )
        super().__init__(
            options=[APPROVE, REJECT],
            options_mapping={APPROVE: on_approve, REJECT: on_reject},
            response_timeout=response_timeout,
            **kwargs,
        )
        self.video_uri = video_uri
        self.aws_conn_id = aws_conn_id

    def execute(self, context: Context) -> Any:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        bucket, key = S3Hook.parse_s3_url(self.video_uri)
        s3 = S3Hook(aws_conn_id=self.aws_conn_id)
        if s3.head_object(key=key, bucket_name=bucket) is None:
            raise FileNotFoundError(f"Invalid video_uri={self.video_uri!r}: no S3 object there to review")
        assert self.response_timeout is not None  # required by __init__
        link = s3.generate_presigned_url(
            "get_object",
            params={"Bucket": bucket, "Key": key},
            expires_in=int(self.response_timeout.total_seconds()),
        )
        closes = datetime.now(timezone.utc) + self.response_timeout
        self.body = (
            f"{self.body or ''}\n\n[Watch the draft]({link}) (the link works until "
            f"{closes:%Y-%m-%d %H:%M} UTC, when this review closes)"
        )
        return super().execute(context)


with DAG(
    dag_id="example_wan_content_review",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={
        "prompt": Param(
            "A bottle of olive oil on a sunlit kitchen table, slow push-in, warm morning light",
            type="string",
            minLength=1,
        ),
        "duration": Param(5, type="integer", minimum=2, maximum=15),
    },
    user_defined_macros={"draft_seed": draft_seed},
    tags=["wan", "example"],
    doc_md=__doc__,
) as dag:
    # Before anything is billed: the bucket exists and this AWS connection may write to it.
    check_bucket = WanS3DestinationCheckOperator(task_id="check_s3_bucket", s3_bucket=BUCKET)

    @task
    def publish(draft: dict[str, Any], attempt: int, dag_run: Any = None) -> dict[str, Any]:
        """Copy the approved draft to the published prefix (in S3, nothing is downloaded)."""
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        from airflow_provider_wan.transfers.destination import s3_safe

        key = f"published/{dag_run.dag_id}/{s3_safe(dag_run.run_id)}.mp4"
        S3Hook(aws_conn_id="aws_default").copy_object(
            source_bucket_key=draft["key"],
            dest_bucket_key=key,
            source_bucket_name=draft["bucket"],
            dest_bucket_name=draft["bucket"],
            ChecksumAlgorithm="SHA256",  # the copy's own checksum (the draft's is a multipart one)
        )
        return {
            "s3_uri": f"s3://{draft['bucket']}/{key}",
            "draft": draft["s3_uri"],
            "attempt": attempt,
            "wan_task_id": draft["wan_task_id"],
        }

    @task
    def all_drafts_rejected(ti: Any = None) -> None:
        """End the run failed when no draft was approved: nothing was published."""
        copies = [f"attempt_{n}.copy_to_s3" for n in range(1, MAX_REVIEWS + 1)]
        drafts = [ti.xcom_pull(task_ids=task_id)["s3_uri"] for task_id in copies]
        raise AirflowFailException(
            f"All {MAX_REVIEWS} drafts were rejected, so nothing was published: {', '.join(drafts)}. "
            "Trigger the DAG again (new seeds) or with another prompt."
        )

    upstream: Any = check_bucket
    for attempt in range(1, MAX_REVIEWS + 1):
        with TaskGroup(f"attempt_{attempt}") as group:
            generate = WanTextToVideoOperator(
                task_id="generate_video",
                model="wan2.6-t2v",
                prompt="{{ params.prompt }}",
                size="1280*720",
                duration="{{ params.duration }}",
                seed=f"{{{{ draft_seed(run_id, {attempt}) }}}}",
                deferrable=True,
                **POLLING,
            )
            copy = WanVideoToS3Operator(
                task_id="copy_to_s3",
                wan_task_id=f"{{{{ ti.xcom_pull(task_ids='attempt_{attempt}.generate_video')['task_id'] }}}}",
                generation=generate.output,
                s3_bucket=BUCKET,
            )
            last = attempt == MAX_REVIEWS
            review = VideoReviewOperator(
                task_id="review",
                subject=f"Review draft {attempt} of {MAX_REVIEWS}: {{{{ params.prompt | truncate(60) }}}}",
                body=(
                    f"Draft {attempt} of {MAX_REVIEWS} for `{{{{ params.prompt }}}}` "
                    f"(seed {{{{ draft_seed(run_id, {attempt}) }}}}, {{{{ params.duration }}}} s). "
                    + ("Reject ends the run unpublished." if last else "Reject makes a new draft.")
                ),
                video_uri=f"{{{{ ti.xcom_pull(task_ids='attempt_{attempt}.copy_to_s3')['s3_uri'] }}}}",
                on_approve=f"attempt_{attempt}.publish",
                on_reject="all_drafts_rejected" if last else f"attempt_{attempt + 1}",
                response_timeout=REVIEW_WINDOW,
                retries=0,  # a review that timed out asks no one again
            )
            published = publish.override(task_id="publish")(copy.output, attempt)
            generate >> copy >> review >> published
        upstream >> group
        upstream = review
    review >> all_drafts_rejected()
