"""Values put into the SOQL of Salesforce's comment lookup are taken literally: quotes and
backslashes escaped, and in a LIKE pattern its wildcards too (Salesforce's escape sequences)."""

from __future__ import annotations

import pytest

from task_sources.salesforce import soql_quote


@pytest.mark.parametrize(
    ("value", "like", "quoted"),
    [
        ("5005e00000ABCdeAAF", False, "5005e00000ABCdeAAF"),
        ("O'Brien \\ co", False, "O\\'Brien \\\\ co"),
        ("blendbot ref: blendbot-sf_main-12", True, "blendbot ref: blendbot-sf\\_main-12"),
        ("50%_off\n", True, "50\\%\\_off\\n"),
        ("50%_off", False, "50%_off"),
    ],
)
def test_values_are_quoted_as_soql_reads_them(value: str, like: bool, quoted: str) -> None:
    assert soql_quote(value, like=like) == quoted
