"""Email sources in tests: Mailgun's signed route posts, and messages as a mailbox holds them."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse, FormData
from aiohttp.test_utils import TestClient

from task_sources.mailgun import signature

Client = TestClient[Any, Any]
SIGNING_KEY = "key-mailgun-signing-0123456789"
FIXTURE = Path(__file__).parent.parent / "fixtures" / "mailgun_inbound_message.json"


def documented() -> dict[str, str]:
    """The fields of Mailgun's documented inbound post (without its signature)."""
    fields: dict[str, str] = json.loads(FIXTURE.read_text())
    return fields


async def mailgun_post(
    client: Client,
    name: str,
    fields: dict[str, str],
    *,
    key: str = SIGNING_KEY,
    at: float | None = None,
    token: str | None = None,
    files: Sequence[tuple[str, bytes, str]] = (),
) -> ClientResponse:
    """A route's post as Mailgun signs it: urlencoded, or multipart with ``files`` (name,
    bytes, content type) as ``attachment-1`` ... ``attachment-N``."""
    timestamp = str(int(time.time() if at is None else at))
    token = token or secrets.token_hex(25)
    signed = {
        **fields,
        "timestamp": timestamp,
        "token": token,
        "signature": signature(key, timestamp, token),
    }
    form = FormData()
    for k, v in signed.items():
        form.add_field(k, v)
    for i, (filename, data, content_type) in enumerate(files, start=1):
        form.add_field(f"attachment-{i}", data, filename=filename, content_type=content_type)
    return await client.post(f"/sources/{name}/events", data=form)


def message(
    message_id: str,
    subject: str,
    *,
    sender: str = "Carla Diaz <carla@example.org>",
    text: str = "Please update my address.",
    in_reply_to: str | None = None,
    references: str | None = None,
    attachment: tuple[str, bytes, str] | None = None,
) -> bytes:
    """An RFC 5322 message as a mailbox holds it."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "Support <support@example.com>"
    mail["Subject"] = subject
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = message_id
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    if references:
        mail["References"] = references
    mail.set_content(text)
    if attachment is not None:
        name, data, content_type = attachment
        main, sub = content_type.split("/")
        mail.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return mail.as_bytes()
