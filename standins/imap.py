"""A stand-in IMAP4rev1 server (RFC 3501, and IDLE from RFC 2177) holding one shared mailbox,
for the tests of the polled email source.

It speaks the commands blendbot's client uses, as the RFC has them: ``CAPABILITY``, ``LOGIN``
(the configured user and password, else ``NO``), ``SELECT``, ``SEARCH``/``UID SEARCH``
(``UNSEEN``, ``ALL``, optionally after ``CHARSET``), ``FETCH``/``UID FETCH`` of ``BODY[]``,
``BODY.PEEK[]`` or ``RFC822`` (all but ``PEEK`` set ``\\Seen``), ``STORE``/``UID STORE
+FLAGS``, ``IDLE`` and ``DONE`` (an idle client hears ``* N EXISTS`` when mail arrives),
``NOOP`` and ``LOGOUT``. A command before its state (``SEARCH`` before ``SELECT``) gets
``BAD``. ``idle`` off leaves ``IDLE`` out of the capabilities; :meth:`stop` drops every
connection and stops listening, :meth:`start` listens again on the same port (an outage).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass, field

_TOKEN = re.compile(rb'"((?:[^"\\]|\\.)*)"|(\S+)')


@dataclass
class Stored:
    uid: int
    raw: bytes
    flags: set[str] = field(default_factory=set)


@dataclass
class ImapStandIn:
    username: str
    password: str
    mailbox: str = "INBOX"
    idle: bool = True
    messages: list[Stored] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    """Every command taken (``UID FETCH``, ``IDLE`` ...), in order, without arguments."""
    logins: int = 0
    port: int = 0
    _server: asyncio.Server | None = None
    _sessions: set[_Session] = field(default_factory=set)

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Session(self), "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """The server goes away: connections dropped, nothing listening."""
        if self._server is not None:
            self._server.close()
            for session in list(self._sessions):
                session.drop()
            await self._server.wait_closed()
            self._server = None

    def deliver(self, raw: bytes) -> int:
        """A message arrives in the mailbox; idle clients are told."""
        uid = (self.messages[-1].uid + 1) if self.messages else 1
        self.messages.append(Stored(uid, raw))
        for session in list(self._sessions):
            session.exists()
        return uid

    def seen(self) -> list[int]:
        return [m.uid for m in self.messages if "\\Seen" in m.flags]


class _Session(asyncio.Protocol):
    def __init__(self, server: ImapStandIn) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.state = "nonauth"
        self.idle_tag: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server._sessions.add(self)
        self.send(b"* OK [CAPABILITY " + self.capabilities() + b"] stand-in IMAP4rev1 ready")

    def connection_lost(self, exc: Exception | None) -> None:
        self.server._sessions.discard(self)

    def drop(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def capabilities(self) -> bytes:
        return b"IMAP4rev1" + (b" IDLE" if self.server.idle else b"")

    def send(self, line: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(line + b"\r\n")

    def exists(self) -> None:
        if self.state == "selected":
            self.send(b"* %d EXISTS" % len(self.server.messages))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\r\n", 1)
            self.line(line)

    def line(self, line: bytes) -> None:
        if self.idle_tag is not None:
            if line.strip().upper() == b"DONE":
                self.server.commands.append("DONE")
                self.send(self.idle_tag.encode() + b" OK IDLE terminated")
                self.idle_tag = None
            else:
                self.send(b"* BAD expected DONE")
            return
        words = [
            m.group(1) if m.group(1) is not None else m.group(2) for m in _TOKEN.finditer(line)
        ]
        if len(words) < 2:
            self.send(b"* BAD empty command")
            return
        tag = words[0].decode(errors="replace")
        command = words[1].decode(errors="replace").upper()
        args = [w.decode(errors="replace") for w in words[2:]]
        by_uid = command == "UID"
        if by_uid:
            if not args:
                self.tagged(tag, "BAD UID what?")
                return
            command, args = args[0].upper(), args[1:]
        self.server.commands.append(("UID " if by_uid else "") + command)
        handler = getattr(self, f"do_{command.lower()}", None)
        if handler is None:
            self.tagged(tag, f"BAD unknown command {command}")
            return
        handler(tag, args, by_uid)

    def tagged(self, tag: str, text: str) -> None:
        self.send(f"{tag} {text}".encode())

    def need(self, tag: str, state: str) -> bool:
        order = ("nonauth", "auth", "selected")
        if order.index(self.state) < order.index(state):
            self.tagged(tag, f"BAD not in the {state} state")
            return False
        return True

    def do_capability(self, tag: str, args: list[str], by_uid: bool) -> None:
        self.send(b"* CAPABILITY " + self.capabilities())
        self.tagged(tag, "OK CAPABILITY completed")

    def do_noop(self, tag: str, args: list[str], by_uid: bool) -> None:
        self.tagged(tag, "OK NOOP completed")

    def do_login(self, tag: str, args: list[str], by_uid: bool) -> None:
        if len(args) != 2 or (args[0], _unquote(args[1])) != (
            self.server.username,
            self.server.password,
        ):
            self.tagged(tag, "NO [AUTHENTICATIONFAILED] Invalid credentials")
            return
        self.server.logins += 1
        self.state = "auth"
        self.tagged(tag, "OK [CAPABILITY " + self.capabilities().decode() + "] LOGIN completed")

    def do_select(self, tag: str, args: list[str], by_uid: bool) -> None:
        if not self.need(tag, "auth"):
            return
        if not args or args[0].upper() != self.server.mailbox.upper():
            self.tagged(tag, "NO [NONEXISTENT] no such mailbox")
            return
        self.state = "selected"
        messages = self.server.messages
        self.send(rb"* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)")
        self.send(b"* %d EXISTS" % len(messages))
        self.send(b"* 0 RECENT")
        self.send(b"* OK [UIDVALIDITY 1] UIDs valid")
        self.send(b"* OK [UIDNEXT %d] next" % ((messages[-1].uid + 1) if messages else 1))
        self.tagged(tag, "OK [READ-WRITE] SELECT completed")

    def do_search(self, tag: str, args: list[str], by_uid: bool) -> None:
        if not self.need(tag, "selected"):
            return
        keys = [a.upper() for a in args]
        if keys[:1] == ["CHARSET"]:
            keys = keys[2:]
        if keys not in (["UNSEEN"], ["ALL"]):
            self.tagged(tag, "BAD only UNSEEN and ALL are searched here")
            return
        found = [
            (m.uid if by_uid else i)
            for i, m in enumerate(self.server.messages, start=1)
            if keys == ["ALL"] or "\\Seen" not in m.flags
        ]
        self.send(b"* SEARCH" + b"".join(b" %d" % n for n in found))
        self.tagged(tag, "OK SEARCH completed")

    def _targets(self, spec: str, by_uid: bool) -> list[tuple[int, Stored]]:
        wanted: set[int] = set()
        for part in spec.split(","):
            if part.isdigit():
                wanted.add(int(part))
        return [
            (i, m)
            for i, m in enumerate(self.server.messages, start=1)
            if (m.uid if by_uid else i) in wanted
        ]

    def do_fetch(self, tag: str, args: list[str], by_uid: bool) -> None:
        if not self.need(tag, "selected"):
            return
        if len(args) < 2:
            self.tagged(tag, "BAD FETCH what?")
            return
        items = " ".join(args[1:]).strip("()").upper()
        if items not in ("BODY[]", "BODY.PEEK[]", "RFC822"):
            self.tagged(tag, "BAD only BODY[], BODY.PEEK[] and RFC822 are fetched here")
            return
        name = b"RFC822" if items == "RFC822" else b"BODY[]"
        for seq, message in self._targets(args[0], by_uid):
            if items != "BODY.PEEK[]":
                message.flags.add("\\Seen")
            head = b"* %d FETCH (UID %d %s {%d}" % (seq, message.uid, name, len(message.raw))
            self.send(head + b"\r\n" + message.raw + b")")
        self.tagged(tag, "OK FETCH completed")

    def do_store(self, tag: str, args: list[str], by_uid: bool) -> None:
        if not self.need(tag, "selected"):
            return
        if len(args) < 3 or args[1].upper() not in ("+FLAGS", "+FLAGS.SILENT"):
            self.tagged(tag, "BAD only +FLAGS is stored here")
            return
        flags = " ".join(args[2:]).strip("()").split()
        for seq, message in self._targets(args[0], by_uid):
            message.flags.update(flags)
            if args[1].upper() == "+FLAGS":
                listed = " ".join(sorted(message.flags))
                self.send(f"* {seq} FETCH (UID {message.uid} FLAGS ({listed}))".encode())
        self.tagged(tag, "OK STORE completed")

    def do_idle(self, tag: str, args: list[str], by_uid: bool) -> None:
        if not self.server.idle:
            self.tagged(tag, "BAD unknown command IDLE")
            return
        if not self.need(tag, "selected"):
            return
        self.idle_tag = tag
        self.send(b"+ idling")

    def do_logout(self, tag: str, args: list[str], by_uid: bool) -> None:
        self.send(b"* BYE logging out")
        self.tagged(tag, "OK LOGOUT completed")
        if self.transport is not None:
            with contextlib.suppress(Exception):
                self.transport.close()


def _unquote(value: str) -> str:
    return value.replace('\\"', '"').replace("\\\\", "\\")
