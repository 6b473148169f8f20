#!/usr/bin/env python3
"""Generate Ferry's benchmark data set (Python 3.11, standard library only).

A seeded, reproducible, realistic customer base of N accounts (default 1,000,000), in one of
three shapes (--shape):

  accounts  one `User`, one `Contact`, one `ContactEmail` and one `ContactPhone` per account and
            no ledger (issue 16's first shape: 200,000 accounts = 800,000 records);
  billing   the same accounts and a billing ledger of two invoices per account, four records
            each (issue 16's second shape): a taxed `Debit` naming its `TaxCode` (Standard, from
            the setup data, with Tax1 at its 5 % rate), a `Credit` (loyalty discount), a
            `CloseInvoice`, and a `Payment` of the invoice's total against it
            (`Invoice="<User>-1"`, `-2`): 8 ledger rows per account;
  mixed     (the default, the set of issues 5-15, byte-identical to before) the same accounts
            and about five ledger rows of varied kinds: the month's charge (`Debit` with Description, Package and a service period),
sometimes an add-on charge and a `Credit`, a `CloseInvoice`, a `Payment` against the invoice
(`Invoice="<User>-1"`) or one without an invoice (auto-disburse), a quarter of the accounts
carry an opening balance (`Debit Package="Opening Balance"` + `CloseInvoice Delivered=true`,
paid through `Invoice="<User>-1"`), and most get the next month's charge on a new, open
invoice. The data is valid: Ferry imports it without a single finding.

Written in one streaming pass (memory stays flat whatever N is), into OUT (default
bench/data/a<N>-s<SEED>/):

  xml/bench.xml                     one XML file, records grouped by entity type
  csv/                              a CSV folder: User.csv, Contact.csv, ContactEmail.csv,
                                    ContactPhone.csv, Ledger.csv (with a `Type` column), and the
                                    setup records (TaxCode.csv, TaxRate.csv, Service.csv,
                                    PaymentType.csv, StatusType.csv)
  xlsx/part-1.xlsx, part-2.xlsx …   workbooks, one sheet per entity type each; a new workbook
                                    starts (at an account boundary, so an account's ledger rows
                                    stay together and in order) before any sheet would pass
                                    1,048,575 data rows. Shared strings, real date cells and
                                    numeric money cells, as Excel writes them. Setup sheets are
                                    in part-1.xlsx.
  raw/users.csv, contacts.csv, contact_emails.csv, contact_phones.csv, ledger.csv
                                    the same rows (setup records excepted) with no header row,
                                    for `sqlite3 .import` and PostgreSQL `COPY`;
  raw/schema.sql                    the equivalent plain tables (no keys, no indexes)
  raw/pgloader/*.load               one pgloader command file per table (the database URL is
                                    the placeholder @PGURL@)
  manifest.json                     the parameters and the count of every record type

The same --accounts and --seed always give byte-identical files.

usage: python3 bench/generate.py [--accounts N] [--seed S] [--out DIR]
                                 [--shape mixed|accounts|billing]
                                 [--formats xml,csv,xlsx,raw] [--max-sheet-rows 1048575]

The default OUT is bench/data/a<N>-s<SEED>/ for the mixed shape and
bench/data/<shape>-a<N>-s<SEED>/ for the others. The accounts shape has no Ledger file, sheet or
raw table.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import sys
import time
import unicodedata
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
GENERATOR_VERSION = 1
EXCEL_MAX_ROWS = 1_048_576  # rows of a sheet, header included
MAX_LEDGER_ROWS_PER_ACCOUNT = 9  # see mixed_ledger(): 2 + 1 + 1 + 1 + 1 + 1 + 1 + 1; billing 8
SHAPES = ("mixed", "accounts", "billing")


# ------------------------------------------------------------------------------------------
# Value types. Records keep their natural types so that the workbook stores numbers as numbers
# and dates as real Excel dates, while XML and CSV get text.
# ------------------------------------------------------------------------------------------


class Money(str):
    """A money value as text ("29.99"); a numeric cell in a workbook."""


class U(str):
    """Text unique to one account (its name, e-mail, phone, invoice names, references): the
    workbook writer appends it to the shared strings without keeping an index of it."""


def text(v) -> str:
    """The text form of a value in XML attributes and CSV fields (ISO dates)."""
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


# ------------------------------------------------------------------------------------------
# Columns (field names exactly as in docs/formats.md) and the plain tables of the raw loaders.
# ------------------------------------------------------------------------------------------

USER_COLS = ["Name", "Owner", "Role", "Culture", "Currency", "Language", "CreatedDate", "StatusType",
             "TaxCode", "BillGroup", "CreditRating", "BillDay", "DisableReason", "Email"]
CONTACT_COLS = ["User", "ContactName", "ContactFirstName", "ContactLastName", "ContactTitle",
                "ContactType", "ContactCompany"]
EMAIL_COLS = ["User", "ContactName", "Email", "ContactType"]
PHONE_COLS = ["User", "ContactName", "Phone", "ContactType", "ContactPointType"]
LEDGER_COLS = ["Type", "User", "Date", "Debit", "Credit", "Tax1", "Description", "Package",
               "PeriodStart", "PeriodEnd", "Invoice", "Delivered", "PaymentType", "Reference"]
# The ledger's per-type fields (the XML elements carry only these).
LEDGER_FIELDS = {
    "Debit": ["User", "Date", "Debit", "Tax1", "Description", "Package", "PeriodStart", "PeriodEnd",
              "Invoice"],
    "Credit": ["User", "Date", "Credit", "Description", "Package", "Invoice"],
    "CloseInvoice": ["User", "Invoice", "Delivered"],
    "Payment": ["User", "Date", "Credit", "Description", "PaymentType", "Invoice", "Reference"],
}
LEDGER_INDEX = {c: i for i, c in enumerate(LEDGER_COLS)}
# The billing shape's ledger also names the Debit's own TaxCode (a column of its own, so that the
# mixed shape's files stay byte-identical to the earlier generator's).
BILLING_LEDGER_COLS = LEDGER_COLS[:6] + ["TaxCode"] + LEDGER_COLS[6:]
BILLING_LEDGER_FIELDS = dict(LEDGER_FIELDS, Debit=["User", "Date", "Debit", "Tax1", "TaxCode",
                                                   "Description", "Package", "PeriodStart",
                                                   "PeriodEnd", "Invoice"])

# (entity sheet/file, columns, raw table, SQL column types)
MAIN = [
    ("User", USER_COLS, "users",
     ["text", "text", "text", "text", "text", "text", "timestamp", "text", "text", "text", "text",
      "integer", "text", "text"]),
    ("Contact", CONTACT_COLS, "contacts", ["text"] * 7),
    ("ContactEmail", EMAIL_COLS, "contact_emails", ["text"] * 4),
    ("ContactPhone", PHONE_COLS, "contact_phones", ["text"] * 5),
    ("Ledger", LEDGER_COLS, "ledger",
     ["text", "text", "date", "numeric(19,4)", "numeric(19,4)", "numeric(19,4)", "text", "text",
      "date", "date", "text", "boolean", "text", "text"]),
]


class Shape:
    """What one --shape writes: the entity files/sheets/tables (MAIN's entries, the ledger's
    columns adapted) and the ledger's fields per record type (the XML elements carry only these)."""

    def __init__(self, name: str):
        self.name = name
        if name == "accounts":
            self.main = [t for t in MAIN if t[0] != "Ledger"]
            self.ledger_cols, self.ledger_fields = [], {}
        elif name == "billing":
            sheet, _, table, types = MAIN[-1]
            btypes = types[:6] + ["text"] + types[6:]
            self.main = MAIN[:-1] + [(sheet, BILLING_LEDGER_COLS, table, btypes)]
            self.ledger_cols, self.ledger_fields = BILLING_LEDGER_COLS, BILLING_LEDGER_FIELDS
        else:
            self.main, self.ledger_cols, self.ledger_fields = MAIN, LEDGER_COLS, LEDGER_FIELDS
        self.ledger_index = {c: i for i, c in enumerate(self.ledger_cols)}


def sql_name(field: str) -> str:
    """CamelCase field name -> snake_case column name (`User` is reserved in PostgreSQL)."""
    if field == "User":
        return "user_name"
    out = []
    for i, ch in enumerate(field):
        if ch.isupper() and i and not field[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


# ------------------------------------------------------------------------------------------
# Setup records: the reference data the accounts and the ledger use beyond `ferry init`'s
# defaults (owner admin, USD, English, Customer, Active, Default, Billing Contact, Work Phone…,
# service Opening Balance).
# ------------------------------------------------------------------------------------------

PLANS = [("Basic Plan", Money("29.99")), ("Plus Plan", Money("49.99")), ("Pro Plan", Money("79.99")),
         ("Family Plan", Money("64.50"))]
ADDON = ("Static IP", Money("5.00"))
DISCOUNT = ("Loyalty Discount", Money("5.00"))
SETUP: list[tuple[str, list[str], list[list]]] = [
    ("StatusType", ["Name"], [["Suspended"]]),
    ("PaymentType", ["Name"], [["Credit Card"], ["Cheque"], ["Bank Transfer"], ["Direct Debit"]]),
    ("TaxCode", ["Name"], [["Standard"], ["Exempt"]]),
    ("TaxRate", ["TaxCode", "Rank", "Name", "Percent"], [["Standard", 1, "GST", 5]]),
    ("Service", ["Name", "Amount"], [[n, a] for n, a in PLANS] + [list(ADDON), [DISCOUNT[0], Money("0")]]),
]
GST = Decimal("0.05")
CENT = Decimal("0.01")

# ------------------------------------------------------------------------------------------
# People
# ------------------------------------------------------------------------------------------

FIRST = """James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara
Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew
Betty Anthony Margaret Mark Sandra Donald Ashley Steven Kimberly Paul Emily Andrew Donna Joshua
Michelle Kenneth Carol Kevin Amanda Brian Dorothy George Melissa Timothy Deborah Ronald Stephanie
Edward Rebecca Jason Sharon Jeffrey Laura Ryan Cynthia Jacob Kathleen Gary Amy Nicholas Angela
Eric Shirley Jonathan Anna Stephen Brenda Larry Pamela Justin Emma Scott Nicole Brandon Helen
Benjamin Samantha Samuel Katherine Gregory Christine Alexander Debra Frank Rachel Patrick Carolyn
Raymond Janet Jack Catherine Dennis Maria Jerry Heather Tyler Diane Aaron Ruth José Zoë Chloé
Renée André François Søren Björn Siobhán Łukasz Nguyễn Mei Hiroshi Yuki Aisha Omar Fatima Priya
Rahul Ananya Wei Jun Olga Ivan Ingrid Lars Sven Astrid Mateo Sofía Lucía Valentina Camila Diego
Santiago Gabriel Isabela Leila Noor Kwame Amara Chidi Ngozi Tariq Yusuf Elena Marco Giulia
Luca Chiara Pierre Amélie Hélène Jürgen Günter Märta Oskar Mia Noah Liam Olivia Ava""".split()
LAST = """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill
Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans
Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez
Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks
Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers
Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson
Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds
Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens
Murray Ford Castro Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy Wells
Vargas Henry Chen Freeman Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon
Mendez Silva Shaw Snyder Mason Dixon Muñoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd
Rose Stone Salazar Fox Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens
Soto Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce Vazquez Hansen
Peters Santos Hart Bradley Knight Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley
Andrews Alvarado Ray Delgado Berry Perkins Hoffman Johnston Matthews Peña Richards Willis Carpenter
Lawrence Sandoval O'Brien O'Connor Lefèvre Müller Schröder Kowalski Nowak Søndergaard Åberg
Yamamoto Tanaka Sato Suzuki Takahashi Watanabe Ito Wang Li Zhang Liu Singh Kumar Sharma Khan
Ali Hussain Okafor Adeyemi Mensah Kariuki Haddad Nasser Rossi Russo Ferrari Esposito Bianchi
Dubois Moreau Laurent Fontaine Becker Wagner Hofmann Novak Horvat Kovač Petrov Ivanova""".split()
TITLES = ["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."]
COMPANIES = ["Acme Corp", "Globex", "Initech", "Umbrella Holdings", "Stark Industries",
             "Wayne Enterprises", "Hooli", "Vandelay Industries", "Smith & Sons", "Bluth Company",
             "Pied Piper", "Soylent Ltd", "Wonka Industries", "Tyrell Corp", "Cyberdyne Systems",
             "Massive Dynamic", "Oceanic Airlines", "Dunder Mifflin", "Gringotts & Co", "Aperture Labs"]
DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com", "inbox.example.org"]
# US area codes (NANP); the exchange avoids N11 and 555/950/958/959/976.
AREAS = [int(a) for a in """201 202 203 205 206 207 208 209 210 212 213 214 215 216 217 218 219
224 225 228 229 231 234 239 240 248 251 252 253 254 256 260 262 267 269 270 276 281 301 302 303
304 305 307 308 309 310 312 313 314 315 316 317 318 319 320 321 323 325 330 334 336 337 339 347
351 352 360 361 386 401 402 404 405 406 407 408 409 410 412 413 414 415 417 419 423 425 430 432
434 435 440 443 469 478 479 480 484 501 502 503 504 505 507 508 509 510 512 513 515 516 517 518
520 530 540 541 551 559 561 562 563 567 570 571 573 574 575 580 585 586 601 602 603 605 606 607
608 609 610 612 614 615 616 617 618 619 620 623 626 630 631 636 641 646 650 651 660 661 662 678
682 701 702 703 704 706 707 708 712 713 714 715 716 717 718 719 720 724 727 731 732 734 740 754
757 760 763 765 770 772 773 774 775 781 785 786 801 802 803 804 805 806 808 810 812 813 814 815
816 817 818 828 830 831 832 843 845 847 848 850 856 857 858 859 860 862 863 864 865 870 872 878
901 903 904 906 907 908 909 910 912 913 914 915 916 917 918 919 920 925 928 931 936 937 940 941
947 949 951 952 954 956 970 971 972 973 978 979 980 985 989""".split()]
EXCHANGES = [e for e in range(200, 1000)
             if e % 100 != 11 and e not in (555, 950, 958, 959, 976)]


def ascii_fold(s: str) -> str:
    s = s.replace("ø", "o").replace("Ø", "O").replace("ł", "l").replace("Ł", "L").replace("'", "")
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii")


def phone_of(idx: int, style: int) -> U:
    """A valid US number unique to account index idx (a bijection onto area × exchange × line)."""
    a = idx % len(AREAS)
    rest = idx // len(AREAS)
    e = rest % len(EXCHANGES)
    line = ((rest // len(EXCHANGES)) * 7393 + a * 31 + e * 17) % 10000
    area, exch = AREAS[a], EXCHANGES[e]
    if style == 0:
        return U(f"({area}) {exch}-{line:04d}")
    if style == 1:
        return U(f"{area}-{exch}-{line:04d}")
    if style == 2:
        return U(f"+1 {area} {exch} {line:04d}")
    return U(f"{area}.{exch}.{line:04d}")


def tax_of(amount: Decimal) -> Money:
    return Money(str((amount * GST).quantize(CENT, ROUND_HALF_UP)))


MONTHS = ["January", "February"]


def account(i: int, rng: random.Random, shape: Shape):
    """The records of account number i: (user, contact, email, phone, ledger rows). Ledger rows
    are lists in shape.ledger_cols order. The accounts come first and draw from rng in the same
    order in every shape; the mixed shape's ledger then draws exactly as the earlier generator
    did (its files are unchanged)."""
    first = rng.choice(FIRST)
    last = rng.choice(LAST)
    name = U(f"C{i:07d}")
    full = f"{first} {last}"
    created = dt.datetime(2005, 1, 1) + dt.timedelta(seconds=rng.randrange(20 * 365 * 86400))
    suspended = rng.random() < 0.03
    taxed = rng.random() < 0.85
    bill_day = rng.randint(1, 28)
    email = U(f"{ascii_fold(first)}.{ascii_fold(last)}{i}@{rng.choice(DOMAINS)}".lower())
    user = [name, "admin", "Customer", "English", "USD", "English", created,
            "Suspended" if suspended else "Active", "Standard" if taxed else "Exempt", "Default",
            "Default", bill_day, "Payment overdue" if suspended else None,
            email if rng.random() < 0.6 else None]
    contact = [name, full if rng.random() < 0.7 else None, first, last,
               rng.choice(TITLES) if rng.random() < 0.2 else None, "Billing Contact",
               rng.choice(COMPANIES) if rng.random() < 0.25 else None]
    email_rec = [name, full, email, "Billing Contact"]
    pstyle = rng.randrange(4)
    phone_rec = [name, full, phone_of(i - 1, pstyle), None,
                 ("Work Phone", "Mobile Phone", "Home Phone")[rng.randrange(3)]]
    if shape.name == "accounts":
        return user, contact, email_rec, phone_rec, []
    if shape.name == "billing":
        return user, contact, email_rec, phone_rec, billing_ledger(name, bill_day, rng, shape)
    return user, contact, email_rec, phone_rec, mixed_ledger(name, taxed, bill_day, rng)


def billing_ledger(name: U, bill_day: int, rng: random.Random, shape: Shape) -> list[list]:
    """Two invoices, January and February 2025, of four records each: the plan's charge with its
    5 % tax (Tax1) and the Debit's own TaxCode Standard (which overrides an Exempt account's
    code, SPEC §7 "effective tax code"), the loyalty discount as a Credit, CloseInvoice, and the
    invoice's total paid against it by name. The Debit names no invoice: it opens the account's
    next one, `<User>-1` then `<User>-2` (SPEC §7), which the Payment names."""
    ledger: list[list] = []

    def row(type_: str, **f) -> None:
        r = [None] * len(shape.ledger_cols)
        r[0] = type_
        r[1] = name
        for k, v in f.items():
            r[shape.ledger_index[k]] = v
        ledger.append(r)

    plan, price = PLANS[rng.randrange(len(PLANS))]
    ptype = ("Credit Card", "Cheque", "Bank Transfer", "Direct Debit")[rng.randrange(4)]
    for n, month in enumerate(MONTHS, start=1):
        start = dt.date(2025, n, bill_day)
        end = dt.date(2025, n + 1, bill_day) - dt.timedelta(days=1)
        tax = tax_of(Decimal(price))
        row("Debit", Date=start, Debit=price, Tax1=tax, TaxCode="Standard",
            Description=f"{plan} - {month} 2025", Package=plan, PeriodStart=start, PeriodEnd=end)
        row("Credit", Date=start, Credit=DISCOUNT[1], Description="Loyalty discount",
            Package=DISCOUNT[0])
        row("CloseInvoice")
        total = Decimal(price) + Decimal(tax) - Decimal(DISCOUNT[1])
        row("Payment", Date=start + dt.timedelta(days=rng.randint(3, 20)),
            Credit=Money(f"{total:.2f}"), Description="Payment, thank you", PaymentType=ptype,
            Invoice=U(f"{name}-{n}"), Reference=U(f"TX{rng.randrange(10**10):010d}"))
    return ledger


def mixed_ledger(name: U, taxed: bool, bill_day: int, rng: random.Random) -> list[list]:
    """The mixed shape's ledger (the set of issues 5-15), in LEDGER_COLS order."""
    ledger: list[list] = []

    def row(type_: str, **f) -> None:
        r = [None] * len(LEDGER_COLS)
        r[0] = type_
        r[1] = name
        for k, v in f.items():
            r[LEDGER_INDEX[k]] = v
        ledger.append(r)

    def debit(date, amount: Money, description: str, package: str, period=None) -> Decimal:
        d = Decimal(amount)
        tax = tax_of(d) if taxed else None
        row("Debit", Date=date, Debit=amount, Tax1=tax, Description=description, Package=package,
            PeriodStart=period[0] if period else None, PeriodEnd=period[1] if period else None)
        return d + (Decimal(tax) if tax else 0)

    # invoice 1: the opening balance (a quarter of the accounts) or January's charges
    invoice1 = Decimal(0)
    if rng.random() < 0.25:
        ob = Money(f"{rng.randrange(1000, 50000) / 100:.2f}")
        row("Debit", Date=dt.date(2024, 12, 31), Debit=ob,
            Description="Balance carried forward from the legacy billing system",
            Package="Opening Balance")
        invoice1 = Decimal(ob)
        row("CloseInvoice", Delivered=True)
        if rng.random() < 0.2:  # seed 003's <CloseInvoice/>: the account of the preceding row
            ledger[-1][1] = None
    plan, price = PLANS[rng.randrange(len(PLANS))]
    jan = dt.date(2025, 1, bill_day)
    jan_total = debit(jan, price, f"{plan} - January 2025", plan,
                      (jan, dt.date(2025, 2, bill_day) - dt.timedelta(days=1)))
    if rng.random() < 0.4:
        jan_total += debit(jan, ADDON[1], f"{ADDON[0]} - January 2025", ADDON[0])
    if rng.random() < 0.2:
        row("Credit", Date=jan, Credit=DISCOUNT[1], Description="Loyalty discount",
            Package=DISCOUNT[0])
        jan_total -= Decimal(DISCOUNT[1])
    row("CloseInvoice")
    if not invoice1:
        invoice1 = jan_total
    pay_day = jan + dt.timedelta(days=rng.randint(3, 20))
    r = rng.random()
    ptype = ("Credit Card", "Cheque", "Bank Transfer", "Direct Debit")[rng.randrange(4)]
    ref = U(f"TX{rng.randrange(10**10):010d}")
    if r < 0.65:  # paid against the first invoice, in full or in part
        amount = invoice1 if rng.random() < 0.85 else (invoice1 / 2).quantize(CENT)
        row("Payment", Date=pay_day, Credit=Money(f"{amount:.2f}"), Description="Payment, thank you",
            PaymentType=ptype, Invoice=U(f"{name}-1"), Reference=ref)
    elif r < 0.9:  # not matched to an invoice: auto-disburse later
        row("Payment", Date=pay_day, Credit=Money(f"{jan_total:.2f}"), PaymentType=ptype,
            Reference=ref)
    if rng.random() < 0.75:  # February's charge opens the next invoice, left open
        feb = dt.date(2025, 2, bill_day)
        debit(feb, price, f"{plan} - February 2025", plan,
              (feb, dt.date(2025, 3, bill_day) - dt.timedelta(days=1)))
        if rng.random() < 0.33:
            row("Payment", Date=feb + dt.timedelta(days=2), Credit=Money("20.00"),
                Description="Prepayment", PaymentType="Credit Card")
    assert len(ledger) <= MAX_LEDGER_ROWS_PER_ACCOUNT
    return ledger


# ------------------------------------------------------------------------------------------
# Writers
# ------------------------------------------------------------------------------------------


def xml_escape(s: str) -> str:
    if "&" in s:
        s = s.replace("&", "&amp;")
    if "<" in s:
        s = s.replace("<", "&lt;")
    if ">" in s:
        s = s.replace(">", "&gt;")
    if '"' in s:
        s = s.replace('"', "&quot;")
    return s


class XmlWriter:
    """One XML file, records grouped by entity type (setup, User, Contact, ContactEmail,
    ContactPhone, then the ledger stream in order). Each group is streamed to its own temporary
    file and the groups are concatenated at the end."""

    def __init__(self, path: Path, shape: Shape):
        self.path = path
        self.shape = shape
        path.parent.mkdir(parents=True, exist_ok=True)
        self.parts = {k: open(path.with_name(f".{k}.part"), "w", encoding="utf-8", newline="\n")
                      for k, _, _, _ in shape.main}

    @staticmethod
    def element(type_: str, cols: list[str], values: list) -> str:
        attrs = "".join(f' {c}="{xml_escape(text(v))}"' for c, v in zip(cols, values)
                        if v is not None)
        return f"  <{type_}{attrs}/>\n"

    def write(self, sheet: str, cols: list[str], values: list) -> None:
        if sheet == "Ledger":
            type_ = values[0]
            fields = self.shape.ledger_fields[type_]
            index = self.shape.ledger_index
            self.parts["Ledger"].write(self.element(type_, fields, [values[index[f]] for f in fields]))
        else:
            self.parts[sheet].write(self.element(sheet, cols, values))

    def close(self) -> None:
        with open(self.path, "w", encoding="utf-8", newline="\n") as out:
            out.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                      "<!-- Ferry benchmark data, generated by bench/generate.py -->\n<Import>\n")
            for type_, cols, rows in SETUP:
                for r in rows:
                    out.write(self.element(type_, cols, r))
            for part in self.parts.values():
                part.close()
                with open(part.name, encoding="utf-8") as f:
                    shutil.copyfileobj(f, out, 1 << 20)
                os.unlink(part.name)
            out.write("</Import>\n")


class CsvWriter:
    """A CSV folder (with header rows and the setup files) or the raw files (no header, no
    setup) — the same rows, the same bytes per row."""

    def __init__(self, folder: Path, raw: bool, shape: Shape):
        folder.mkdir(parents=True, exist_ok=True)
        self.raw = raw
        self.files = {}
        self.writers = {}
        for sheet, cols, table, _ in shape.main:
            f = open(folder / (f"{table}.csv" if raw else f"{sheet}.csv"), "w", encoding="utf-8",
                     newline="")
            w = csv.writer(f, lineterminator="\r\n")
            if not raw:
                w.writerow(cols)
            self.files[sheet], self.writers[sheet] = f, w
        if not raw:
            for type_, cols, rows in SETUP:
                with open(folder / f"{type_}.csv", "w", encoding="utf-8", newline="") as f:
                    w = csv.writer(f, lineterminator="\r\n")
                    w.writerow(cols)
                    w.writerows([[text(v) for v in r] for r in rows])

    def write(self, sheet: str, cols: list[str], values: list) -> None:
        self.writers[sheet].writerow([text(v) for v in values])

    def close(self) -> None:
        for f in self.files.values():
            f.close()


def col_letter(i: int) -> str:  # 0 -> A
    s = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        s = chr(65 + rem) + s
    return s


EXCEL_EPOCH = dt.datetime(1899, 12, 30)
EXCEL_EPOCH_DATE = dt.date(1899, 12, 30)
STYLE_HEADER, STYLE_DATETIME, STYLE_MONEY, STYLE_DATE = 1, 2, 3, 4
STYLES_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>
<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font><font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="5">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
</cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>
"""
NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_R = "http://schemas.openxmlformats.org/package/2006/relationships"
ZIP_TIME = (2025, 1, 1, 0, 0, 0)


class Workbook:
    """One .xlsx written as it goes: each sheet's rows stream to a temporary file, and so do the
    shared strings. Text that repeats (bounded vocabulary: names, types, descriptions) is indexed
    once per workbook; text unique to an account (class U) is appended once per account."""

    def __init__(self, path: Path, sheets: list[tuple[str, list[str]]]):
        self.path = path
        self.tmp = path.with_name(f".{path.stem}.tmp")
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.sst_file = open(self.tmp / "sst.part", "w", encoding="utf-8", newline="\n")
        self.sst_common: dict[str, int] = {}
        self.sst_account: dict[str, int] = {}
        self.sst_unique = 0
        self.sst_count = 0
        self.sheets: dict[str, list] = {}  # name -> [file, rows written, ncols]
        self.order: list[str] = []
        for name, cols in sheets:
            self.add_sheet(name, cols)

    def add_sheet(self, name: str, cols: list[str]) -> None:
        f = open(self.tmp / f"sheet{len(self.order) + 1}.part", "w", encoding="utf-8", newline="\n")
        self.sheets[name] = [f, 0, len(cols)]
        self.order.append(name)
        self.write(name, cols, header=True)

    def new_account(self) -> None:
        self.sst_account.clear()

    def rows(self, name: str) -> int:
        return self.sheets[name][1]

    def sst(self, s: str) -> int:
        self.sst_count += 1
        table = self.sst_account if isinstance(s, U) else self.sst_common
        idx = table.get(s)
        if idx is None:
            idx = table[s] = self.sst_unique
            self.sst_unique += 1
            self.sst_file.write(f"<si><t>{xml_escape(s)}</t></si>")
        return idx

    def write(self, name: str, values: list, header: bool = False) -> None:
        sheet = self.sheets[name]
        sheet[1] += 1
        rn = sheet[1]
        cells = []
        for i, v in enumerate(values):
            if v is None:
                continue  # an empty value is an absent cell, as Excel writes it
            ref = f"{LETTERS[i]}{rn}"
            if header:
                cells.append(f'<c r="{ref}" t="s" s="{STYLE_HEADER}"><v>{self.sst(v)}</v></c>')
            elif isinstance(v, Money):
                cells.append(f'<c r="{ref}" s="{STYLE_MONEY}"><v>{number_text(v)}</v></c>')
            elif isinstance(v, str):
                cells.append(f'<c r="{ref}" t="s"><v>{self.sst(v)}</v></c>')
            elif v is True or v is False:
                cells.append(f'<c r="{ref}" t="b"><v>{int(v)}</v></c>')
            elif isinstance(v, dt.datetime):
                serial = (v - EXCEL_EPOCH).total_seconds() / 86400
                cells.append(f'<c r="{ref}" s="{STYLE_DATETIME}"><v>{serial!r}</v></c>')
            elif isinstance(v, dt.date):
                cells.append(f'<c r="{ref}" s="{STYLE_DATE}"><v>{(v - EXCEL_EPOCH_DATE).days}</v></c>')
            else:  # int, Decimal
                cells.append(f'<c r="{ref}"><v>{v}</v></c>')
        sheet[0].write(f'<row r="{rn}">{"".join(cells)}</row>')

    def close(self) -> None:
        self.sst_file.close()
        n = len(self.order)
        content_types = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                      for i in range(1, n + 1))
            + '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
            "</Types>")
        root_rels = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{NS_PKG_R}">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>'
            "</Relationships>")
        workbook = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{NS_MAIN}" xmlns:r="{NS_R}">'
            '<workbookPr/><bookViews><workbookView/></bookViews><sheets>'
            + "".join(f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>'
                      for i, name in enumerate(self.order, start=1))
            + "</sheets></workbook>")
        wb_rels = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{NS_PKG_R}">'
            + "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
                      for i in range(1, n + 1))
            + f'<Relationship Id="rId{n + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId{n + 2}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>")
        app = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
               "<Application>Ferry bench/generate.py</Application></Properties>")

        def info(name: str) -> zipfile.ZipInfo:
            zi = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            return zi

        with zipfile.ZipFile(self.path, "w", allowZip64=True) as z:
            for name, data in [("[Content_Types].xml", content_types), ("_rels/.rels", root_rels),
                               ("docProps/app.xml", app), ("xl/workbook.xml", workbook),
                               ("xl/_rels/workbook.xml.rels", wb_rels), ("xl/styles.xml", STYLES_XML)]:
                z.writestr(info(name), data.encode("utf-8"))
            for i, name in enumerate(self.order, start=1):
                f, rows, ncols = self.sheets[name]
                f.close()
                head = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                        f'<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_R}">'
                        f'<dimension ref="A1:{LETTERS[ncols - 1]}{rows}"/>'
                        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                        'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
                        '<sheetFormatPr defaultRowHeight="15"/><sheetData>')
                self._part(z, info(f"xl/worksheets/sheet{i}.xml"), head, f.name,
                           "</sheetData></worksheet>")
                os.unlink(f.name)
            head = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    f'<sst xmlns="{NS_MAIN}" count="{self.sst_count}" uniqueCount="{self.sst_unique}">')
            self._part(z, info("xl/sharedStrings.xml"), head, self.sst_file.name, "</sst>")
            os.unlink(self.sst_file.name)
        self.tmp.rmdir()

    @staticmethod
    def _part(z: zipfile.ZipFile, zi: zipfile.ZipInfo, head: str, body: str, tail: str) -> None:
        with z.open(zi, "w", force_zip64=True) as dst, open(body, "rb") as src:
            dst.write(head.encode("utf-8"))
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.write(tail.encode("utf-8"))


LETTERS = [col_letter(i) for i in range(64)]


def number_text(v: str) -> str:
    if "." in v:
        v = v.rstrip("0").rstrip(".")
    return v or "0"


class XlsxWriter:
    """part-1.xlsx, part-2.xlsx …: a new workbook before any sheet would pass the row limit."""

    def __init__(self, folder: Path, max_rows: int, shape: Shape):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.shape = shape
        self.max_rows = max_rows  # rows of a sheet, header included
        self.parts: list[str] = []
        self.wb: Workbook | None = None

    def _open(self) -> None:
        n = len(self.parts) + 1
        path = self.folder / f"part-{n}.xlsx"
        self.parts.append(path.name)
        sheets = [(s, cols) for s, cols, _, _ in self.shape.main]
        if n == 1:
            sheets = [(t, cols) for t, cols, _ in SETUP] + sheets
        self.wb = Workbook(path, sheets)
        if n == 1:
            for t, _, rows in SETUP:
                for r in rows:
                    self.wb.write(t, r)

    def new_account(self, ledger_rows: int) -> None:
        wb = self.wb
        if wb is not None and ((ledger_rows and wb.rows("Ledger") + ledger_rows > self.max_rows)
                               or wb.rows("User") + 1 > self.max_rows):
            wb.close()
            self.wb = None
        if self.wb is None:
            self._open()
        self.wb.new_account()

    def write(self, sheet: str, cols: list[str], values: list) -> None:
        self.wb.write(sheet, values)

    def close(self) -> None:
        if self.wb is not None:
            self.wb.close()


# ------------------------------------------------------------------------------------------
# Raw-loader helpers: the plain tables and pgloader command files
# ------------------------------------------------------------------------------------------


def write_raw_extras(raw: Path, shape: Shape) -> None:
    ddl = ["-- Plain tables equivalent to Ferry's input rows (bench/generate.py): same columns,",
           "-- typed, no keys, no indexes. Valid for SQLite and PostgreSQL."]
    for _, cols, table, types in shape.main:
        body = ",\n".join(f"  {sql_name(c)} {t}" for c, t in zip(cols, types))
        ddl.append(f"CREATE TABLE {table} (\n{body}\n);")
    (raw / "schema.sql").write_text("\n".join(ddl) + "\n", encoding="utf-8")
    pgl = raw / "pgloader"
    pgl.mkdir(exist_ok=True)
    for _, cols, table, _ in shape.main:
        names = [sql_name(c) for c in cols]
        (pgl / f"{table}.load").write_text(
            "LOAD CSV\n"
            f"  FROM '{(raw / (table + '.csv')).resolve()}'\n"
            f"    ({', '.join(n + ' [null if blanks]' for n in names)})\n"
            "  INTO @PGURL@\n"
            f"    TARGET TABLE {table}\n"
            f"    TARGET COLUMNS ({', '.join(names)})\n"
            "  WITH fields optionally enclosed by '\"',\n"
            "       fields escaped by double-quote,\n"
            "       fields terminated by ',';\n", encoding="utf-8")


# ------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--shape", choices=SHAPES, default="mixed",
                    help="accounts (no ledger), billing (8 ledger rows per account) or mixed "
                         "(the default: the earlier set, about 5 ledger rows per account)")
    ap.add_argument("--formats", default="xml,csv,xlsx,raw")
    ap.add_argument("--max-sheet-rows", type=int, default=EXCEL_MAX_ROWS - 1,
                    help="data rows per sheet before a new workbook starts (default 1,048,575)")
    args = ap.parse_args()
    if args.accounts < 1:
        ap.error("--accounts must be at least 1")
    if args.max_sheet_rows < MAX_LEDGER_ROWS_PER_ACCOUNT:
        ap.error(f"--max-sheet-rows must be at least {MAX_LEDGER_ROWS_PER_ACCOUNT}")
    formats = set(args.formats.split(","))
    if formats - {"xml", "csv", "xlsx", "raw"}:
        ap.error("--formats: xml, csv, xlsx, raw")
    shape = Shape(args.shape)
    prefix = "" if shape.name == "mixed" else f"{shape.name}-"
    out: Path = args.out or HERE / "data" / f"{prefix}a{args.accounts}-s{args.seed}"
    for sub in ("xml", "csv", "xlsx", "raw"):
        if sub in formats and (out / sub).exists():
            shutil.rmtree(out / sub)
    out.mkdir(parents=True, exist_ok=True)
    (out / "manifest.json").unlink(missing_ok=True)

    writers = []
    xlsx = None
    if "xml" in formats:
        writers.append(XmlWriter(out / "xml" / "bench.xml", shape))
    if "csv" in formats:
        writers.append(CsvWriter(out / "csv", raw=False, shape=shape))
    if "raw" in formats:
        writers.append(CsvWriter(out / "raw", raw=True, shape=shape))
        write_raw_extras(out / "raw", shape)
    if "xlsx" in formats:
        xlsx = XlsxWriter(out / "xlsx", args.max_sheet_rows + 1, shape)
        writers.append(xlsx)

    counts = {t: 0 for t in ["User", "Contact", "ContactEmail", "ContactPhone", "Debit", "Credit",
                             "CloseInvoice", "Payment"]}
    rng = random.Random(args.seed)
    started = time.monotonic()
    step = max(1, args.accounts // 20)
    for i in range(1, args.accounts + 1):
        user, contact, email, phone, ledger = account(i, rng, shape)
        if xlsx is not None:
            xlsx.new_account(len(ledger))
        for w in writers:
            w.write("User", USER_COLS, user)
            w.write("Contact", CONTACT_COLS, contact)
            w.write("ContactEmail", EMAIL_COLS, email)
            w.write("ContactPhone", PHONE_COLS, phone)
            for r in ledger:
                w.write("Ledger", shape.ledger_cols, r)
        for t in ("User", "Contact", "ContactEmail", "ContactPhone"):
            counts[t] += 1
        for r in ledger:
            counts[r[0]] += 1
        if i % step == 0 and sys.stderr.isatty():
            print(f"\r{i:,}/{args.accounts:,} accounts, {time.monotonic() - started:.0f}s",
                  end="", file=sys.stderr)
    for w in writers:
        w.close()
    if sys.stderr.isatty():
        print(file=sys.stderr)

    setup = {t: len(rows) for t, _, rows in SETUP}
    ledger_rows = sum(counts[t] for t in LEDGER_FIELDS)
    main_rows = sum(counts.values())
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "generator_sha256": hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
        "accounts": args.accounts,
        "seed": args.seed,
        "shape": shape.name,
        # the raw tables, in load order (run.sh's .import / \copy / pgloader and row checks)
        "raw_tables": [table for _, _, table, _ in shape.main],
        "max_sheet_rows": args.max_sheet_rows,
        "formats": sorted(formats),
        "counts": counts,
        "setup_counts": setup,
        "ledger_rows": ledger_rows,
        "raw_rows": main_rows,  # rows of raw/*.csv (setup records are not in them)
        "records": main_rows + sum(setup.values()),  # records Ferry reads
        "xlsx_parts": xlsx.parts if xlsx else [],
        "seconds": round(time.monotonic() - started, 1),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"{out}: {args.accounts:,} accounts, {manifest['records']:,} records "
          f"({ledger_rows:,} ledger rows) in {manifest['seconds']}s", file=sys.stderr)


if __name__ == "__main__":
    main()
