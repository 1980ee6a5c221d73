"""What is kept with a copied video: short ASCII S3 metadata, and a JSON sidecar for everything else
(S3 metadata cannot hold a long non-ASCII prompt)."""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_wan.api import VideoRequest, WanRequest, WanTask, WanValidationError, request_type_for
from airflow_provider_wan.api.base import billed_seconds
from airflow_provider_wan.api.responses import parse_number
from airflow_provider_wan.transfers.host_policy import redact_url

TASK_ID_METADATA = "wan-task-id"
BILLED_SECONDS_METADATA = "wan-billed-seconds"
#: A digest of the request the video was made from: how a re-run knows the key holds its video already.
REQUEST_METADATA = "wan-request-sha256"
_GENERATION_HELP = "the generating operator's XCom (a dict with 'task_id' and 'request'), or None"


def request_sha256(body: Mapping[str, Any]) -> str:
    """The digest of a create body as shown (model and every field sent, ``s3://`` inputs as their URIs):
    no key and no account in it, so a rotated key or another connection to the same account does not
    make the same request look new."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Generation:
    """What the generating operator's XCom tells the copy: the Wan task id, the create body as sent (the
    query answer has no model or seed), the seconds billed and their cost."""

    body: dict[str, Any] | None = None
    billed_seconds: float | None = None
    cost: dict[str, Any] | None = None
    task_id: str | None = None

    def request(self) -> WanRequest | None:
        """The request the body describes, read by its model's family (text-to-video rules when unknown)."""
        if not self.body:
            return None
        kind = request_type_for(str(self.body.get("model"))) or VideoRequest
        return kind.from_body(self.body)

    def billed(self, task: WanTask) -> float | None:
        """The generation's own figure; without one, what the service's usage says."""
        return self.billed_seconds if self.billed_seconds is not None else billed_seconds(task.service_usage)


def read_generation(generation: Any, wan_task_id: str | None = None) -> Generation:
    """The generating operator's XCom, as the dict itself (``generation=generate.output``) or its
    rendered text (a Jinja template renders a dict as a Python literal); refuses the XCom of a Wan task
    other than ``wan_task_id`` when that is given. None or "" (no XCom given): nothing known."""
    if generation is None or generation == "":
        return Generation()
    if isinstance(generation, str):
        try:
            generation = ast.literal_eval(generation)
        except (ValueError, SyntaxError):
            try:
                generation = json.loads(generation)
            except ValueError:
                raise WanValidationError("generation", generation, _GENERATION_HELP) from None
    if isinstance(generation, (list, tuple)):
        raise WanValidationError(
            "generation",
            f"a list of {len(generation)} results",
            "one task's result: in a mapped task group pass generate.output (each row gets its own)",
        )
    if not isinstance(generation, Mapping):
        raise WanValidationError("generation", generation, _GENERATION_HELP)
    task_id = generation.get("task_id")
    if wan_task_id is not None and task_id not in (None, wan_task_id):
        raise WanValidationError("generation", task_id, f"the XCom of the task that created {wan_task_id}")
    body, cost = generation.get("request"), generation.get("cost")
    return Generation(
        dict(body) if isinstance(body, Mapping) else None,
        parse_number(generation.get("billed_seconds")),
        dict(cost) if isinstance(cost, Mapping) else None,
        str(task_id) if task_id else None,
    )


def object_metadata(task: WanTask, generation: Generation) -> dict[str, str]:
    """``x-amz-meta-*`` values: task id, model, seed, pixels, seconds, billed seconds and the request's
    digest, whichever are known (ASCII only)."""
    request = generation.request()
    usage = task.usage
    size = f"{usage.width}*{usage.height}" if usage and usage.width and usage.height else None
    duration = usage.duration if usage and usage.duration else getattr(request, "duration", None)
    values = {
        TASK_ID_METADATA: task.task_id,
        "wan-model": request.model if request else None,
        "wan-seed": getattr(request, "seed", None),
        "wan-size": size or getattr(request, "size", None),
        "wan-duration": _number(duration),
        BILLED_SECONDS_METADATA: _number(generation.billed(task)),
        REQUEST_METADATA: request_sha256(generation.body) if generation.body else None,
    }
    return {name: str(value) for name, value in values.items() if value is not None and str(value).isascii()}


def sidecar_document(task: WanTask, generation: Generation, stored: Mapping[str, Any]) -> bytes:
    """The JSON written next to the video: the full request and result, the seconds billed and their
    cost, the signed URL's query left out."""
    result = task.to_dict()
    if task.video_url:
        result["video_url"] = redact_url(task.video_url)
    document = {
        "wan_task": result,
        "request": generation.body,
        "billed_seconds": generation.billed(task),
        "cost": generation.cost,
        "object": dict(stored),
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def _number(value: float | int | None) -> float | int | None:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
