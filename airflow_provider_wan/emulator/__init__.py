"""A local, offline stand-in for the Wan video service (text-, image-, keyframes- and reference-to-video),
with real MP4 output.

Three ways to run it:

* in-process: ``with WanEmulator(task_seconds=2) as emu: ...`` serves ``emu.base_url`` on a free port;
* as a command: ``wan-emulator --port 8080 --api-key sk-local --task-seconds 20`` (or
  ``python -m airflow_provider_wan.emulator``) prints its base URL and serves until SIGTERM/SIGINT;
* as a pytest plugin (registered automatically): fixtures ``wan_emulator`` and ``wan_connection``.

It speaks the contracts of ``wan-api.md`` and ``wan-media-api.md``: the four calls under ``/api/v1``
(create on ``video-generation`` for every family and on ``image2video`` for keyframes) with the service's
JSON shapes, status codes and error bodies; the task life cycle with configurable queue and run times and a
controllable clock; the account limits; usage shaped per model; videos served like object storage from
``/oss/...`` with an expiring signed URL. Tests drive a separate-process emulator through the control
API under ``/_emulator/`` (see :mod:`.control`) or :class:`RemoteEmulator`.

Defaults: one key ``sk-emulator``; tasks take ``task_seconds=2`` from create to ``SUCCEEDED``, of which
``queue_seconds=0.2`` ``PENDING``; account limits on (``limits=False`` or ``--no-limits`` turns them off);
region ``ap-southeast-1`` in list rows.

Choices the contract leaves open *(assumed)*; where the provider's money or waiting depends on one, the
emulator can play another reading the vendor's pages allow (``readings=Readings(...)``,
``set_readings(...)``, ``wan-emulator --list-refused 403 --list-utc-offset 8 --orig-prompt normalised
--usage-shape text``; see :class:`~.settings.Readings`), so tests check the provider under both:

* times are UTC, both in answers (``YYYY-MM-DD HH:mm:ss.SSS``) and in the list call's filters;
* a request without ``seed`` gets one derived from its prompt (without one, from its inputs), so the
  same request renders the same video;
* ``orig_prompt`` is in every answer about a known task that has a prompt; ``actual_prompt`` (the prompt
  plus a fixed sentence) only in ``SUCCEEDED`` answers of requests with ``prompt_extend`` not false, on
  the families whose answers list it (text-to-video, keyframes, first-frame i2v before wan2.6);
* every media family renders at 30 fps; a wan2.7-i2v first clip counts as output (``input_video_duration``
  0), its length included in ``duration``;
* an unknown or expired task answers ``{"task_id", "task_status": "UNKNOWN"}``; a successful cancel
  ``{"request_id"}``; a cancel of an unknown task 400 ``UnsupportedOperation``;
* a missing text-to-video prompt, a body that is not JSON, or a body of the wrong shape is 400
  ``InvalidParameter`` at create; a model that is missing or unknown is 400 "Model not exist."; a model
  other than a keyframes one on ``image2video`` is 400 "url error, please check url!";
* a media family's required input left out is accepted and fails "Field required: input.<path>"; input
  media are inspected at create (see :mod:`.inputs`): ``data:`` pictures are decoded and loopback URLs
  fetched for their pixels and seconds, nothing else is fetched; ``oss://`` without the resolve header
  and hosts under ``.invalid`` are 400 ``InvalidParameter.DataInspection``, as is a loopback input that
  answers 404/403 or too slowly, or is media of another kind; a picture that cannot be seen or read gives
  the tier's 16:9 size, a reference video that cannot be bills its cap; an input URL with a moderation
  marker is 400 ``DataInspectionFailed`` (or ``IPInfringementSuspect``);
* the SDKs' temporary uploads work: ``GET /api/v1/uploads?action=getPolicy`` names the emulator as upload
  host, and an uploaded file given as ``oss://{key}`` (with the resolve header) is read like a loopback
  one (see :mod:`.uploads`);
* parameter mistakes and moderation markers (in prompt or negative prompt) fail the task when its queue
  time is over; the parameter check comes first;
* tasks past a model's running limit wait ``PENDING`` in order (each spelling, ``wanx2.1-`` and
  ``wan2.1-``, with its own); a create past the model's creates per second, or past ``queue_limit``
  (500) waiting tasks, is 429 ``Throttling.RateQuota`` with ``Retry-After``;
  query, cancel and list share 20 requests a second per account (``task_api_rate``; ``None`` or
  ``--task-api-rate none`` lifts it alone), a token bucket that saves up one second's worth; past it they
  answer 429 ``Throttling`` with ``Retry-After``;
* list rows are newest first, add ``api_key_id`` (a key fingerprint, not the key), and ``model_name``
  filters by the name given at create or its family; ``page_size`` is 1-100;
* injected faults answer 500 ``InternalError``, 503 ``ModelUnavailable``, 429 ``Throttling``
  (``Retry-After: 1``); on the video path they are OSS-style XML errors;
* video URLs expire 24 hours after the task ended and look like OSS signed URLs
  (``Expires``, ``OSSAccessKeyId``, ``Signature``); the sound track is a 48 kHz mono AAC beep.
"""

from __future__ import annotations

from airflow_provider_wan.emulator.remote import RemoteEmulator
from airflow_provider_wan.emulator.server import DEFAULT_API_KEY, WanEmulator

__all__ = ["DEFAULT_API_KEY", "RemoteEmulator", "WanEmulator"]
