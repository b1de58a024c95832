"""Who is a supervisor: the configured user ids, and the members of a synced user group.

When the group's membership has never been synced, a user outside the configured ids is
denied: an unknown answer is never a yes. Every check is written to the audit log.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.store import SlackStore

log = logging.getLogger(__name__)


class Supervisors:
    def __init__(
        self,
        store: SlackStore,
        client: AsyncWebClient | None,
        user_ids: frozenset[str],
        group: str | None,
    ) -> None:
        self._store = store
        self._client = client
        self._ids = user_ids
        self._group = group

    async def allows(self, user_id: str) -> bool:
        if user_id in self._ids:
            return True
        if self._group is None:
            return False
        return await self._store.supervisor_group_member(self._group, user_id)

    async def check(self, user_id: str, action: str, **detail: Any) -> bool:
        """Whether ``user_id`` may do ``action``; the answer is audited either way."""
        allowed = await self.allows(user_id)
        await self._store.audit(user_id, action, allowed, **detail)
        return allowed

    async def sync(self) -> int | None:
        """Copy the user group's members into the database; ``None`` if Slack did not say
        (or there is no Slack client: the console signs people in without one)."""
        if self._group is None or self._client is None:
            return None
        try:
            response = await self._client.usergroups_users_list(usergroup=self._group)
        except SlackApiError as exc:
            log.warning("cannot read supervisor group %s: %s", self._group, exc)
            return None
        members: list[Any] = response.get("users") or []
        users = [str(u) for u in members]
        await self._store.sync_supervisor_group(self._group, users)
        return len(users)
