"""The registry's append-only records, one JSON object per line: every alias move
(``alias_history.jsonl``) and every deleted version (``deletions.jsonl``). Written and read
through these models (:meth:`tabpipe.export.registry.Registry.history`, ``.deletions``); keys
a newer tabpipe adds, and the notes a move carries (``source_run``, ``significance``), are kept."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def to_json(self) -> dict[str, Any]:
        """The line's object (``from`` under its JSON name)."""
        return self.model_dump(mode="json", by_alias=True)


class AliasMove(_Record):
    """``alias`` moved from version ``from`` (None: newly set) to ``to``, by ``who``, ``when``."""

    alias: str
    from_: int | None = Field(None, alias="from")
    to: int
    who: str | None = None
    when: str | None = None
    source_run: str | None = None  # a move made by training (registry.alias=...)
    significance: dict[str, Any] | None = None  # promote --require-significant's record


class Deletion(_Record):
    """A deleted version (``registry delete`` or ``gc``); its number is never given out again."""

    version: int
    who: str | None = None
    when: str | None = None
    reason: str = "delete"
