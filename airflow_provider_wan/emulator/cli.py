"""``wan-emulator``: serve the emulator until SIGTERM/SIGINT, printing its base URL on stdout first."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Sequence
from types import FrameType

from airflow_provider_wan.api.rate import VENDOR_TASK_API_RPS, parse_rate
from airflow_provider_wan.emulator.server import DEFAULT_API_KEY, WanEmulator
from airflow_provider_wan.emulator.settings import (
    FUTURE_ENDS,
    LIST_REFUSALS,
    MODEL_NAMES,
    ORIG_PROMPTS,
    USAGE_SHAPES,
    Readings,
)


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(
        prog="wan-emulator",
        description="A local Wan text-to-video service (see the README's 'Testing your DAGs offline').",
    )
    parse.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parse.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parse.add_argument(
        "--api-key", default=DEFAULT_API_KEY, help=f"API key to accept (default {DEFAULT_API_KEY})"
    )
    parse.add_argument("--extra-api-key", action="append", default=[], help="another key of the same account")
    parse.add_argument("--task-seconds", type=float, default=2.0, help="create to SUCCEEDED (default 2)")
    parse.add_argument("--queue-seconds", type=float, default=0.2, help="time spent PENDING (default 0.2)")
    parse.add_argument("--moderation-marker", default="[[blocked]]", help="prompt text that fails moderation")
    parse.add_argument(
        "--ip-marker", default="[[ip-infringement]]", help="prompt text that fails the IP check"
    )
    parse.add_argument("--no-limits", action="store_true", help="turn the account limits off")
    parse.add_argument(
        "--task-api-rate",
        type=_rate,
        default=VENDOR_TASK_API_RPS,
        help="query, cancel and list requests a second per account (default 20; 'none': unlimited)",
    )
    parse.add_argument(
        "--max-running", type=int, help="tasks running at once per family (default: the model's)"
    )
    parse.add_argument(
        "--creates-per-second", type=int, help="creates a second per family (default: the model's)"
    )
    parse.add_argument("--queue-limit", type=int, default=500, help="tasks waiting per family (default 500)")
    parse.add_argument("--no-prerender", action="store_true", help="render videos at first download only")
    readings = parse.add_argument_group(
        "readings", "play another reading of the contract where it is an assumption (default: the provider's)"
    )
    readings.add_argument(
        "--list-refused", type=int, choices=LIST_REFUSALS, help="refuse every list call with this status"
    )
    readings.add_argument(
        "--list-utc-offset",
        type=float,
        default=0.0,
        help="hours east of UTC the list call reads start_time/end_time in (default 0; 8: Beijing time)",
    )
    readings.add_argument(
        "--list-future-end",
        choices=FUTURE_ENDS,
        default="accepted",
        help="whether the list call takes an end_time in the future (default accepted)",
    )
    readings.add_argument(
        "--list-model-name",
        choices=MODEL_NAMES,
        default="as-sent",
        help="the name list rows file a task under: as the create sent it, or its model family",
    )
    readings.add_argument(
        "--orig-prompt", choices=ORIG_PROMPTS, default="as-sent", help="how answers show orig_prompt"
    )
    readings.add_argument(
        "--usage-shape", choices=USAGE_SHAPES, default="numbers", help="how answers write usage numbers"
    )
    return parse


def _rate(text: str) -> float | None:
    try:
        return parse_rate(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: Sequence[str] | None = None) -> int:
    parse = parser()
    args = parse.parse_args(argv)
    try:
        readings = Readings(
            list_refused=args.list_refused,
            list_utc_offset=args.list_utc_offset,
            list_future_end=args.list_future_end,
            list_model_name=args.list_model_name,
            orig_prompt=args.orig_prompt,
            usage_shape=args.usage_shape,
        )
    except ValueError as error:
        parse.error(str(error))
    emulator = WanEmulator(
        api_key=args.api_key,
        task_seconds=args.task_seconds,
        queue_seconds=args.queue_seconds,
        host=args.host,
        port=args.port,
        moderation_marker=args.moderation_marker or None,
        ip_marker=args.ip_marker or None,
        api_keys=tuple(args.extra_api_key),
        limits=not args.no_limits,
        task_api_rate=args.task_api_rate,
        max_running=args.max_running,
        creates_per_second=args.creates_per_second,
        queue_limit=args.queue_limit,
        prerender=not args.no_prerender,
        readings=readings,
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with emulator:
        print(emulator.base_url, flush=True)
        while not stop.wait(0.5):
            continue
    return 0
