"""A local, offline stand-in for the Wan text-to-video service, with real MP4 output.

Three ways to run it:

* in-process: ``with WanEmulator(task_seconds=2) as emu: ...`` serves ``emu.base_url`` on a free port;
* as a command: ``wan-emulator --port 8080 --api-key sk-local --task-seconds 20`` (or
  ``python -m airflow_provider_wan.emulator``) prints its base URL and serves until SIGTERM/SIGINT;
* as a pytest plugin (registered automatically): fixtures ``wan_emulator`` and ``wan_connection``.

It speaks the contract of ``wan-api.md``: the four calls under ``/api/v1`` with the service's JSON
shapes, status codes and error bodies; the task life cycle with configurable queue and run times and a
controllable clock; the account limits; usage shaped per model; videos served like object storage from
``/oss/...`` with an expiring signed URL. Tests drive a separate-process emulator through the control
API under ``/_emulator/`` (see :mod:`.control`) or :class:`RemoteEmulator`.

Choices the contract leaves open *(assumed)*: times are UTC; a request without ``seed`` gets one derived
from its prompt so runs repeat; the rewritten ``actual_prompt`` is the prompt plus a fixed sentence;
tasks past the running limit wait ``PENDING``; the unknown-id answer is ``{"task_id", "task_status":
"UNKNOWN"}``; a successful cancel answers ``{"request_id"}``; cancel of an unknown task is 400
``UnsupportedOperation``; 429 answers carry ``Retry-After``; the query/cancel/list rate limit of 20 per
second is not enforced (one emulator often serves many test clients at once).
"""

from __future__ import annotations

from airflow_provider_wan.emulator.remote import RemoteEmulator
from airflow_provider_wan.emulator.server import DEFAULT_API_KEY, WanEmulator

__all__ = ["DEFAULT_API_KEY", "RemoteEmulator", "WanEmulator"]
