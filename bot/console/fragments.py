"""The Now board as keyed fragments, so that an update sends what changed, not the board.

A rendering is the board's *shape* (its HTML with the place of each list marked) and its
lists: the rows of a table, the counts, the stamp, each a ``(key, html)`` pair in order.
:func:`diff` compares two renderings once, whatever the number of consoles, and gives the
patch a console that shows the first needs to show the second: per list, the keys removed
and the rows to put (changed, added or moved) after the key that precedes them. A different
shape (a table appearing or emptied) has no patch: the console takes the whole board."""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

_LINE_BREAKS = re.compile(r"[ \t]*(?:\r\n|\r|\n)\s*")
"""Server-sent events frame each line of the data on its own: the board goes as one line,
framed for a hundred consoles in the time one took (a break is a space in HTML)."""
_MARK = "\x00"

Rows = tuple[tuple[str, str], ...]


def one_line(html: str) -> str:
    return _LINE_BREAKS.sub(" ", html)


def slot(name: str) -> Markup:
    """Where list ``name``'s rows go in the shape (the template writes it)."""
    return Markup("\x00%s\x00") % name


@dataclass(frozen=True)
class Rendered:
    shape: str
    lists: Mapping[str, Rows]

    def html(self) -> str:
        """The whole board: the shape with each list's rows in its place."""
        parts = self.shape.split(_MARK)
        for i in range(1, len(parts), 2):
            parts[i] = "".join(html for _, html in self.lists[parts[i]])
        return "".join(parts)


def rendered(shape: str, lists: Mapping[str, Sequence[tuple[str, Any]]]) -> Rendered:
    """A rendering from the template's output, on one line each."""
    return Rendered(
        one_line(shape),
        {name: tuple((key, one_line(str(h))) for key, h in rows) for name, rows in lists.items()},
    )


def _stable(order: Sequence[int]) -> set[int]:
    """The positions in ``order`` (old places of the rows kept, in their new order) of its
    longest increasing run: those rows stay where they are, the others move."""
    tails: list[int] = []  # the least last old place of an increasing run of each length
    ends: list[int] = []  # the position in ``order`` of that last one
    before: list[int] = []
    for i, place in enumerate(order):
        n = bisect.bisect_left(tails, place)
        before.append(ends[n - 1] if n else -1)
        if n == len(tails):
            tails.append(place)
            ends.append(i)
        else:
            tails[n] = place
            ends[n] = i
    kept: set[int] = set()
    i = ends[-1] if ends else -1
    while i >= 0:
        kept.add(i)
        i = before[i]
    return kept


def diff_rows(old: Rows, new: Rows) -> dict[str, list[Any]]:
    """What turns the rows ``old`` into ``new``: ``remove``, keys gone; ``put``, ``[key,
    after, html]`` in the new order, each placed after the row ``after`` (``None``: first),
    replacing the row of its key if there is one. Empty when they are the same."""
    was = {key: (i, html) for i, (key, html) in enumerate(old)}
    keys = {key for key, _ in new}
    kept = [key for key, _ in new if key in was]
    stable = {kept[i] for i in _stable([was[key][0] for key in kept])}
    put: list[Any] = []
    after: str | None = None
    for key, html in new:
        if key not in stable or was[key][1] != html:
            put.append([key, after, html])
        after = key
    removed = [key for key, _ in old if key not in keys]
    return {"remove": removed, "put": put} if removed or put else {}


def diff(old: Rendered, new: Rendered) -> str | None:
    """The patch from ``old`` to ``new`` as JSON (``{"lists": {name: rows' diff}}``), or
    ``None`` when the shapes differ or the patch is no smaller than the board."""
    if old.shape != new.shape or old.lists.keys() != new.lists.keys():
        return None
    changed = {}
    for name, rows in new.lists.items():
        found = diff_rows(old.lists[name], rows)
        if found:
            changed[name] = found
    patch = json.dumps({"lists": changed}, separators=(",", ":"), ensure_ascii=False)
    return patch if len(patch) < len(new.html()) else None
