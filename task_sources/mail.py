"""What the email sources share (Mailgun's inbound routes, a shared mailbox over IMAP): a
message as the mapping sees it, one task per thread, and the reply sent through SMTP.

A thread is named by its first message's ``Message-Id``: a message that answers another (its
``References``, else its ``In-Reply-To``) belongs to the thread its first reference opened, so
the customer's reply updates the task of the message it answers rather than making a new one;
the replies sent from here carry the thread's references on, so an answer to one of them finds
the task too. Attachments are kept as references (name, size, content type), never their bytes.

The write-back is a reply to the thread's latest message, sent through the source's SMTP
server (``credentials``: ``smtp_host``, ``smtp_port``, ``smtp_tls`` = ``starttls`` | ``tls``
| ``none``, ``smtp_username``, ``smtp_password``, ``from``) for each event the source's
``write_back.events`` names, with the text of ``write_back.templates[event]`` (``$subject``,
``$title``, ``$outcome``, ``$note``, ``$task_id``, ``$actor`` filled in). Its ``Message-Id`` is
made from the event's idempotency key, so a reply sent again after a lost answer is the same
message to the recipient's mail client.
"""

from __future__ import annotations

import email.policy
import hashlib
import re
from collections.abc import Iterable, Mapping
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, parsedate_to_datetime
from string import Template
from typing import Any

import aiosmtplib

from task_sources.connector import EVENT_KINDS, SourceConfig, WriteBack
from task_sources.errors import InvalidSource, Permanent, Retryable

TEXT_LIMIT = 20_000
"""Characters of a message's text kept on its task."""
_MSG_ID = re.compile(r"<[^<>\s]+>")

DEFAULT_MAPPING: Mapping[str, str] = {
    "external_id": "event.thread",
    "type": '"email"',
    "title": 'event.subject != "" ? event.subject : "(no subject) from " + event.from_address',
    "customer_ref": 'event.from_address != "" ? event.from_address : null',
    "payload": (
        "{'message_id': event.message_id, 'references': event.references, "
        "'reply_to': event.reply_to, 'subject': event.subject, 'from': event.from, "
        "'date': event.date, 'text': event.text, 'attachments': event.attachments}"
    ),
}
DEFAULT_TEMPLATES: Mapping[str, str] = {
    "claimed": 'Hello,\n\nyour message "$subject" is being dealt with.\n',
    "completed": 'Hello,\n\nyour message "$subject" has been dealt with.\n',
    "cancelled": 'Hello,\n\nyour message "$subject" was closed.\n',
}
DEFAULT_WRITE_BACK: Mapping[str, Any] = {"templates": dict(DEFAULT_TEMPLATES)}
TLS_MODES = ("starttls", "tls", "none")
PLACEHOLDERS = ("subject", "title", "outcome", "note", "task_id", "actor", "external_id")


def message_ids(value: str | None) -> list[str]:
    """The message ids in a ``References`` or ``In-Reply-To`` header, in order."""
    return _MSG_ID.findall(value or "")


def thread_of(message_id: str, in_reply_to: str | None, references: str | None) -> list[str]:
    """The message's references, oldest first (``References``, else ``In-Reply-To``); the
    first one names the thread (none: the message opens it)."""
    refs = message_ids(references) or message_ids(in_reply_to)
    return [r for r in refs if r != message_id]


def fallback_id(*parts: str | None) -> str:
    """An id for a message without ``Message-Id``: the same for every delivery of it."""
    digest = hashlib.sha256("\x00".join(p or "" for p in parts).encode()).hexdigest()
    return f"<{digest[:40]}@no-message-id>"


def event_of(
    *,
    message_id: str | None,
    in_reply_to: str | None,
    references: str | None,
    sender: str | None,
    reply_to: str | None,
    to: str | None,
    subject: str | None,
    date: str | None,
    text: str | None,
    attachments: Iterable[Mapping[str, Any]],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A message as the mapping sees it (``event``)."""
    ids = message_ids(message_id)
    mid = ids[0] if ids else fallback_id(sender, subject, date, text)
    refs = thread_of(mid, in_reply_to, references)
    addresses = getaddresses([sender or ""])
    from_address = addresses[0][1].lower() if addresses and "@" in addresses[0][1] else ""
    replies = [a for _, a in getaddresses([reply_to or ""]) if "@" in a]
    when = None
    if date:
        try:
            when = parsedate_to_datetime(date).isoformat()
        except (TypeError, ValueError):
            when = None
    return {
        "message_id": mid,
        "thread": refs[0] if refs else mid,
        "in_reply_to": next(iter(message_ids(in_reply_to)), None),
        "references": refs,
        "from": (sender or "").strip(),
        "from_address": from_address,
        "reply_to": replies[0] if replies else from_address,
        "to": (to or "").strip(),
        "subject": " ".join((subject or "").split()),
        "date": when,
        "text": (text or "")[:TEXT_LIMIT],
        "attachments": [dict(a) for a in attachments],
        **(extra or {}),
    }


def check_mail(kind: str, source: SourceConfig, defaults: Mapping[str, Any]) -> None:
    """Refuse a write-back that cannot be sent: SMTP server, sender, a template per event."""
    events = source.write_back.get("events", [])
    templates = {**defaults["templates"], **(source.write_back.get("templates") or {})}
    if not isinstance(source.write_back.get("templates", {}), dict):
        raise InvalidSource("write_back.templates", "a text per event")
    for name, text in templates.items():
        if name not in EVENT_KINDS or not isinstance(text, str):
            raise InvalidSource(f"write_back.templates.{name}", "a text per event")
        try:
            Template(text).substitute(dict.fromkeys(PLACEHOLDERS, ""))
        except (KeyError, ValueError) as exc:
            raise InvalidSource(f"write_back.templates.{name}", f"bad placeholder {exc}") from None
    if not events:
        return
    for event in events:
        if event not in templates:
            raise InvalidSource("write_back.templates", f"no reply text for {event}")
    for name in ("smtp_host", "from"):
        if not source.credentials.get(name):
            raise InvalidSource(f"credentials.{name}", f"needed to reply by email ({kind})")
    if source.credentials.get("smtp_tls", "starttls") not in TLS_MODES:
        raise InvalidSource("credentials.smtp_tls", "one of starttls, tls, none")
    port = source.credentials.get("smtp_port", "587")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidSource("credentials.smtp_port", "a port number")
    if "@" not in source.credentials["from"]:
        raise InvalidSource("credentials.from", "an email address")


def reply_message(source: SourceConfig, event: WriteBack, text: str) -> EmailMessage | None:
    """The reply to the thread's latest message, or ``None`` if there is nobody to reply to."""
    p = event.payload
    to = p.get("reply_to")
    if not isinstance(to, str) or "@" not in to:
        return None
    sender = source.credentials.get("from", "")
    subject = str(p.get("subject") or event.title)
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    parent = p.get("message_id") if isinstance(p.get("message_id"), str) else None
    references = [r for r in p.get("references") or [] if isinstance(r, str)]
    if parent:
        references.append(parent)
    domain = sender.rsplit("@", 1)[-1].strip(" >") or "blendbot.invalid"
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = f"<{event.idempotency_key}@{domain}>"
    if parent:
        message["In-Reply-To"] = parent
    if references:
        message["References"] = " ".join(references[-20:])
    message["Auto-Submitted"] = "auto-replied"
    message.set_content(text)
    return message


def reply_text(template: str, event: WriteBack) -> str:
    subject = str(event.payload.get("subject") or event.title)
    return Template(template).safe_substitute(
        subject=subject,
        title=event.title,
        outcome=event.outcome or "",
        note=event.reason or "",
        task_id=str(event.task_id),
        actor=event.actor,
        external_id=event.external_id,
    )


async def send_reply(source: SourceConfig, event: WriteBack, defaults: Mapping[str, Any]) -> None:
    """Send the event's reply through the source's SMTP server: a refused message or login
    (5xx) is :class:`Permanent`; anything else that fails (unreachable, 4xx) is
    :class:`Retryable`."""
    templates = {**defaults["templates"], **(source.write_back.get("templates") or {})}
    template = templates.get(event.event)
    if not template:
        return
    message = reply_message(source, event, reply_text(template, event))
    if message is None:
        raise Permanent("no address to reply to in the task's payload (reply_to)")
    c = source.credentials
    mode = c.get("smtp_tls", "starttls")
    host = c.get("smtp_host", "")
    try:
        await aiosmtplib.send(
            message,
            hostname=host,
            port=int(c.get("smtp_port", "587")),
            username=c.get("smtp_username") or None,
            password=c.get("smtp_password") or None,
            use_tls=mode == "tls",
            start_tls=mode == "starttls",
            timeout=30,
        )
    except aiosmtplib.SMTPResponseException as exc:
        text = f"SMTP {host}: {exc.code} {exc.message}"
        if 500 <= exc.code < 600:
            raise Permanent(text) from None
        raise Retryable(text) from None
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        text = f"SMTP {host}: recipients refused {codes}"
        if all(500 <= code < 600 for code in codes):
            raise Permanent(text) from None
        raise Retryable(text) from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise Retryable(f"SMTP {host}: {type(exc).__name__}: {exc}") from None
