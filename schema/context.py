"""The per-request context: DataLoaders (one batch query per relation and level, whatever the
page size) and what resolvers need to know about the deployment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader

from schema import rows
from storage.enums import RecordType

Node = dict[str, Any]


@dataclass
class Loaders:
    """Created per request, so nothing cached outlives it; one set per `rows.Source` (the
    current rows, or a past day's)."""

    source: rows.Source = rows.CURRENT_ROWS
    _records: dict[RecordType, DataLoader[str, Node | None]] = field(default_factory=dict)
    _children: dict[RecordType, DataLoader[str, list[Node]]] = field(default_factory=dict)
    _history: DataLoader[tuple[RecordType, str], list[dict[str, Any]]] | None = None

    def record(self, record_type: RecordType) -> DataLoader[str, Node | None]:
        """Current record of this type by its key."""
        if record_type not in self._records:

            async def load(keys: list[str]) -> list[Node | None]:
                found = await rows.current_by_keys(record_type, keys, self.source)
                return [found.get(key) for key in keys]

            self._records[record_type] = DataLoader(load_fn=load)
        return self._records[record_type]

    def children(self, record_type: RecordType) -> DataLoader[str, list[Node]]:
        """Current records of this type that belong to a subject, by the subject's key."""
        if record_type not in self._children:

            async def load(keys: list[str]) -> list[list[Node]]:
                found = await rows.current_by_subject(record_type, keys, self.source)
                return [found[key] for key in keys]

            self._children[record_type] = DataLoader(load_fn=load)
        return self._children[record_type]

    def history(self) -> DataLoader[tuple[RecordType, str], list[dict[str, Any]]]:
        """Every version's row of a record (`rows.history_by_keys`), by its type and key."""
        if self._history is None:

            async def load(keys: list[tuple[RecordType, str]]) -> list[list[dict[str, Any]]]:
                found = await rows.history_by_keys(keys, self.source)
                return [found.get(key, []) for key in keys]

            self._history = DataLoader(load_fn=load)
        return self._history


@dataclass
class Context:
    public_base_url: str = "http://127.0.0.1:8000/open"
    loaders: Loaders = field(default_factory=Loaders)
    _past: dict[int, Loaders] = field(default_factory=dict)

    def public_url(self, key: str) -> str:
        return f"{self.public_base_url}/{key}"

    def loaders_of(self, node: Any) -> Loaders:
        """The loaders for a node's relations: read from the same rows as the node itself."""
        source = rows.source_of(node)
        if source.day is None:
            return self.loaders
        return self._past.setdefault(source.day, Loaders(source))
