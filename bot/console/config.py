"""What the console is given by the root: its cookie key, who supervises, Sign in with Slack."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SlackSignIn:
    """Sign in with Slack (OpenID Connect): the app's client and Slack's endpoints."""

    client_id: str
    client_secret: str
    authorize_url: str = "https://slack.com/openid/connect/authorize"
    api_url: str = "https://slack.com/api/"
    """The Web API's base URL: ``openid.connect.token`` and ``openid.connect.userInfo``."""
    team_id: str | None = None
    """Only people of this workspace may sign in (``None``: any; roles still decide)."""


@dataclass(frozen=True)
class ConsoleConfig:
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    """The 32-byte key that encrypts and signs the session cookie."""
    secure_cookies: bool = False
    """Mark the cookie ``Secure``: the service is reached over https."""
    session_seconds: int = 12 * 3600
    supervisors: frozenset[str] = frozenset()
    """Slack user ids of supervisors."""
    supervisor_group: str | None = None
    """A Slack user group whose (synced) members are supervisors."""
    public_url: str | None = None
    """The service's URL as people reach it (the redirect URI given to Slack is built on it)."""
    slack: SlackSignIn | None = None

    @staticmethod
    def key_of(secret: str) -> bytes:
        """The cookie key made from a configured secret of any length."""
        return hashlib.sha256(secret.encode()).digest()
