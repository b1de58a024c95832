"""Arrivals per interval from the imported history: where in the day the work comes."""

from __future__ import annotations

import asyncpg

from blending.planning.intraday_store import interval_forecast
from blending.planning.service import PlanSettings
from tests.support.backoffice import NOW, history


async def test_the_work_is_forecast_in_the_hours_it_comes(pool: asyncpg.Pool) -> None:
    # Ten billing tasks a weekday from 09:00, one every 20 minutes: 09:00 to 12:00.
    await history(pool, weeks=8, now=NOW)
    found = await interval_forecast(pool, NOW, PlanSettings(), days=2, minutes=60)

    assert [t.type for t in found] == ["billing"]
    billing = found[0]
    assert billing.minutes == 60
    hours = {i.start.hour for i in billing.intervals}
    assert hours == {9, 10, 11, 12}
    monday = [i for i in billing.intervals if i.start.date() == NOW.date()]
    assert 8.0 < sum(i.mean for i in monday) < 12.0  # a weekday's ten
    nine = next(i for i in monday if i.start.hour == 9)
    assert 2.0 < nine.mean < 4.0  # three of the ten come in the 09:00 hour
    assert nine.lo_80 < nine.mean < nine.hi_80
