"""Which hosts a video may come from: a URL in XCom or a redirect must not lead the download elsewhere."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from airflow_provider_wan.api import WanValidationError, is_vendor_storage_host, redact_url
from airflow_provider_wan.exceptions import TransferRefused

__all__ = ["VideoHostPolicy", "redact_url"]  # redact_url lives in the contract module; kept importable here

_LABEL = r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?"
_HOSTNAME = re.compile(rf"^(\[[0-9a-f:.]+\]|{_LABEL}(\.{_LABEL})*)$")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_ALLOWED_HOSTS_HELP = "host names such as 'videos.example.com', 'cdn.example.com:8443' or '*.example.com'"


@dataclass(frozen=True)
class _Origin:
    scheme: str
    host: str
    port: int


def _origin(url: str) -> _Origin | None:
    """Scheme, lower-case host and effective port of an http(s) URL without credentials; None otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in _DEFAULT_PORTS or parts.username is not None or not _HOSTNAME.match(host):
        return None
    if "\\" in parts.netloc:
        return None
    return _Origin(parts.scheme, host, port or _DEFAULT_PORTS[parts.scheme])


@dataclass(frozen=True)
class _HostRule:
    host: str  # exact host, or ".example.com" for any subdomain
    port: int | None

    def matches(self, origin: _Origin) -> bool:
        if self.port is not None and self.port != origin.port:
            return False
        if self.host.startswith("."):
            return origin.host.endswith(self.host)
        return origin.host == self.host

    @classmethod
    def parse(cls, entry: str) -> _HostRule:
        text = entry.strip().lower() if isinstance(entry, str) else ""
        wildcard = text.startswith("*.")
        host, colon, port = text.removeprefix("*.").partition(":")
        if not _HOSTNAME.match(host) or host.startswith("[") or (colon and not port.isdigit()):
            raise WanValidationError("allowed_hosts", entry, _ALLOWED_HOSTS_HELP)
        return cls(f".{host}" if wildcard else host, int(port) if port else None)


class VideoHostPolicy:
    """Allows https on the vendor's storage (``*.aliyuncs.com``), the Wan connection's own origin, and
    hosts the user lists in ``allowed_hosts`` (http or https); refuses everything else."""

    def __init__(self, service_base_url: str, allowed_hosts: Iterable[str] = ()) -> None:
        self._service = _origin(service_base_url)
        self._rules = tuple(_HostRule.parse(entry) for entry in allowed_hosts)

    @staticmethod
    def validate_allowed_hosts(allowed_hosts: Iterable[str]) -> tuple[str, ...]:
        """``allowed_hosts`` checked once, when the operator is built, so a typo fails at DAG parse."""
        if isinstance(allowed_hosts, str):
            raise WanValidationError("allowed_hosts", allowed_hosts, f"a list of {_ALLOWED_HOSTS_HELP}")
        entries = tuple(allowed_hosts)
        for entry in entries:
            _HostRule.parse(entry)
        return entries

    def check(self, url: str) -> None:
        """Raise :class:`TransferRefused` unless ``url`` may be downloaded."""
        origin = _origin(url)
        if origin is None:
            raise TransferRefused(
                f"Refusing to download the video from {redact_url(url)}: not a plain http(s) URL"
            )
        if origin.scheme == "https" and is_vendor_storage_host(origin.host):
            return
        service = self._service
        if (
            service is not None
            and (origin.host, origin.port) == (service.host, service.port)
            and origin.scheme in ("https", service.scheme)
        ):
            return
        if any(rule.matches(origin) for rule in self._rules):
            return
        raise TransferRefused(
            f"Refusing to download the video from {origin.scheme}://{origin.host}:{origin.port}: "
            "only https on *.aliyuncs.com and the Wan connection's own host are allowed; "
            "add the host to allowed_hosts to trust it"
        )
