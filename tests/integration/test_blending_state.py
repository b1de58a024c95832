"""Blending on or off: one row, and a record of each change."""

from __future__ import annotations

import asyncpg

from blending.switch import BlendingState


async def test_blending_is_on_until_set_off_and_each_change_is_recorded(
    pool: asyncpg.Pool,
) -> None:
    state = BlendingState(pool)
    initial = await state.get()
    assert initial.on
    assert initial.by is None

    off, changed = await state.set(False, "Sam Cho", "storm on the phones")
    assert changed
    assert (off.on, off.by, off.reason) == (False, "Sam Cho", "storm on the phones")
    assert (await state.get()) == off

    same, changed = await state.set(False, "Ana Ruiz", "again")
    assert not changed
    assert same == off

    on, changed = await state.set(True, "Ana Ruiz")
    assert changed
    assert on.on
    assert on.at >= off.at
    rows = await pool.fetch(
        "SELECT blending_on, changed_by FROM blending_state_changes ORDER BY id"
    )
    assert [tuple(r) for r in rows] == [(False, "Sam Cho"), (True, "Ana Ruiz")]
    assert await pool.fetchval("SELECT count(*) FROM blending_state") == 1


async def test_a_missing_row_reads_as_on_and_is_written_back(pool: asyncpg.Pool) -> None:
    await pool.execute("DELETE FROM blending_state")
    state = BlendingState(pool)
    assert (await state.get()).on
    off, changed = await state.set(False, "Sam Cho")
    assert changed
    assert not off.on
    assert not (await state.get()).on
