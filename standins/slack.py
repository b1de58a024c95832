"""A local stand-in for Slack's Web API, for tests and the demo.

The real ``slack_sdk`` client talks to it through its base URL. It checks what Slack checks
(the bot token, required arguments, known channels and messages, block counts and text
sizes), answers in Slack's shape (HTTP 200 with ``ok: false`` and an error code, or 429 with
``Retry-After``), and records every call, so that a test asserts on what was sent.

Sign in with Slack is served too (``standins.slack_openid``): the authorize page, and
``openid.connect.token`` and ``openid.connect.userInfo`` on the Web API.

Socket Mode is served too (``standins.slack_socket``): ``apps.connections.open``, with the
app-level token, hands out a websocket URL on this server that speaks Slack's protocol.

File uploads follow Slack's three steps: ``files.getUploadURLExternal`` (a file name and a
length in bytes) hands out an upload URL on this server, the bytes are POSTed to it (recorded
as the call ``upload``), and ``files.completeUploadExternal`` shares the uploaded files in a
channel or DM, or keeps them private when no channel is given.

    .venv/bin/python -m standins.slack --port 3030
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from standins.slack_openid import METHODS as OPENID_METHODS
from standins.slack_openid import OpenIdError, OpenIdStandIn
from standins.slack_socket import SocketStandIn

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
TEXT_LIMIT = 40_000
FILE_LIMIT = 1024**3
ALT_TEXT_LIMIT = 1000
APP_LEVEL = frozenset({"apps.connections.open"})
"""Methods called with the app-level token (``xapp-``), not the bot token."""
BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
    }
)


class SlackError(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass(frozen=True)
class Call:
    method: str
    args: dict[str, Any]
    ok: bool
    error: str | None = None
    status: int = 200


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    user: str | None = None
    updates: int = 0


@dataclass
class File:
    """An upload: announced by files.getUploadURLExternal, sent to its URL, then completed."""

    id: str
    filename: str
    length: int
    alt_txt: str | None = None
    data: bytes | None = None
    title: str | None = None
    channels: list[str] = field(default_factory=list)
    initial_comment: str | None = None
    completed: bool = False


@dataclass
class StandIn:
    """The Web API's state: messages by (channel, ts), users, user groups, and the calls."""

    token: str = "xoxb-standin-token"  # noqa: S105 (the stand-in's own, not a secret)
    app_token: str = "xapp-standin-token"  # noqa: S105 (the stand-in's own, not a secret)
    socket: SocketStandIn = field(default_factory=SocketStandIn)
    openid: OpenIdStandIn = field(default_factory=OpenIdStandIn)
    """Sign in with Slack (:mod:`standins.slack_openid`)."""
    users: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    """User id → their email (``users.lookupByEmail``)."""
    missing_scopes: set[str] = field(default_factory=set)
    """Scopes the bot token lacks (``users:read.email``: lookups are ``missing_scope``)."""
    groups: dict[str, list[str]] = field(default_factory=dict)
    channels: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[str, str], Message] = field(default_factory=dict)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    homes: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, File] = field(default_factory=dict)
    _limits: dict[str, list[float]] = field(default_factory=dict)
    _drops: dict[str, int] = field(default_factory=dict)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    latency: float = 0.0
    _origin: str = "http://127.0.0.1"
    _file_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _called: asyncio.Event = field(default_factory=asyncio.Event)

    def rate_limit(self, method: str, times: int = 1, retry_after: float = 1) -> None:
        """Refuse the next ``times`` calls of ``method`` with 429 and ``Retry-After``."""
        self._limits.setdefault(method, []).extend([retry_after] * times)

    def drop_answer(self, method: str, times: int = 1) -> None:
        """Do the next ``times`` calls of ``method``, then drop the connection unanswered, as
        when a response is lost on the way back: the caller cannot tell that it happened."""
        self._drops[method] = self._drops.get(method, 0) + times

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method and (ok is None or c.ok == ok)]

    async def wait_for(self, method: str, count: int = 1) -> list[Call]:
        """The successful calls of ``method``, once there are ``count`` of them (the caller
        bounds the wait)."""
        while len(found := self.calls_to(method, ok=True)) < count:
            self._called.clear()
            await self._called.wait()
        return found

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._called.set()

    def dm_of(self, user: str) -> str:
        return "D" + user[1:]

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/{method}", self._handle)
        app.router.add_get("/api/{method}", self._handle)
        app.router.add_post("/upload/v1/{file_id}", self._upload)
        app.router.add_get("/link/", self.socket.serve)
        app.router.add_get("/openid/connect/authorize", self.openid.authorize)
        app.on_shutdown.append(self.socket.close)
        return app

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL: a pre-authorised POST of the file's bytes, raw or multipart."""
        file = self.files.get(request.match_info["file_id"])
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            part = next(iter(form.values()), None)
            data = part.file.read() if isinstance(part, web.FileField) else b""
        else:
            data = await request.read()
        args = {"file_id": request.match_info["file_id"], "bytes": len(data)}
        if file is None or file.completed:
            self._record(Call("upload", args, False, "file_not_found", 404))
            return web.Response(status=404, text="file not found")
        file.data = data
        self._record(Call("upload", args, True))
        return web.Response(text=f"OK - {len(data)}")

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self._origin = str(request.url.origin())
        args = await _arguments(request)
        if self.latency:
            await asyncio.sleep(self.latency)
        limits = self._limits.get(method)
        if limits:
            retry_after = limits.pop(0)
            self._record(Call(method, args, False, "ratelimited", 429))
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": f"{retry_after:g}"},
            )
        header = request.headers.get("Authorization", "")
        if method in OPENID_METHODS:
            return self._openid(method, args, header)
        token = header.removeprefix("Bearer ").strip() or str(args.get("token", ""))
        try:
            expected = self.app_token if method in APP_LEVEL else self.token
            if not token:
                raise SlackError("not_authed")
            if token != expected:
                known = token in (self.token, self.app_token)
                raise SlackError("not_allowed_token_type" if known else "invalid_auth")
            handler = self._methods().get(method)
            if handler is None:
                raise SlackError("unknown_method")
            result = await handler(args)
        except SlackError as exc:
            self._record(Call(method, args, False, exc.error))
            return web.json_response({"ok": False, "error": exc.error})
        self._record(Call(method, args, True))
        if self._drops.get(method) and request.transport is not None:
            self._drops[method] -= 1
            request.transport.abort()
        return web.json_response({"ok": True, **result})

    def _openid(self, method: str, args: dict[str, Any], header: str) -> web.Response:
        secretless = {k: v for k, v in args.items() if k != "client_secret"}
        try:
            result = self.openid.call(method, args, header)
        except OpenIdError as exc:
            self._record(Call(method, secretless, False, exc.error))
            return web.json_response({"ok": False, "error": exc.error})
        self._record(Call(method, secretless, True))
        return web.json_response({"ok": True, **result})

    def _methods(self) -> dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]]:
        return {
            "apps.connections.open": self._connections_open,
            "auth.test": self._auth_test,
            "chat.postMessage": self._post,
            "chat.update": self._update,
            "chat.postEphemeral": self._ephemeral,
            "conversations.open": self._open,
            "views.open": self._views_open,
            "views.publish": self._views_publish,
            "views.update": self._views_update,
            "users.info": self._users_info,
            "users.lookupByEmail": self._lookup_by_email,
            "usergroups.users.list": self._group_users,
            "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "files.info": self._file_info,
        }

    async def _connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.socket.open_url(self._origin)}

    async def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://standin.slack.test/",
            "team": "Stand-in",
            "user": "blendbot",
            "team_id": "T0STANDIN",
            "user_id": "U0BLENDBOT",
            "bot_id": "B0BLENDBOT",
        }

    def _channel(self, args: dict[str, Any]) -> str:
        channel = str(args.get("channel") or "")
        if not channel:
            raise SlackError("channel_not_found")
        if channel[0] in "UW":
            return self.dm_of(channel)  # a user id posts to the app's DM with that user
        if channel in self.channels or channel[0] == "D":
            return channel
        raise SlackError("channel_not_found")

    def _content(self, args: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        text = str(args.get("text") or "")
        blocks = _blocks(args.get("blocks"), MESSAGE_BLOCKS)
        if not text and not blocks:
            raise SlackError("no_text")
        if len(text) > TEXT_LIMIT:
            raise SlackError("msg_too_long")
        return text, blocks

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    async def _post(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        text, blocks = self._content(args)
        ts = self._next_ts()
        self.messages[(channel, ts)] = Message(channel, ts, text, blocks)
        return {"channel": channel, "ts": ts, "message": {"text": text, "blocks": blocks}}

    async def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        ts = str(args.get("ts") or "")
        message = self.messages.get((channel, ts))
        if message is None:
            raise SlackError("message_not_found")
        message.text, message.blocks = self._content(args)
        message.updates += 1
        return {"channel": channel, "ts": ts, "text": message.text}

    async def _ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        if not args.get("user"):
            raise SlackError("user_not_found")
        self._content(args)
        return {"message_ts": self._next_ts(), "channel": channel}

    async def _open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) > 1:
            raise SlackError("not_implemented")
        return {"channel": {"id": self.dm_of(users[0])}}

    def _view(self, args: dict[str, Any], kind: str) -> dict[str, Any]:
        view = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not isinstance(view, dict) or view.get("type") != kind:
            raise SlackError("invalid_arguments")
        _blocks(view.get("blocks"), VIEW_BLOCKS)
        if kind == "modal":
            title = (view.get("title") or {}).get("text", "")
            if not title or len(title) > 24:
                raise SlackError("invalid_arguments")
            if len(str(view.get("private_metadata") or "")) > 3000:
                raise SlackError("invalid_arguments")
        return view

    async def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not str(args.get("trigger_id") or "").count("."):
            raise SlackError("invalid_trigger_id")
        view = self._view(args, "modal")
        view_id = f"V{len(self.views) + 1:08d}"
        self.views[view_id] = view
        return {"view": {"id": view_id, **view}}

    async def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = str(args.get("view_id") or "")
        if view_id not in self.views:
            raise SlackError("not_found")
        self.views[view_id] = self._view(args, "modal")
        return {"view": {"id": view_id, **self.views[view_id]}}

    async def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user_id") or "")
        if not user:
            raise SlackError("invalid_arguments")
        self.homes[user] = self._view(args, "home")
        return {"view": {"id": f"VH{user}", **self.homes[user]}}

    async def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user") or "")
        if user not in self.users:
            raise SlackError("user_not_found")
        name = self.users[user]
        return {
            "user": {
                "id": user,
                "name": name.lower(),
                "real_name": name,
                "profile": {"real_name": name, "first_name": name.split()[0]},
            }
        }

    async def _lookup_by_email(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email") or "").strip().lower()
        if not email:
            raise SlackError("invalid_arguments")
        if "users:read.email" in self.missing_scopes:
            raise SlackError("missing_scope")
        for user, address in sorted(self.emails.items()):
            if address.lower() == email:
                name = self.users.get(user, user)
                return {
                    "user": {
                        "id": user,
                        "name": name.lower(),
                        "real_name": name,
                        "deleted": False,
                        "profile": {"real_name": name, "email": address},
                    }
                }
        raise SlackError("users_not_found")

    async def _group_users(self, args: dict[str, Any]) -> dict[str, Any]:
        group = str(args.get("usergroup") or "")
        if group not in self.groups:
            raise SlackError("no_such_subteam")
        return {"users": list(self.groups[group])}

    async def _upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        filename = str(args.get("filename") or "")
        if not filename:
            raise SlackError("invalid_arguments")
        try:
            length = int(args.get("length") or 0)
        except (TypeError, ValueError):
            raise SlackError("invalid_arguments") from None
        if length <= 0:
            raise SlackError("missing_argument")
        if length > FILE_LIMIT:
            raise SlackError("file_upload_size_restricted")
        alt_txt = args.get("alt_txt")
        if alt_txt is not None and len(str(alt_txt)) > ALT_TEXT_LIMIT:
            raise SlackError("alt_txt_too_large")
        file_id = f"F{next(self._file_ids):010d}"
        self.files[file_id] = File(
            file_id, filename, length, None if alt_txt is None else str(alt_txt)
        )
        return {"upload_url": f"{self._origin}/upload/v1/{file_id}", "file_id": file_id}

    async def _complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        raw = args.get("files")
        try:
            items = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            raise SlackError("invalid_arguments") from None
        if not isinstance(items, list) or not items:
            raise SlackError("invalid_arguments")
        channels = [c for c in str(args.get("channels") or "").split(",") if c]
        if args.get("channel_id"):
            channels.insert(0, str(args["channel_id"]))
        shared = [self._channel({"channel": c}) for c in channels]
        if args.get("thread_ts") and len(shared) != 1:
            raise SlackError("invalid_arguments")
        files = []
        for item in items:
            if not isinstance(item, dict):
                raise SlackError("invalid_arguments")
            file = self.files.get(str(item.get("id") or ""))
            if file is None or file.completed or file.data is None:
                raise SlackError("file_not_found")
            files.append((file, item.get("title")))
        for file, title in files:
            file.completed, file.channels = True, shared
            file.title = str(title) if title else file.filename
            file.initial_comment = args.get("initial_comment")
        return {"files": [_file_object(file) for file, _ in files]}

    async def _file_info(self, args: dict[str, Any]) -> dict[str, Any]:
        file = self.files.get(str(args.get("file") or ""))
        if file is None:
            raise SlackError("file_not_found")
        return {"file": _file_object(file)}


def _file_object(file: File) -> dict[str, Any]:
    """A file as Slack describes it: where it is shared, by kind of conversation."""
    public = [c for c in file.channels if c[0] == "C"]
    private = [c for c in file.channels if c[0] in "DG"]
    return {
        "id": file.id,
        "name": file.filename,
        "title": file.title or file.filename,
        "size": len(file.data or b""),
        "alt_txt": file.alt_txt,
        "channels": public,
        "groups": [c for c in file.channels if c[0] == "G"],
        "ims": [c for c in file.channels if c[0] == "D"],
        "shares": {
            kind: {c: [{"ts": "0"}] for c in where}
            for kind, where in (("public", public), ("private", private))
            if where
        },
    }


async def _arguments(request: web.Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            args.update(body)
    elif request.can_read_body:
        args.update(await request.post())
    return args


def _blocks(raw: Any, limit: int) -> list[dict[str, Any]]:
    if raw is None or raw == "":
        return []
    blocks = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(blocks, list) or len(blocks) > limit:
        raise SlackError("invalid_blocks")
    ids = set()
    for block in blocks:
        if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
            raise SlackError("invalid_blocks")
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in ids or len(str(block_id)) > 255:
                raise SlackError("invalid_blocks")
            ids.add(block_id)
        text = block.get("text")
        if isinstance(text, dict) and len(str(text.get("text", ""))) > 3000:
            raise SlackError("invalid_blocks")
        if block["type"] == "actions" and len(block.get("elements") or []) > 25:
            raise SlackError("invalid_blocks")
    return blocks


def main() -> None:
    parser = argparse.ArgumentParser(description="A local stand-in for Slack's Web API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3030)
    parser.add_argument("--token", default=StandIn.token)
    args = parser.parse_args()
    web.run_app(StandIn(token=args.token).app(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
