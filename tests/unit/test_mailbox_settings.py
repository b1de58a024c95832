"""The shared mailboxes are read only where the settings say, at the pace they set."""

from __future__ import annotations

import pytest

from bot import root
from bot.settings import load_settings

NAMES = ("BLENDBOT_IMAP_POLL", "BLENDBOT_IMAP_POLL_SECONDS", "BLENDBOT_IMAP_IDLE_SECONDS")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*NAMES, "BLENDBOT_IMAP_BACKOFF_SECONDS"):
        monkeypatch.delenv(name, raising=False)


def test_mailboxes_are_read_by_default_at_the_set_pace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLENDBOT_IMAP_POLL_SECONDS", "15")
    monkeypatch.setenv("BLENDBOT_IMAP_IDLE_SECONDS", "600")
    wired = root.parts(load_settings())
    assert wired.mailboxes is not None
    assert (wired.mailboxes.poll_seconds, wired.mailboxes.idle_seconds) == (15, 600)
    assert wired.mailboxes.longest_backoff == 300


def test_an_instance_can_leave_the_mailboxes_to_others(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLENDBOT_IMAP_POLL", "false")
    assert root.parts(load_settings()).mailboxes is None
