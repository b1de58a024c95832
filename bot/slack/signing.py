"""Requests to ``/slack/events``: signed by Slack, recently, and readable, before Bolt sees them.

The signature is checked on the bytes as received, before anything reads the body (Bolt
parses a body before it checks the signature, so a forged body could reach its parser). A
request that is not signed by Slack, or signed more than five minutes ago, is 401; a signed
one whose body is not JSON within :mod:`queues.bounds`' limits is 400.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qs

from slack_sdk.signature import SignatureVerifier

from queues.bounds import MalformedJson, loads

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def signed_by_slack(verifier: SignatureVerifier, headers: Mapping[str, str], raw: bytes) -> bool:
    """Whether Slack signed these bytes within the last five minutes (slack_sdk's check, once
    the headers are known to be what Slack sends)."""
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    signature = headers.get(SIGNATURE_HEADER, "")
    if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        return False
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return verifier.is_valid(body=body, timestamp=timestamp, signature=signature)


def unreadable(body: str, content_type: str) -> str | None:
    """Why a signed body cannot be read, or ``None``: JSON (the Events API) and a form's
    ``payload`` (interactivity) must be JSON objects within the bounds."""
    if content_type == "application/json" or body.lstrip().startswith("{"):
        document = body
    else:
        payload = parse_qs(body).get("payload")
        if not payload:
            return None
        document = payload[0]
    try:
        value = loads(document)
    except MalformedJson as exc:
        return f"not valid JSON: {exc.detail}"
    if not isinstance(value, dict):
        return "not a JSON object"
    return None
