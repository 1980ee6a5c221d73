"""What is kept with a copied video: short ASCII S3 metadata, and a JSON sidecar for everything else
(S3 metadata cannot hold a long non-ASCII prompt)."""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from typing import Any

from airflow_provider_wan.api import VideoRequest, WanTask, WanValidationError
from airflow_provider_wan.transfers.host_policy import redact_url

TASK_ID_METADATA = "wan-task-id"
_GENERATION_HELP = "the generating operator's XCom (a dict with 'task_id' and 'request'), or None"


def generation_body(generation: Any, wan_task_id: str) -> dict[str, Any] | None:
    """The create body from the generating operator's XCom: the query answer has no model or seed.

    Accepts the dict itself (``generation=generate.output``) or its rendered text (a Jinja template
    renders a dict as a Python literal); refuses the XCom of some other Wan task.
    """
    if generation is None or generation == "":
        return None
    if isinstance(generation, str):
        try:
            generation = ast.literal_eval(generation)
        except (ValueError, SyntaxError):
            try:
                generation = json.loads(generation)
            except ValueError:
                raise WanValidationError("generation", generation, _GENERATION_HELP) from None
    if not isinstance(generation, Mapping):
        raise WanValidationError("generation", generation, _GENERATION_HELP)
    if generation.get("task_id") not in (None, wan_task_id):
        raise WanValidationError(
            "generation", generation.get("task_id"), f"the XCom of the task that created {wan_task_id}"
        )
    body = generation.get("request")
    return dict(body) if isinstance(body, Mapping) else None


def object_metadata(task: WanTask, body: Mapping[str, Any] | None) -> dict[str, str]:
    """``x-amz-meta-*`` values: task id, model, seed, pixels and seconds, whichever are known (ASCII only)."""
    request = VideoRequest.from_body(dict(body)) if body else None
    usage = task.usage
    size = f"{usage.width}*{usage.height}" if usage and usage.width and usage.height else None
    duration = usage.duration if usage and usage.duration else (request.duration if request else None)
    values = {
        TASK_ID_METADATA: task.task_id,
        "wan-model": request.model if request else None,
        "wan-seed": request.seed if request else None,
        "wan-size": size or (request.size if request else None),
        "wan-duration": _number(duration),
    }
    return {name: str(value) for name, value in values.items() if value is not None and str(value).isascii()}


def sidecar_document(task: WanTask, body: Mapping[str, Any] | None, stored: Mapping[str, Any]) -> bytes:
    """The JSON written next to the video: the full request and result, the signed URL's query left out."""
    result = task.to_dict()
    if task.video_url:
        result["video_url"] = redact_url(task.video_url)
    document = {"wan_task": result, "request": dict(body) if body else None, "object": dict(stored)}
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def _number(value: float | int | None) -> float | int | None:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
