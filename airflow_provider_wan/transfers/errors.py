"""What can go wrong moving a video to S3, split by whether trying again can help."""

from __future__ import annotations

from airflow_provider_wan.api.errors import WanError


class TransferError(WanError):
    """A copy that did not happen (worth another try); nothing is left at the key, no upload stays open."""


class TransferRefused(TransferError):
    """A copy refused for a reason no retry can fix (host policy, size cap, key conflict): the operator
    fails without retries."""


class DownloadInterrupted(TransferError):
    """The video stream broke off and could not be continued in place.

    ``restart_from_zero``: a fresh download from byte 0 is worth a try (the retry budget allows it);
    False once the budget is spent.
    """

    def __init__(self, message: str, *, restart_from_zero: bool) -> None:
        super().__init__(message)
        self.restart_from_zero = restart_from_zero


class IntegrityError(TransferError):
    """The bytes stored are not the bytes served (length or checksum differ)."""
