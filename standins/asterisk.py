"""A local stand-in for the Asterisk manager interface (AMI), for tests: a TCP server.

It speaks AMI as Asterisk does (a banner, ``Key: value`` lines, a blank line after each
message, ``ActionID`` echoed) and checks what Asterisk checks: ``Login`` (the user's secret;
``Events: off`` gets no events), the user's ``write`` class for an action (``QueuePause`` needs
``agent``: ``Permission denied`` without it), and ``QueuePause``'s arguments (``Interface`` and
``Paused``, which must be a boolean; an interface that is no member, of the given ``Queue`` or
of any, is ``Interface not found``). A pause changes the member in every queue concerned and
sends each logged-in connection that reads ``agent`` a ``QueueMemberPause`` event per queue,
with ``Paused`` and ``PausedReason`` as Asterisk 13 and later do. ``QueueStatus`` lists the
members (``QueueMember`` events, then ``QueueStatusComplete``); ``Ping`` answers ``Pong``.

Tests shape the answers with :meth:`AmiStandIn.fail_next` (an ``Error`` with a message),
``no_change`` (``Success``, and nothing changes and no event is sent) and ``silent`` (no
answer at all), and read :attr:`AmiStandIn.actions` and the members' state.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field

CRLF = "\r\n"
BANNER = "Asterisk Call Manager/5.0.1\r\n"
_TRUE = frozenset({"yes", "true", "y", "t", "1", "on"})
_FALSE = frozenset({"no", "false", "n", "f", "0", "off"})


@dataclass(frozen=True)
class User:
    secret: str
    read: frozenset[str] = frozenset({"agent", "call"})
    write: frozenset[str] = frozenset({"agent"})


@dataclass
class Member:
    queue: str
    interface: str
    name: str = ""
    paused: bool = False
    reason: str = ""
    status: int = 1
    """Device state: 1 not in use, 2 in use, 5 unavailable ..."""
    last_pause: int = 0


@dataclass
class Session:
    writer: asyncio.StreamWriter
    user: str | None = None
    events: bool = True


@dataclass
class AmiStandIn:
    users: dict[str, User] = field(default_factory=dict)
    members: list[Member] = field(default_factory=list)
    no_change: bool = False
    silent: bool = False
    timestamps: bool = True
    """Events carry ``Timestamp``, as with ``timestampevents = yes`` in ``manager.conf``."""
    actions: list[dict[str, str]] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    _failures: deque[str] = field(default_factory=deque)
    _server: asyncio.Server | None = None
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)
    logins: list[str] = field(default_factory=list)
    """The users logged in, in order."""
    _logged_in: asyncio.Event = field(default_factory=asyncio.Event)

    def fail_next(self, message: str, times: int = 1) -> None:
        """Answer the next ``times`` QueuePause actions with ``Response: Error``."""
        self._failures.extend([message] * times)

    async def wait_for_logins(self, count: int) -> None:
        """Until ``count`` logins have been accepted (the caller bounds the wait)."""
        while len(self.logins) < count:
            self._logged_in.clear()
            await self._logged_in.wait()

    def member(self, interface: str, queue: str | None = None) -> Member:
        return next(
            m
            for m in self.members
            if m.interface == interface and (queue is None or m.queue == queue)
        )

    async def start(self) -> int:
        """Listen on an ephemeral port of the loopback; the port."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def drop_connections(self) -> None:
        """Close every connection, as a restarting Asterisk would."""
        for session in self.sessions:
            session.writer.close()
        self.sessions.clear()

    @staticmethod
    def _wire(message: dict[str, str]) -> bytes:
        return (CRLF.join(f"{k}: {v}" for k, v in message.items()) + CRLF + CRLF).encode()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(writer)
        self.sessions.append(session)
        handler = asyncio.current_task()
        if handler is not None:
            self._handlers.add(handler)
        writer.write(BANNER.encode())
        try:
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                action: dict[str, str] = {}
                for line in raw.decode().split(CRLF):
                    key, sep, value = line.partition(":")
                    if sep:
                        action[key.strip()] = value.strip()
                self.actions.append(action)
                for message in self._answer(session, action):
                    if message.get("Event") and message.get("ActionID") is None:
                        self._broadcast(message)
                    else:
                        writer.write(self._wire(message))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if session in self.sessions:
                self.sessions.remove(session)
            writer.close()
            if handler is not None:
                self._handlers.discard(handler)

    def _broadcast(self, event: dict[str, str]) -> None:
        for other in self.sessions:
            user = self.users.get(other.user or "")
            if user is not None and other.events and "agent" in user.read:
                other.writer.write(self._wire(event))

    def _answer(self, session: Session, action: dict[str, str]) -> list[dict[str, str]]:
        kind = action.get("Action", "").lower()
        reply = {"ActionID": action["ActionID"]} if "ActionID" in action else {}
        if kind == "login":
            user = self.users.get(action.get("Username", ""))
            if user is None or user.secret != action.get("Secret"):
                return [{"Response": "Error", **reply, "Message": "Authentication failed"}]
            session.user = action["Username"]
            session.events = action.get("Events", "on").lower() != "off"
            self.logins.append(session.user)
            self._logged_in.set()
            return [{"Response": "Success", **reply, "Message": "Authentication accepted"}]
        user = self.users.get(session.user or "")
        if user is None:
            return [{"Response": "Error", **reply, "Message": "Permission denied"}]
        if kind == "ping":
            return [{"Response": "Success", **reply, "Ping": "Pong", "Timestamp": f"{time.time()}"}]
        if kind == "queuestatus":
            events = [self._event("QueueMember", m) | reply for m in self.members]
            done = {"Event": "QueueStatusComplete", **reply, "EventList": "Complete"}
            return [
                {
                    "Response": "Success",
                    **reply,
                    "EventList": "start",
                    "Message": "Queue status will follow",
                },
                *events,
                done,
            ]
        if kind == "queuepause":
            return self._pause(user, action, reply)
        return [{"Response": "Error", **reply, "Message": "Invalid/unknown command"}]

    def _pause(
        self, user: User, action: dict[str, str], reply: dict[str, str]
    ) -> list[dict[str, str]]:
        if self.silent:
            return []
        if "agent" not in user.write:
            return [{"Response": "Error", **reply, "Message": "Permission denied"}]
        interface = action.get("Interface", "")
        paused = action.get("Paused", "").lower()
        if not interface or paused not in _TRUE | _FALSE:
            return [
                {
                    "Response": "Error",
                    **reply,
                    "Message": "Need 'Interface' and 'Paused' parameters.",
                }
            ]
        if self._failures:
            return [{"Response": "Error", **reply, "Message": self._failures.popleft()}]
        queue = action.get("Queue") or None
        found = [m for m in self.members if m.interface == interface and queue in (None, m.queue)]
        if not found:
            return [{"Response": "Error", **reply, "Message": "Interface not found"}]
        pause = paused in _TRUE
        word = "paused" if pause else "unpaused"
        answer = {"Response": "Success", **reply, "Message": f"Interface {word} successfully"}
        if self.no_change:
            return [answer]
        events = []
        for member in found:
            member.paused = pause
            member.reason = action.get("Reason", "") if pause else ""
            if pause:
                member.last_pause = int(time.time())
            event = self._event("QueueMemberPause", member)
            event["PausedReason"] = action.get("Reason", "")
            events.append(event)
        return [answer, *events]

    def _event(self, kind: str, member: Member) -> dict[str, str]:
        stamp = {"Timestamp": f"{time.time():.6f}"} if self.timestamps else {}
        return {
            "Event": kind,
            "Privilege": "agent,all",
            **stamp,
            "Queue": member.queue,
            "MemberName": member.name or member.interface,
            "Interface": member.interface,
            "StateInterface": member.interface,
            "Membership": "dynamic",
            "Penalty": "0",
            "CallsTaken": "0",
            "LastCall": "0",
            "LastPause": str(member.last_pause),
            "LoginTime": "0",
            "InCall": "0",
            "Status": str(member.status),
            "Paused": "1" if member.paused else "0",
            "PausedReason": member.reason,
            "Ringinuse": "0",
            "Wrapuptime": "0",
        }
