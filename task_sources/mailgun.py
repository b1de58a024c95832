"""Mailgun inbound routes: a route's ``forward()`` to ``/sources/{name}/events`` posts each
received message, parsed, as a form (``application/x-www-form-urlencoded``, or
``multipart/form-data`` when it has attachments).

Mailgun signs the post with three fields: ``timestamp``, ``token`` (random, 50 characters) and
``signature``, the hex HMAC-SHA256 of the timestamp's digits followed by the token under the
account's HTTP webhook signing key (the source's ``secret``). A timestamp more than five
minutes from our clock is refused, and so is a token already seen (a replayed post). The
message's headers come as fields too (``Message-Id``, ``In-Reply-To``, ``References``, ...);
its attachments as files ``attachment-1`` ... ``attachment-N``, kept as references only.
"""

from __future__ import annotations

import email.policy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import aiohttp

from task_sources import mail
from task_sources.connector import Connector, Delivery, SourceConfig, WriteBack, hmac_sha256, same
from task_sources.errors import InvalidSource, SourceAuthFailed, Unreadable
from task_sources.webhook import TOLERANCE_SECONDS, check_timestamp

REPLAY_MEMORY = 100_000
"""Tokens remembered (per instance) to refuse a replay within the signature's five minutes."""


@dataclass(frozen=True)
class Form:
    fields: dict[str, str]
    """The text fields; a repeated name keeps its first value."""
    files: list[dict[str, Any]]
    """Each file part as a reference: ``field``, ``name``, ``size``, ``content_type``."""

    def get(self, name: str) -> str | None:
        """A field by name, whatever its case (Mailgun sends headers as they came)."""
        found = self.fields.get(name)
        if found is not None:
            return found
        lowered = name.lower()
        for key, value in self.fields.items():
            if key.lower() == lowered:
                return value
        return None


def read_form(content_type: str, body: bytes) -> Form:
    """A form post's fields and files (:class:`Unreadable` saying why not)."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=2000)
        except (UnicodeDecodeError, ValueError) as exc:
            raise Unreadable(f"the form cannot be read: {exc}") from None
        fields: dict[str, str] = {}
        for key, value in pairs:
            fields.setdefault(key, value)
        return Form(fields, [])
    if kind != "multipart/form-data":
        raise Unreadable(f"a form is expected, not {kind or 'a body without a content type'}")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    parsed = message_from_bytes(head + body, policy=email.policy.HTTP)
    if not parsed.is_multipart():
        raise Unreadable("the multipart form has no parts")
    fields = {}
    files = []
    for part in parsed.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        data = part.get_payload(decode=True)
        content = data if isinstance(data, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files.append(
                {
                    "field": name,
                    "name": filename,
                    "size": len(content),
                    "content_type": part.get_content_type(),
                }
            )
        else:
            charset = part.get_content_charset() or "utf-8"
            fields.setdefault(name, content.decode(charset, "replace"))
    return Form(fields, files)


def signature(key: str, timestamp: str, token: str) -> str:
    return hmac_sha256(key, timestamp.encode(), token.encode()).hex()


class Mailgun(Connector):
    kind = "mailgun"
    default_mapping: ClassVar[Mapping[str, str]] = mail.DEFAULT_MAPPING
    default_write_back: ClassVar[Mapping[str, Any]] = mail.DEFAULT_WRITE_BACK
    writes_back = True

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], float] = {}

    def check(self, source: SourceConfig) -> None:
        if not source.secret:
            raise InvalidSource("secret", "a mailgun source needs Mailgun's webhook signing key")
        mail.check_mail(self.kind, source, self.default_write_back)

    def authenticate(
        self, source: SourceConfig, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> None:
        try:
            form = read_form(headers.get("content-type", ""), body)
        except Unreadable as exc:
            raise SourceAuthFailed(f"no signature can be read: {exc}") from None
        timestamp = (form.get("timestamp") or "").strip()
        token = form.get("token") or ""
        check_timestamp(timestamp, now)
        if not token or not same(
            form.get("signature") or "", signature(source.secret or "", timestamp, token)
        ):
            raise SourceAuthFailed("wrong signature")
        self._remember(source.name, token, int(timestamp), now.timestamp())

    def _remember(self, name: str, token: str, stamp: int, now: float) -> None:
        """Refuse a token seen before; forget those whose timestamp has gone stale."""
        key = (name, token)
        if key in self._seen:
            raise SourceAuthFailed("replayed: this token was already used")
        horizon = now - 2 * TOLERANCE_SECONDS
        if len(self._seen) >= REPLAY_MEMORY or next(iter(self._seen.values()), 0) < horizon:
            self._seen = {k: t for k, t in self._seen.items() if t >= horizon}
            while len(self._seen) >= REPLAY_MEMORY:
                self._seen.pop(next(iter(self._seen)))
        self._seen[key] = float(stamp)

    def deliveries(
        self, source: SourceConfig, headers: Mapping[str, str], body: bytes
    ) -> list[Delivery]:
        form = read_form(headers.get("content-type", ""), body)
        attachments = [
            {k: f[k] for k in ("name", "size", "content_type")}
            for f in form.files
            if f["field"].startswith("attachment")
        ]
        event = mail.event_of(
            message_id=form.get("Message-Id") or _header(form, "Message-Id"),
            in_reply_to=form.get("In-Reply-To") or _header(form, "In-Reply-To"),
            references=form.get("References") or _header(form, "References"),
            sender=form.get("from") or form.get("sender"),
            reply_to=form.get("Reply-To"),
            to=form.get("To") or form.get("recipient"),
            subject=form.get("subject"),
            date=form.get("Date"),
            text=form.get("body-plain"),
            attachments=attachments,
            extra={
                "recipient": form.get("recipient") or "",
                "stripped_text": (form.get("stripped-text") or "")[: mail.TEXT_LIMIT],
            },
        )
        return [Delivery(event["message_id"], event)]

    async def write_back(
        self, http: aiohttp.ClientSession, source: SourceConfig, event: WriteBack
    ) -> None:
        await mail.send_reply(source, event, self.default_write_back)


def _header(form: Form, name: str) -> str | None:
    """A header from ``message-headers`` (a JSON list of ``[name, value]``), case-blind."""
    raw = form.get("message-headers")
    if not raw:
        return None
    try:
        pairs = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(pairs, list):
        return None
    for pair in pairs:
        if isinstance(pair, list) and len(pair) == 2 and str(pair[0]).lower() == name.lower():
            return str(pair[1])
    return None
