"""Errors of the telephony adapters; vendor and driver errors are translated into these."""

from __future__ import annotations


class AdapterError(Exception):
    """A telephony feed could not be read."""


class MalformedPayload(AdapterError):
    """A payload is not in the vendor's documented format; nothing of it was used."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"malformed {source} payload: {reason}")
        self.source = source
        self.reason = reason


class RefusedCredentials(AdapterError):
    """A push came with a wrong key or signature."""


class TransportError(AdapterError):
    """A connection to a telephony platform failed; the client retries with backoff."""
