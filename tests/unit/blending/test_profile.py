"""The shipped profile is what the bank's data says."""

from __future__ import annotations

import pytest

from simulation.profile import derive_profile, load_profile
from tests.conftest import ROOT

DATA = ROOT.parent / "shared" / "data"


def test_the_shipped_figures_are_derived_from_the_real_data() -> None:
    derived = derive_profile(
        DATA / "anonymous_bank_1999_6min_arrivals.csv",
        DATA / "anonymous_bank_1999-08_call_records.csv",
    )
    shipped = load_profile()
    assert shipped == derived
    assert sum(shipped.weekday_slots[6]) == pytest.approx(1644, abs=1)  # Sundays: the busiest
    assert shipped.handle_mean == pytest.approx(178.2, abs=0.1)
    assert shipped.patience_mean == pytest.approx(415.4, abs=0.1)
