"""Errors that end a run with one clear line and a documented exit code.

Every error tabpipe raises on purpose is a :class:`TabpipeError` defined here, so that a
caller of the Python API catches them from one module (``tabpipe.errors.RegistryError``); the
modules that raise them re-export their own (``tabpipe.export.registry.RegistryError``).

:data:`EXIT_CODES` is the one list of the exit codes of every command and what each means:
the documentation's "Exit codes" page and ``tabpipe train --help`` are generated from it, and
``tests/unit/test_errors.py`` checks that every code the sources use (an error's
``exit_code``, a literal ``sys.exit(N)``, :data:`tabpipe.monitoring.DRIFT_ALERT_EXIT_CODE`) is
in it.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class ExitCode(NamedTuple):
    short: str  # a few words, for ``--help``
    meaning: str  # the documentation's sentence (Markdown)


EXIT_CODES: dict[int, ExitCode] = {
    0: ExitCode("ok", "success"),
    1: ExitCode(
        "sweep failed",
        "a sweep stopped by `hydra.sweeper.max_failure_rate`, or one in which every trial run failed; "
        "`tabpipe reproduce`: the metrics differ; `tabpipe registry fsck`: problems are left; "
        "`tabpipe params --check`: a file differs from what `tabpipe params` would write",
    ),
    2: ExitCode(
        "bad config or data",
        "bad configuration or data (one line per problem, naming the key, file or column and the rule; "
        "no traceback, no run artifacts), a bundle or registry entry that does not verify, "
        "`tabpipe check-run`: a record is missing; `tabpipe serve`: it cannot listen on `host`/`port` "
        "(in use, not this machine's address)",
    ),
    3: ExitCode(
        "model did not beat the baseline",
        "the model did not beat the baseline (or, with `eval.require_beat_production`, the production "
        "version); `registry promote --require-significant`: no significant improvement",
    ),
    4: ExitCode("requested device unavailable", "the requested device is not available"),
    5: ExitCode("exported graph failed the parity gate", "the exported graph failed the parity gate"),
    6: ExitCode("drift alert", "`tabpipe monitor`: drift alert (a feature, the predictions or the schema)"),
}
# what ``tabpipe train --help`` lists (6 is tabpipe monitor's)
TRAIN_EXIT_CODES = (0, 1, 2, 3, 4, 5)


class TabpipeError(Exception):
    """Base class: the message is the single line shown to the user."""

    exit_code: int = 1


class ConfigError(TabpipeError):
    """A configuration key, value or override that breaks a rule (or a bad argument of the API)."""

    exit_code = 2


class ProblemsError(TabpipeError):
    """One line per broken rule, in ``problems``. Pickles as its problems (jobs of parallel
    launchers and joblib workers are pickled), so the copy keeps the field, not only the text."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))

    def __reduce__(self) -> tuple:
        return (type(self), (self.problems,), self.__dict__)


class DataValidationError(ProblemsError):
    """One or more data rules were broken; ``problems`` holds one line per rule."""

    exit_code = 2


class BaselineGateError(TabpipeError):
    """The model did not beat the baseline (an enforced evaluation gate failed)."""

    exit_code = 3


class DeviceUnavailableError(TabpipeError):
    """A requested accelerator (``trainer=gpu``, ONNX Runtime's CUDA) is not available."""

    exit_code = 4


class IncompleteRunError(ProblemsError):
    """``tabpipe check-run``: a run directory lacks a required record; one line per problem."""

    exit_code = 2


class BundleError(TabpipeError):
    """A bundle that does not load: missing, tampered or not a tabpipe bundle."""

    exit_code = 2


class DocumentError(TabpipeError):
    """A bundle document that does not validate (exit code 2, 4xx in the server)."""

    exit_code = 2


class SignatureError(TabpipeError):
    """A bundle's manifest, or a model's ``aliases.json``, whose signature is missing or wrong
    (``$TABPIPE_REGISTRY_KEY`` set)."""

    exit_code = 2


class RegistryError(TabpipeError):
    """A bad registry ref, name or alias, or an operation the registry refuses."""

    exit_code = 2


class SignificanceGateError(TabpipeError):
    """``registry promote --require-significant``: no significant improvement."""

    exit_code = 3


class ParityError(TabpipeError):
    """The exported graph's predictions differ from the evaluated ones."""

    exit_code = 5


def first_line(reason: object, default: str = "") -> str:
    """The first line of ``reason``'s text (an exception, or a message), surrounding blanks
    left out; ``default`` when it has none. The one place a multi-line message is cut to the
    line that is shown (:func:`error_line` and :func:`printable_line` start from it)."""
    text = str(reason).strip()
    return text.splitlines()[0] if text else default


def error_line(exc: BaseException) -> str:
    """One line for ``exc`` that keeps its cause: the first line of its message, then the
    innermost exception of its ``__cause__``/``__context__`` chain as ``Type: message``
    (``Error in call to target 'X': ModuleNotFoundError: No module named 'tensorboard'``)."""
    head = first_line(exc).rstrip(":.") or type(exc).__name__
    root, seen = exc, {id(exc)}
    while (nxt := root.__cause__ or root.__context__) is not None and id(nxt) not in seen:
        seen.add(id(nxt))
        root = nxt
    if root is exc:
        return head
    detail = first_line(root)
    cause = f"{type(root).__name__}: {detail}" if detail else type(root).__name__
    return head if detail and detail in head else f"{head}: {cause}"


# Arrow quotes the offending row after the rule: a binary file's bytes must not be printed
_ARROW_ROW_SAMPLE = re.compile(r"^(CSV parse error: [^:]*):.*$")


def printable_line(reason: object, limit: int = 120) -> str:
    """The first line of ``reason`` (an error about a file that may be binary), Arrow's quoted
    row left out, non-printable and non-ASCII characters escaped, cut to ``limit`` characters."""
    text = first_line(reason)
    text = _ARROW_ROW_SAMPLE.sub(r"\1", text)
    text = "".join(ch if " " <= ch <= "~" else ascii(ch)[1:-1] for ch in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."
