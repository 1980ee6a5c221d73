"""What a ``wan`` Airflow connection means: the API key and the base URL it points at."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_wan.api import resolve_base_url
from airflow_provider_wan.api.rate import RATE_ALLOWED, VENDOR_TASK_API_RPS, check_rate
from airflow_provider_wan.exceptions import WanConnectionError, WanValidationError

if TYPE_CHECKING:
    from airflow.sdk import Connection

CONN_TYPE = "wan"
DEFAULT_CONN_ID = "wan_default"
DEFAULT_AWS_CONN_ID = "aws_default"  # the Amazon provider's default: S3 inputs and destinations
RPS_EXTRA = "task_api_rps"  # connection extra: this process's share of the account's task-API rate
PRICES_EXTRA = "prices"  # connection extra: the account's prices (airflow_provider_wan.cost)


@dataclass(frozen=True)
class WanSettings:
    """The parts of a connection a hook needs; the key is kept out of ``repr``."""

    conn_id: str
    base_url: str
    api_key: str = field(repr=False)
    task_api_rps: float = VENDOR_TASK_API_RPS
    prices: Any = field(default=None, compare=False)  # the ``prices`` extra, read with the rest


def settings_from_connection(conn: Connection, extra: dict[str, Any] | None = None) -> WanSettings:
    """Read the key (password), ``region``/``workspace_id`` extras and an optional base URL in ``host``.

    ``extra``: the extra as already read; an event loop must read it with common.compat's
    ``get_async_extra_dejson``, since ``conn.extra_dejson`` blocks on Airflow's supervisor.
    """
    conn_id = conn.conn_id
    api_key = (conn.password or "").strip()
    if not api_key:
        raise WanConnectionError(
            conn_id, "password", "(empty)", "the Wan API key (sk-...) belongs in the connection's password"
        )
    extra = conn.extra_dejson if extra is None else extra
    try:
        base_url = resolve_base_url(
            region=extra.get("region") or None,
            workspace_id=extra.get("workspace_id") or None,
            base_url=connection_base_url(conn.host, conn.port, conn.schema),
        )
    except WanValidationError as err:
        raise WanConnectionError(conn_id, err.parameter, err.value, err.allowed) from None
    rps = task_api_rps(conn_id, extra.get(RPS_EXTRA))
    return WanSettings(conn_id, base_url, api_key, rps, extra.get(PRICES_EXTRA))


def task_api_rps(conn_id: str, extra_value: Any) -> float:
    """Requests a second this process may spend on the account's query, cancel and list calls: the
    connection's ``task_api_rps`` extra, else ``[wan] task_api_rps``, else the vendor's 20."""
    parameter = f"extra.{RPS_EXTRA}"
    if extra_value in (None, ""):
        from airflow.providers.common.compat.sdk import conf

        parameter = f"[wan] {RPS_EXTRA}"
        extra_value = conf.get("wan", RPS_EXTRA, fallback=None) or VENDOR_TASK_API_RPS
    try:
        return check_rate(float(extra_value))
    except (TypeError, ValueError):
        raise WanConnectionError(conn_id, parameter, extra_value, RATE_ALLOWED) from None


def connection_base_url(host: str | None, port: int | None, schema: str | None) -> str | None:
    """An explicit base URL from ``host`` as Airflow stores it, whichever form the connection came in.

    The UI and JSON form keep a whole URL in ``host`` (``http://127.0.0.1:8765/api/v1``). The URI form
    splits it: ``wan://http://:KEY@127.0.0.1:8765/api/v1`` gives host ``http://127.0.0.1``, port and
    schema ``api/v1``, and a host without a scheme means https.
    """
    host = (host or "").strip()
    if not host:
        return None
    if "://" not in host:
        host = f"https://{host}"
    parts = urlsplit(host)
    try:
        has_port = parts.port is not None
    except ValueError:
        raise WanValidationError("host", host, "an http(s) URL such as https://HOST/api/v1") from None
    netloc = parts.netloc
    if port and not has_port:
        netloc = f"{netloc}:{port}"
    path = parts.path.strip("/") or (schema or "").strip("/")
    return f"{parts.scheme}://{netloc}/{path}" if path else f"{parts.scheme}://{netloc}"
