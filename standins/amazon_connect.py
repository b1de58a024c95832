"""A local stand-in for Amazon Connect's ``PutUserStatus``, for tests.

It checks what AWS checks: the SigV4 signature (recomputed with botocore from the request and
the known keys: a wrong one is 403 ``InvalidSignatureException``, an unknown key 403
``UnrecognizedClientException``, a missing one 403 ``MissingAuthenticationTokenException``),
the credential scope (the region and the ``connect`` service), the signing time (more than 5
minutes off is refused), the key's permission (``connect:PutUserStatus``, else 403
``AccessDeniedException``), the instance, user and agent status (404
``ResourceNotFoundException``) and the body (``AgentStatusId``, else 400
``InvalidParameterException``). Errors come as the REST-JSON protocol sends them: the type in
``x-amzn-ErrorType`` and ``{"message"}``. It keeps the account's API quota as a token bucket
(429 ``ThrottlingException`` past it) and records every call.

``ListUsers`` (``GET /users-summary/{InstanceId}``, ``maxResults`` 1 to 1000, default 100,
``nextToken`` as it handed out, else 400 ``InvalidParameterException``) lists the users of
``profiles`` in pages; ``DescribeUser`` (``GET /users/{InstanceId}/{UserId}``) answers a user
with ``IdentityInfo``. Both are signed and counted against the quota like ``PutUserStatus``;
keys in ``list_denied`` lack ``connect:ListUsers``/``connect:DescribeUser``.

Tests shape the answers: :meth:`ConnectStandIn.fail_next` (a status and an error type for the
next calls), ``no_change`` (answer 200 and change nothing), and read each user's status back,
or as the agent event stream would report it (:meth:`ConnectStandIn.agent_event`).
"""

from __future__ import annotations

import hmac
import json
import re
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SIGV4_TIMESTAMP = "%Y%m%dT%H%M%SZ"
SKEW_SECONDS = 300
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, SignedHeaders=(?P<headers>[a-z0-9;-]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class AgentStatus:
    name: str
    type: str
    """``ROUTABLE``, ``CUSTOM`` or ``OFFLINE``."""


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: Any
    status: int
    error: str | None = None
    at: float = 0.0


def _wall() -> datetime:
    return datetime.fromtimestamp(time.time(), UTC)


@dataclass
class ConnectStandIn:
    region: str = "eu-west-2"
    account: str = "123456789012"
    instance_id: str = "0f3e8b1c-5a4d-4c2b-9e7f-1a2b3c4d5e6f"
    keys: dict[str, str] = field(default_factory=dict)
    """Access key id → secret access key."""
    denied: set[str] = field(default_factory=set)
    """Access keys without ``connect:PutUserStatus``."""
    statuses: dict[str, AgentStatus] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    """User id → their current agent status id."""
    profiles: dict[str, dict[str, str]] = field(default_factory=dict)
    """User id → ``Username``, ``Email``, ``FirstName``, ``LastName`` (``ListUsers`` and
    ``DescribeUser``)."""
    list_denied: set[str] = field(default_factory=set)
    """Access keys without ``connect:ListUsers`` and ``connect:DescribeUser``."""
    broken: set[str] = field(default_factory=set)
    """User ids whose ``DescribeUser`` answers 500 ``InternalServiceException``."""
    rate: float = 2.0
    burst: int = 5
    no_change: bool = False
    now: Callable[[], datetime] = field(default=lambda: _wall())
    """AWS's clock, which the signing time must be near."""
    calls: list[Call] = field(default_factory=list)
    _failures: deque[tuple[int, str, str]] = field(default_factory=deque)
    _pages: dict[str, int] = field(default_factory=dict)
    _tokens: float = -1.0
    _refilled: float = 0.0

    def fail_next(self, status: int, error: str, times: int = 1, message: str = "") -> None:
        """Answer the next ``times`` calls with ``status`` and the error type ``error``."""
        self._failures.extend([(status, error, message or error)] * times)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_put("/users/{instance}/{user}/status", self._put_user_status)
        app.router.add_get("/users-summary/{instance}", self._list_users)
        app.router.add_get("/users/{instance}/{user}", self._describe_user)
        return app

    def user_arn(self, user: str) -> str:
        return (
            f"arn:aws:connect:{self.region}:{self.account}:instance/{self.instance_id}/agent/{user}"
        )

    def _read_problem(self, request: web.Request, action: str) -> tuple[int, str, str] | None:
        problem = self._verify(request, b"", action)
        if problem is None and request.match_info["instance"] != self.instance_id:
            problem = 404, "ResourceNotFoundException", "Instance not found"
        if problem is None and self._failures:
            problem = self._failures.popleft()
        if problem is None and self._throttled():
            problem = 429, "ThrottlingException", "Rate exceeded"
        return problem

    def _answer(
        self, request: web.Request, action: str, problem: tuple[int, str, str] | None
    ) -> web.Response | None:
        self.calls.append(
            Call(
                action,
                request.path_qs,
                None,
                problem[0] if problem else 200,
                problem[1] if problem else None,
                time.monotonic(),
            )
        )
        if problem is None:
            return None
        status, error, message = problem
        return web.json_response(
            {"message": message}, status=status, headers={"x-amzn-ErrorType": error}
        )

    async def _list_users(self, request: web.Request) -> web.Response:
        problem = self._read_problem(request, "ListUsers")
        size, start = 100, 0
        if problem is None:
            try:
                size = int(request.query.get("maxResults", "100"))
            except ValueError:
                size = 0
            token = request.query.get("nextToken")
            if not 1 <= size <= 1000:
                problem = 400, "InvalidParameterException", "maxResults must be 1 to 1000"
            elif token is not None:
                if token not in self._pages:
                    problem = 400, "InvalidParameterException", "nextToken is not valid"
                else:
                    start = self._pages[token]
        refused = self._answer(request, "ListUsers", problem)
        if refused is not None:
            return refused
        ids = sorted(self.profiles)
        page = ids[start : start + size]
        body: dict[str, Any] = {
            "UserSummaryList": [
                {
                    "Id": user,
                    "Arn": self.user_arn(user),
                    "Username": self.profiles[user].get("Username", user),
                    "LastModifiedRegion": self.region,
                    "LastModifiedTime": 1_700_000_000.0,
                }
                for user in page
            ]
        }
        if start + size < len(ids):
            token = uuid.uuid4().hex
            self._pages[token] = start + size
            body["NextToken"] = token
        return web.json_response(body)

    async def _describe_user(self, request: web.Request) -> web.Response:
        problem = self._read_problem(request, "DescribeUser")
        user = request.match_info["user"]
        if problem is None and user not in self.profiles:
            problem = 404, "ResourceNotFoundException", "User not found"
        if problem is None and user in self.broken:
            problem = 500, "InternalServiceException", "Request processing failed"
        refused = self._answer(request, "DescribeUser", problem)
        if refused is not None:
            return refused
        profile = self.profiles[user]
        info = {k: profile[k] for k in ("Email", "FirstName", "LastName") if k in profile}
        return web.json_response(
            {
                "User": {
                    "Id": user,
                    "Arn": self.user_arn(user),
                    "Username": profile.get("Username", user),
                    "IdentityInfo": info,
                    "PhoneConfig": {"PhoneType": "SOFT_PHONE", "AutoAccept": False},
                    "SecurityProfileIds": [],
                    "RoutingProfileId": str(uuid.uuid5(uuid.NAMESPACE_URL, "routing")),
                    "Tags": {},
                }
            }
        )

    def status_arn(self, status_id: str) -> str:
        return (
            f"arn:aws:connect:{self.region}:{self.account}:instance/{self.instance_id}"
            f"/agent-state/{status_id}"
        )

    def agent_arn(self, user: str) -> str:
        return (
            f"arn:aws:connect:{self.region}:{self.account}:instance/{self.instance_id}/agent/{user}"
        )

    def agent_event(self, user: str, at: datetime | None = None) -> dict[str, Any]:
        """A ``STATE_CHANGE`` record of the agent event stream with the user's status now."""
        at = at or self.now()
        status_id = self.users[user]
        status = self.statuses[status_id]
        stamp = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {
            "AWSAccountId": self.account,
            "AgentARN": self.agent_arn(user),
            "EventId": str(uuid.uuid4()),
            "EventTimestamp": stamp,
            "EventType": "STATE_CHANGE",
            "InstanceARN": f"arn:aws:connect:{self.region}:{self.account}:instance/"
            f"{self.instance_id}",
            "Version": "2019-05-25",
            "CurrentAgentSnapshot": {
                "AgentStatus": {
                    "ARN": self.status_arn(status_id),
                    "Name": status.name,
                    "StartTimestamp": stamp,
                    "Type": status.type,
                },
                "Contacts": [],
            },
        }

    def _throttled(self) -> bool:
        now = time.monotonic()
        if self._tokens < 0:
            self._tokens, self._refilled = float(self.burst), now
        self._tokens = min(self.burst, self._tokens + (now - self._refilled) * self.rate)
        self._refilled = now
        if self._tokens < 1:
            return True
        self._tokens -= 1
        return False

    def _verify(
        self, request: web.Request, body: bytes, action: str = "PutUserStatus"
    ) -> tuple[int, str, str] | None:
        """The signature check: ``None`` when it holds, else the error to answer."""
        header = request.headers.get("Authorization")
        amz_date = request.headers.get("X-Amz-Date", "")
        if not header:
            return 403, "MissingAuthenticationTokenException", "Missing Authentication Token"
        found = _AUTHORIZATION.match(header)
        if found is None:
            return 403, "IncompleteSignatureException", "Authorization header is malformed"
        secret = self.keys.get(found["key"])
        if secret is None:
            return 403, "UnrecognizedClientException", "The security token is invalid"
        if found["region"] != self.region or found["service"] != "connect":
            return 403, "InvalidSignatureException", "Credential should be scoped correctly"
        try:
            signed_at = datetime.strptime(amz_date, SIGV4_TIMESTAMP).replace(tzinfo=UTC)
        except ValueError:
            return 403, "IncompleteSignatureException", "X-Amz-Date is missing or malformed"
        if found["date"] != amz_date[:8]:
            return 403, "InvalidSignatureException", "Credential date does not match X-Amz-Date"
        if abs((self.now() - signed_at).total_seconds()) > SKEW_SECONDS:
            return 403, "InvalidSignatureException", "Signature expired"
        names = found["headers"].split(";")
        if "host" not in names or "x-amz-date" not in names:
            return 403, "InvalidSignatureException", "host and x-amz-date must be signed"
        headers = {name: request.headers.get(name, "") for name in names}
        rebuilt = AWSRequest(
            method=request.method,
            url=f"{request.scheme}://{request.host}{request.raw_path}",
            data=body,
            headers=headers,
        )
        rebuilt.context["timestamp"] = amz_date
        token = request.headers.get("X-Amz-Security-Token")
        signer = SigV4Auth(Credentials(found["key"], secret, token), "connect", self.region)
        canonical = signer.canonical_request(rebuilt)
        expected = signer.signature(signer.string_to_sign(rebuilt, canonical), rebuilt)
        if not hmac.compare_digest(expected, found["signature"]):
            return (
                403,
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided",
            )
        denied = self.denied if action == "PutUserStatus" else self.list_denied
        if found["key"] in denied:
            return 403, "AccessDeniedException", f"not authorized to perform connect:{action}"
        return None

    async def _put_user_status(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        problem = self._verify(request, raw) or self._check(request, body)
        if problem is None and self._failures:
            problem = self._failures.popleft()
        if problem is None and self._throttled():
            problem = 429, "ThrottlingException", "Rate exceeded"
        call = Call(
            "PutUserStatus",
            request.path,
            body,
            problem[0] if problem else 200,
            problem[1] if problem else None,
            time.monotonic(),
        )
        self.calls.append(call)
        if problem is not None:
            status, error, message = problem
            return web.json_response(
                {"message": message}, status=status, headers={"x-amzn-ErrorType": error}
            )
        assert isinstance(body, dict)
        if not self.no_change:
            self.users[request.match_info["user"]] = body["AgentStatusId"]
        return web.Response(status=200)

    def _check(self, request: web.Request, body: Any) -> tuple[int, str, str] | None:
        if request.match_info["instance"] != self.instance_id:
            return 404, "ResourceNotFoundException", "Instance not found"
        if request.match_info["user"] not in self.users:
            return 404, "ResourceNotFoundException", "User not found"
        status = body.get("AgentStatusId") if isinstance(body, dict) else None
        if not isinstance(status, str) or not status:
            return 400, "InvalidParameterException", "AgentStatusId is required"
        if status not in self.statuses:
            return 404, "ResourceNotFoundException", "Agent status not found"
        return None
