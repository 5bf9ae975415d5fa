"""Reading an import CSV: every bad row is reported, and nothing is returned unless all
rows are good."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from agentstatus.service.errors import ImportRejected, ServiceError
from agentstatus.service.validation import display_name

MAX_ROWS = 100_000


def read_pairs(
    text: str, key_column: str, check_key: Callable[[str], str]
) -> list[tuple[str, str]]:
    """Rows of ``key_column,name`` as (key, name); raises ImportRejected listing every problem."""
    if text.startswith("\ufeff"):
        text = text[1:]  # a byte-order mark from spreadsheet exports
    # strict: an unterminated quote is an error, not a field running to the end of the file
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ImportRejected(
            [f"the file is empty; expected a header '{key_column},name'"]
        ) from None
    except csv.Error as exc:
        raise ImportRejected([f"line 1: {exc}"]) from None
    if header not in ([key_column, "name"], [key_column]):
        raise ImportRejected([f"line 1: expected the header '{key_column},name', got {header}"])
    problems: list[str] = []
    pairs: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) > len(header):
                problems.append(f"line {line}: {len(record)} columns, expected {len(header)}")
                continue
            try:
                key = check_key(record[0])
                name = display_name(record[1] if len(record) > 1 else "")
            except ServiceError as exc:
                problems.append(f"line {line}: {exc.message}")
                continue
            if key in seen:
                problems.append(f"line {line}: {key_column} {key!r} repeats line {seen[key]}")
                continue
            seen[key] = line
            pairs.append((key, name))
            if len(pairs) > MAX_ROWS:
                problems.append(f"more than {MAX_ROWS} rows; split the file")
                break
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: {exc}")
    if problems:
        raise ImportRejected(problems)
    return pairs
