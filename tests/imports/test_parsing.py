"""Reading uploads: encodings, line endings, delimiters, files that are not CSV, broken rows."""

import io
import zipfile
from pathlib import Path

import pytest

from qualify.imports.parsing import NotACsv, decode, detect_delimiter, read_csv

UCI = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "uci_bank_marketing" / "bank-additional.csv"
NAMES = "First Name,Company,City\r\nZoë,Société Générale,Zürich\r\nJosé,Ñandú SA,São Paulo\r\n"


def rows(csv_file):
    return [(r.line, r.cells, r.problem) for r in csv_file.rows]


def test_a_utf16_file_with_bom_is_read_in_either_byte_order(tmp_path):
    for codec, bom in (("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")):
        path = tmp_path / f"{codec}.csv"
        path.write_bytes(bom + NAMES.encode(codec))
        f = read_csv(path.read_bytes())
        assert (f.encoding, f.header) == ("UTF-16", ["First Name", "Company", "City"])
        assert rows(f) == [(2, ["Zoë", "Société Générale", "Zürich"], ""), (3, ["José", "Ñandú SA", "São Paulo"], "")]


def test_excel_unicode_text_is_utf16_and_tab_separated():
    f = read_csv(NAMES.replace(",", "\t").encode("utf-16"))
    assert (f.description, f.rows[0].cells[1]) == ("UTF-16, tab-separated", "Société Générale")


def test_utf8_with_and_without_bom_and_windows_1252():
    assert read_csv(b"\xef\xbb\xbf" + NAMES.encode()).header[0] == "First Name"  # the BOM is not part of the header
    assert read_csv(NAMES.encode()).encoding == "UTF-8"
    f = read_csv(NAMES.replace("Zoë", "Zoë “quoted” 5€").encode("cp1252"))
    assert (f.encoding, f.rows[0].cells[0]) == ("Windows-1252", "Zoë “quoted” 5€")


def test_cr_only_line_endings_from_excel_for_mac():
    f = read_csv(NAMES.replace("\r\n", "\r").encode("cp1252"))
    assert rows(f) == [(2, ["Zoë", "Société Générale", "Zürich"], ""), (3, ["José", "Ñandú SA", "São Paulo"], "")]


def test_a_quoted_value_keeps_its_line_breaks_whatever_the_line_endings():
    for nl in ("\n", "\r\n", "\r"):
        f = read_csv(f'Name,Notes{nl}Ada,"first{nl}second"{nl}Bo,x{nl}'.encode())
        assert rows(f) == [(2, ["Ada", f"first{nl}second"], ""), (4, ["Bo", "x"], "")]


@pytest.mark.skipif(not UCI.exists(), reason="no UCI bank marketing file")
def test_the_uci_bank_file_is_semicolon_separated():
    f = read_csv(UCI.read_bytes())
    assert f.delimiter == ";" and f.header[:3] == ["age", "job", "marital"] and len(f.header) == 21
    assert len(f.rows) == 4119 and not any(r.problem for r in f.rows)
    assert f.rows[0].cells[:2] == ["30", "blue-collar"]


def test_the_delimiter_comes_from_the_header_outside_quotes():
    assert detect_delimiter('"Revenue, USD";Name;City\n') == ";"
    assert detect_delimiter("Name\tCity\n") == "\t"
    assert detect_delimiter("Name\n") == ","


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.mark.parametrize(("content", "sentence"), [
    (PNG, "This file is a PNG image, not a CSV file."),
    (_zip(), "This file is a ZIP archive (an Excel .xlsx workbook is one), not a CSV file."),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "This file is a PDF document, not a CSV file."),
    (bytes(range(256)) * 4, "The file contains NUL bytes, so it is not a CSV file"),
    (NAMES.encode("utf-16-le"), "UTF-16 text without a byte-order mark"),
    (b"Name\nA\x81\x8d\n", "The file is neither UTF-8 nor Windows-1252 text (byte 6 is 0x81)."),
    (b"Name\n" + bytes(range(1, 9)) * 20 + b"\n", "The file contains control characters"),
    (b"\r\n \n", "The file is empty or has no header row."),
])
def test_what_is_not_a_csv_is_refused_with_a_sentence(content, sentence):
    with pytest.raises(NotACsv) as e:
        read_csv(content)
    assert sentence in e.value.message and e.value.field == "file"


def test_an_unbalanced_quote_is_a_bad_row_and_the_rows_after_it_are_kept():
    f = read_csv(b'Name,City\nAda,"London\nBo,Paris\nCy,Rome\n')
    assert rows(f)[0][:2] == (2, [])
    assert "a quote opened on line 2 is never closed, so lines 2–4 read as one value" in rows(f)[0][2]
    assert rows(f)[1:] == [(3, ["Bo", "Paris"], ""), (4, ["Cy", "Rome"], "")]


def test_a_stray_quote_that_merges_lines_up_to_the_next_quote_is_a_bad_row():
    f = read_csv(b'Name,City,Notes\nAda,"London,x\nBo,Paris,y\nCy,Rome,"z"\nDi,Oslo,w\n')
    assert [r.line for r in f.rows] == [2, 3, 4, 5]
    assert f.rows[0].problem and [r.cells for r in f.rows[1:]] == [["Bo", "Paris", "y"], ["Cy", "Rome", "z"], ["Di", "Oslo", "w"]]


def test_a_row_with_more_cells_than_the_header_is_a_bad_row():
    f = read_csv(b"Name,City\nAda,London,UK\nBo,Paris,,\n")
    assert rows(f)[0] == (2, ["Ada", "London", "UK"], "3 cells where the header has 2: a value containing a comma without "
                                                         "quotes around it?")
    assert rows(f)[1] == (3, ["Bo", "Paris", "", ""], "")  # trailing empty cells are only trailing delimiters


def test_decode_names_the_encoding():
    assert decode("a\n".encode("utf-16"))[1] == "UTF-16"
