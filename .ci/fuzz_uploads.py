"""Schemathesis strategies for the bulk-import routes' three media types.

Schemathesis generates JSON bodies from schemas; the import routes take files. These strategies
generate the files: mostly well-formed ones with hostile contents (unknown and known columns,
NUL, invisible characters, formula text, huge numbers, wrong types), and broken ones (random
bytes, unclosed quotes, truncated archives, workbooks whose declared sizes lie). Whatever arrives,
the API must answer 200 with a report or a 4xx problem document, never a 5xx. Loaded by
`.ci/schemathesis.toml` (`hooks`).
"""

import csv
import io
import json
import zipfile
from xml.sax.saxutils import escape

import schemathesis
from hypothesis import strategies as st

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Import columns of both kinds (src/import/fields.rs), in English and Chinese, and some that
# exist nowhere.
COLUMNS = [
    "external_id", "title", "summary", "details", "keywords", "industry_codes", "tech_field",
    "trl", "maturity_stage", "cooperation_modes", "ip", "price_fen", "confidential_details",
    "description", "demand_type", "budget_fen", "deadline", "organization.name",
    "organization.region_code", "contact.phone", "challenge.reward_fen",
    "challenge.application_deadline", "成果名称", "成果简介", "所属产业", "技术领域", "价格",
    "需求名称", "需求描述", "截止日期", "榜额", "知识产权", "unknown", "",
]

HOSTILE_TEXT = [
    "风电齿轮箱早期故障诊断", "high_end_equipment", "new_energy", "pilot_scale", "licence",
    "\x00", "西安电子科技大学\u200b", "\ufeff", "\u00ad", "=HYPERLINK(\"http://x\",\"y\")",
    "+1", "-1", "@SUM(A1)", "9" * 40, "-9223372036854775809", "2026-13-40", "1e308", "NaN",
    "发明专利:ZL202110000000.1:一种方法;;", "\"", "\r\n", "a" * 5000,
]

text = st.one_of(st.text(max_size=40), st.sampled_from(HOSTILE_TEXT))
value = st.one_of(
    text,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(text, max_size=3),
)
row = st.dictionaries(st.sampled_from(COLUMNS), value, max_size=8)


def _json_line(r):
    # Python writes NaN and Infinity, which JSON lacks: the server must refuse them per row.
    return json.dumps(r, ensure_ascii=False)


jsonl = st.one_of(
    st.lists(row, max_size=6).map(lambda rows: "\n".join(map(_json_line, rows)).encode()),
    st.lists(st.one_of(row.map(_json_line), text), max_size=6).map(
        lambda lines: "\n".join(lines).encode()
    ),
    st.binary(max_size=300),
)


def _csv(header, rows):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for r in rows:
        writer.writerow(r)
    return out.getvalue().encode()


csv_body = st.one_of(
    st.tuples(
        st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=6, unique=True),
        st.lists(st.lists(text, max_size=7), max_size=6),
    ).map(lambda t: _csv(*t)),
    st.tuples(st.sampled_from([b"", b"\xef\xbb\xbf"]), st.lists(text, max_size=8)).map(
        lambda t: t[0] + "\n".join(t[1]).encode()
    ),
    st.just(b'title,summary\n"unclosed,quote\n'),
    st.binary(max_size=300),
)


def _column(i):
    name = ""
    i += 1
    while i:
        i, rest = divmod(i - 1, 26)
        name = chr(65 + rest) + name
    return name


def _workbook(rows, unique_count, dimension, drop):
    """A minimal XLSX: shared strings for every cell; `unique_count` and `dimension` may lie."""
    strings = [cell for r in rows for cell in r]
    shared = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    count = len(strings) if unique_count is None else unique_count
    sheet_rows, n = [], 0
    for y, r in enumerate(rows, start=1):
        cells = []
        for x, _ in enumerate(r):
            cells.append(f'<c r="{_column(x)}{y}" t="s"><v>{n}</v></c>')
            n += 1
        sheet_rows.append(f'<row r="{y}">{"".join(cells)}</row>')
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{ns}" xmlns:r="{rel}">'
            '<sheets><sheet name="成果" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{ns}">'
            f'<dimension ref="{dimension}"/><sheetData>{"".join(sheet_rows)}</sheetData></worksheet>'
        ),
        "xl/sharedStrings.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{ns}" count="{count}" uniqueCount="{count}">'
            f"{shared}</sst>"
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in parts.items():
            if name != drop:
                archive.writestr(name, body.encode("utf-8", "surrogatepass"))
    return out.getvalue()


workbook = st.builds(
    _workbook,
    rows=st.lists(st.lists(st.one_of(st.sampled_from(COLUMNS), text), max_size=6), max_size=6),
    unique_count=st.one_of(st.none(), st.sampled_from([0, 2**31, 10**17, 2**64 - 1, -1])),
    dimension=st.sampled_from(["A1:F6", "A1:XFD1048576", "A1:ZZZZ99999999", "", "A0"]),
    drop=st.sampled_from([None, None, None, "xl/sharedStrings.xml", "xl/workbook.xml"]),
)
xlsx_body = st.one_of(
    workbook,
    st.tuples(workbook, st.integers(min_value=0, max_value=400)).map(lambda t: t[0][: t[1]]),
    st.binary(max_size=300),
    st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b),
)

schemathesis.openapi.media_type("application/x-ndjson", jsonl)
schemathesis.openapi.media_type("text/csv", csv_body)
schemathesis.openapi.media_type(XLSX, xlsx_body)
