"""The request model, generated from the bundle's ``schema.json``, and the input policies.

Every field type is declared exactly as the server checks it, so ``/openapi.json`` tells the
truth (a schemathesis test holds the two together):

* numeric -> a finite JSON number within float32's range (the graph's input type);
* boolean -> ``true``/``false`` or ``0``/``1`` (JSON; files read by ``tabpipe predict`` also
  take yes/no);
* categorical -> a string or a number (integral numbers without ``.0``);
* datetime -> an ISO-8601 string: ``YYYY-MM-DD``, optionally ``[T ]hh:mm[:ss[.fffffffff]]``
  and ``Z`` or ``+hh:mm``, year 1678 to 2261 (pandas' nanosecond range, whole years).
  Relative words (``now``, ``today``) are refused;
* id columns -> a string or an integer within +-(2**53 - 1) (exact in every JSON parser),
  echoed in each prediction.

Strings must be valid Unicode (a lone surrogate is refused). Every field may be null or
absent (the graph imputes it as in training); ``on_missing`` warns by default, listing the
missing features. Unknown fields are rejected. Ranges and known categories are checked per
``on_out_of_range`` / ``on_unseen_category``: allow, warn (in the response) or error (422).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    create_model,
)

from tabpipe.export.documents import SchemaDocument

# years 1678..2261: every such timestamp, at any offset, fits datetime64[ns]
_YEAR = r"(?:16(?:7[89]|[89]\d)|1[7-9]\d\d|2[01]\d\d|22[0-5]\d|226[01])"
_MONTH_DAY = (
    r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])"  # days 1-28 of every month
    r"|(?:0[13-9]|1[0-2])-(?:29|30)"  # 29 and 30 of all but February
    r"|(?:0[13578]|1[02])-31)"  # 31 of the long months
)
_LEAP_YEAR = (  # the leap years among 1678..2261 (1700, 1800, 1900, 2100, 2200 are not)
    r"(?:16(?:8[048]|9[26])|1[7-9](?:0[48]|[2468][048]|[13579][26])"
    r"|20(?:[02468][048]|[13579][26])|21(?:0[48]|[2468][048]|[13579][26])"
    r"|22(?:0[48]|1[26]|2[048]|3[26]|4[048]|5[26]|60))"
)
_TIME = r"[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?(?:Z|[+-](?:0\d|1[0-4]):[0-5]\d)?"
TIMESTAMP_PATTERN = rf"^(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)(?:{_TIME})?$"


def _valid_unicode(value: str) -> str:
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"not valid Unicode (a lone surrogate at position {exc.start})") from exc
    return value


FLOAT32_MAX = 3.4028234663852886e38  # the graph reads numbers as float32
Text = Annotated[StrictStr, AfterValidator(_valid_unicode)]
FiniteNumber = Annotated[StrictFloat, Field(allow_inf_nan=False)]
Float32 = Annotated[StrictFloat, Field(allow_inf_nan=False, ge=-FLOAT32_MAX, le=FLOAT32_MAX)]
SAFE_INTEGER = 2**53 - 1  # every JSON parser holds it exactly; a schema validator compares as float


def _not_bool_or_text(value: Any) -> Any:
    if isinstance(value, (bool, str)):
        raise ValueError("an id must be a string or an integer, not a boolean")
    return value


# an integer as JSON Schema sees one: 7 or 7.0, not 7.5, true or "7" (text goes to the string branch)
IdInteger = Annotated[int, Field(ge=-SAFE_INTEGER, le=SAFE_INTEGER), BeforeValidator(_not_bool_or_text)]
Timestamp = Annotated[str, StringConstraints(pattern=TIMESTAMP_PATTERN)]

_FIELD_TYPES: dict[str, Any] = {
    "numeric": Float32 | None,
    "boolean": StrictBool | Literal[0, 1] | None,
    "categorical": Text | StrictInt | FiniteNumber | None,
    "datetime": Timestamp | None,
}
IdValue = Text | IdInteger | None
FIELD_RULES = {
    "numeric": "a finite number within float32's range (+-3.4e38)",
    "boolean": "true/false or 0/1",
    "categorical": "a string or a number",
    "datetime": "an ISO-8601 date or timestamp (YYYY-MM-DD[Thh:mm[:ss[.f]]][Z|+hh:mm]), years 1678-2261",
    "id": "a string or an integer within +-(2**53 - 1)",
}


def build_request_model(schema: SchemaDocument) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for entry in schema.inputs:
        description = f"{entry.type}: {FIELD_RULES[entry.type]}; null or absent = missing"
        if entry.min is not None:
            description += f"; training range [{entry.min}, {entry.max}]"
        if entry.categories is not None:
            description += f"; known categories: {', '.join(entry.categories[:20])}"
        fields[entry.name] = (_FIELD_TYPES[entry.type], Field(default=None, description=description))
    for name in id_columns(schema):
        fields[name] = (IdValue, Field(default=None, description="id, echoed in each prediction"))
    return create_model("Record", __config__=ConfigDict(extra="forbid"), **fields)


def id_columns(schema: SchemaDocument) -> list[str]:
    """The schema's id columns that are not also features (those are echoed)."""
    return schema.echoed_ids


class PolicyViolation(Exception):
    def __init__(self, problems: list[dict[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p['field']}: {p['rule']}" for p in problems))


class InputPolicies:
    """The missing / unseen-category / out-of-range policies, with the schema's known
    category sets built once at start-up."""

    def __init__(self, schema: SchemaDocument, policies: dict[str, str]) -> None:
        self.inputs = schema.inputs
        self.policies = policies
        # per input with a check: name, (min, max) when range-checked, known categories when checked
        checks = [
            (
                e.name,
                (e.min, e.max)
                if e.type == "numeric" and e.min is not None and policies["on_out_of_range"] != "allow"
                else None,
                frozenset(e.categories)
                if e.categories is not None and policies["on_unseen_category"] != "allow"
                else None,
            )
            for e in self.inputs
        ]
        self.checks = [check for check in checks if check[1] is not None or check[2] is not None]
        self.names = tuple(e.name for e in self.inputs)
        self.missing_policy = policies["on_missing"]

    def _finding(
        self, value: Any, bounds: tuple[float, float] | None, known: frozenset[str] | None
    ) -> tuple[str, str] | None:
        if bounds is not None and not (bounds[0] <= value <= bounds[1]):
            return "on_out_of_range", f"{value} outside the training range [{bounds[0]}, {bounds[1]}]"
        if known is not None and str(value) not in known:
            return "on_unseen_category", f"unseen category {value!r} (mapped to the sentinel)"
        return None

    def check(self, records: list[dict[str, Any]]) -> list[str]:
        """Returns the warnings; raises :class:`PolicyViolation` for the policies set to error.

        Missing features give one warning per record listing them all (``on_missing=warn``),
        or one 422 detail per field (``on_missing=error``)."""
        warnings: list[str] = []
        errors: list[dict[str, str]] = []
        many = len(records) > 1
        for row, record in enumerate(records):
            for name, bounds, known in self.checks:
                value = record.get(name)
                if value is None or (
                    (bounds is None or bounds[0] <= value <= bounds[1])
                    and (known is None or str(value) in known)
                ):
                    continue  # the common case, without a call
                found = self._finding(value, bounds, known)
                if found is None:
                    continue
                where = f"[{row}].{name}" if many else name
                if self.policies[found[0]] == "error":
                    errors.append({"field": where, "rule": found[1]})
                else:
                    warnings.append(f"{where}: {found[1]}")
            if self.missing_policy == "allow":
                continue
            missing = [name for name in self.names if record.get(name) is None]
            if not missing:
                continue
            if self.missing_policy == "error":
                errors.extend(
                    {"field": f"[{row}].{name}" if many else name, "rule": "missing value"}
                    for name in missing
                )
            else:
                where = f"[{row}]: " if many else ""
                warnings.append(f"{where}missing features (imputed as in training): {', '.join(missing)}")
        if errors:
            raise PolicyViolation(errors)
        return warnings
