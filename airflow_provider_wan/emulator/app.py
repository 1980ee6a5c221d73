"""The emulator's HTTP face: the four Wan calls under ``/api/v1``, videos under ``/oss``, faults, request log.

Per-request work is kept tiny (a dict lookup, one JSON dump, one log entry in a bounded deque; no
logging to stdout) so that one emulator can serve a thousand tasks polled at once.

Videos are served like the vendor's object storage: ``GET /oss/<task_id>.mp4?Expires=…&OSSAccessKeyId=…
&Signature=…`` with ``Content-Length``, ``ETag``, ``Accept-Ranges`` and single-range ``Range`` support
(206), no ``Authorization`` needed; an expired or tampered URL gets 403 with an OSS-style XML error. A
malformed ``Range`` header gets the whole object *(assumed, as OSS does)*. Downloads that carry an
``Authorization`` header are still served, and recorded so tests can prove no client sends its key there.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from airflow_provider_wan.api import CREATE_PATH, KF2V_PATH, OSS_RESOLVE_HEADER
from airflow_provider_wan.emulator.answers import MESSAGES, Answer, error_answer, new_id
from airflow_provider_wan.emulator.control import add_control_routes
from airflow_provider_wan.emulator.core import Emulation
from airflow_provider_wan.emulator.faults import FaultDecision
from airflow_provider_wan.emulator.inputs import DATA_INSPECTION, InspectionRefused, inspect_inputs
from airflow_provider_wan.emulator.uploads import MAX_UPLOAD_BYTES, UPLOAD_PATH

API_PREFIX = "/api/v1"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_INJECTED_ERRORS = {
    500: ("InternalError", MESSAGES["InternalError"]),
    503: ("ModelUnavailable", MESSAGES["ModelUnavailable"]),
    429: ("Throttling", MESSAGES["RateQuota"]),
}


def build_app(emulation: Emulation) -> web.Application:
    """The aiohttp application serving ``emulation``."""
    # Large enough for a create body with data: pictures and for an upload of the largest input (100 MB).
    app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
    handlers = _Handlers(emulation)

    def endpoint(name: str, handler: Handler) -> Handler:
        return _Endpoint(emulation, name, handler).__call__

    router = app.router
    for path in (CREATE_PATH, KF2V_PATH):
        router.add_post(API_PREFIX + path, endpoint("create", handlers.create))
    router.add_get(API_PREFIX + "/tasks/{task_id}", endpoint("query", handlers.query))
    router.add_get(API_PREFIX + "/tasks", endpoint("list", handlers.list))
    router.add_get(API_PREFIX + "/tasks/", endpoint("list", handlers.list))
    router.add_post(API_PREFIX + "/tasks/{task_id}/cancel", endpoint("cancel", handlers.cancel))
    router.add_get(API_PREFIX + "/uploads", endpoint("upload-policy", handlers.upload_policy))
    router.add_post(UPLOAD_PATH, endpoint("upload", handlers.upload))
    router.add_get("/oss/{task_id}.mp4", endpoint("video", handlers.video))
    add_control_routes(app, emulation)
    router.add_route("*", API_PREFIX + "/{tail:.*}", endpoint("unknown", handlers.unknown_path))
    return app


class _Handlers:
    def __init__(self, emulation: Emulation) -> None:
        self.emulation = emulation
        self.account = emulation.account

    async def create(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        path = request.path.removeprefix(API_PREFIX)
        draft = self.account.intake(_api_key(request), request.headers.get("X-DashScope-Async"), raw, path)
        if isinstance(draft, Answer):
            return _json(draft)
        oss_resolve = request.headers.get(OSS_RESOLVE_HEADER, "").strip().lower() == "enable"
        try:
            facts = await inspect_inputs(draft.request, oss_resolve, self.emulation.uploads)
        except InspectionRefused as refused:
            answer = self.account.refuse(draft, error_answer(400, DATA_INSPECTION, str(refused)))
        else:
            answer = self.account.accept(draft, facts)
        if answer.status == 200 and self.emulation.prerender:
            key = self.account.video_key_of(answer.body["output"]["task_id"])
            if key is not None:
                self.emulation.renderer.prefetch(key)
        return _json(answer)

    async def query(self, request: web.Request) -> web.StreamResponse:
        refusal = self._authorize(request) or self._throttle()
        if refusal is not None:
            return refusal
        video_base = f"{request.scheme}://{request.host}"
        return _json(self.account.query(request.match_info["task_id"], video_base))

    async def cancel(self, request: web.Request) -> web.StreamResponse:
        refusal = self._authorize(request) or self._throttle()
        return refusal or _json(self.account.cancel(request.match_info["task_id"]))

    async def list(self, request: web.Request) -> web.StreamResponse:
        return self._authorize(request) or self._throttle() or _json(self.account.list(dict(request.query)))

    async def unknown_path(self, request: web.Request) -> web.StreamResponse:
        return self._authorize(request) or _json(error_answer(400, "InvalidParameter", MESSAGES["UrlError"]))

    async def upload_policy(self, request: web.Request) -> web.StreamResponse:
        """``GET /uploads?action=getPolicy&model=...``: where and how to upload a temporary file."""
        refusal = self._authorize(request)
        if refusal is not None:
            return refusal
        if request.query.get("action") != "getPolicy":
            return _json(error_answer(400, "InvalidParameter", "action must be getPolicy"))
        host = f"{request.scheme}://{request.host}{UPLOAD_PATH}"
        data = self.emulation.uploads.policy(request.query.get("model", ""), host)
        return _json(Answer(200, {"request_id": new_id(), "data": data}))

    async def upload(self, request: web.Request) -> web.StreamResponse:
        """The upload host: a multipart form with the policy's fields and ``file``; 200 once stored."""
        form = await request.post()
        key, policy, signature = (str(form.get(name, "")) for name in ("key", "policy", "Signature"))
        file = form.get("file")
        if not isinstance(file, web.FileField) or not self.emulation.uploads.accepts(policy, signature, key):
            return _oss_error(
                403, "AccessDenied", message="Invalid according to Policy: Policy Condition failed."
            )
        self.emulation.uploads.put(key, file.file.read())
        return web.Response(status=200, headers={"x-oss-request-id": new_id()})

    async def video(self, request: web.Request) -> web.StreamResponse:
        task_id = request.match_info["task_id"]
        if "Authorization" in request.headers:
            self.account.record_video_authorization(request.path, _api_key(request))
        access = self.account.video_access(
            task_id, request.query.get("Expires"), request.query.get("Signature")
        )
        if isinstance(access, str):
            return _oss_error(404 if access == "NoSuchKey" else 403, access)
        data, etag = await self.emulation.renderer.video(access)
        headers = {
            "ETag": etag,
            "Accept-Ranges": "bytes",
            "Content-Type": "video/mp4",
            "x-oss-request-id": new_id(),
            "x-oss-object-type": "Normal",
        }
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        status, start, end = 200, 0, len(data)
        try:
            wanted = request.http_range
        except ValueError:
            wanted = slice(None, None)
        if wanted.start is not None or wanted.stop is not None:
            start, end = _byte_range(wanted, len(data))
            if start >= end:
                return _oss_error(416, "InvalidRange", {"Content-Range": f"bytes */{len(data)}"})
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{len(data)}"
        return web.Response(status=status, body=data[start:end], headers=headers)

    def _throttle(self) -> web.Response | None:
        """Query, cancel and list share the account's requests a second."""
        refusal = self.account.task_api_refusal()
        return _json(refusal) if refusal is not None else None

    def _authorize(self, request: web.Request) -> web.Response | None:
        if self.account.is_valid_key(_api_key(request)):
            return None
        return _json(error_answer(401, "InvalidApiKey", MESSAGES["InvalidApiKey"]))


class _Endpoint:
    """One emulated endpoint: applies its faults (if any) and records each call (no secrets)."""

    def __init__(self, emulation: Emulation, name: str, handler: Handler) -> None:
        self.emulation, self.name, self.handler = emulation, name, handler

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        entry: dict[str, Any] = {
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "endpoint": self.name,
            "authorization": "Authorization" in request.headers,
            "time": self.emulation.clock.now(),
            "status": None,
        }
        self.emulation.account.records.log_request(
            entry
        )  # at arrival; the status is filled in before answering
        return await _answer(request, self.handler, self.name, self.emulation, entry)


async def _answer(
    request: web.Request, handler: Handler, endpoint: str, emulation: Emulation, entry: dict[str, Any]
) -> web.StreamResponse:
    fault = emulation.faults.decide(endpoint)
    if fault is not None:
        if fault.latency:
            await asyncio.sleep(fault.latency)
        if fault.drop:
            entry["status"] = "dropped"
            return await _drop(request)
        if fault.error_status is not None:
            refusal = _injected_error(endpoint, fault.error_status)
            entry["status"] = refusal.status
            return refusal
    response: web.StreamResponse = await handler(request)
    if fault is not None and endpoint != "video" and 200 <= response.status < 300:
        if fault.delay_after_effect:
            await asyncio.sleep(fault.delay_after_effect)
        if fault.drop_after_effect:
            entry["status"] = "accepted-then-dropped"
            return await _drop(request)
    if fault is not None and isinstance(response, web.Response):
        response = await _spoil(request, endpoint, fault, response, entry)
    entry["status"] = response.status
    return response


async def _spoil(
    request: web.Request, endpoint: str, fault: FaultDecision, response: web.Response, entry: dict[str, Any]
) -> web.StreamResponse:
    """Apply the faults that act on an answer: truncated JSON, or a download cut off part way."""
    body = response.body if isinstance(response.body, bytes) else b""
    if endpoint == "video":
        cut = fault.cut_video_at
        if cut is not None and cut < len(body):
            entry["status"], entry["cut_at"] = response.status, cut
            return await _cut_short(request, response, body, cut)
        return response
    if fault.malformed:
        entry["malformed"] = True
        return web.Response(status=200, body=body[: max(1, len(body) // 2)], content_type="application/json")
    return response


def _injected_error(endpoint: str, status: int) -> web.Response:
    code, message = _INJECTED_ERRORS[status]
    headers = {"Retry-After": "1"} if status == 429 else {}
    if endpoint == "video":
        return _oss_error(status, "ServiceUnavailable" if status == 503 else code, headers)
    return _json(error_answer(status, code, message, headers))


async def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without answering, as a crashed proxy would."""
    if request.transport is not None:
        request.transport.close()
    raise asyncio.CancelledError


async def _cut_short(request: web.Request, whole: web.Response, body: bytes, cut: int) -> web.StreamResponse:
    """Promise the whole body (same status and headers), send ``cut`` bytes of it, close the connection."""
    response = web.StreamResponse(status=whole.status, headers=whole.headers)
    response.content_length = len(body)
    await response.prepare(request)
    await response.write(body[:cut])
    if request.transport is not None:
        request.transport.close()
    return response


def _byte_range(wanted: slice, size: int) -> tuple[int, int]:
    if wanted.start is not None and wanted.start < 0:
        return max(size + wanted.start, 0), size
    start = wanted.start or 0
    end = min(wanted.stop, size) if wanted.stop is not None else size
    return start, end


def _api_key(request: web.Request) -> str | None:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return key.strip() or None if scheme.lower() == "bearer" else None


def _json(answer: Answer) -> web.Response:
    return web.Response(
        status=answer.status,
        body=json.dumps(answer.body, ensure_ascii=False).encode(),
        content_type="application/json",
        headers=answer.headers,
    )


_OSS_MESSAGES = {
    "AccessDenied": "Request has expired.",
    "SignatureDoesNotMatch": "The request signature we calculated does not match the signature you provided.",
    "NoSuchKey": "The specified key does not exist.",
    "InvalidRange": "The requested range cannot be satisfied.",
}


def _oss_error(
    status: int, code: str, headers: dict[str, str] | None = None, *, message: str | None = None
) -> web.Response:
    message = message or _OSS_MESSAGES.get(code, "Please try again later.")
    request_id = new_id()
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n'
        f"  <Code>{code}</Code>\n  <Message>{message}</Message>\n"
        f"  <RequestId>{request_id}</RequestId>\n  <HostId>emulator.oss</HostId>\n</Error>\n"
    )
    return web.Response(
        status=status,
        text=xml,
        content_type="application/xml",
        headers={**(headers or {}), "x-oss-request-id": request_id},
    )
