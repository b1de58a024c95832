"""The real center the default simulation is built from, as figures derived from its data.

The "Anonymous Bank" of the Technion SEE Center (Brown et al. 2005, JASA 100:36-50): its
mean calls per weekday and 6-minute slot over 1999, its handle times (August 1999 call
records, lognormal by their mean and standard deviation, calls over an hour left out) and its
callers' patience (exponential; the maximum-likelihood mean from the time queued callers
waited, over the callers who hung up). The figures ship in ``data/anonymous_bank_1999.json``;
:func:`derive_profile` computes them again from the data files, and a test checks they agree.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from pydantic import BaseModel, Field

SHIPPED = "anonymous_bank_1999.json"
LONGEST_CALL_SECONDS = 3600
DAY_LEVEL_SD = 0.10
"""Day-to-day spread (log) of a day's calls around what its weekday and the season lead one
to expect: what a day-ahead forecast cannot know. The raw spread of the bank's weekdays over
1999 is 0.18, most of it the seasons, which the forecast follows."""


class CenterProfile(BaseModel):
    name: str
    source: str
    interval_minutes: int = Field(gt=0)
    weekday_slots: list[list[float]] = Field(min_length=7, max_length=7)
    """Mean calls per slot for Monday to Sunday."""
    day_level_sd: float = Field(ge=0)
    handle_mean: float = Field(gt=0)
    handle_sd: float = Field(gt=0)
    patience_mean: float = Field(gt=0)

    def per_minute(self, weekday: int) -> np.ndarray:
        """Mean calls in each minute of a day with this weekday (0 is Monday)."""
        slots = np.asarray(self.weekday_slots[weekday], dtype=float)
        return np.repeat(slots, self.interval_minutes) / self.interval_minutes


def load_profile(path: Path | None = None) -> CenterProfile:
    text = (
        path.read_text(encoding="utf-8")
        if path is not None
        else resources.files("simulation").joinpath("data", SHIPPED).read_text(encoding="utf-8")
    )
    return CenterProfile.model_validate_json(text)


def derive_profile(arrivals_csv: Path, records_csv: Path) -> CenterProfile:
    """The profile from the bank's 6-minute arrivals and its call-by-call records."""
    arrivals = pd.read_csv(arrivals_csv, parse_dates=["interval_start"])
    arrivals = arrivals[~arrivals["imputed"].astype(bool)]
    stamp = arrivals["interval_start"]
    minutes = int((stamp.iloc[1] - stamp.iloc[0]).total_seconds() // 60)
    slot = (stamp.dt.hour * 60 + stamp.dt.minute) // minutes
    table = arrivals.assign(weekday=stamp.dt.dayofweek, slot=slot)
    means = table.groupby(["weekday", "slot"])["calls"].mean().unstack(fill_value=0.0)
    records = pd.read_csv(records_csv, low_memory=False)
    served = records.loc[
        (records["outcome"] == "AGENT")
        & (records["ser_time"] > 0)
        & (records["ser_time"] <= LONGEST_CALL_SECONDS),
        "ser_time",
    ]
    queued = records[records["q_time"] > 0]
    hung_up = int((queued["outcome"] == "HANG").sum())
    return CenterProfile(
        name="Anonymous Bank 1999",
        source="Technion SEE Center, Anonymous Bank call center data (Brown et al. 2005)",
        interval_minutes=minutes,
        weekday_slots=[[round(float(v), 4) for v in means.loc[d]] for d in range(7)],
        day_level_sd=DAY_LEVEL_SD,
        handle_mean=round(float(served.mean()), 2),
        handle_sd=round(float(served.std()), 2),
        patience_mean=round(float(queued["q_time"].sum()) / hung_up, 2),
    )
