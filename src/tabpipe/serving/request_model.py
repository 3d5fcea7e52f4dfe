"""The request model, generated from the bundle's ``schema.json``, and the input policies.

Field types come from the schema: numbers as float, booleans as bool (true/false, 1/0,
"yes"/"no"...), categoricals as text (numbers accepted), datetimes as ISO-8601 strings or
datetimes. Every field may be null or absent (the graph imputes it as in training) unless
``on_missing=error``; unknown fields are rejected. Ranges and known categories are checked
per ``on_out_of_range`` / ``on_unseen_category``: allow, warn (in the response) or error (422).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

_FIELD_TYPES: dict[str, Any] = {
    "numeric": float | None,
    "boolean": bool | None,
    "categorical": str | int | float | None,
    "datetime": datetime | str | None,
}


def build_request_model(schema: dict[str, Any]) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for entry in schema["inputs"]:
        description = f"{entry['type']} ({entry['encoding']})"
        if entry.get("min") is not None:
            description += f"; training range [{entry['min']}, {entry['max']}]"
        if entry.get("categories") is not None:
            description += f"; known categories: {', '.join(entry['categories'][:20])}"
        fields[entry["name"]] = (_FIELD_TYPES[entry["type"]], Field(default=None, description=description))
    for name in schema.get("id_columns", []):
        fields.setdefault(name, (str | int | None, Field(default=None, description="id, echoed")))
    return create_model("Record", __config__=ConfigDict(extra="forbid"), **fields)


class PolicyViolation(Exception):
    def __init__(self, problems: list[dict[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p['field']}: {p['rule']}" for p in problems))


class InputPolicies:
    """The missing / unseen-category / out-of-range policies, with the schema's known
    category sets built once at start-up."""

    def __init__(self, schema: dict[str, Any], policies: dict[str, str]) -> None:
        self.inputs = schema["inputs"]
        self.policies = policies
        # per input: name, (min, max) when range-checked, known categories when checked
        self.checks = [
            (
                e["name"],
                (e["min"], e["max"])
                if e["type"] == "numeric"
                and e.get("min") is not None
                and policies["on_out_of_range"] != "allow"
                else None,
                frozenset(e["categories"])
                if e.get("categories") is not None and policies["on_unseen_category"] != "allow"
                else None,
            )
            for e in self.inputs
        ]
        self.check_missing = policies["on_missing"] != "allow"

    def _finding(
        self, value: Any, bounds: tuple[float, float] | None, known: frozenset[str] | None
    ) -> tuple[str, str] | None:
        if value is None:
            return ("on_missing", "missing value (imputed as in training)") if self.check_missing else None
        if bounds is not None and not (bounds[0] <= value <= bounds[1]):
            return "on_out_of_range", f"{value} outside the training range [{bounds[0]}, {bounds[1]}]"
        if known is not None and str(value) not in known:
            return "on_unseen_category", f"unseen category {value!r} (mapped to the sentinel)"
        return None

    def check(self, records: list[dict[str, Any]]) -> list[str]:
        """Returns the warnings; raises :class:`PolicyViolation` for the policies set to error."""
        warnings: list[str] = []
        errors: list[dict[str, str]] = []
        for row, record in enumerate(records):
            for name, bounds, known in self.checks:
                found = self._finding(record.get(name), bounds, known)
                if found is None:
                    continue
                where = f"[{row}].{name}" if len(records) > 1 else name
                if self.policies[found[0]] == "error":
                    errors.append({"field": where, "rule": found[1]})
                else:
                    warnings.append(f"{where}: {found[1]}")
        if errors:
            raise PolicyViolation(errors)
        return warnings
