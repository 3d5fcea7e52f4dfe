"""`tabpipe monitor current=...`: a file it cannot read is one line naming the file (exit 2),
never a traceback; log lines it cannot use are counted, not fatal."""

from __future__ import annotations

from pathlib import Path

import pytest

from tabpipe.errors import ConfigError
from tabpipe.monitoring.current_data import read_current

RANDOM_BYTES = bytes(range(256)) * 8  # not UTF-8, not CSV, not Parquet


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.csv", b"", "not a readable CSV file: Empty CSV file"),
        ("empty.parquet", b"", "not a readable Parquet file: "),
        ("random.csv", b"a,b\n\x01\xfe,\x02,\x03\n", "not a readable CSV file: CSV parse error: Expected 2"),
        ("binary.csv", RANDOM_BYTES, "not a readable CSV file: "),
        ("random.parquet", RANDOM_BYTES, "not a readable Parquet file: "),
        ("latin1.jsonl", b"\xff\xfe\n", "no rows (1 unreadable line); nothing to compare"),
        ("shape.jsonl", b'{"ts":"x","inputs":5}\n', "no rows (1 unreadable line); nothing to compare"),
        ("records.jsonl", b'{"inputs":[5],"latency_ms":"x"}\n', "no rows (1 unreadable line)"),
    ],
)
def test_an_unreadable_current_file_is_one_ascii_line_naming_it(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        read_current(path, None, {"tenure"}, "1")
    message = str(caught.value)
    assert message.startswith(f"current={str(path)!r}: ") and reason in message
    assert len(message.splitlines()) == 1 and message.isascii() and message.isprintable()
    assert caught.value.exit_code == 2


def test_unusable_log_lines_are_counted_and_the_good_ones_read(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    good = b'{"ts":"2026-12-03T00:00:00+00:00","version":"1","latency_ms":2.0,"inputs":[{"tenure":3}]}\n'
    path.write_bytes(b"\xff\xfe\n" + b'{"ts":"x","inputs":[{"tenure":1}]}\n' + good + b'{"inputs":5}\n')
    data = read_current(path, None, {"tenure"}, "1")
    assert data.frame["tenure"].tolist() == [3]
    assert data.serving.unreadable_lines == 3 and data.serving.answered == 1
