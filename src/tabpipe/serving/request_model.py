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
        self.known = {
            e["name"]: frozenset(e["categories"]) for e in self.inputs if e.get("categories") is not None
        }

    def _finding(self, entry: dict[str, Any], value: Any) -> tuple[str, str] | None:
        if value is None:
            return "on_missing", "missing value (imputed as in training)"
        if (
            entry["type"] == "numeric"
            and entry.get("min") is not None
            and not (entry["min"] <= value <= entry["max"])
        ):
            return "on_out_of_range", f"{value} outside the training range [{entry['min']}, {entry['max']}]"
        known = self.known.get(entry["name"])
        if known is not None and str(value) not in known:
            return "on_unseen_category", f"unseen category {value!r} (mapped to the sentinel)"
        return None

    def check(self, records: list[dict[str, Any]]) -> list[str]:
        """Returns the warnings; raises :class:`PolicyViolation` for the policies set to error."""
        warnings: list[str] = []
        errors: list[dict[str, str]] = []
        for row, record in enumerate(records):
            for entry in self.inputs:
                found = self._finding(entry, record.get(entry["name"]))
                if found is None or self.policies[found[0]] == "allow":
                    continue
                where = f"[{row}].{entry['name']}" if len(records) > 1 else entry["name"]
                if self.policies[found[0]] == "error":
                    errors.append({"field": where, "rule": found[1]})
                else:
                    warnings.append(f"{where}: {found[1]}")
        if errors:
            raise PolicyViolation(errors)
        return warnings
