#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/ (run from anywhere).

Seeds are the project's example files and fixtures plus small hand-made inputs: workbooks are
also written with *stored* (uncompressed) parts, so that libFuzzer's byte mutations reach the
sheet XML instead of breaking the deflate stream. Seeds are named seed-*, so a re-run replaces
them and leaves the inputs libFuzzer added alone.
"""

import csv
import io
import pathlib
import struct
import zipfile

FUZZ = pathlib.Path(__file__).resolve().parent
ROOT = FUZZ.parent
CLUB = ROOT / "examples" / "club"
FIXTURES = ROOT / "tests" / "fixtures"


def out(target, name, data):
    d = FUZZ / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    (d / f"seed-{name}").write_bytes(data)


# --- xml -------------------------------------------------------------------------------------

def xml_seeds():
    out("xml", "club.xml", (CLUB / "club.xml").read_bytes())
    for f in sorted(FIXTURES.glob("*.xml")):
        out("xml", f.name, f.read_bytes())
    small = {
        "user": '<Import><User Name="a" Owner="o" Role="r" CreatedDate="1/2/2024 3:04:05 PM"/></Import>',
        "ledger": '<?xml version="1.0"?>\n<Import>\n<Debit User="a" Date="2024-01-02" Debit="12.50"/>\n'
        '<CloseInvoice/>\n<Payment User="a" Date="2024-01-03" Credit="5"/>\n</Import>\n',
        "nested": "<Import><User Name='a'><Note Text='x'/></User><!-- c --><?pi x?><![CDATA[z]]></Import>",
        "refs": '<Import><User Name="a&amp;b&#x41;&#66;" Owner="&lt;"/>&amp;</Import>',
        "crlf": '<Import>\r\n<Role Name="a\r\nb"/>\r<Role Name="c"/>\r\n</Import>',
        "bom": "\ufeff<Import><Role Name='é'/></Import>",
        "doctype": '<!DOCTYPE Import><Import><Role Name="x"/></Import>',
        "latin1": '<?xml version="1.0" encoding="iso-8859-1"?><Import><Role Name="Jos\xe9"/></Import>',
        "dup": '<Import><Role Name="a" Name="b"/></Import>',
        "options": '<Import><Options Name="x" Value="y"/><Findings/><_x/></Import>',
    }
    for name, text in small.items():
        enc = "latin-1" if name == "latin1" else "utf-8"
        out("xml", name + ".xml", text.encode(enc))
    out("xml", "utf16le.xml", "<Import><Role Name='x'/></Import>".encode("utf-16-le"))
    out("xml", "utf16be-bom.xml", "\ufeff<Import><Role Name='x'/></Import>".encode("utf-16-be"))


# --- xlsx ------------------------------------------------------------------------------------

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ' \
     'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
STYLES = (
    '<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="m/d/yyyy h:mm:ss AM/PM"/></numFmts>'
    '<cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="164" applyNumberFormat="1"/>'
    '<xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="2" applyNumberFormat="1"/></cellXfs></styleSheet>'
)


def col(i):
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def workbook(sheets, compression, date1904=False):
    """sheets: [(name, rows)], a row a list of cells; a cell is a str (shared string),
    ('n', 1.5), ('d', 45000.25) (date style), ('b', 1), ('e', '#N/A'), ('f', 'A1+1'),
    ('is', 'inline') or None."""
    strings = []

    def sst(s):
        if s not in strings:
            strings.append(s)
        return strings.index(s)

    parts = {}
    for n, (name, rows) in enumerate(sheets, 1):
        xml = [f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}><sheetData>']
        for r, row in enumerate(rows, 1):
            xml.append(f'<row r="{r}">')
            for c, cell in enumerate(row):
                ref = f"{col(c)}{r}"
                if cell is None:
                    continue
                if isinstance(cell, str):
                    xml.append(f'<c r="{ref}" t="s"><v>{sst(cell)}</v></c>')
                    continue
                kind, v = cell
                if kind == "n":
                    xml.append(f'<c r="{ref}"><v>{v}</v></c>')
                elif kind == "d":
                    xml.append(f'<c r="{ref}" s="1"><v>{v}</v></c>')
                elif kind == "b":
                    xml.append(f'<c r="{ref}" t="b"><v>{v}</v></c>')
                elif kind == "e":
                    xml.append(f'<c r="{ref}" t="e"><v>{v}</v></c>')
                elif kind == "f":
                    xml.append(f'<c r="{ref}"><f>{v}</f></c>')
                elif kind == "is":
                    xml.append(f'<c r="{ref}" t="inlineStr"><is><t>{v}</t></is></c>')
            xml.append("</row>")
        xml.append("</sheetData></worksheet>")
        parts[f"xl/worksheets/sheet{n}.xml"] = "".join(xml)
    pr = '<workbookPr date1904="1"/>' if date1904 else "<workbookPr/>"
    parts["xl/workbook.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook {NS}>{pr}<sheets>'
        + "".join(f'<sheet name="{s}" sheetId="{i}" r:id="rId{i}"/>' for i, (s, _) in enumerate(sheets, 1))
        + "</sheets></workbook>"
    )
    k = len(sheets)
    parts["xl/_rels/workbook.xml.rels"] = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>' for i in range(1, k + 1))
        + f'<Relationship Id="rId{k + 1}" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
        + f'<Relationship Id="rId{k + 2}" Type="{REL}/styles" Target="styles.xml"/></Relationships>'
    )
    parts["xl/styles.xml"] = STYLES
    parts["xl/sharedStrings.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><sst {NS.split(" ")[0]} count="{len(strings)}" uniqueCount="{len(strings)}">'
        + "".join(f"<si><t>{s}</t></si>" for s in strings)
        + "</sst>"
    )
    parts["[Content_Types].xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/></Types>'
    )
    parts["_rels/.rels"] = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return buf.getvalue()


def restore(path):
    """The same workbook with every part stored uncompressed."""
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    return buf.getvalue()


def xlsx_seeds():
    out("xlsx", "club.xlsx", (CLUB / "club.xlsx").read_bytes())
    for f in sorted(FIXTURES.glob("*.xlsx")):
        out("xlsx", f.name, f.read_bytes())
    for f in ["cells.xlsx", "no_header.xlsx"]:
        out("xlsx", "stored-" + f, restore(FIXTURES / f))
    user = ("User", [
        ["Name", "Owner", "Role", "CreatedDate", "BillDay", "Email", "Bogus"],
        ["a", "o", "r", ("d", 45000.25), ("n", 11), "a@example.com", "x"],
        ["b", ("is", "inline"), ("b", 1), ("d", -3), ("n", 1.5e300), ("e", "#N/A"), None],
        [None, None, ("f", "A1&amp;B1"), ("d", 60), ("n", "NaN")],
    ])
    ledger = ("Ledger", [
        ["Type", "User", "Date", "Debit", "Credit"],
        ["Debit", "a", ("d", 45000), ("n", 12.5)],
        ["CloseInvoice"],
        ["Payment", "a", ("d", 2958466), None, ("n", 5)],
        ["Refund", "a"],
    ])
    options = ("Options", [["Name", "Value"], ["DateOrder", "DMY"], ["x"]])
    other = ("Findings", [["x"]])
    unknown = ("Usr", [["Name"], ["a"]])
    for comp, tag in [(zipfile.ZIP_STORED, "stored"), (zipfile.ZIP_DEFLATED, "deflated")]:
        out("xlsx", f"small-{tag}.xlsx", workbook([user, ledger, options, other, unknown], comp))
    out("xlsx", "1904-stored.xlsx", workbook([user], zipfile.ZIP_STORED, date1904=True))
    out("xlsx", "dup-header-stored.xlsx",
        workbook([("Role", [["Name", "Name"], ["a", "b"]])], zipfile.ZIP_STORED))
    out("xlsx", "gap-row-stored.xlsx",
        workbook([("Role", [[], ["Name"], ["a"]])], zipfile.ZIP_STORED))


# --- csv -------------------------------------------------------------------------------------

def join_csv(flags, user, ledger):
    """The layout fuzz/src/lib.rs split_csv reads: flags, u16 LE length of User.csv, the files."""
    return bytes([flags]) + struct.pack("<H", len(user)) + user + ledger


def csv_seeds():
    csv_dir = CLUB / "club_csv"
    user = (csv_dir / "User.csv").read_bytes()
    ledger = (csv_dir / "Ledger.csv").read_bytes()
    out("csv", "club", join_csv(0, user, ledger))
    out("csv", "club-user", join_csv(0, user, b""))
    out("csv", "club-ledger", join_csv(0, b"", ledger))
    for name in ["Options.csv", "Contact.csv", "UserPackage.csv"]:
        out("csv", "club-" + name, join_csv(0, (csv_dir / name).read_bytes(), b""))
    for d in sorted(FIXTURES.glob("*_csv")):
        data = (d / "User.csv").read_bytes()
        out("csv", d.name, join_csv(0, data, b""))
        out("csv", d.name + "-1252", join_csv(1, data, b""))
    small = {
        "quotes": (b'Name,Owner\r\n"a ""b""",o\r\n"multi\nline",x\r\n', b'Type,User,Debit\n"Debit",a,1\n'),
        "bom": (b"\xef\xbb\xbfName,Owner\n\xef\xbb\xbfa,b\n", b"\xef\xbb\xbfType,User\nCloseInvoice\n"),
        "ragged": (b"Name\na,b,c\n\n\n,\n", b"Type,,Type\nDebit,x,Credit\n"),
        "cr-only": (b"Name,Role\rb,c\r\r", b"Type\rPayment\r"),
        "header-only": (b"Name,Owner,Role\n", b"Type,User,Date,Debit\n"),
        "unclosed-quote": (b'Name\n"a\n', b""),
        "nul": (b"Name\x00,Owner\na\x00b,\n", b"Type\nDebit\x00\n"),
    }
    for name, (u, l) in small.items():
        out("csv", name, join_csv(0, u, l))
    out("csv", "latin1-ledger", join_csv(1, b"Name\nJos\xe9\n", b"Type,User,Description\nDebit,Jos\xe9,caf\xe9\n"))


# --- values ----------------------------------------------------------------------------------

def values_seeds():
    seen = set()
    for name in ["User.csv", "Ledger.csv", "Contact.csv", "ContactPhone.csv", "ContactAddress.csv",
                 "ContactEmail.csv", "UserPaymentMethodCreditCard.csv", "TaxRate.csv",
                 "TicketAttachment.csv", "UserPackage.csv"]:
        path = CLUB / "club_csv" / name
        if not path.exists():
            continue
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        for row in rows[1:40]:
            for v in row:
                if v and len(v) < 200:
                    seen.add(v)
    hand = [
        "2024-07-14", "2024-07-14T13:05", "2024-07-14 13:05:09", "7/14/2024 12:00:00 AM",
        "14/7/2024", "1/5/2024 3:07:09 pm", "2/30/2007", "0000-00-00", "9999-12-31 23:59:59",
        "12.30", "-0.1234", "1.23456", "$12", "1,234.50", "123456789012345.1234",
        "99999999999999999999999999", "-", ".", "1e5", "+7", "-9223372036854775808",
        "9223372036854775808", "true", "No", "0", "a@b.co", "bob@@example.com", "x@[1.2.3.4]",
        "(415) 555-2671 x12", "+1 519 249 0508", "+44 20 7946 0958 ext. 3", "USA", "EUR", "eur",
        "Canada", "us", "GBR", "Côte d'Ivoire", "the netherlands", "4111 1111 1111 1111",
        "************1234", "SGVsbG8=", "SGVsbG8", "a\r\nb", "a\u0007b", "é" * 256, "Percent",
    ]
    seen.update(hand)
    for i, v in enumerate(sorted(seen)):
        out("values", f"{i:04}", v.encode("utf-8"))
    for i, n in enumerate([45000.25, 0.1 + 0.2, -5.0, 1e308, float("nan"), float("inf"), 5e-324]):
        out("values", f"num-{i}", struct.pack("<d", n))


if __name__ == "__main__":
    xml_seeds()
    xlsx_seeds()
    csv_seeds()
    values_seeds()
