"""The Now board's live updates send what changed: the diff of two renderings gives, per
list, the rows removed and the rows put (changed, added or moved) after their predecessor,
and applied to the first it gives the second; a changed shape has no patch."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jinja2
from hypothesis import given
from hypothesis import strategies as st

from bot.console.board import TEMPLATE, AgentLine, Board, QueueLine, render
from bot.console.fragments import Rendered, Rows, diff, diff_rows, rendered
from bot.console.render import filters
from queues.views import TypeBacklog

NOW = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)


def apply(rows: Rows, change: dict[str, Any]) -> Rows:
    """What the page's script does with a list's diff (console.js, ``patch``)."""
    if not change:
        return rows
    out = [r for r in rows if r[0] not in set(change["remove"])]
    for key, after, html in change["put"]:
        out = [r for r in out if r[0] != key]
        at = 0 if after is None else [k for k, _ in out].index(after) + 1
        out.insert(at, (key, html))
    return tuple(out)


def rows(*keys: str, v: str = "") -> Rows:
    return tuple((k, f"<tr>{k}{v}</tr>") for k in keys)


def test_the_same_rows_have_no_change() -> None:
    assert diff_rows(rows("a", "b"), rows("a", "b")) == {}


def test_a_changed_row_is_put_after_its_predecessor() -> None:
    old = rows("a", "b", "c")
    new = (old[0], ("b", "<tr>b2</tr>"), old[2])
    assert diff_rows(old, new) == {"remove": [], "put": [["b", "a", "<tr>b2</tr>"]]}


def test_an_added_row_and_a_removed_one() -> None:
    change = diff_rows(rows("a", "b", "c"), rows("x", "a", "c"))
    assert change == {"remove": ["b"], "put": [["x", None, "<tr>x</tr>"]]}
    assert apply(rows("a", "b", "c"), change) == rows("x", "a", "c")


def test_a_moved_row_alone_is_sent() -> None:
    # An agent going on a call moves from the available ones to the end of those on calls:
    # only that row goes, not every row after it.
    old = rows(*"abcdefgh")
    new = rows(*"abfcdegh")
    change = diff_rows(old, new)
    assert change == {"remove": [], "put": [["f", "b", "<tr>f</tr>"]]}
    assert apply(old, change) == new


@given(
    st.lists(st.sampled_from("abcdefghij"), unique=True),
    st.lists(st.sampled_from("abcdefghij"), unique=True),
    st.sets(st.sampled_from("abcdefghij")),
)
def test_a_diff_applied_gives_the_new_rows(
    old: list[str], new: list[str], edited: set[str]
) -> None:
    before = rows(*old)
    after = tuple((k, f"<tr>{k}{'*' if k in edited else ''}</tr>") for k in new)
    assert apply(before, diff_rows(before, after)) == after


def two(shape: str, a: Rows, b: Rows) -> tuple[Rendered, Rendered]:
    return rendered(shape, {"agents": a}), rendered(shape, {"agents": b})


def test_a_patch_names_only_the_lists_that_changed() -> None:
    shape = "<p>\x00stamp\x00</p><table>\x00agents\x00</table>" * 20
    old = rendered(shape, {"stamp": rows("s", v="1"), "agents": rows(*"abcdef")})
    new = rendered(shape, {"stamp": rows("s", v="2"), "agents": rows(*"abcdef")})
    patch = diff(old, new)
    assert patch is not None
    assert json.loads(patch) == {
        "lists": {"stamp": {"remove": [], "put": [["s", None, "<tr>s2</tr>"]]}}
    }


def test_another_shape_or_a_patch_larger_than_the_board_is_none() -> None:
    old, new = two("<table>\x00agents\x00</table>", rows("a"), rows("a"))
    assert diff(old, rendered("<p>none</p>", {"agents": ()})) is None
    old, new = two("<table>\x00agents\x00</table>", rows("a"), rows("b"))
    assert diff(old, new) is None  # the whole board is shorter


def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(filters(UTC))
    return env.get_template(TEMPLATE)


def _board(at: datetime, dana: str, waiting: int) -> Board:
    since = NOW - timedelta(minutes=7)
    return Board(
        at=at,
        blending_on=True,
        queues=[
            QueueLine("sales", waiting, 45.0 + (at - NOW).total_seconds(), 0.9, 10, "open", True)
        ],
        agents=[
            AgentLine("omar", "Omar Haddad", "on_call", since, None, None, None),
            AgentLine("dana", "Dana Levi", dana, since, None, None, None),
            AgentLine(f"agent{waiting}", "Someone", "available", since, None, None, None),
        ],
        backlog=[TypeBacklog("billing", 2, 1, 0, NOW)],
    )


def test_rows_are_the_same_as_time_passes_and_the_board_is_the_rows_in_their_places() -> None:
    # A duration is counted by the page from data-since: a second later, only the stamp
    # (the server's clock) differs.
    template = _template()
    first = render(template, _board(NOW, "available", 1))
    later = render(template, _board(NOW + timedelta(seconds=1), "available", 1))
    assert {k: v for k, v in first.lists.items() if k != "stamp"} == {
        k: v for k, v in later.lists.items() if k != "stamp"
    }
    patch = diff(first, later)
    assert patch is not None
    assert list(json.loads(patch)["lists"]) == ["stamp"]
    html = first.html()
    assert "\n" not in html
    assert "\x00" not in html
    for _, row in first.lists["agents"]:
        assert row in html
    assert 'data-key="dana"' in html
    assert 'data-list="agents"' in html


def test_a_state_changed_sends_its_row_and_the_counts() -> None:
    template = _template()
    first = render(template, _board(NOW, "available", 1))
    patch = diff(first, render(template, _board(NOW, "on_call", 2)))
    assert patch is not None
    lists = json.loads(patch)["lists"]
    assert sorted(lists) == ["agents", "counts", "queues"]  # the same time: the same stamp
    assert lists["agents"]["remove"] == ["agent1"]
    assert [p[0] for p in lists["agents"]["put"]] == ["dana", "agent2"]
    assert "on a call" in lists["agents"]["put"][0][2]


def test_a_list_emptied_changes_the_shape() -> None:
    template = _template()
    first = render(template, _board(NOW, "available", 1))
    empty = _board(NOW, "available", 1)
    empty.backlog = []
    assert diff(first, render(template, empty)) is None


def test_an_agents_row_kept_from_the_rendering_before_is_not_rendered_again() -> None:
    template = _template()
    kept: dict[AgentLine, str] = {}
    first = render(template, _board(NOW, "available", 1), kept)
    assert sorted(a.agent_id for a in kept) == ["agent1", "dana", "omar"]
    omar = next(a for a in kept if a.agent_id == "omar")
    kept[omar] = "<tr>as kept</tr>"
    second = render(template, _board(NOW, "on_call", 2), kept)
    assert dict(second.lists["agents"])["omar"] == "<tr>as kept</tr>"
    assert dict(second.lists["agents"])["dana"] != dict(first.lists["agents"])["dana"]
    assert sorted(a.agent_id for a in kept) == ["agent2", "dana", "omar"]
