"""A generation operator's own S3 ``destination``: what the key holds decides, before anything is billed,
whether there is a video to make; after success the video lands there, as ``WanVideoToS3Operator`` lands
it (both through :class:`~airflow_provider_wan.transfers.landing.Landing`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_wan.api import WanTask, WanValidationError
from airflow_provider_wan.transfers.destination import REPLACE, parse_destination
from airflow_provider_wan.transfers.landing import ExistingObject
from airflow_provider_wan.transfers.video_metadata import Generation, request_sha256

if TYPE_CHECKING:
    from airflow_provider_wan.transfers.landing import Landing, Log
    from airflow_provider_wan.transfers.video_copy import StoredVideo


class VideoDestination:
    """One try's ``destination``: the key, the request whose video belongs there, and how to land it.

    The request counts by its digest (``wan-request-sha256`` on the object): the body as shown, model and
    every field, ``s3://`` inputs as their URIs, no key and no account.
    """

    def __init__(self, uri: Any, if_exists: str, request_body: dict[str, Any], landing: Landing, log: Log):
        self.bucket, self.key = parse_destination(uri)
        self.uri = f"s3://{self.bucket}/{self.key}"
        self.if_exists = if_exists
        self.request_body = request_body
        self.fingerprint = request_sha256(request_body)
        self.landing = landing
        self.log = log

    def before_billing(self) -> dict[str, Any] | None:
        """The result when the key holds this request's video already (``if_exists="skip"``: nothing to
        make); else None, once the bucket took a test write. An object made from another request, or not
        by this provider, fails naming ``destination`` unless ``if_exists="replace"``."""
        existing = self.landing.existing(self.bucket, self.key, "destination", self.uri)
        if existing is not None and self._kept(existing):
            self.log.info(
                "%s holds this request's video already (Wan task %s, sha256 %s): nothing to make",
                self.uri,
                existing.wan_task_id,
                existing.sha256,
            )
            return self._skipped(existing)
        self.landing.check_writable(self.bucket, self.key, "destination", self.uri)
        return None

    def land(self, task: WanTask | dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
        """The succeeded task's video into the key; the result with where it landed. A task from the
        trigger's event is asked for again (its URL has no signature). What came to the key meanwhile is
        judged as :meth:`before_billing` judges it."""
        existing = self.landing.existing(self.bucket, self.key, "destination", self.uri)
        if existing is not None and self._kept(existing):
            self.log.info("%s came to hold this request's video meanwhile: kept", self.uri)
            return {**result, **self._where(existing.as_stored(), "skipped")}
        wan_task_id = str(result["task_id"])
        if not (isinstance(task, WanTask) and task.video_url):
            task = self.landing.finished_task(wan_task_id)
        generation = Generation(
            self.request_body, result.get("billed_seconds"), result.get("cost"), wan_task_id
        )
        stored = self.landing.copy(self.bucket, self.key, task, generation)
        return {**result, **self._where(stored, "copied")}

    def _kept(self, existing: ExistingObject) -> bool:
        """Whether the object at the key is this request's finished video, to keep as it is. With
        ``if_exists="skip"`` anything else there is refused (an unfinished copy of this request's video
        is replaced); with ``"replace"`` everything is replaced."""
        if self.if_exists == REPLACE:
            self.log.info("%s holds %s: replacing it (if_exists='replace')", self.uri, existing.describe())
            return False
        if existing.request_sha256 != self.fingerprint:
            raise WanValidationError("destination", self.uri, self._taken(existing))
        if existing.sha256 is None:
            self.log.warning("%s holds an unverified copy of this request's video: replacing it", self.uri)
            return False
        return True

    def _taken(self, existing: ExistingObject) -> str:
        made = " made from another request" if existing.wan_task_id else ""
        return (
            f"a key free for this video, or holding this request's: it holds {existing.describe()}{made}; "
            "choose another destination, or if_exists='replace' to overwrite it"
        )

    def _skipped(self, existing: ExistingObject) -> dict[str, Any]:
        """The result of a try that made nothing: the object, and what its metadata and sidecar tell
        about the Wan task that made it. Nothing was billed by this task instance."""
        made_by: dict[str, Any] = existing.made_by()
        sidecar = self.landing.sidecar(self.bucket, self.key) or {}
        if sidecar.get("cost") is not None:
            made_by["cost"] = sidecar["cost"]
        return {
            "task_id": existing.wan_task_id,
            "model": self.request_body.get("model"),
            "request": self.request_body,
            "billed_seconds": 0,
            "cost": None,
            **self._where(existing.as_stored(), "skipped"),
            "sidecar_key": f"{self.key}.json" if sidecar else None,
            "made_by": made_by,
        }

    def _where(self, stored: StoredVideo, landed: str) -> dict[str, Any]:
        sidecar = self.landing.options.write_sidecar and stored.copied
        return {
            "landed": landed,
            "s3_uri": stored.uri,
            "bucket": stored.bucket,
            "key": stored.key,
            "size": stored.size,
            "sha256": stored.sha256,
            "sidecar_key": f"{stored.key}.json" if sidecar else None,
        }
