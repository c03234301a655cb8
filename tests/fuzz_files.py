"""Damaged, foreign and hostile files and odd upload requests for ``tests/test_fuzz_imports.py``.

:func:`raw_xlsx` writes a minimal workbook by hand, so that its sheet can hold
what openpyxl would never write (formulas without a cached value, numbers too
big for ``int()``, dangling shared strings, entity tricks); the strategies
damage valid files byte by byte, build ZIP archives that are not workbooks, and
shape upload requests every wrong way a script could.
"""
from __future__ import annotations

import io
import zipfile

from fuzz_sheets import Sheet, write_csv, write_xlsx
from hypothesis import strategies as st

_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PARTS = {
    "[Content_Types].xml": b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
    b'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    b'spreadsheetml.worksheet+xml"/></Types>',
    "_rels/.rels": b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/relationships"><Relationship Id="rId1" Type="' + _REL + b'/officeDocument" '
    b'Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": b'<?xml version="1.0" encoding="UTF-8"?><workbook ' + _NS + b' xmlns:r="' + _REL + b'">'
    b'<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="' + _REL + b'/worksheet" '
    b'Target="worksheets/sheet1.xml"/></Relationships>',
}
#: Cells an XLSX can carry besides plain text: formulas with and without a cached value, numbers
#: too big for int() or float(), bad dates, errors, dangling shared strings, control-character and
#: surrogate references, external and exponential entities.
HOSTILE_CELLS = [
    b'<c t="str"><f>HYPERLINK("http://evil.example","x")</f><v>=HYPERLINK("http://evil.example","x")</v></c>',
    b'<c><f>HYPERLINK("http://evil.example","x")</f></c>', b'<c t="str"><f>1+1</f><v>2</v></c>',
    b"<c><v>1e999</v></c>", b"<c><v>" + b"9" * 5000 + b"</v></c>", b"<c><v>NaN</v></c>", b"<c><v>-0</v></c>",
    b'<c t="d"><v>not-a-date</v></c>', b'<c t="d"><v>99999-01-01</v></c>', b'<c t="e"><v>#DIV/0!</v></c>',
    b'<c t="b"><v>7</v></c>', b'<c t="s"><v>999999</v></c>', b'<c t="s"><v>-1</v></c>',
    b'<c t="inlineStr"><is><t>&#1;</t></is></c>', b'<c t="inlineStr"><is><t>&#xD800;</t></is></c>',
    b'<c t="inlineStr"><is><t>_x0001__xD800_</t></is></c>', b'<c t="inlineStr"><is><t>&xxe;</t></is></c>',
    b'<c t="inlineStr"><is><t>&lol9;</t></is></c>', b'<c r="XFD1048576"><v>1</v></c>', b'<c r="A0"><v>1</v></c>',
    '<c t="inlineStr"><is><r><t>富</t></r><r><t>文本</t></r></is></c>'.encode(), b"<c/>", b"<c><v></v></c>",
]
DOCTYPES = [b"", b'<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
            b'<!DOCTYPE w [<!ENTITY lol0 "lol">' + b"".join(
                b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10) for i in range(1, 10)) + b"]>"]


def _text_cell(text: str) -> bytes:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").encode()
    return b'<c t="inlineStr"><is><t>' + escaped + b"</t></is></c>"


def raw_xlsx(rows: list[list[bytes]], doctype: bytes = b"", parts: dict | None = None,
             method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A minimal workbook whose first sheet holds ``rows`` of raw ``<c>`` elements, written by hand."""
    sheet = (b'<?xml version="1.0" encoding="UTF-8"?>' + doctype + b"<worksheet " + _NS + b"><sheetData>"
             + b"".join(b"<row>" + b"".join(row) + b"</row>" for row in rows) + b"</sheetData></worksheet>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in {**_PARTS, "xl/worksheets/sheet1.xml": sheet, **(parts or {})}.items():
            archive.writestr(name, data)
    return out.getvalue()


@st.composite
def hostile_workbooks(draw) -> bytes:
    """A hand-written workbook: a proper header, then rows mixing good cells and hostile ones."""
    header = [_text_cell(w) for w in ("code", "name", "parent code", "kind", "members")]
    good = [[_text_cell(f"H{i}"), _text_cell("名称"), _text_cell(""), _text_cell("党委"), b"<c><v>3</v></c>"]
            for i in range(draw(st.integers(0, 3)))]
    rows = [list(r) for r in good]
    for _ in range(draw(st.integers(1, 3))):
        row = [_text_cell("X"), _text_cell("名称"), _text_cell(""), _text_cell("党委"), _text_cell("1")]
        for _ in range(draw(st.integers(1, 3))):
            row[draw(st.integers(0, 4))] = draw(st.sampled_from(HOSTILE_CELLS))
        rows.insert(draw(st.integers(0, len(rows))), row)
    return raw_xlsx([header] + rows, draw(st.sampled_from(DOCTYPES)))


@st.composite
def foreign_archives(draw) -> bytes:
    """ZIP files that are not (quite) workbooks: random members, missing parts, stored or deflated."""
    names = st.sampled_from(["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/worksheets/sheet1.xml",
                             "xl/sharedStrings.xml", "xl/_rels/workbook.xml.rels", "../../evil.txt", "/etc/x",
                             "xl/" + "深" * 200, "word/document.xml", "mimetype"])
    contents = st.one_of(st.binary(max_size=300), st.sampled_from(list(_PARTS.values())),
                         st.text(max_size=100).map(lambda t: ("<x>" + t + "</x>").encode("utf-8", "replace")))
    members = draw(st.dictionaries(names, contents, max_size=6))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def lying_zip_bomb() -> bytes:
    """A worksheet of 60 MB (mostly blanks) in a 60 KB archive whose directory claims 2 KB: the size
    check alone would let it through, so reading must stop at the claimed size."""
    rows = [[_text_cell("code"), _text_cell("name"), _text_cell("kind")]] + [[_text_cell("A"), _text_cell("甲"),
                                                                              _text_cell("党委")]]
    bomb = raw_xlsx(rows, doctype=b" " * (60 * 1024 * 1024))
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        real = archive.getinfo("xl/worksheets/sheet1.xml").file_size
    return bomb.replace(real.to_bytes(4, "little"), (2048).to_bytes(4, "little"))


def _valid_files() -> list[bytes]:
    header, rows = ["code", "name", "parent code", "kind", "members"], [["A1", "甲党委", "", "党委", 3],
                                                                       ["A2", "乙单位", "A1", "单位", 5]]
    return [write_csv(Sheet(header, rows), "utf-8-sig", ",", "\r\n"), write_xlsx(Sheet(header, rows)),
            write_csv(Sheet(header, rows), "gb18030", ";", "\n")]


@st.composite
def damaged_files(draw) -> bytes:
    """A valid CSV or XLSX cut short, with bytes flipped, inserted or prepended; or random bytes."""
    data = bytearray(draw(st.sampled_from(_valid_files())))
    how = draw(st.sampled_from(["truncate", "flip", "insert", "prepend", "random"]))
    if how == "truncate":
        del data[draw(st.integers(0, len(data) - 1)):]
    elif how == "flip":
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] ^= draw(st.integers(1, 255))
    elif how == "insert":
        spot = draw(st.integers(0, len(data)))
        data[spot:spot] = draw(st.binary(min_size=1, max_size=40))
    elif how == "prepend":
        data[:0] = draw(st.sampled_from([b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\xff\xfe",
                                         b"\xef\xbb\xbf\xef\xbb\xbf", b"\x00", b"%PDF-1.4\n"]))
    else:
        data = bytearray(draw(st.sampled_from([b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\xff\xfe"]))
                         + draw(st.binary(max_size=600)))
    return bytes(data)


# --- requests: missing, duplicated and wrongly typed fields, odd names, oversized bodies -----------

SMALL_CSV = "code,name,kind\nZ1,甲党委,党委\n".encode()


@st.composite
def upload_requests(draw) -> dict:
    """Keyword arguments for ``client.post`` to the upload: any shape a browser or a script could send."""
    filename = draw(st.one_of(st.just("units.csv"), st.text(max_size=30), st.sampled_from(
        ["", "../../etc/passwd", "..\\..\\boot.ini", "a\x00b.csv", "名单.csv", "x" * 5000, ".xlsx", "<b>x</b>.csv"])))
    body = draw(st.one_of(st.just(SMALL_CSV), st.binary(max_size=200)))
    shape = draw(st.sampled_from(["file", "two files", "file as text", "no file", "other name", "urlencoded",
                                  "json", "text/plain", "oversized", "multipart without boundary"]))
    if shape == "file":
        return {"data": {"file": (io.BytesIO(body), filename)}, "content_type": "multipart/form-data"}
    if shape == "two files":
        return {"data": {"file": [(io.BytesIO(body), filename), (io.BytesIO(SMALL_CSV), "b.csv")]},
                "content_type": "multipart/form-data"}
    if shape == "file as text":
        return {"data": {"file": body.decode("latin-1")}, "content_type": "multipart/form-data"}
    if shape == "no file":
        return {"data": {"csrf_token": draw(st.text(max_size=20))}, "content_type": "multipart/form-data"}
    if shape == "other name":
        return {"data": {draw(st.text(min_size=1, max_size=10)): (io.BytesIO(body), filename)},
                "content_type": "multipart/form-data"}
    if shape == "urlencoded":
        return {"data": {"file": body.decode("latin-1")}}
    if shape == "json":
        return {"json": {"file": body.decode("latin-1"), "rows": [[1, 2, 3]]}}
    if shape == "text/plain":
        return {"data": body, "content_type": "text/plain"}
    if shape == "multipart without boundary":
        return {"data": body, "content_type": "multipart/form-data"}
    size = draw(st.sampled_from([1, 1024, 1024 * 1024]))  # above UPLOAD_MAX by this much
    return {"data": {"file": (io.BytesIO(b"x" * (2 * 1024 * 1024 + size)), filename)},
            "content_type": "multipart/form-data", "oversized": True}
