"""An HTTP answer as a control error: 429 is worth retrying after a while, 5xx later, other
4xx never; ``Retry-After`` in seconds or as a date."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from telephony_adapters._control_http import error_for, retry_after
from telephony_adapters.control import Refused, Throttled, Unreachable

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("3", 3.0),
        ("0.5", 0.5),
        ("-4", 0.0),
        ("Mon, 02 Mar 2026 09:00:30 GMT", 30.0),
        ("Mon, 02 Mar 2026 08:59:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after(value: str | None, seconds: float | None) -> None:
    assert retry_after(value, NOW) == seconds


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (200, None),
        (204, None),
        (429, Throttled),
        (500, Unreachable),
        (503, Unreachable),
        (408, Unreachable),
        (400, Refused),
        (401, Refused),
        (403, Refused),
        (404, Refused),
    ],
)
def test_error_for(status: int, kind: type[Exception] | None) -> None:
    error = error_for(status, "thing", 2.0)
    assert (type(error) if error is not None else None) is kind
    if isinstance(error, Throttled):
        assert error.retry_after == 2.0
