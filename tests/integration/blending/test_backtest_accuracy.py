"""The backtest's accuracy targets, on the shared real data."""

from __future__ import annotations

import pytest

from simulation.backtest import backtest_csv
from tests.conftest import ROOT

DATA = ROOT.parent / "shared" / "data"
BANK = DATA / "anonymous_bank_1999_6min_arrivals.csv"
US_BANK = DATA / "us_bank_2003_5min_calls.csv"


@pytest.mark.skipif(not BANK.exists(), reason=f"real data absent: {BANK} (see its README)")
def test_accuracy_target_on_the_anonymous_bank() -> None:
    """Day-ahead on the "Anonymous Bank" 1999 arrivals (Brown et al., JASA 2005), last 8 days
    of the year: the best model's MASE at most 0.90 of the weekly seasonal naive's, and its
    80% intervals cover 75-85% of the actuals."""
    result = backtest_csv(BANK, folds=8)
    assert result.interval_minutes == 6
    assert result.best_vs_baseline <= 0.90
    assert 0.75 <= result.models[result.best].coverage_80 <= 0.85


@pytest.mark.skipif(not US_BANK.exists(), reason=f"real data absent: {US_BANK} (see its README)")
def test_accuracy_and_intraday_gain_on_the_us_bank() -> None:
    """Weinberg, Brown & Stroud (JASA 2007) 5-minute weekday calls with holidays missing."""
    result = backtest_csv(US_BANK, folds=6)
    assert result.interval_minutes == 5
    assert result.best_vs_baseline <= 0.90
    assert result.intraday is not None
    assert result.intraday.improvement > 0.03
