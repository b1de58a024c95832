"""A shared mailbox read over IMAP: each unseen message becomes (or updates) a task, as a
Mailgun post does; the mailbox is polled (:mod:`task_sources.mailbox`), so ``POST
/sources/{name}/events`` refuses everything for such a source.

The source's ``credentials``: ``imap_host``, ``imap_port`` (993), ``imap_tls`` (``tls``, or
``none`` for a server on a trusted network), ``username``, ``password``, ``mailbox``
(``INBOX``); and the SMTP ones of :mod:`task_sources.mail` for replies.
"""

from __future__ import annotations

import email.policy
from collections.abc import Mapping
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from typing import Any, ClassVar

import aiohttp

from task_sources import mail
from task_sources.connector import Connector, Delivery, SourceConfig, WriteBack
from task_sources.errors import InvalidSource, SourceAuthFailed

TLS_MODES = ("tls", "none")


def read_message(raw: bytes) -> dict[str, Any]:
    """A message as the mapping sees it, from its RFC 5322 bytes."""
    parsed = message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    body = parsed.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        try:
            text = str(body.get_content())
        except (LookupError, ValueError):
            text = ""
    attachments = []
    for part in parsed.iter_attachments():
        data = part.get_payload(decode=True)
        attachments.append(
            {
                "name": part.get_filename() or "",
                "size": len(data) if isinstance(data, bytes) else 0,
                "content_type": part.get_content_type(),
            }
        )

    def header(name: str) -> str | None:
        value = parsed.get(name)
        return str(value) if value is not None else None

    return mail.event_of(
        message_id=header("Message-ID"),
        in_reply_to=header("In-Reply-To"),
        references=header("References"),
        sender=header("From"),
        reply_to=header("Reply-To"),
        to=header("To"),
        subject=header("Subject"),
        date=header("Date"),
        text=text,
        attachments=attachments,
    )


class Imap(Connector):
    kind = "imap"
    default_mapping: ClassVar[Mapping[str, str]] = mail.DEFAULT_MAPPING
    default_write_back: ClassVar[Mapping[str, Any]] = mail.DEFAULT_WRITE_BACK
    needs_secret = False
    writes_back = True

    def check(self, source: SourceConfig) -> None:
        c = source.credentials
        for name in ("imap_host", "username", "password"):
            if not c.get(name):
                raise InvalidSource(f"credentials.{name}", "needed to read the mailbox")
        if c.get("imap_tls", "tls") not in TLS_MODES:
            raise InvalidSource("credentials.imap_tls", "tls or none")
        port = c.get("imap_port", "993")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise InvalidSource("credentials.imap_port", "a port number")
        mail.check_mail(self.kind, source, self.default_write_back)

    def authenticate(
        self, source: SourceConfig, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> None:
        raise SourceAuthFailed("an imap source's mailbox is read by blendbot: nothing is posted")

    def deliveries(
        self, source: SourceConfig, headers: Mapping[str, str], body: bytes
    ) -> list[Delivery]:
        event = read_message(body)
        return [Delivery(event["message_id"], event)]

    async def write_back(
        self, http: aiohttp.ClientSession, source: SourceConfig, event: WriteBack
    ) -> None:
        await mail.send_reply(source, event, self.default_write_back)
