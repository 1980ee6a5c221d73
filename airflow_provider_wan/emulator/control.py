"""The test-control API under ``/_emulator/``: drive an emulator that runs in another process.

No authentication *(the emulator listens on loopback for tests)*; these calls are not in the request log.

===========================================  =====================================================
``GET    /_emulator/state``                  summary: task count by status, create counts, clock,
                                             limits, faults, renders
``POST   /_emulator/reset``                  forget tasks, counters, logs and faults; clock back
``POST   /_emulator/clock``                  ``{"advance": SECONDS}`` → ``{"now", "offset"}``
``POST   /_emulator/faults``                 ``{"endpoint": "query", "error_500": 0.5, ...}``
                                             (the keyword arguments of ``WanEmulator.set_faults``)
``DELETE /_emulator/faults``                 clear every fault
``POST   /_emulator/limits``                 ``{"enabled": false}``: account limits off (or on);
                                             ``{"task_api_rate": 10}`` (or null): query, cancel
                                             and list requests a second (either key, or both)
``POST   /_emulator/timing``                 ``{"task_seconds"?, "queue_seconds"?}`` for new tasks
``POST   /_emulator/readings``               ``{"list_refused": 403, ...}``: another reading of the
                                             contract (``WanEmulator.set_readings``)
``POST   /_emulator/creates``                ``{"api_key"?, "prompt"?, "include_refused"?}`` → ``{"count"}``
``GET    /_emulator/requests``               ``{"requests": [...]}``: the request log
``GET    /_emulator/video-authorization``    ``{"requests": [...]}``: downloads that sent Authorization
``GET    /_emulator/tasks/{task_id}``        a task's internal state (404 when unknown)
===========================================  =====================================================

Errors answer 400 ``{"error": "..."}``.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from airflow_provider_wan.emulator.core import Emulation

CONTROL_PREFIX = "/_emulator"


def add_control_routes(app: web.Application, emulation: Emulation) -> None:
    control = _Control(emulation)
    routes = [
        ("GET", "/state", control.state),
        ("POST", "/reset", control.reset),
        ("POST", "/clock", control.clock),
        ("POST", "/faults", control.set_faults),
        ("DELETE", "/faults", control.clear_faults),
        ("POST", "/limits", control.limits),
        ("POST", "/timing", control.timing),
        ("POST", "/readings", control.readings),
        ("POST", "/creates", control.creates),
        ("GET", "/requests", control.requests),
        ("GET", "/video-authorization", control.video_authorization),
        ("GET", "/tasks/{task_id}", control.task),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, CONTROL_PREFIX + path, _guarded(handler))


def _guarded(handler: Any) -> Any:
    async def guarded(request: web.Request) -> web.Response:
        try:
            payload = await request.json() if request.can_read_body else {}
            if not isinstance(payload, dict):
                raise ValueError("the body must be a JSON object")
            return web.json_response(handler(request, payload))
        except (ValueError, TypeError) as error:
            return web.json_response({"error": str(error)}, status=400)
        except LookupError as error:
            return web.json_response({"error": str(error)}, status=404)

    return guarded


class _Control:
    def __init__(self, emulation: Emulation) -> None:
        self.emulation = emulation

    def state(self, request: web.Request, payload: dict[str, Any]) -> Any:
        return self.emulation.state()

    def reset(self, request: web.Request, payload: dict[str, Any]) -> Any:
        self.emulation.reset()
        return {"reset": True}

    def clock(self, request: web.Request, payload: dict[str, Any]) -> Any:
        now = self.emulation.clock.advance(float(payload.get("advance", 0)))
        return {"now": now, "offset": self.emulation.clock.offset}

    def set_faults(self, request: web.Request, payload: dict[str, Any]) -> Any:
        settings = dict(payload)
        endpoint = settings.pop("endpoint", None)
        if not isinstance(endpoint, str):
            raise ValueError("faults need an 'endpoint'")
        self.emulation.set_faults(endpoint, **settings)
        return {"faults": self.emulation.faults.snapshot()}

    def clear_faults(self, request: web.Request, payload: dict[str, Any]) -> Any:
        self.emulation.faults.clear()
        return {"faults": {}}

    def limits(self, request: web.Request, payload: dict[str, Any]) -> Any:
        account = self.emulation.account
        if not {"enabled", "task_api_rate"} & payload.keys():
            raise ValueError(
                "limits need 'enabled' (true or false) and/or 'task_api_rate' (a number or null)"
            )
        if "enabled" in payload:
            if not isinstance(payload["enabled"], bool):
                raise ValueError("limits need 'enabled': true or false")
            account.set_limits(payload["enabled"])
        if "task_api_rate" in payload:
            rate = payload["task_api_rate"]
            account.set_task_api_rate(None if rate is None else float(rate))
        return {"limits": account.settings.limits, "task_api_rate": account.settings.task_api_rate}

    def timing(self, request: web.Request, payload: dict[str, Any]) -> Any:
        seconds = {k: payload.get(k) for k in ("task_seconds", "queue_seconds")}
        self.emulation.account.set_timing(
            **{k: float(v) if v is not None else None for k, v in seconds.items()}
        )
        settings = self.emulation.account.settings
        return {"task_seconds": settings.task_seconds, "queue_seconds": settings.queue_seconds}

    def readings(self, request: web.Request, payload: dict[str, Any]) -> Any:
        return {"readings": self.emulation.account.set_readings(**payload).to_dict()}

    def creates(self, request: web.Request, payload: dict[str, Any]) -> Any:
        count = self.emulation.account.records.create_count(
            payload.get("api_key"),
            payload.get("prompt"),
            include_refused=bool(payload.get("include_refused")),
        )
        return {"count": count}

    def requests(self, request: web.Request, payload: dict[str, Any]) -> Any:
        return {"requests": self.emulation.account.records.request_log()}

    def video_authorization(self, request: web.Request, payload: dict[str, Any]) -> Any:
        return {"requests": self.emulation.account.records.video_authorization()}

    def task(self, request: web.Request, payload: dict[str, Any]) -> Any:
        task_id = request.match_info["task_id"]
        found = self.emulation.account.task_dict(task_id)
        if found is None:
            raise LookupError(f"no task {task_id!r}")
        return json.loads(json.dumps(found, default=str))
