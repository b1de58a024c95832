"""Slack's users for the roster sync: ``users.lookupByEmail`` for each agent's email.

Slack finds a user by email only with the ``users:read.email`` scope; an email no user has is
``users_not_found`` (that agent stays unmatched). Rate limits (429 with ``Retry-After``) are
waited out by slack_sdk's retry handler; any other error stops the reading, so that the sync
never works on half of Slack's answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from queues.roster_match import SLACK, Person
from telephony_adapters.directory import DirectoryError

RATE_LIMIT_RETRIES = 10
"""How many rate-limited answers in a row one lookup waits out."""


def lookup_client(token: str, base_url: str) -> AsyncWebClient:
    """A Web API client that waits out Slack's rate limits (lookups are Tier 3)."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=10,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


class SlackDirectory:
    source = SLACK

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self.lookups = 0

    async def find(self, emails: Iterable[str]) -> list[Person]:
        """The Slack users with these emails (each looked up once); emails no user has are
        left out."""
        found: list[Person] = []
        for email in sorted(set(emails)):
            self.lookups += 1
            try:
                response = await self._client.users_lookupByEmail(email=email)
            except SlackApiError as exc:
                error = exc.response.get("error") if exc.response is not None else None
                if error == "users_not_found":
                    continue
                raise DirectoryError(SLACK, f"users.lookupByEmail: {error or exc}") from None
            except (SlackClientError, OSError, TimeoutError) as exc:
                raise DirectoryError(SLACK, f"users.lookupByEmail: {exc}") from None
            user: Any = response.get("user")
            if isinstance(user, dict) and user.get("id") and not user.get("deleted"):
                found.append(_person(user, email))
        return found


def _person(user: dict[str, Any], asked: str) -> Person:
    profile: dict[str, Any] = user["profile"] if isinstance(user.get("profile"), dict) else {}
    email = profile["email"] if isinstance(profile.get("email"), str) else asked
    return Person(
        external_id=str(user["id"]),
        email=email,
        name=str(user.get("real_name") or profile.get("real_name") or user.get("name") or ""),
    )
