"""A stand-in SMTP server (aiosmtpd) for the email sources' replies, in the tests.

It runs on the test's event loop, on an ephemeral port, and checks what a relay checks: the
client logged in (``AUTH`` with the configured user and password; else ``530``), the message
parses and has ``From``, ``To``, ``Subject``, ``Date`` and ``Message-ID``. ``script`` answers
the next messages instead (e.g. ``451 4.3.0 Try again later``); :meth:`stop` and
:meth:`start` (on the same port) make an outage.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

REQUIRED = ("From", "To", "Subject", "Date", "Message-ID")


@dataclass
class SmtpStandIn:
    username: str
    password: str
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    """``(MAIL FROM, RCPT TO)`` of each message taken."""
    script: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def _protocol(self) -> SMTP:
        return SMTP(
            self,
            hostname="smtp.standin.test",
            auth_require_tls=False,
            authenticator=self._authenticate,
        )

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (
            data.login.decode() == self.username and data.password.decode() == self.password
        )
        if not ok:
            self.refused.append("535 bad credentials")
        return AuthResult(success=ok)

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if not session.authenticated:
            self.refused.append("530 not authenticated")
            return "530 5.7.0 Authentication required"
        raw = envelope.original_content or b""
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        missing = [h for h in REQUIRED if message[h] is None]
        if missing:
            self.refused.append(f"554 missing {missing}")
            return f"554 5.6.0 Missing headers: {', '.join(missing)}"
        if self.script:
            answer = self.script.pop(0)
            self.refused.append(answer)
            return answer
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from or "", list(envelope.rcpt_tos)))
        return "250 2.0.0 OK: queued"
