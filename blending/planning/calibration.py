"""The arrivals' bands made to hold: split-conformal widening of the model's 80% and 95% bands.

The model's own intervals (MSTL with ETS on the square-root scale) take the decomposition and
the month factors as known, so they come out too narrow. Before the forecast, the model is fit
once more without the last ``horizon`` days (at least 14) of (at most ``most_series`` of) the
series; each of those days gives a score, how many of the model's standard deviations the actual
arrivals (square-root scale) fell from its mean. The scores' 80% and 95% quantiles, over the
model's own 1.28 and 1.96, are the factors the bands are widened (or narrowed) by. Pure and
blocking.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import numpy as np

from blending.intervals import FloatArray
from blending.planning.arrivals import MIN_DAYS, MODEL, Z80, Z95, DailyBands, forecast_daily

HOLD_OUT = 14
"""Days held out at least, whatever the plan's horizon: a few days' scores are too few to
read an 80% quantile from, and one odd day would set it."""
MOST_SERIES = 12
"""Series refit for the calibration: the busiest, so that the cost stays bounded."""
LIMITS = (0.5, 4.0)


def standard_scores(
    bands: DailyBands, actual: FloatArray, widen: tuple[float, float] = (1.0, 1.0)
) -> FloatArray:
    """|actual - mean| in the model's standard deviations, on the square-root scale (read
    back from the upper bounds, which the floor at zero does not touch; ``widen``: the
    factors the bands were widened by)."""
    k80, k95 = widen
    u80 = np.sqrt(np.asarray(bands.hi_80) + 0.25)
    u95 = np.sqrt(np.asarray(bands.hi_95) + 0.25)
    sd = (u95 - u80) / max(k95 * Z95 - k80 * Z80, 1e-9)
    z = u80 - k80 * Z80 * sd
    y = np.sqrt(np.maximum(np.asarray(actual, dtype=float), 0.0) + 0.25)
    scores: FloatArray = np.abs(y - z) / np.maximum(sd, 1e-9)
    return scores


def widening(
    history: Mapping[str, FloatArray],
    first: date,
    horizon: int,
    *,
    most_series: int = MOST_SERIES,
) -> tuple[float, float]:
    """Factors for the 80% and 95% bands, from the last ``horizon`` days held out (at least
    :data:`HOLD_OUT`); (1, 1) when the history is too short to hold them out."""
    if not history:
        return 1.0, 1.0
    horizon = max(horizon, HOLD_OUT)
    length = len(next(iter(history.values())))
    if length - horizon < MIN_DAYS:
        return 1.0, 1.0
    busiest = sorted(history, key=lambda t: -float(np.sum(history[t])))[:most_series]
    train = {t: np.asarray(history[t][: length - horizon], dtype=float) for t in busiest}
    fitted = forecast_daily(train, first, horizon, models=(MODEL,))[MODEL]
    scores = np.concatenate(
        [standard_scores(fitted[t], np.asarray(history[t][length - horizon :])) for t in busiest]
    )
    n = len(scores)
    # The conformal quantile: the ceil((n + 1) q)-th smallest score.
    ranked = np.sort(scores)
    out = []
    for q, z in ((0.8, Z80), (0.95, Z95)):
        k = min(n - 1, int(np.ceil((n + 1) * q)) - 1)
        out.append(float(np.clip(ranked[k] / z, *LIMITS)))
    return out[0], out[1]


def forecast_calibrated(
    history: Mapping[str, FloatArray], first: date, horizon: int
) -> dict[str, DailyBands]:
    """The model's forecast with its bands widened by :func:`widening`."""
    widen = widening(history, first, horizon)
    return forecast_daily(history, first, horizon, models=(MODEL,), widen=widen)[MODEL]
