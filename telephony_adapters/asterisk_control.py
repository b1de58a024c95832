"""Asterisk: a queue member paused or unpaused with the AMI action ``QueuePause``.

``Interface`` is the member's interface (as the feed names agents), ``Paused`` ``true`` to lend
and ``false`` to recall, ``Reason`` the back-office pause reason (``back office`` by default),
and ``Queue`` when one is configured (else every queue the member is in). Asterisk confirms
with a ``QueueMemberPause`` event carrying the reason as ``PausedReason``; the feed reads a
pause with that reason as ``back_office`` (:mod:`telephony_adapters.asterisk`).

The client keeps its own manager connection (panoramisk, logged in with events off, reconnected
by panoramisk when lost); the manager user needs ``write = agent``. An ``Error`` response
(``Interface not found``, ``Permission denied``) is :class:`Refused`; no login or no answer in
time is :class:`Unreachable`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telephony_adapters.ami_client import _Manager
from telephony_adapters.control import Command, Refused, Unreachable

log = logging.getLogger(__name__)

PAUSE_REASON = "back office"


class _ControlManager(_Manager):
    """The manager, remembering why a login was refused."""

    refused: str | None = None
    answered: asyncio.Event | None = None
    """Set when a login is answered, accepted or not."""

    def login(self, future: asyncio.Future[Any]) -> bool:
        try:
            reply = future.result()
        except Exception:  # a lost connection fails the login; panoramisk reconnects
            return False
        ok = bool(super().login(future))
        self.refused = None if ok else str(reply.get("Message") or "login refused")
        if self.answered is not None:
            self.answered.set()
        return ok


class AsteriskControl:
    source = "asterisk"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str,
        secret: str,
        reason: str = PAUSE_REASON,
        queue: str | None = None,
        timeout: float = 10.0,
        reconnect_seconds: int = 2,
    ) -> None:
        self.reason = reason
        self.queue = queue
        self._config = {
            "host": host,
            "port": port,
            "username": username,
            "secret": secret,
            "events": "off",
            "reconnect_timeout": reconnect_seconds,
            "ping_delay": 10,
            "ping_interval": 10,
        }
        self._timeout = timeout
        self._manager: _ControlManager | None = None
        self._logged_in = asyncio.Event()
        self._answered = asyncio.Event()

    def _on_login(self, manager: Any) -> None:
        self._logged_in.set()
        self._answered.set()

    def _on_disconnect(self, manager: Any, exc: Exception | None) -> None:
        self._logged_in.clear()
        log.warning("AMI control connection lost (%s); reconnecting", exc)

    async def _ready(self) -> _ControlManager:
        if self._manager is None:
            manager = _ControlManager(
                **self._config, on_login=self._on_login, on_disconnect=self._on_disconnect
            )
            manager.loop = asyncio.get_running_loop()
            manager.answered = self._answered
            self._manager = manager
            try:
                await manager.connect()
            except OSError as exc:
                log.warning("AMI control connection failed (%s); retrying", exc)
        manager = self._manager
        try:
            async with asyncio.timeout(self._timeout):
                while not self._logged_in.is_set():
                    if manager.refused:
                        raise Refused(f"Asterisk AMI login refused: {manager.refused}")
                    self._answered.clear()
                    await self._answered.wait()
        except TimeoutError:
            raise Unreachable("Asterisk AMI: not logged in") from None
        return manager

    async def send(self, command: Command) -> None:
        manager = await self._ready()
        action = {
            "Action": "QueuePause",
            "Interface": command.external_id,
            "Paused": "true" if command.state == "backoffice" else "false",
            "Reason": self.reason,
        }
        if self.queue:
            action["Queue"] = self.queue
        what = f"Asterisk QueuePause of {command.external_id}"
        try:
            async with asyncio.timeout(self._timeout):
                reply = await manager.send_action(action)
        except TimeoutError:
            raise Unreachable(f"{what}: no answer") from None
        except (OSError, AttributeError) as exc:  # no connection (panoramisk has no protocol)
            raise Unreachable(f"{what}: {exc}") from None
        if isinstance(reply, list):
            reply = reply[0] if reply else None
        if reply is None or not reply.success:
            message = reply.get("Message") if reply is not None else None
            raise Refused(f"{what}: {message or 'refused'}")

    async def close(self) -> None:
        if self._manager is not None:
            self._manager.stopping = True
            self._manager.close()
            self._manager = None
            self._logged_in.clear()
