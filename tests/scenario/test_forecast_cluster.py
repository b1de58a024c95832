"""Forecasts fitted on a Dask cluster (BLENDBOT_FORECAST_CLUSTER) match those fitted here.

The cluster runs in this process (``LocalCluster(processes=False)``), reached through its
scheduler's address as a remote one would be.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import asyncpg
import numpy as np
import pandas as pd  # type: ignore[import-untyped]
import pytest
from distributed import LocalCluster

from blending.forecast_cluster import DaskCluster, scheduler_address
from blending.forecast_model import forecast_many
from blending.forecast_store import ForecastSettings, read, refresh
from blending.intervals import Arrivals, regularise
from bot.root import parts
from bot.settings import SettingsError, load_settings
from tests.scenario.test_forecasting_service import NOW, add_history

pytestmark = pytest.mark.once


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    with LocalCluster(
        processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def _queues(count: int) -> list[Arrivals]:
    rng = np.random.default_rng(3)
    index = pd.date_range("2024-01-01", periods=(4 * 7 + 1) * 96 - 56, freq="15min")
    hours = index.hour + index.minute / 60
    shape = np.exp(-0.5 * ((hours - 12) / 3) ** 2) * np.where(index.weekday >= 5, 0.4, 1.0)
    return [
        regularise(
            pd.DataFrame({"interval_start": index, "calls": rng.poisson(shape * 20 * (q + 1))}),
            f"q{q}",
        )[0]
        for q in range(count)
    ]


def test_forecasts_on_a_dask_cluster_equal_the_local_ones(scheduler: str) -> None:
    queues = _queues(4)
    local = forecast_many(queues, "mstl_theta", weeks=4, workers=1)
    with DaskCluster(scheduler) as cluster:
        remote = forecast_many(queues, "mstl_theta", weeks=4, cluster=cluster)
    assert [f.queue for f in remote] == [f.queue for f in local]
    for mine, theirs in zip(local, remote, strict=True):
        assert theirs.origin == mine.origin
        assert theirs.level_factor == pytest.approx(mine.level_factor)
        assert [p.interval_start for p in theirs.points] == [p.interval_start for p in mine.points]
        for a, b in zip(mine.points, theirs.points, strict=True):
            assert (b.mean, b.lo_80, b.hi_95) == pytest.approx((a.mean, a.lo_80, a.hi_95))


async def test_the_service_refresh_on_a_cluster_stores_the_same_forecasts(
    pool: asyncpg.Pool, scheduler: str
) -> None:
    await add_history(pool, "billing", 28)
    await add_history(pool, "new-line", 3)
    policy = ForecastSettings(model="mstl_ets", weeks=3, every_seconds=0, cluster=scheduler)
    remote = await refresh(pool, NOW, policy)
    assert remote["billing"] is None
    assert "history" in (remote["new-line"] or "")  # an error comes back as the queue's
    on_cluster = await read(pool, "billing", NOW - timedelta(hours=1))
    local = await refresh(pool, NOW, ForecastSettings(model="mstl_ets", weeks=3, every_seconds=0))
    assert local == remote
    here = await read(pool, "billing", NOW - timedelta(hours=1))
    assert len(here.intervals) == len(on_cluster.intervals) > 24
    for a, b in zip(here.intervals, on_cluster.intervals, strict=True):
        assert b.interval_start == a.interval_start
        assert (b.mean, b.hi_80, b.hi_95) == pytest.approx((a.mean, a.hi_80, a.hi_95))
        assert (b.agents, b.agents_high) == (a.agents, a.agents_high)


async def test_an_unreachable_scheduler_fails_the_refresh(pool: asyncpg.Pool) -> None:
    await add_history(pool, "billing", 28)
    policy = ForecastSettings(weeks=3, cluster="tcp://127.0.0.1:9")
    with pytest.raises(OSError, match=r"127\.0\.0\.1:9"):
        await refresh(pool, NOW, policy)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ray://head:10001", "ray:// is not supported yet"),
        ("http://scheduler:8786", "must be dask://host:port"),
        ("dask://scheduler", "must name a host and a port"),
        ("dask://scheduler:port", "the port must be a number"),
    ],
)
def test_a_cluster_url_that_cannot_work_is_refused_at_start(url: str, message: str) -> None:
    with pytest.raises(SettingsError, match="BLENDBOT_FORECAST_CLUSTER") as refused:
        load_settings(forecast_cluster=url)
    assert message in str(refused.value)


def test_the_service_sends_its_fits_to_the_scheduler_named() -> None:
    assert scheduler_address("dask://scheduler:8786") == "tcp://scheduler:8786"
    wired = parts(load_settings(forecast_cluster="dask://10.0.0.5:8786"))
    assert wired.forecasts.cluster == "tcp://10.0.0.5:8786"
    assert parts(load_settings()).forecasts.cluster is None  # unset: fitted here
