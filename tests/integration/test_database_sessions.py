"""Every connection the service opens carries its session settings, on any server."""

from __future__ import annotations

import asyncio

import asyncpg

from bot.database import SESSION, connect


async def test_every_pooled_connection_has_jit_off(pool: asyncpg.Pool) -> None:
    """A stock server has ``jit = on``, which tripled the matching round's p95 there."""

    async def setting() -> str:
        async with pool.acquire() as conn:
            value: str = await conn.fetchval("SHOW jit")
            await asyncio.sleep(0.05)  # hold it, so that the others open connections of their own
            return value

    assert set(await asyncio.gather(*(setting() for _ in range(5)))) == {"off"}
    assert SESSION["jit"] == "off"


async def test_the_leaders_own_connection_has_jit_off(db_url: str) -> None:
    conn = await connect(db_url)
    try:
        assert await conn.fetchval("SHOW jit") == "off"
    finally:
        await conn.close()
