"""A create call's body judged as the service does, for every family: what is refused at create (400),
and for an accepted task why it will fail, or what it will produce.

The family comes from the model (:func:`~airflow_provider_wan.api.request_type_for`) and its rules from
the request type; nothing here repeats them. The video-generation path takes every family (SDK 2.0.2
sends keyframe models there too *(assumed)*); the image2video path only the families created there,
others get "url error". A required input left out is accepted and then fails with "Field required:
input.<path>" (``input.media.0.type`` for an item's field); any other rule the request breaks fails it
with the rule's message *(both assumed from the contract's table)*. Only text-to-video refuses a missing
prompt at create, as it always has here.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from airflow_provider_wan.api import (
    CREATE_PATH,
    OutputSpec,
    VideoRequest,
    WanRequest,
    WanValidationError,
    request_type_for,
)
from airflow_provider_wan.api.checks import MAX_SEED
from airflow_provider_wan.api.media import SUFFIXES
from airflow_provider_wan.api.media_request import MediaRequest
from airflow_provider_wan.api.r2v import ReferenceToVideoMediaRequest, ReferenceToVideoRequest
from airflow_provider_wan.emulator.answers import MESSAGES, Answer, error_answer
from airflow_provider_wan.emulator.inputs import MediaFacts

SHAPE_FIELDS = ("img_url", "first_frame_url")  # inputs whose picture sets the output's aspect
SHAPE_TYPES = ("first_frame", "first_clip")  # media entries that do
_INDEX = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Draft:
    """A create body that passed the checks made before anything is fetched."""

    api_key: str
    body: dict[str, Any]
    request: WanRequest
    spec: Any  # the model's FamilySpec


@dataclass(frozen=True)
class Verdict:
    """How an accepted task ends: a failure (code, message), or the video and billed input seconds."""

    failure: tuple[str, str] | None
    output: OutputSpec | None
    warnings: list[str]
    input_seconds: float = 0.0


def draft(api_key: str, body: Any, path: str) -> Draft | Answer:
    """The request a body describes, or the 400 the service refuses it with before any download."""
    model = body.get("model") if isinstance(body, dict) else None
    kind = request_type_for(model) if isinstance(model, str) else None
    if kind is None:
        return error_answer(400, "InvalidParameter", MESSAGES["ModelNotExist"])
    if path not in (kind.CREATE_PATH, CREATE_PATH):
        return error_answer(400, "InvalidParameter", MESSAGES["UrlError"])
    try:
        request = kind.from_body(body)
    except (WanValidationError, TypeError) as error:
        return error_answer(400, "InvalidParameter", str(error))
    if isinstance(request, VideoRequest) and (
        not isinstance(request.prompt, str) or not request.prompt.strip()
    ):
        return error_answer(400, "InvalidParameter", "Field required: input.prompt")
    assert isinstance(body, dict)
    return Draft(api_key, body, request, request.spec)


def judge(draft: Draft, facts: dict[str, MediaFacts], markers: dict[str, str]) -> Verdict:
    """Why the task will fail (parameter rules, the inputs' known limits, then moderation ``markers`` in
    the prompts: marker to code), or what it produces."""
    request = draft.request
    try:
        warnings = request.validate()
        _check_known_inputs(request, facts)
    except WanValidationError as error:
        return Verdict(("InvalidParameter", failure_message(draft.body, request, error)), None, [])
    texts = (request.prompt or "", getattr(request, "negative_prompt", None) or "")
    for marker, code in markers.items():
        if any(marker in text for text in texts):
            return Verdict((code, MESSAGES[code]), None, warnings)
    if isinstance(request, VideoRequest):
        return Verdict(None, request.output(), warnings)
    assert isinstance(request, MediaRequest)
    shape = facts.get(shape_source(request) or "")
    output = request.output(shape.pixels if shape else None)
    return Verdict(None, output, warnings, _input_seconds(request, facts))


def flagged_input(request: WanRequest, markers: dict[str, str]) -> str | None:
    """The code refusing a request at create whose input media carry a moderation marker (in the URL,
    plain or percent-encoded), as the service's inspection of the input refuses it *(assumed)*."""
    urls = [unquote(item.url) for item in request.media_inputs() if isinstance(item.url, str)]
    return next((code for marker, code in markers.items() if any(marker in url for url in urls)), None)


def failure_message(body: dict[str, Any], request: WanRequest, error: WanValidationError) -> str:
    """ "Field required: input.<path>" for a required input the body leaves out, else the rule's text."""
    path = _INDEX.sub(r".\1", error.parameter).split(".")
    if path[0] in request.INPUT_FIELDS and _absent(body.get("input"), path):
        return "Field required: input." + ".".join(path)
    return str(error)


def _absent(node: Any, path: list[str]) -> bool:
    for step in path:
        if isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            return node is None
    return node is None


def _check_known_inputs(request: WanRequest, facts: dict[str, MediaFacts]) -> None:
    """The input limits the request type states, for what the emulator could read of each input."""
    for item in request.media_inputs():
        found = facts.get(item.url)
        if found is not None and found.kind == item.rule.kind:
            item.rule.check_known(
                item.parameter,
                size_bytes=found.size_bytes,
                seconds=found.seconds,
                width=found.width,
                height=found.height,
            )


def shape_source(request: WanRequest) -> str | None:
    """The URL of the picture or clip whose shape the output follows: the first frame or first clip."""
    for name in SHAPE_FIELDS:
        url = getattr(request, name, None)
        if isinstance(url, str):
            return url
    for item in getattr(request, "media", ()):
        if item.type in SHAPE_TYPES and isinstance(item.url, str):
            return str(item.url)
    return None


def _input_seconds(request: MediaRequest, facts: dict[str, MediaFacts]) -> float:
    """Reference video seconds billed, each clip's real length where read (its cap where not)."""
    if isinstance(request, ReferenceToVideoMediaRequest):
        videos = [facts.get(item.url) for item in request.items_of("reference_video")]
        return request.input_seconds([v.seconds if v else None for v in videos])
    if isinstance(request, ReferenceToVideoRequest):
        seconds = []
        for url in request.reference_urls:
            found = facts.get(url)
            if found is not None and found.kind == "video":
                seconds.append(found.seconds)
            elif found is None and urlsplit(str(url)).path.lower().endswith(SUFFIXES["video"]):
                seconds.append(None)
        return request.input_seconds(seconds)
    return 0.0


def default_seed(body: dict[str, Any], request: WanRequest) -> int:
    """The seed of a request that gives none: derived from its prompt (or, without one, its inputs) so
    runs repeat *(assumed)*."""
    text = request.prompt if request.prompt else json.dumps(body.get("input"), sort_keys=True, default=str)
    return int(hashlib.sha256(str(text).encode()).hexdigest()[:8], 16) % (MAX_SEED + 1)
