"""The backtest's last fold as a PNG: actuals, the best model's forecast and its intervals."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from blending.errors import BlendingError
from simulation.backtest import BacktestResult


def plot_last_fold(result: BacktestResult, path: str | Path, model: str | None = None) -> Path:
    """Draw the last fold of ``result`` (the best model unless ``model`` is named) to ``path``.

    Needs matplotlib; drawing uses the non-interactive Agg backend, so no display is needed.
    """
    fold = result.last_fold
    if fold is None:
        raise BlendingError("this backtest result carries no fold to plot")
    name = model or result.best
    if name not in fold.forecasts:
        raise BlendingError(f"no forecast of model {name!r} in the last fold")
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise BlendingError("plotting needs matplotlib (pip install matplotlib)") from exc
    fc = fold.forecasts[name]
    base = fold.forecasts.get(result.baseline)
    x = np.array(fold.interval_start, dtype="datetime64[s]")
    figure = Figure(figsize=(11, 4.5), dpi=110)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    ax.fill_between(x, fc["lo_95"], fc["hi_95"], color="tab:blue", alpha=0.15, label="95%")
    ax.fill_between(x, fc["lo_80"], fc["hi_80"], color="tab:blue", alpha=0.3, label="80%")
    ax.plot(x, fc["mean"], color="tab:blue", linewidth=1.5, label=f"{name} forecast")
    if base is not None and name != result.baseline:
        ax.plot(
            x, base["mean"], color="tab:gray", linewidth=1, linestyle="--", label=result.baseline
        )
    ax.plot(x, fold.actual, color="black", linewidth=0.8, marker=".", markersize=3, label="actual")
    title = result.queue or "all calls"
    ax.set_title(
        f"{title}: day-ahead forecast, last of {result.folds} folds "
        f"({result.interval_minutes}-minute intervals)"
    )
    ax.set_ylabel(f"calls per {result.interval_minutes} min")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize="small")
    figure.autofmt_xdate()
    figure.tight_layout()
    out = Path(path)
    figure.savefig(out, format="png")
    return out
