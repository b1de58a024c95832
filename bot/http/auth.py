"""Credentials in headers, compared as the bytes that were sent.

A header may hold any byte; aiohttp hands the bytes that are not UTF-8 on as surrogates, so a
value is turned back into its bytes before it is compared: a token with a stray byte is simply
wrong (401), never an error.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from bot.http.keys import TOKENS


def as_sent(value: str) -> bytes:
    """The bytes of a header value as the client sent them."""
    return value.encode("utf-8", "surrogateescape")


def same_secret(given: str, expected: str) -> bool:
    """Whether a header value is the secret, compared in constant time."""
    return hmac.compare_digest(as_sent(given), expected.encode())


def bearer_ok(request: web.Request) -> bool:
    """Whether the request's ``Authorization`` is ``Bearer`` and one of the app's tokens."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    given = as_sent(token.strip())
    return any(hmac.compare_digest(given, str(t).encode()) for t in request.app[TOKENS])
