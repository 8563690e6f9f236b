"""No cell of a CSV we produce is a formula for any spreadsheet, whatever separator its
locale splits on (comma, semicolon, tab) and however it reads quotes."""

import ast
import csv
import io
import re
import unicodedata
import zipfile
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import qualipact
from qualipact.privacy.spreadsheets import FORMULA_START, csv_bytes, csv_cell, csv_safe

# How spreadsheets in different locales may read the same bytes.
READERS = [
    pytest.param({"delimiter": d, "skipinitialspace": skip}, id=f"{name}{'-skip' if skip else ''}")
    for name, d in (("comma", ","), ("semicolon", ";"), ("tab", "\t"))
    for skip in (False, True)
]
# Text that hits the hard cases often: formula characters (ASCII, full-width, small),
# every separator, quotes and blanks, mixed with ordinary letters and digits.
TRICKY = st.text(
    alphabet=st.sampled_from(
        [*"=+-@\t\r\n,;\"' aZ19.()", *"\uff1d\uff0b\uff0d\uff20\ufe66\uff1b\uff0c\u3000\u00a0"]
    ),
    max_size=24,
)
ANY_TEXT = st.one_of(TRICKY, st.text(max_size=40))
OPERATORS = frozenset("=+-@")


def _normal(char: str) -> str:
    return unicodedata.normalize("NFKC", char)


def is_formula(field: str) -> bool:
    """What a spreadsheet would run: a field that, once the blanks (tabs and line breaks
    included, which some programs strip) and quote characters before it are gone,
    starts with = + - or @, in any width."""
    for char in field:
        if _normal(char) in OPERATORS:
            return True
        if not (char.isspace() or char == '"' or _normal(char).isspace()):
            return False
    return False


def starts_a_segment_with_a_formula_character(text: str) -> bool:
    """The stricter rule the writer keeps: no piece starts with = + - @ tab or CR."""
    return any(
        _normal(piece.lstrip(' "'))[:1] in FORMULA_START
        for piece in re.split("[,;\t\r\n\uff0c\uff1b]", text)
        if piece.lstrip(' "')
    )


def fields(data: bytes, reader: dict) -> list[str]:
    text = data.decode("utf-8-sig")
    return [field for row in csv.reader(io.StringIO(text, newline=""), **reader) for field in row]


@pytest.mark.parametrize("reader", READERS)
@settings(max_examples=300, deadline=None)
@given(texts=st.lists(ANY_TEXT, min_size=1, max_size=4))
@example(texts=["Ida Lund;=1+1;"])
@example(texts=['a;"b;=1"', "x"])
@example(texts=["x;", '"=1'])
@example(texts=["\t=1", "+44 20 7946 0018"])
@example(texts=["\uff1dHYPERLINK(1)", "a\r\n@SUM(A1)"])
def test_it_never_lets_a_reader_see_a_formula_in_any_cell(reader, texts):
    data = csv_bytes([["id", *texts, "end"], texts])
    assert not [field for field in fields(data, reader) if is_formula(field)]


@given(text=ANY_TEXT)
def test_it_only_adds_apostrophes(text):
    safe = csv_safe(text)
    assert safe.replace("'", "") == text.replace("'", "")
    assert not is_formula(safe)
    assert not starts_a_segment_with_a_formula_character(safe)


def test_it_keeps_the_reported_cell_text_in_a_semicolon_locale():
    data = csv_bytes([["Ida Lund;=1+1;"]])
    assert fields(data, {"delimiter": ";"}) == ["Ida Lund", "'=1+1", ""]
    assert fields(data, {"delimiter": ","}) == ["Ida Lund;'=1+1;"]


@pytest.mark.parametrize(
    ("value", "cell"),
    [(None, ""), (True, "true"), (False, "false"), (["=a"], '["=a"]'), ({"k": 1}, '{"k": 1}')],
)
def test_it_writes_values_as_text(value, cell):
    assert csv_cell(value) == cell


@pytest.mark.django_db(databases=["default", "keys"])
def test_it_defuses_a_name_split_on_semicolons_in_the_access_export():
    from qualipact.contact.services import inquiry_submit
    from qualipact.privacy.audit import Actor
    from qualipact.rights.services import export_build

    inquiry = inquiry_submit(
        kind="general",
        name="Ida Lund;=1+1;",
        email="ida.lund@example.org",
        subject_line="@SUM(1)",
        message="Hello\n-2+3",
    )
    archive = export_build(subject=inquiry.subject, kind="access", actor=Actor.system("test"))
    with zipfile.ZipFile(io.BytesIO(archive.zip_bytes)) as opened:
        data = opened.read("contact.Inquiry.csv")
    for reader in ({"delimiter": ","}, {"delimiter": ";"}, {"delimiter": "\t"}):
        assert not [field for field in fields(data, reader) if is_formula(field)], reader


PACKAGE = Path(qualipact.__file__).parent


def test_it_writes_every_csv_through_the_one_writer():
    """Only privacy.spreadsheets imports the csv module: any other producer would bypass it."""
    importers = set()
    for path in PACKAGE.rglob("*.py"):
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(name == "csv" or name.startswith("csv.") for name in names):
                importers.add(str(path.relative_to(PACKAGE)))
    assert importers == {"privacy/spreadsheets.py"}
