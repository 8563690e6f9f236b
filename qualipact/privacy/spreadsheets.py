"""CSV files that no spreadsheet evaluates: the one writer every CSV we produce goes through.

A spreadsheet runs a cell as a formula when it starts with `=`, `+`, `-` or `@` (and
some treat a leading tab or carriage return the same way), also in their full-width
and small forms, which some input methods turn into the ASCII ones (OWASP, "CSV
Injection"). Which character separates cells depends on the reader's locale: a comma,
a semicolon or a tab, and a line break always ends a row. So a cell written as
`Ida Lund;=1+1;` is safe for a reader that splits on commas and a formula for one that
splits on semicolons. A reader that broke a quoted cell apart at such a separator may
also see a piece start with a quote character before the `=`.

`csv_safe` therefore looks at every place a reader could start a cell: the start of
the text and every position after a comma, semicolon, tab, carriage return or line
feed (or their full-width forms). Where what follows, after blanks and quote
characters, begins with a formula character, it inserts an apostrophe, which makes
the cell text in every spreadsheet. That includes numbers with a sign, such as a phone
number `+44 20 7946 0018`, which a spreadsheet computes too (to an error): what a
neighbouring cell or another locale's separator makes of "a number" cannot be known
from one cell. The exact values are in the export's JSON file. defusedcsv, the library
for this, looks at the first character only, so it is not used.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

# What makes a cell a formula, and what may end one cell and start the next, as their
# NFKC forms (so the full-width U+FF1D and the small U+FE66 count as "=").
FORMULA_START = frozenset("=+-@\t\r")
SEPARATORS = frozenset(",;\t\r\n")
# Skipped before looking at a cell's first character: blanks, and quote characters
# that a reader may take as the start of a quoted cell.
_LEADING = frozenset(' "')
NEUTRALISER = "'"


def _normal(char: str) -> str:
    return unicodedata.normalize("NFKC", char)


def _is_separator(char: str) -> bool:
    return char in SEPARATORS or _normal(char) in SEPARATORS


def _starts_formula(text: str, start: int) -> bool:
    """Whether a cell a reader starts at `start` would begin with a formula character."""
    for char in text[start:]:
        if char in FORMULA_START or _normal(char) in FORMULA_START:
            return True
        if not (char.isspace() or char in _LEADING or _normal(char) in _LEADING):
            return False
    return False


def csv_safe(text: str) -> str:
    """`text` with an apostrophe before every place a spreadsheet could start a formula."""
    out = []
    starts = [0] + [i + 1 for i, char in enumerate(text) if _is_separator(char)]
    previous = 0
    for start in starts:
        if _starts_formula(text, start):
            out.append(text[previous:start])
            out.append(NEUTRALISER)
            previous = start
    out.append(text[previous:])
    return "".join(out)


def csv_cell(value: Any) -> str:
    """A value as CSV text: empty for None, `true`/`false`, JSON for lists and objects,
    and never a formula (`csv_safe`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False)
    return csv_safe(str(value))


class CsvWriter:
    """`csv.writer` whose every cell goes through `csv_cell`; rows end in CRLF (RFC 4180)."""

    def __init__(self, buffer: io.StringIO) -> None:
        self._writer = csv.writer(buffer, lineterminator="\r\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([csv_cell(value) for value in row])


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """A whole CSV file, UTF-8 with a byte-order mark so spreadsheets read accents right."""
    buffer = io.StringIO()
    writer = CsvWriter(buffer)
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8-sig")
