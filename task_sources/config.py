"""Sources as configuration: checked when they are put, compiled once, never shown with their
secrets."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from queues.db import Executor
from task_sources.connector import EVENT_KINDS, Connector, SourceConfig
from task_sources.errors import InvalidSource, SourceNotFound
from task_sources.mapping import CompiledMapping, compile_mapping, merged
from task_sources.models import SourceIn, SourceOut
from task_sources.registry import KINDS
from task_sources.store import SourceStore, config_of


def events_url(name: str) -> str:
    return f"/sources/{name}/events"


class SourceCatalog:
    """The configured sources; their compiled mappings are kept per (name, last change), and
    their configurations while changes are heard (:mod:`task_sources.changes`), so that a
    delivery reads nothing but its own rows."""

    def __init__(self, db: Executor, kinds: Mapping[str, Connector] = KINDS) -> None:
        self._db = db
        self.kinds = kinds
        self._compiled: dict[tuple[str, datetime | None], CompiledMapping] = {}
        self._kept: dict[str, SourceConfig] = {}
        self._keeping = False
        self._changes = 0
        """Counts the changes heard, so that a read begun before one is not kept after it."""

    def listening(self, on: bool) -> None:
        """Keep configurations from now on (changes are heard), or none (they may not be)."""
        self._keeping = on
        self._kept.clear()
        self._changes += 1

    def forget(self, name: str) -> None:
        """A source was changed or deleted: read it again when next needed."""
        self._kept.pop(name, None)
        self._changes += 1

    def connector(self, kind: str) -> Connector:
        found = self.kinds.get(kind)
        if found is None:
            known = ", ".join(sorted(self.kinds))
            raise InvalidSource("kind", f"unknown kind {kind!r}; the kinds are {known}")
        return found

    def out(self, config: SourceConfig, row: Any) -> SourceOut:
        connector = self.kinds.get(config.kind)
        defaults = connector.default_mapping if connector else {}
        return SourceOut(
            name=config.name,
            kind=config.kind,
            api_url=config.api_url,
            secret_set=bool(config.secret),
            credentials=sorted(config.credentials),
            mapping=merged(defaults, config.mapping),
            write_back=dict(config.write_back),
            events_url=events_url(config.name),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    async def put(self, name: str, body: SourceIn) -> tuple[SourceOut, bool]:
        """Check, then create or replace a source (a secret or credentials left out are kept).
        :class:`InvalidSource` names what cannot work."""
        connector = self.connector(body.kind)
        store = SourceStore(self._db)
        current = await store.get(name)
        kept = config_of(current) if current is not None else None
        write_back = _write_back(connector, body)
        config = SourceConfig(
            name=name,
            kind=body.kind,
            secret=body.secret if body.secret is not None else (kept.secret if kept else None),
            api_url=body.api_url,
            credentials=(
                body.credentials
                if body.credentials is not None
                else (kept.credentials if kept else {})
            ),
            mapping=body.mapping,
            write_back=write_back,
        )
        compile_mapping(merged(connector.default_mapping, body.mapping))
        connector.check(config)
        row = await store.put(
            name,
            body.kind,
            body.secret,
            body.api_url,
            body.credentials,
            body.mapping,
            write_back,
        )
        self.forget(name)
        return self.out(config_of(row), row), bool(row["created"])

    async def config(self, name: str) -> SourceConfig:
        """The source's configuration (secrets included): the copy kept, else read."""
        kept = self._kept.get(name)
        if kept is not None:
            return kept
        changes = self._changes
        row = await SourceStore(self._db).get(name)
        if row is None:
            raise SourceNotFound(name)
        config = config_of(row)
        if self._keeping and changes == self._changes:
            self._kept[name] = config
        return config

    async def get(self, name: str) -> SourceOut:
        row = await SourceStore(self._db).get(name)
        if row is None:
            raise SourceNotFound(name)
        return self.out(config_of(row), row)

    async def all(self) -> list[SourceOut]:
        return [self.out(config_of(r), r) for r in await SourceStore(self._db).all()]

    async def delete(self, name: str) -> SourceOut:
        """Forget a source, its deliveries, rejects and pending write-backs; its tasks stay."""
        row = await SourceStore(self._db).delete(name)
        self.forget(name)
        if row is None:
            raise SourceNotFound(name)
        return self.out(config_of(row), row)

    def mapping(
        self, config: SourceConfig, own: Mapping[str, str | None] | None = None
    ) -> CompiledMapping:
        """The source's compiled mapping (or ``own`` expressions in place of the source's)."""
        connector = self.connector(config.kind)
        if own is not None:
            return compile_mapping(merged(connector.default_mapping, own))
        key = (config.name, config.updated_at)
        found = self._compiled.get(key)
        if found is None:
            found = compile_mapping(merged(connector.default_mapping, config.mapping))
            if len(self._compiled) > 1000:
                self._compiled.clear()
            self._compiled[key] = found
        return found


def _write_back(connector: Connector, body: SourceIn) -> dict[str, Any]:
    """The write-back settings in force: the source's over the kind's defaults. Without an
    ``api_url`` nothing is written back unless the source names events (then it is refused)."""
    settings = {**connector.default_write_back, **body.write_back}
    if "events" not in body.write_back and (not connector.writes_back or not body.api_url):
        settings["events"] = []
    events = settings.setdefault("events", list(EVENT_KINDS))
    if not isinstance(events, list) or not all(e in EVENT_KINDS for e in events):
        raise InvalidSource("write_back.events", f"a list of events among {', '.join(EVENT_KINDS)}")
    if events and not connector.writes_back:
        raise InvalidSource("write_back.events", f"a {connector.kind} source does not write back")
    if len(set(events)) != len(events):
        raise InvalidSource("write_back.events", "each event once")
    return settings
