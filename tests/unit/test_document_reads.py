"""No dict-key read of a loaded document comes back (issue #16: "no dict-key reads of
bundle or report documents outside their model classes").

Checked on the AST of every module under ``src/``: a string-key subscript (``doc["seed"]``)
or ``.get("seed")`` on what a loader returned -- ``json.loads``/``json.load``,
``yaml.safe_load``, a prediction log line's ``decode_line``, ``Bundle.read_json``, a
model's ``model_dump``/``to_json``, ``OmegaConf.to_container`` -- directly, or through a
name the same function assigned from one. Such a document is read through its model
instead (``tabpipe.documents``, ``tabpipe.export.documents``, the report documents, the
registry's records, the sweep summary). The model modules themselves, and the files of
other tools read in their own format, are listed below with the reason."""

from __future__ import annotations

import ast

from helpers import ROOT

LOADERS = frozenset(
    {"loads", "load", "safe_load", "decode_line", "read_json", "to_container", "model_dump", "to_json"}
)
# (module, key): read by key on purpose, each for the reason given
ALLOWED = {
    # the model modules: the one migration reads the version before there is a model
    ("tabpipe/documents/base.py", "format_version"),
    # DVC's own files (<file>.dvc, dvc.lock): DVC's format, not a tabpipe document
    ("tabpipe/training/run_metadata.py", "outs"),
    ("tabpipe/training/run_metadata.py", "stages"),
    # Lightning's checkpoint and the spool of a DDP worker's epoch metrics (torch's and this
    # module's own private format)
    ("tabpipe/models/lightning.py", "state_dict"),
    ("tabpipe/models/lightning.py", "metrics"),
    ("tabpipe/models/lightning.py", "step"),
    # Optuna's serialized distribution
    ("tabpipe/tuning/search_space.py", "name"),
    # composed Hydra configs (typed by tabpipe.config at the boundary), not documents
    ("tabpipe/config/params_file.py", "model"),
    ("tabpipe/pipeline/dvc_params.py", "model"),
}


def _is_loader_call(node: ast.AST) -> bool:
    if isinstance(node, ast.BoolOp):  # (yaml.safe_load(text) or {})
        return _is_loader_call(node.values[0])
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in LOADERS


def _loaded_names(scope: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign) and _is_loader_call(node.value):
            names |= {n.id for target in node.targets for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def _string_key(node: ast.AST) -> tuple[ast.AST, str] | None:
    """``(container, key)`` of ``container["key"]`` (a read) or ``container.get("key", ...)``."""
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return node.value, key.value
    is_get = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
    if (
        is_get
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.func.value, node.args[0].value
    return None


def key_reads_of_loaded_documents(source: str) -> list[tuple[int, str, str]]:
    """``(line, key, expression)`` of every string-key read of a loaded document in ``source``."""
    found = set()
    tree = ast.parse(source)
    for scope in ast.walk(tree):
        if not isinstance(scope, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        loaded = _loaded_names(scope)
        for node in ast.walk(scope):
            read = _string_key(node)
            if read is None:
                continue
            container, key = read
            if _is_loader_call(container) or (isinstance(container, ast.Name) and container.id in loaded):
                found.add((node.lineno, key, ast.unparse(node)))
    return sorted(found)


def test_no_module_reads_a_loaded_document_by_key() -> None:
    src = ROOT / "src"
    offending = [
        f"{path.relative_to(src)}:{line}: {text}"
        for path in sorted(src.rglob("*.py"))
        for line, key, text in key_reads_of_loaded_documents(path.read_text())
        if (path.relative_to(src).as_posix(), key) not in ALLOWED
    ]
    assert not offending, "read these documents through their model:\n" + "\n".join(offending)


def test_the_check_finds_the_reads_it_exists_to_refuse() -> None:
    """What this change removed, planted back: each is found."""
    planted = """
def check(path):
    metadata = json.loads(path.read_text())
    return metadata["seed"], metadata.get("artifacts"), json.loads(path.read_text())["dataset"]

def lines(raw):
    entry = decode_line(raw)
    return entry["inputs"]

def summary(path):
    return (yaml.safe_load(path.read_text()) or {}).get("best_params")

def fine(frame, cfg):
    return frame["tenure"], cfg.get("seed"), {"a": 1}["a"]
"""
    keys = [key for _, key, _ in key_reads_of_loaded_documents(planted)]
    assert sorted(keys) == ["artifacts", "best_params", "dataset", "inputs", "seed"]


def test_every_allowed_read_still_exists() -> None:
    """An entry of ALLOWED whose read is gone is removed, so the list stays the exceptions."""
    src = ROOT / "src"
    present = {
        (path.relative_to(src).as_posix(), key)
        for path in src.rglob("*.py")
        for _, key, _ in key_reads_of_loaded_documents(path.read_text())
    }
    assert present >= ALLOWED, sorted(ALLOWED - present)
