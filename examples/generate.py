#!/usr/bin/env python3
"""Generate Ferry's example data sets (Python 3.11, standard library only).

Writes a small fictional organisation, "Harbour Sailing Club", in the three containers of
SPEC section 2, each holding exactly the same records:

  examples/club/       club.xml, club.xlsx, club_csv/              clean data, no findings;
                       every entity type of SPEC section 4, the ledger
                       as one stream (a `Ledger` sheet / Ledger.csv),
                       expected_balances.csv (`ferry report balances`)
  examples/mistakes/   mistakes.xml, mistakes.xlsx, mistakes_csv/  the same data plus
                       deliberate mistakes, with an answer key
                       (expected_errors.csv, expected_warnings.csv,
                       expected_balances.csv)
  examples/README.md   description of both sets and where every mistake is

Both folders also hold attachments/berth-map.txt (and a copy in the CSV folder), the file a
ticket attachment's Path names relative to its source file's folder.

Everything is derived from a fixed seed, so the output is byte-for-byte reproducible.
Running the script again deletes and rewrites examples/club/ and examples/mistakes/.

usage: python3 examples/generate.py
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import random
import shutil
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
SEED = 20_05_1884  # fixed: the club's (fictional) founding day
OWNER = "Harbour Sailing Club"

# ------------------------------------------------------------------------------------------
# Value types.  A record's fields are kept with their natural type so that the workbook can
# store numbers as numbers and dates as real Excel dates, while XML and CSV get text.
# ------------------------------------------------------------------------------------------


class Money(str):
    """A money or decimal value given as text ("120.00"); a numeric cell in the workbook."""


def text_of(value) -> str:
    """The text form used in XML attributes and CSV fields."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return us_datetime(value)
    if isinstance(value, dt.date):  # a date without a time
        return f"{value.month}/{value.day}/{value.year}"
    return str(value)


def us_datetime(d: dt.datetime) -> str:
    """M/D/YYYY h:mm:ss AM/PM (seed 000: US ShortDate + LongTime)."""
    h12 = d.hour % 12 or 12
    ampm = "AM" if d.hour < 12 else "PM"
    return f"{d.month}/{d.day}/{d.year} {h12}:{d.minute:02d}:{d.second:02d} {ampm}"


# Field order of every entity type used here, in Ferry's processing order (docs/formats.md).
FIELDS: dict[str, list[str]] = {
    "Currency": ["Code", "Name"],
    "Owner": ["Name", "Currency"],
    "Role": ["Name"],
    "StatusType": ["Name"],
    "BillGroup": ["Name"],
    "ContactType": ["Name"],
    "NoteType": ["Name"],
    "PaymentType": ["Name"],
    "TicketPriority": ["Name"],
    "TicketCategory": ["Name"],
    "TicketStatus": ["Name"],
    "TaxCode": ["Name"],
    "TaxRate": ["TaxCode", "Rank", "Name", "Percent"],
    "Service": ["Name", "Amount"],
    "Package": ["Name", "Owner", "BillCycle"],
    "PackageService": ["Package", "Service", "Amount", "Optional"],
    "ProfileQuestion": ["Name", "AppliesTo", "Target", "Parent"],
    "User": ["Name", "Password", "Owner", "Role", "Culture", "Currency", "Language", "CreatedDate",
             "StatusType", "TaxCode", "BillGroup", "CreditRating", "BillDay", "DisableReason", "Email"],
    "ChildAccount": ["Name", "Parent"],
    "Contact": ["User", "ContactName", "ContactFirstName", "ContactLastName", "ContactTitle",
                "ContactType", "ContactCompany"],
    "ContactEmail": ["User", "ContactName", "Email", "ContactType"],
    "ContactPhone": ["User", "ContactName", "Phone", "ContactType", "ContactPointType"],
    "ContactFax": ["User", "ContactName", "Phone", "ContactType", "ContactPointType"],
    "ContactPoint": ["User", "ContactName", "ContactPointType", "Value"],
    "ContactAddress": ["User", "ContactName", "Address1", "Address2", "City", "Region",
                       "PostalCode", "Country", "ContactType"],
    "UserCompany": ["User", "Company"],
    # the ledger (one `Ledger` sheet / Ledger.csv in the workbook and the CSV folder)
    "Debit": ["User", "Date", "Debit", "Tax1", "Tax2", "Tax3", "Tax4", "TaxCode", "Description",
              "Package", "PeriodStart", "PeriodEnd", "Invoice"],
    "Credit": ["User", "Date", "Credit", "BulkAmount", "ApplyTax", "TaxCode", "Description",
               "Package", "Invoice"],
    "CloseInvoice": ["User", "Invoice", "Delivered"],
    "Payment": ["User", "Date", "Credit", "Description", "PaymentType", "Invoice", "Reference"],
    # subscriptions, attributes, notes
    "UserPackage": ["User", "Name", "NextBillDate", "Quantity"],
    "UserService": ["User", "UserPackage", "Name", "Optional", "Quantity"],
    "UserPackageAttributeDiscount": ["User", "UserPackage", "UserService", "DiscountType", "Amount"],
    "UserAttributeExpiryDate": ["User", "Date"],
    "UserAttributeTaxClass": ["User", "TaxClass"],
    "UserAttributeTaxCode": ["User", "TaxCode"],
    "UserAttributeTaxExempt": ["User", "TaxCode", "Certificate", "ExpiryDate"],
    "UserNote": ["User", "Type", "Date", "Note", "CreatedBy"],
    "ProfileAnswer": ["User", "Question", "Answer", "Service"],
    "UserExtendedAttribute": ["User", "Name", "Value"],
    "UserPackageExtendedAttribute": ["User", "UserPackage", "Name", "Value"],
    "UserPackageStatusChange": ["User", "UserPackage", "StatusType", "Date"],
    "UserServiceAttribute": ["User", "UserPackage", "UserService", "Name", "Value"],
    "UserServiceContact": ["User", "UserPackage", "UserService", "ContactName"],
    "UserServiceTelecomBucket": ["User", "UserPackage", "UserService", "Bucket", "Amount", "Unit"],
    "UserServiceProfileAnswer": ["User", "UserPackage", "UserService", "Question", "Answer",
                                 "Occurrence"],
    "UserServiceResource": ["User", "UserPackage", "UserService", "Resource", "Value"],
    # tickets
    "Ticket": ["TicketID", "User", "Reference", "Subject", "Description", "Resolution", "AssignedTo",
               "LoggedBy", "Date", "TimeSpent", "Status", "Priority", "ClosedBy", "DateClosed",
               "Category", "ContactMethod", "FromAddress", "TotalTimeSpent", "CurrentTimeSpent",
               "LastModifiedBy", "HiddenResolution", "ShowToUser", "DueDate"],
    "TicketTracking": ["TicketID", "Date", "By", "Text", "ShowToUser"],
    "TicketAttachment": ["TicketID", "FileName", "Path", "Data"],
    # payment methods
    "UserPaymentMethod": ["User", "Ref", "Default"],
    "UserPaymentMethodCash": ["Ref"],
    "UserPaymentMethodCheck": ["Ref", "BankName", "CheckNumber"],
    "UserPaymentMethodCreditCard": ["Ref", "CardNumber", "ExpiryMonth", "ExpiryYear", "NameOnCard"],
    "UserPaymentMethodACH": ["Ref", "RoutingNumber", "AccountNumber", "AccountType", "BankName"],
}
TYPE_ORDER = list(FIELDS)
LEDGER_TYPES = ("Debit", "Credit", "CloseInvoice", "Payment")
LEDGER = "Ledger"  # the one sheet / CSV file of the ledger stream (SPEC section 2)
# Columns of the Ledger sheet: Type, then the union of the four types' fields.
LEDGER_COLUMNS = ["User", "Date", "Debit", "Credit", "BulkAmount", "ApplyTax", "Tax1", "Tax2", "Tax3",
                  "Tax4", "TaxCode", "Description", "Package", "PeriodStart", "PeriodEnd", "Invoice",
                  "Delivered", "PaymentType", "Reference"]
assert set(LEDGER_COLUMNS) == {f for t in LEDGER_TYPES for f in FIELDS[t]}
# Sheets (workbook) and files (CSV folder) in processing order, the ledger as one sheet.
SHEET_ORDER = [t for t in TYPE_ORDER if t not in LEDGER_TYPES[1:]]
SHEET_ORDER[SHEET_ORDER.index("Debit")] = LEDGER


def sheet_of(type_: str) -> str:
    return LEDGER if type_ in LEDGER_TYPES else type_


@dataclass(eq=False)
class Rec:
    type: str
    f: dict  # field -> value; a value of "" is written as an empty (not given) value
    block: str = ""  # XML grouping: "" for setup, else the account it belongs to


# ------------------------------------------------------------------------------------------
# The clean organisation.
# ------------------------------------------------------------------------------------------

FIRST_NAMES = [
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Ethan", "Sophia", "Mason", "Isabella", "Lucas",
    "Mia", "Oliver", "Charlotte", "Elijah", "Amelia", "James", "Harper", "Benjamin", "Evelyn",
    "Henry", "Abigail", "Samuel", "Emily", "Daniel", "Zoë", "José", "Søren", "Priya", "Hiroshi",
    "Mei", "Aisha", "Tomás", "Ingrid", "Declan", "Nadia", "Rafael", "Astrid", "Kwame", "Leila",
    "Mateo", "Freya", "Anaïs", "Björn", "Chloé", "Dmitri", "Fatima", "Gareth", "Hana", "Imogen",
    "Jonas", "Keiko", "Lars", "Marisol", "Niamh", "Oskar", "Pilar", "Quentin", "Rosalind",
    "Siobhan", "Tariq", "Una", "Viktor", "Wendell", "Ximena", "Yusuf", "Zara", "Bob", "Margaret",
    "Grace", "Theo", "Ruth", "Malcolm",
]
LAST_NAMES = [
    "Alvarez", "Bennett", "Castellanos", "Dubois", "Eriksen", "Fitzgerald", "Gallagher", "Haddad",
    "Ishikawa", "Jablonski", "Kowalczyk", "Lindqvist", "MacLeod", "Nakamura", "O'Brien", "Pereira",
    "Quinlan", "Rasmussen", "Sandoval", "Thibodeau", "Underwood", "Vasquez", "Whitfield",
    "Yamamoto", "Zielinski", "Abernathy", "Brennan", "Chandler", "Delacroix", "Ellingsen",
    "Forsythe", "Grünewald", "Halvorsen", "Iverson", "Jørgensen", "Kaur", "Lachance", "Moreau",
    "Novak", "Okafor", "Petrov", "Ramírez", "Sato", "Tremblay", "Vance", "Walsh", "Acosta",
    "Barros", "Dunmore", "Ferreira", "Hargreaves", "Kingsley", "Larkin", "Marchetti", "Nguyen",
    "Osei", "Patel", "Rourke", "Sinclair", "Takahashi", "Whitcombe", "Achterberg",
]
# Family accounts: a parent account and its children (ChildAccount records).
FAMILY_SIZES = [3, 3, 2, 2, 2, 2]  # 6 parents + 8 children
BUSINESSES = [
    # company, how it is given: "user" = UserCompany record, "contact" = ContactCompany
    ("Smith & Daughters Rigging", "user"),
    ('"Blue Heron" Marine Supply, Inc.', "contact"),
    ("Northwind Sailmakers", "contact"),
    ("Cascade Yacht Brokerage", "user"),
    ("Puget Sound Marine Survey", "user"),
    ("Ferrante Boatworks", "contact"),
]
BUSINESS_TITLES = ["Owner", "Operations Manager", "Accounts Payable", "Office Manager", "Partner"]
PERSON_TITLES = ["Mr./Ms.", "Mr./Ms.", "Mr./Ms.", "Dr.", "Capt.", None, None, None, None]
FEMININE = {
    "Olivia", "Emma", "Ava", "Sophia", "Isabella", "Mia", "Charlotte", "Amelia", "Harper",
    "Evelyn", "Abigail", "Emily", "Zoë", "Priya", "Mei", "Aisha", "Ingrid", "Nadia", "Astrid",
    "Leila", "Freya", "Anaïs", "Chloé", "Fatima", "Hana", "Imogen", "Keiko", "Marisol", "Niamh",
    "Pilar", "Rosalind", "Siobhan", "Una", "Ximena", "Zara", "Margaret", "Grace", "Ruth",
}

# (city, region, country, area codes, postal code maker, weight)
CITIES = [
    ("Seattle", "WA", "US", ["206"], lambda r: f"981{r.choice(['01', '02', '03', '07', '09', '12', '15', '16', '17', '19', '99'])}", 30),
    ("San Francisco", "CA", "US", ["415"], lambda r: f"941{r.choice(['02', '07', '09', '10', '11', '14', '15', '17', '23', '33'])}", 6),
    ("Boston", "MA", "US", ["617"], lambda r: f"021{r.choice(['08', '09', '10', '11', '13', '14', '15', '16', '18'])}", 5),
    ("New York", "NY", "US", ["212"], lambda r: f"100{r.choice(['01', '03', '04', '11', '13', '14', '21', '24', '28'])}", 5),
    ("Portland", "OR", "US", ["503"], lambda r: f"972{r.choice(['01', '05', '09', '10', '11', '12', '14', '17'])}", 4),
    ("Vancouver", "BC", "Canada", ["604"], lambda r: canadian_postal(r, ["V6B", "V6E", "V6G", "V6H", "V6J", "V6K", "V6R"]), 4),
    ("Victoria", "BC", "Canada", ["250"], lambda r: canadian_postal(r, ["V8N", "V8R", "V8S", "V8T", "V8V", "V8W"]), 3),
]
STREETS = [
    "Marina Way", "Shilshole Avenue NW", "Harbor Avenue SW", "Dockside Lane", "Bayview Road",
    "Lighthouse Court", "Anchor Street", "Keel Place", "Tideview Drive", "Pier Street",
    "Westlake Avenue N", "Elliott Avenue W", "Cedar Street", "Maple Lane", "Oak Terrace",
    "Driftwood Way", "Salt Marsh Road", "Mariner Drive", "Spinnaker Court", "Beacon Street",
]
ADDRESS2 = ["Apt 4B", "Unit 12", "Slip 14, B Dock", "Suite 300", "Apt 702", "Floor 2"]
DOMAINS = ["example.com", "example.net", "example.org"]
PHONE_FORMATS = [
    lambda a, n: f"({a}) 555-{n}",
    lambda a, n: f"{a}.555.{n}",
    lambda a, n: f"+1 {a} 555 {n}",
    lambda a, n: f"{a}-555-{n}",
    lambda a, n: f"1-{a}-555-{n}",
    lambda a, n: f"+1 ({a}) 555-{n}",
]


def canadian_postal(r: random.Random, areas: list[str]) -> str:
    letters = "ABCEGHJKLMNPRSTVWXYZ"
    return f"{r.choice(areas)} {r.randint(1, 9)}{r.choice(letters)}{r.randint(1, 9)}"


def ascii_fold(s: str) -> str:
    s = s.replace("ø", "o").replace("Ø", "O").replace("æ", "ae").replace("ß", "ss")
    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if c.isascii() and (c.isalnum() or c in ".-")).lower()


class Phones:
    """Unique fictional numbers (555-0100 to 555-0199) per area code."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.pool: dict[str, list[str]] = {}

    def take(self, area: str) -> str:
        if area not in self.pool:
            self.pool[area] = [f"{n:04d}" for n in range(100, 200)]
            self.rng.shuffle(self.pool[area])
        return self.rng.choice(PHONE_FORMATS)(area, self.pool[area].pop())


@dataclass
class Person:
    first: str
    last: str
    name_given: bool  # ContactName written explicitly (else the "First Last" default applies)
    title: str | None
    contact_type: str
    company: str | None = None
    email: str | None = None

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclass
class Account:
    name: str
    kind: str  # individual, parent, child, business
    user: Rec
    contacts: list[Person] = field(default_factory=list)
    records: list[Rec] = field(default_factory=list)  # everything of this account, XML order
    company: tuple[str, str] | None = None


def build_clean() -> tuple[list[Rec], list[Account]]:
    rng = random.Random(SEED)
    phones = Phones(rng)
    firsts = FIRST_NAMES[:]
    rng.shuffle(firsts)
    lasts = LAST_NAMES[:]
    rng.shuffle(lasts)
    used_names: set[tuple[str, str]] = set()
    used_emails: set[str] = set()
    first_i = 0
    last_i = 0

    def next_first() -> str:
        nonlocal first_i
        v = firsts[first_i % len(firsts)]
        first_i += 1
        return v

    def next_last() -> str:
        nonlocal last_i
        v = lasts[last_i % len(lasts)]
        last_i += 1
        return v

    def make_person(last: str | None, contact_type: str, titles=PERSON_TITLES) -> Person:
        while True:
            first = next_first()
            ln = last or next_last()
            if (first, ln) not in used_names:
                break
        used_names.add((first, ln))
        title = rng.choice(titles)
        if title == "Mr./Ms.":
            title = "Ms." if first in FEMININE else "Mr."
        return Person(first, ln, name_given=rng.random() < 0.62, title=title,
                      contact_type=contact_type)

    def make_email(p: Person) -> str:
        f, l = ascii_fold(p.first), ascii_fold(p.last)
        candidates = [f"{f}.{l}", f"{f[0]}{l}", f"{f}{l}", f"{f}_{l}", f"{l}.{f}"]
        rng.shuffle(candidates)
        for local in candidates:
            e = f"{local}@{rng.choice(DOMAINS)}"
            if e not in used_emails:
                used_emails.add(e)
                return e
        raise AssertionError("no unique email")

    # ---- setup records ----
    setup = [
        Rec("Currency", {"Code": "CAD", "Name": "Canadian Dollar"}),
        Rec("Owner", {"Name": OWNER, "Currency": "USD"}),
        Rec("Role", {"Name": "Member"}),
        Rec("StatusType", {"Name": "Lapsed"}),
        Rec("BillGroup", {"Name": "Annual"}),
        Rec("ContactType", {"Name": "Emergency Contact"}),
        Rec("TaxCode", {"Name": "Standard"}),
        Rec("TaxCode", {"Name": "Exempt"}),
        Rec("TaxRate", {"TaxCode": "Standard", "Rank": 1, "Name": "GST", "Percent": Money("5")}),
        Rec("Service", {"Name": "Annual Dues", "Amount": Money("120.00")}),
    ]

    # ---- account plan: families stay together, the rest is shuffled around them ----
    groups: list[list[str]] = [["parent"] + ["child"] * (n - 1) for n in FAMILY_SIZES]
    groups += [["business"]] * len(BUSINESSES)
    groups += [["individual"]] * (50 - sum(FAMILY_SIZES) - len(BUSINESSES))
    rng.shuffle(groups)
    kinds = [k for g in groups for k in g]
    assert len(kinds) == 50

    accounts: list[Account] = []
    businesses = BUSINESSES[:]
    family_last = None
    family_city = None
    family_parent = None
    start = dt.datetime(2003, 4, 1)
    span_days = (dt.datetime(2024, 11, 30) - start).days

    for i, kind in enumerate(kinds, start=1):
        name = f"HSC-{i:04d}"
        created = start + dt.timedelta(days=rng.randrange(span_days),
                                       seconds=rng.randrange(7 * 3600, 21 * 3600))
        if kind == "child" and family_parent is not None:
            # a family member joins on the same day as, or after, the parent account
            created = max(created, family_parent.user.f["CreatedDate"] + dt.timedelta(hours=1))
        lapsed = kind != "child" and rng.random() < 0.16
        role = "Customer" if kind == "business" or (kind == "individual" and rng.random() < 0.25) else "Member"
        user = {
            "Name": name,
            "Owner": OWNER,
            "Role": role,
            "Culture": "English",
            "Currency": "USD",
            "Language": "English",
            "CreatedDate": created,
            "StatusType": "Lapsed" if lapsed else "Active",
            "TaxCode": "Standard",
            "BillGroup": "Annual" if role == "Member" else "Default",
            "CreditRating": "Default",
            "BillDay": rng.randint(1, 28),
        }
        if lapsed and rng.random() < 0.7:
            user["DisableReason"] = rng.choice(["Membership not renewed", "Moved away",
                                                "Requested by member", "Dues unpaid after 90 days"])
        if kind == "child":
            user["BillDay"] = family_parent.user.f["BillDay"]
        acct = Account(name, kind, Rec("User", user, name))

        # primary contact
        if kind == "parent":
            family_last = next_last()
            family_city = rng.choices(CITIES, weights=[c[5] for c in CITIES])[0]
            family_parent = acct
        if kind in ("parent", "child"):
            city = family_city
            p = make_person(family_last, "Billing Contact")
        else:
            city = rng.choices(CITIES, weights=[c[5] for c in CITIES])[0]
            family_parent = None
            if kind == "business":
                p = make_person(None, "Billing Contact", BUSINESS_TITLES)
            else:
                p = make_person(None, "Billing Contact")
        if kind == "business":
            company, how = businesses.pop(0)
            acct.company = (company, how)
            if how == "contact":
                p.company = company
        p.email = make_email(p) if rng.random() < 0.9 or kind == "business" else None
        acct.contacts.append(p)
        if p.email and rng.random() < 0.6:
            user["Email"] = p.email

        # second contact for about 45% of the accounts
        if rng.random() < 0.45 or kind == "business":
            if kind == "business":
                q = make_person(None, rng.choice(["Technical Contact", "Administrative Contact"]),
                                BUSINESS_TITLES)
            else:
                q = make_person(None, rng.choice(["Emergency Contact", "Emergency Contact",
                                                  "Administrative Contact"]))
            q.email = make_email(q) if rng.random() < 0.5 else None
            acct.contacts.append(q)

        acct.records.append(acct.user)
        if kind == "child":
            acct.records.append(Rec("ChildAccount", {"Name": name, "Parent": family_parent.name}, name))

        for n, c in enumerate(acct.contacts):
            crec = {"User": name}
            if c.name_given:
                crec["ContactName"] = c.name
            crec["ContactFirstName"] = c.first
            crec["ContactLastName"] = c.last
            if c.title:
                crec["ContactTitle"] = c.title
            crec["ContactType"] = c.contact_type
            if c.company:
                crec["ContactCompany"] = c.company
            acct.records.append(Rec("Contact", crec, name))
            if c.email:
                e = {"User": name, "ContactName": c.name, "Email": c.email}
                if rng.random() < 0.5:
                    e["ContactType"] = c.contact_type
                acct.records.append(Rec("ContactEmail", e, name))
            area = rng.choice(city[3]) if n == 0 else rng.choice(CITIES)[3][0]
            ph = {"User": name, "ContactName": c.name, "Phone": phones.take(area)}
            if rng.random() < 0.4:
                ph["ContactType"] = c.contact_type
            if kind != "business":
                ph["ContactPointType"] = rng.choice(["Home Phone", "Home Phone", "Mobile Phone", "Work Phone"])
            acct.records.append(Rec("ContactPhone", ph, name))
            if n == 0 and (kind == "business" or rng.random() < 0.05):
                acct.records.append(Rec("ContactFax", {"User": name, "ContactName": c.name,
                                                       "Phone": phones.take(city[3][0])}, name))
            if n == 0 and kind != "business" and rng.random() < 0.15:
                acct.records.append(Rec("ContactPoint", {
                    "User": name, "ContactName": c.name, "ContactPointType": "Mobile Phone",
                    "Value": phones.take(city[3][0])}, name))
            if n == 0:
                addr = {"User": name, "ContactName": c.name}
                if kind in ("parent", "child") and family_parent is not acct:
                    # same household as the parent account
                    paddr = next(r for r in family_parent.records if r.type == "ContactAddress")
                    for k in ("Address1", "Address2", "City", "Region", "PostalCode", "Country"):
                        if k in paddr.f:
                            addr[k] = paddr.f[k]
                else:
                    addr["Address1"] = f"{rng.randint(10, 9899)} {rng.choice(STREETS)}"
                    if rng.random() < 0.2 or kind == "business":
                        addr["Address2"] = rng.choice(ADDRESS2)
                    addr["City"], addr["Region"], addr["Country"] = city[0], city[1], city[2]
                    addr["PostalCode"] = city[4](rng)
                    # keep field order
                    addr = {k: addr[k] for k in FIELDS["ContactAddress"] if k in addr}
                if rng.random() < 0.3:
                    addr["ContactType"] = c.contact_type
                acct.records.append(Rec("ContactAddress", addr, name))
        if kind == "business" and acct.company[1] == "user":
            acct.records.append(Rec("UserCompany", {"User": name, "Company": acct.company[0]}, name))
        accounts.append(acct)

    # a few accounts spell the currency "USA" (accepted for USD, seed 003); two accounts are
    # tax exempt (the junior programme and the sea scouts are charities)
    singles = [a for a in accounts if a.kind == "individual"]
    for a in rng.sample(singles, 3):
        a.user.f["Currency"] = "USA"
    for a in rng.sample([a for a in singles if a.user.f["Currency"] == "USD"], 2):
        a.user.f["TaxCode"] = "Exempt"
    # User.Email on about half of the accounts
    have = [a for a in accounts if "Email" in a.user.f]
    assert 20 <= len(have) <= 32, len(have)

    # sanity: the special names are all there
    all_names = {n for a in accounts for c in a.contacts for n in (c.first, c.last)}
    for must in ("Zoë", "José", "Søren", "Bob", "Anaïs", "Jørgensen", "Grünewald"):  # README
        assert must in all_names, must
    assert sum(a.user.f["Currency"] == "USA" for a in accounts) == 3

    # every account has an e-mail, so that --create-accounts gives each one a login
    for a in accounts:
        if "Email" not in a.user.f and not any(c.email for c in a.contacts):
            c = a.contacts[0]
            c.email = make_email(c)
            i = next(i for i, r in enumerate(a.records) if r.type == "Contact"
                     and (r.f["ContactFirstName"], r.f["ContactLastName"]) == (c.first, c.last))
            a.records.insert(i + 1, Rec("ContactEmail", {"User": a.name, "ContactName": c.name,
                                                         "Email": c.email}, a.name))

    setup += club_setup()
    setup.sort(key=lambda r: TYPE_ORDER.index(r.type))  # stable: processing order
    ledger = club_life(accounts)
    records = setup + [r for a in accounts for r in a.records] + ledger
    return records, accounts


# ------------------------------------------------------------------------------------------
# The club's life beyond accounts and contacts: packages, the ledger, subscriptions, notes,
# profile answers, tickets and payment methods.  Written out by hand (no randomness) so that
# every ledger record's effect is known exactly; `LedgerModel` below replays it.
# ------------------------------------------------------------------------------------------

XML_COMMENTS = {
    "ledger": "The ledger: one stream, in this order (SPEC section 7). Opening balances, "
              "2025 dues, credits, closes, payments.",
}
ATTACHMENT_PATH = "attachments/berth-map.txt"
BERTH_MAP = """Harbour Sailing Club - berth map, season 2025 (fictional)

  Gate
   |
   A dock   A-01 .. A-12   dinghies and day boats
   B dock   B-01 .. B-20   keelboats up to 34 ft   (B-14: HSC-0016 from February)
   C dock   C-01 .. C-16   keelboats up to 30 ft   (C-03: HSC-0035)
   Rack     R-01 .. R-24   dinghy rack by the slipway

Shore power on B and C docks, metered per berth.
"""
METER_NOTE = "Dock C, berth C-03\nMeter 0412: 18734 kWh on 3/1/2025\nRead by the harbour master.\n"
ONE_CENT = Decimal("0.01")


def gst(amount: str) -> Money:
    """5 % GST (the Standard tax code's rank 1), rounded half away from zero to cents."""
    return Money(str((Decimal(amount) * 5 / 100).quantize(ONE_CENT, ROUND_HALF_UP)))


def club_setup() -> list[Rec]:
    return [
        Rec("NoteType", {"Name": "Membership"}),
        Rec("PaymentType", {"Name": "Cheque"}),
        Rec("PaymentType", {"Name": "Credit Card"}),
        Rec("PaymentType", {"Name": "Cash"}),
        Rec("PaymentType", {"Name": "Bank Transfer"}),
        Rec("TicketPriority", {"Name": "Normal"}),
        Rec("TicketPriority", {"Name": "High"}),
        Rec("TicketCategory", {"Name": "Moorings"}),
        Rec("TicketCategory", {"Name": "Billing"}),
        Rec("TicketCategory", {"Name": "Membership"}),
        Rec("TicketStatus", {"Name": "Open"}),
        Rec("TicketStatus", {"Name": "Closed"}),
        Rec("Service", {"Name": "Mooring", "Amount": Money("450.00")}),
        Rec("Service", {"Name": "Dinghy Rack", "Amount": Money("75.00")}),
        Rec("Package", {"Name": "Full Membership", "Owner": OWNER, "BillCycle": "Annual"}),
        Rec("Package", {"Name": "Junior Membership", "Owner": OWNER, "BillCycle": "Annual"}),
        Rec("PackageService", {"Package": "Full Membership", "Service": "Annual Dues",
                               "Amount": Money("120.00")}),
        Rec("PackageService", {"Package": "Full Membership", "Service": "Mooring",
                               "Amount": Money("450.00"), "Optional": True}),
        Rec("PackageService", {"Package": "Junior Membership", "Service": "Annual Dues",
                               "Amount": Money("60.00")}),
        Rec("ProfileQuestion", {"Name": "Sailing experience", "AppliesTo": "Role", "Target": "Member"}),
        Rec("ProfileQuestion", {"Name": "Boat length", "AppliesTo": "Service", "Target": "Mooring"}),
        Rec("ProfileQuestion", {"Name": "Beam", "AppliesTo": "Service", "Target": "Mooring",
                                "Parent": "Boat length"}),
    ]


def club_life(accounts: list[Account]) -> list[Rec]:
    """Adds subscriptions, notes, tickets and payment methods to the accounts' records and
    returns the ledger stream."""
    by_name = {a.name: a for a in accounts}

    def acct(n: int, kind: str | None = None, role: str | None = None, tax: str = "Standard",
             status: str | None = None, parent: int | None = None) -> Account:
        a = by_name[f"HSC-{n:04d}"]
        # the plan below was written for these accounts: fail loudly if the people change
        assert kind is None or a.kind == kind, (a.name, a.kind)
        assert role is None or a.user.f["Role"] == role, (a.name, a.user.f["Role"])
        assert a.user.f["TaxCode"] == tax, (a.name, a.user.f["TaxCode"])
        assert status is None or a.user.f["StatusType"] == status, (a.name, a.user.f["StatusType"])
        if parent is not None:
            assert any(r.type == "ChildAccount" and r.f["Parent"] == f"HSC-{parent:04d}"
                       for r in a.records), a.name
        return a

    def email_of(a: Account) -> str:
        return a.user.f.get("Email") or next(c.email for c in a.contacts if c.email)

    def add(a: Account, type_: str, **f) -> Rec:
        r = Rec(type_, {"User": a.name, **{k: v for k, v in f.items() if v is not None}}, a.name)
        a.records.append(r)
        return r

    # volunteers who handle the club's tickets
    secretary = acct(20, role="Member")  # Charlotte Petrov, club secretary
    harbour_master = acct(42, kind="parent", role="Member")  # Evelyn Achterberg

    # ---- subscriptions, attributes, notes, profile answers ----
    full, junior = "Full Membership", "Junior Membership"
    renew = dt.date(2026, 1, 1)
    subs = {  # account -> (package, services)
        1: (full, ["Annual Dues"]), 3: (full, ["Annual Dues"]), 6: (full, ["Annual Dues"]),
        11: (full, ["Annual Dues"]), 16: (full, ["Annual Dues", "Mooring"]),
        18: (full, ["Annual Dues"]), 19: (junior, ["Annual Dues"]),
        21: (full, ["Annual Dues"]), 22: (junior, ["Annual Dues"]), 23: (junior, ["Annual Dues"]),
        35: (full, ["Annual Dues", "Mooring"]), 44: (full, ["Annual Dues"]),
        46: (full, ["Annual Dues"]),
    }
    for n, (package, services) in subs.items():
        a = acct(n, role="Member", tax="Exempt" if n == 6 else "Standard")
        add(a, "UserPackage", Name=package,
            NextBillDate=renew if a.user.f["StatusType"] == "Active" else None)
        for s in services:
            add(a, "UserService", UserPackage=package, Name=s)
        if n == 44:  # a dinghy rack, not part of any package: an optional extra
            add(a, "UserService", UserPackage=package, Name="Dinghy Rack", Optional=True)
        if n == 21:  # family discount for the parent of two juniors
            add(a, "UserPackageAttributeDiscount", UserPackage=package, UserService="Annual Dues",
                DiscountType="Percent", Amount=Money("10"))

    a = acct(46, status="Lapsed")
    add(a, "UserAttributeExpiryDate", Date=dt.date(2024, 3, 31))  # no time: end of that day
    a = acct(16)
    add(a, "UserAttributeExpiryDate", Date=dt.date(2025, 12, 31))
    # the marine survey firm resells; the rigging firm is commercial
    a = acct(12, kind="business", role="Customer")
    add(a, "UserAttributeTaxClass", TaxClass="Reseller")
    add(a, "UserAttributeTaxCode", TaxCode="Exempt")
    add(a, "UserAttributeTaxExempt", TaxCode="Standard", Certificate="Reseller permit 604-112-233",
        ExpiryDate=dt.date(2026, 12, 31))
    a = acct(5, kind="business", role="Customer")
    add(a, "UserAttributeTaxClass", TaxClass="Commercial")

    notes = [
        (16, dt.datetime(2025, 1, 20, 9, 45), "Asked for a berth closer to the gate; see ticket T-1001."),
        (46, dt.datetime(2024, 4, 2, 14, 5), "Membership lapsed at the end of March 2024; "
                                              "carried-forward balance of 240.00 to be settled."),
        (21, dt.datetime(2025, 1, 10, 11, 30), "Family membership: pays the junior dues of "
                                                "HSC-0022 and HSC-0023 by bank transfer."),
        (6, dt.datetime(2025, 1, 12, 10, 0), "Sea Scouts leader; dues are tax exempt."),
    ]
    for n, when, text in notes:
        add(by_name[f"HSC-{n:04d}"], "UserNote", Type="Membership", Date=when, Note=text,
            CreatedBy="Charlotte Petrov")

    for n, answer in [(1, "Racing, more than 10 years"), (11, "Cruising and some dinghy racing"),
                      (19, "Junior Opti fleet, second season"),
                      (31, "Beginner: Learn to Sail course in 2023")]:
        add(acct(n, role="Member"), "ProfileAnswer", Question="Sailing experience", Answer=answer)
    add(acct(35), "ProfileAnswer", Question="Boat length", Answer="27 ft", Service="Mooring")

    add(acct(1), "UserExtendedAttribute", Name="Locker", Value="L-112")
    add(acct(16), "UserExtendedAttribute", Name="Sail number", Value="USA 51223")
    add(acct(35), "UserExtendedAttribute", Name="Sail number", Value="CAN 2291")
    add(acct(16), "UserPackageExtendedAttribute", UserPackage=full, Name="Parking permit", Value="P-0416")
    add(acct(35), "UserPackageExtendedAttribute", UserPackage=full, Name="Parking permit", Value="P-0235")
    add(acct(1), "UserPackageStatusChange", UserPackage=full, StatusType="Active", Date=dt.date(2025, 1, 1))
    add(acct(46), "UserPackageStatusChange", UserPackage=full, StatusType="Active", Date=dt.date(2024, 1, 1))
    add(acct(46), "UserPackageStatusChange", UserPackage=full, StatusType="Lapsed", Date=dt.date(2024, 4, 1))

    for n, dock, berth, boat, beam in [(16, "B", "B-14", "32 ft", "10 ft 9 in"),
                                       (35, "C", "C-03", None, None)]:
        a = acct(n)
        add(a, "UserServiceAttribute", UserPackage=full, UserService="Mooring", Name="Dock", Value=dock)
        add(a, "UserServiceAttribute", UserPackage=full, UserService="Mooring", Name="Shore power",
            Value="30 A")
        contact = a.contacts[1] if n == 35 else a.contacts[0]  # whom to call about the boat
        add(a, "UserServiceContact", UserPackage=full, UserService="Mooring", ContactName=contact.name)
        add(a, "UserServiceTelecomBucket", UserPackage=full, UserService="Mooring",
            Bucket="Shore power allowance", Amount=Money("500"), Unit="kWh")
        if boat:
            add(a, "UserServiceProfileAnswer", UserPackage=full, UserService="Mooring",
                Question="Boat length", Answer=boat)
            add(a, "UserServiceProfileAnswer", UserPackage=full, UserService="Mooring",
                Question="Beam", Answer=beam)
        add(a, "UserServiceResource", UserPackage=full, UserService="Mooring", Resource="Berth",
            Value=berth)
    add(acct(44), "UserServiceResource", UserPackage=full, UserService="Dinghy Rack", Resource="Rack",
        Value="R-07")

    # ---- tickets ----
    def ticket(a: Account, tid: str, **f) -> str:
        r = Rec("Ticket", {"TicketID": tid, "User": a.name, **f}, a.name)
        a.records.append(r)
        return tid

    def track(a: Account, tid: str, when, text, by=None, show=None):
        a.records.append(Rec("TicketTracking", {k: v for k, v in {
            "TicketID": tid, "Date": when, "By": by, "Text": text, "ShowToUser": show}.items()
            if v is not None}, a.name))

    a = acct(16)
    t = ticket(a, "T-1001", Reference="Legacy case 88213", Subject="Berth closer to the gate for 2025",
               Description="Member asks to move from C dock to a berth near the gate (knee surgery).",
               Resolution="Moved to berth B-14 from February; berth map attached.",
               AssignedTo=harbour_master.name, LoggedBy=secretary.name,
               Date=dt.datetime(2025, 1, 20, 9, 41), TimeSpent=45, Status="Closed", Priority="Normal",
               ClosedBy=harbour_master.name, DateClosed=dt.datetime(2025, 2, 3, 16, 15),
               Category="Moorings", ContactMethod="Email", FromAddress=email_of(a),
               TotalTimeSpent=45, CurrentTimeSpent=0, LastModifiedBy=harbour_master.name,
               HiddenResolution="C-09 goes back on the waiting list.", ShowToUser=True)
    track(a, t, dt.datetime(2025, 1, 20, 9, 41), "Request received by e-mail.", by=secretary.name)
    track(a, t, dt.datetime(2025, 1, 28, 12, 5), "B-14 is free from February 1.", by=harbour_master.name)
    track(a, t, dt.datetime(2025, 2, 3, 16, 15), "Member accepted B-14; berth map sent.",
          by=harbour_master.name, show=True)
    a.records.append(Rec("TicketAttachment", {"TicketID": t, "FileName": "berth-map.txt",
                                              "Path": ATTACHMENT_PATH}, a.name))

    a = acct(46, status="Lapsed")
    t = ticket(a, "T-1002", Subject="Balance carried forward from 2023",
               Description="Former member disputes part of the 240.00 carried forward.",
               AssignedTo=secretary.name, LoggedBy=secretary.name,
               Date=dt.datetime(2025, 2, 12, 15, 20), Status="Open", Priority="High",
               Category="Billing", ContactMethod="Phone", DueDate=dt.date(2025, 3, 15))
    track(a, t, dt.datetime(2025, 2, 12, 15, 20), "Called; will send copies of the 2023 invoices.",
          by=secretary.name)
    track(a, t, dt.datetime(2025, 2, 20, 10, 0), "Partial payment of 100.00 received by cheque.",
          by=secretary.name, show=True)

    a = acct(35)
    t = ticket(a, "T-1003", Subject="Shore power meter reading, berth C-03",
               AssignedTo=harbour_master.name, LoggedBy=harbour_master.name,
               Date=dt.datetime(2025, 3, 1, 8, 30), TimeSpent=15, Status="Open", Priority="Normal",
               Category="Moorings", ShowToUser=False)
    a.records.append(Rec("TicketAttachment", {
        "TicketID": t, "FileName": "meter-reading.txt",
        "Data": base64.b64encode(METER_NOTE.encode("utf-8")).decode("ascii")}, a.name))

    a = acct(22, kind="child", parent=21)
    t = ticket(a, "T-1004", Subject="Junior sailing camp dates",
               Description="Parent asks when the 2025 junior camp starts.",
               Resolution="Camp runs July 7-18; registration opens April 1.",
               AssignedTo=secretary.name, LoggedBy=secretary.name,
               Date=dt.datetime(2025, 2, 17, 19, 2), TimeSpent=10, Status="Closed",
               Priority="Normal", ClosedBy=secretary.name, DateClosed=dt.datetime(2025, 2, 18, 9, 12),
               Category="Membership", ContactMethod="Email", FromAddress=email_of(a), ShowToUser=True)
    track(a, t, dt.datetime(2025, 2, 18, 9, 12), "Answered with the camp dates.", by=secretary.name,
          show=True)

    a = acct(5, kind="business")
    t = ticket(a, "T-1005", Subject="Copy of the 2024 invoices for the auditors",
               AssignedTo=secretary.name, LoggedBy=secretary.name,
               Date=dt.datetime(2025, 3, 4, 11, 47), Status="Open", Priority="Normal",
               Category="Billing", ContactMethod="Email", FromAddress=email_of(a))

    # ---- payment methods (well-known test card numbers, an ABA test routing number) ----
    def method(a: Account, kind: str, default: bool | None = True, **detail):
        ref = f"PM-{a.name}-1"
        add(a, "UserPaymentMethod", Ref=ref, Default=default)
        a.records.append(Rec(f"UserPaymentMethod{kind}", {"Ref": ref, **detail}, a.name))

    method(acct(1), "CreditCard", CardNumber="4111111111111111", ExpiryMonth=9, ExpiryYear=2029,
           NameOnCard="Leila Takahashi")
    method(acct(16), "CreditCard", CardNumber="5555555555554444", ExpiryMonth=6, ExpiryYear=2028,
           NameOnCard="Noah Thibodeau")
    method(acct(35), "CreditCard", CardNumber="378282246310005", ExpiryMonth=3, ExpiryYear=2030,
           NameOnCard="Hana Alvarez")
    method(acct(21, kind="parent"), "ACH", RoutingNumber="011000015", AccountNumber="000123456789",
           AccountType="Checking", BankName="Salish Sea Credit Union")
    method(acct(46, status="Lapsed"), "Check", BankName="Puget Community Bank", CheckNumber="2217")
    method(acct(2, status="Lapsed"), "Cash", default=None)

    # ---- the ledger stream ----
    ledger: list[Rec] = []

    def L(type_: str, a: Account | None, **f) -> Rec:
        fields = {"User": a.name} if a else {}
        fields.update({k: v for k, v in f.items() if v is not None})
        r = Rec(type_, fields, "ledger")
        ledger.append(r)
        return r

    def debit(a: Account, when, amount: str, description: str, package: str | None = None,
              period: bool = False, invoice: str | None = None):
        taxed = a.user.f["TaxCode"] == "Standard"  # Exempt has no rate: no tax given
        L("Debit", a, Date=when, Debit=Money(amount), Tax1=gst(amount) if taxed else None,
          TaxCode="Standard" if taxed else None, Description=description, Package=package,
          PeriodStart=dt.date(2025, 1, 1) if period else None,
          PeriodEnd=dt.date(2025, 12, 31) if period else None, Invoice=invoice)

    def close(a: Account | None, delivered: bool | None = None, invoice: str | None = None):
        L("CloseInvoice", a, Invoice=invoice, Delivered=delivered)

    def pay(a: Account, when, amount: str, ptype: str, invoice: str | None = None,
            reference: str | None = None, description: str | None = None):
        L("Payment", a, Date=when, Credit=Money(amount), Description=description, PaymentType=ptype,
          Invoice=invoice, Reference=reference)

    carried = dt.date(2024, 12, 31)
    cf = "Balance carried forward from the old membership system"
    # opening balances: a Debit (or Credit) of the Opening Balance service, closed as delivered
    for n, amount in [(2, "85.50"), (10, "42.75"), (46, "240.00")]:
        a = by_name[f"HSC-{n:04d}"]
        L("Debit", a, Date=carried, Debit=Money(amount), Description=cf, Package="Opening Balance")
        close(a, delivered=True)
    a = acct(29, kind="individual", role="Customer")
    L("Credit", a, Date=carried, Credit=Money("25.00"), Description="Credit carried forward from the "
      "old membership system", Package="Opening Balance")
    close(a, delivered=True)
    a = acct(31)
    L("Debit", a, Date=carried, Debit=Money("18.00"), Description=cf, Package="Opening Balance")
    close(None, delivered=True)  # no User: the account of the preceding ledger record (seed 003)

    # 2025 dues on January 15 (members), mooring fees, the dinghy rack
    dues_day = dt.date(2025, 1, 15)
    adults = [1, 3, 6, 8, 10, 11, 16, 18, 21, 31, 35, 44, 47, 48]
    juniors = {19: 18, 22: 21, 23: 21, 49: 48}
    for n in sorted(adults + list(juniors)):
        if n in juniors:
            a = acct(n, kind="child", role="Member", parent=juniors[n])
            debit(a, dues_day, "60.00", "Junior dues 2025", "Annual Dues", period=True)
        else:
            a = acct(n, role="Member", tax="Exempt" if n == 6 else "Standard", status="Active")
            debit(a, dues_day, "120.00", "Annual dues 2025", "Annual Dues", period=True)
        if n in (16, 35):
            berth = {16: "B-14", 35: "C-03"}[n]
            debit(a, dues_day, "450.00", f"Mooring 2025, berth {berth}", "Mooring", period=True)
        if n == 44:
            debit(a, dues_day, "75.00", "Dinghy rack 2025, rack R-07", "Dinghy Rack", period=True)
    debit(acct(29), dt.date(2025, 1, 15), "75.00", "Dinghy rack 2025, rack R-11", "Dinghy Rack",
          period=True)

    # credits: a volunteer credit for two race days (BulkAmount), an early-renewal discount with
    # its GST credited too (ApplyTax), a family discount
    L("Credit", acct(35), Date=dt.date(2025, 1, 16), Credit=Money("15.00"), BulkAmount=Money("2"),
      Description="Race committee volunteer credit, 2 days")
    L("Credit", acct(16), Date=dt.date(2025, 1, 16), Credit=Money("50.00"), ApplyTax=True,
      Description="Early renewal discount")
    L("Credit", acct(48, kind="parent"), Date=dt.date(2025, 1, 16), Credit=Money("12.00"),
      Description="Family discount, 10 % of the parent's dues", Package="Annual Dues")

    # the old system mailed most dues invoices (delivered); two are closed but still to be sent;
    # 0029, 0044 and 0047 keep theirs open
    for n in [1, 3, 6, 8, 11, 16, 18, 19, 21, 22, 23, 31, 48, 49]:
        close(by_name[f"HSC-{n:04d}"], delivered=True)
    for n in [10, 35]:
        close(by_name[f"HSC-{n:04d}"], delivered=False)

    # a named invoice: the spring regatta entry, paid and closed
    a = acct(47)
    debit(a, dt.date(2025, 3, 1), "35.00", "Spring regatta entry", invoice="2025-SPRING")
    pay(a, dt.date(2025, 3, 3), "36.75", "Credit Card", invoice="2025-SPRING",
        reference="Online entry 4471")
    close(a, delivered=True, invoice="2025-SPRING")

    # payments: to a named invoice (closed ones too: the opening balances), partial ones, two
    # without an invoice (left for billing to disburse), and parents paying their children's
    pay(by_name["HSC-0002"], dt.date(2025, 1, 22), "85.50", "Cheque", invoice="HSC-0002-1",
        reference="Chq 1187", description="Settles the carried-forward balance")
    pay(by_name["HSC-0046"], dt.date(2025, 2, 20), "100.00", "Cheque", invoice="HSC-0046-1",
        reference="Chq 2217", description="Part payment of the carried-forward balance")
    pay(by_name["HSC-0010"], dt.date(2025, 1, 24), "42.75", "Credit Card", invoice="HSC-0010-1")
    pay(by_name["HSC-0010"], dt.date(2025, 1, 24), "126.00", "Credit Card", invoice="HSC-0010-2")
    pay(by_name["HSC-0001"], dt.date(2025, 1, 20), "126.00", "Credit Card", invoice="HSC-0001-1")
    pay(by_name["HSC-0016"], dt.date(2025, 1, 27), "546.00", "Credit Card", invoice="HSC-0016-1")
    pay(by_name["HSC-0035"], dt.date(2025, 2, 1), "300.00", "Credit Card", invoice="HSC-0035-1",
        description="First instalment")
    pay(by_name["HSC-0006"], dt.date(2025, 1, 29), "120.00", "Cheque", invoice="HSC-0006-1",
        reference="Chq 3310")
    pay(by_name["HSC-0011"], dt.date(2025, 2, 4), "126.00", "Credit Card", invoice="HSC-0011-1")
    pay(by_name["HSC-0018"], dt.date(2025, 2, 5), "126.00", "Cheque", invoice="HSC-0018-1",
        reference="Chq 0412")
    pay(by_name["HSC-0008"], dt.date(2025, 2, 7), "126.00", "Cheque", reference="Chq 5528")
    pay(by_name["HSC-0031"], dt.date(2025, 2, 8), "100.00", "Cash",
        description="Paid at the clubhouse bar")
    for invoice, amount in [("HSC-0021-1", "126.00"), ("HSC-0022-1", "63.00"), ("HSC-0023-1", "63.00")]:
        pay(by_name["HSC-0021"], dt.date(2025, 2, 10), amount, "Bank Transfer", invoice=invoice,
            reference="ACH 20250210")
    pay(by_name["HSC-0048"], dt.date(2025, 2, 11), "63.00", "Credit Card", invoice="HSC-0049-1",
        description="Junior dues of HSC-0049")
    return ledger


class LedgerModel:
    """SPEC section 7 in a few lines, to check the generated ledger and compute the balances.

    Returns, for each ledger record, the finding Ferry should give (or nothing)."""

    def __init__(self, records: list[Rec], rejected: set[int] = frozenset()):
        ok = [r for r in records if id(r) not in rejected]
        self.users: dict[str, dict] = {}
        for r in ok:
            if r.type == "User":
                self.users.setdefault(r.f["Name"], r.f)
        self.tax_attr = {r.f["User"]: r.f["TaxCode"] for r in ok if r.type == "UserAttributeTaxCode"}
        self.rates: dict[str, dict[int, Decimal]] = {}
        for r in ok:
            if r.type == "TaxRate":
                self.rates.setdefault(r.f["TaxCode"], {})[int(r.f["Rank"])] = Decimal(r.f["Percent"])
        self.children: dict[str, list[str]] = {}
        for r in ok:
            if r.type == "ChildAccount":
                self.children.setdefault(r.f["Parent"], []).append(r.f["Name"])
        self.books: dict[str, dict] = {u: {"inv": [], "cur": None} for u in self.users}
        self.payments: dict[str, list[list[Decimal]]] = {u: [] for u in self.users}  # [amount, disbursed]
        self.findings: list[tuple[Rec, str, str]] = []  # (record, code, field)
        last_user = None
        for r in ok:
            if r.type in LEDGER_TYPES:
                last_user = r.f.get("User", last_user)
                self.apply(r, last_user)

    def tax_code(self, r: Rec, user: str) -> str | None:
        return r.f.get("TaxCode") or self.tax_attr.get(user) or self.users[user].get("TaxCode")

    def descendants(self, user: str) -> list[str]:
        out = []
        for c in sorted(self.children.get(user, [])):
            out += [c] + self.descendants(c)
        return out

    def charge(self, book: dict, user: str, name: str | None, amount: Decimal):
        inv = book["inv"]
        if name is None:
            if book["cur"] is None:
                n = len(inv) + 1
                while any(i["name"] == f"{user}-{n}" for i in inv):
                    n += 1
                inv.append({"name": f"{user}-{n}", "closed": False, "total": Decimal(0), "paid": Decimal(0)})
                book["cur"] = len(inv) - 1
        else:
            i = next((k for k, v in enumerate(inv) if v["name"] == name), None)
            if i is None:
                inv.append({"name": name, "closed": False, "total": Decimal(0), "paid": Decimal(0)})
                i = len(inv) - 1
            book["cur"] = i
        inv[book["cur"]]["total"] += amount

    def apply(self, r: Rec, user: str):
        f = r.f
        book = self.books[user]
        amount_field = {"Debit": "Debit", "Credit": "Credit", "Payment": "Credit"}.get(r.type)
        if amount_field:
            amount = Decimal(f[amount_field])
            if amount < 0:
                self.findings.append((r, "value.negative", amount_field))
                return
        if r.type in ("Debit", "Credit") and "Invoice" in f:
            if any(i["name"] == f["Invoice"] and i["closed"] for i in book["inv"]):
                self.findings.append((r, "ledger.invoice_closed", "Invoice"))
                return
        rates = self.rates.get(self.tax_code(r, user), {})
        if r.type == "Debit":
            total = amount
            for rank in range(1, 5):
                t = Decimal(f.get(f"Tax{rank}", "0"))
                if t and rank in rates:
                    total += t
                elif t:
                    self.findings.append((r, "ledger.tax_ignored", f"Tax{rank}"))
            self.charge(book, user, f.get("Invoice"), total)
        elif r.type == "Credit":
            base = (amount * Decimal(f.get("BulkAmount", "1"))).quantize(Decimal("0.0001"), ROUND_HALF_UP)
            total = base
            if f.get("ApplyTax") is True:
                if not rates:
                    self.findings.append((r, "ledger.tax_ignored", "ApplyTax"))
                for pct in rates.values():
                    total += (base * pct / 100).quantize(ONE_CENT, ROUND_HALF_UP)
            self.charge(book, user, f.get("Invoice"), -total)
        elif r.type == "CloseInvoice":
            if "Invoice" in f:
                i = next((k for k, v in enumerate(book["inv"]) if v["name"] == f["Invoice"]), None)
                if i is None:
                    self.findings.append((r, "ledger.invoice_unknown", "Invoice"))
                    return
            else:
                i = book["cur"]
            if i is None or book["inv"][i]["closed"]:
                self.findings.append((r, "ledger.nothing_to_close", "Invoice"))
                return
            book["inv"][i]["closed"] = True
            if book["cur"] == i:
                book["cur"] = None
        elif r.type == "Payment":
            paid = Decimal(0)
            if "Invoice" in f:
                hits = [(u, i) for u in [user] + self.descendants(user)
                        for i in self.books[u]["inv"] if i["name"] == f["Invoice"]]
                own = [h for h in hits if h[0] == user]
                hits = own or hits
                if not hits:
                    self.findings.append((r, "ledger.invoice_unknown", "Invoice"))
                    return
                if len(hits) > 1:
                    self.findings.append((r, "ledger.invoice_ambiguous", "Invoice"))
                    return
                inv = hits[0][1]
                out = inv["total"] - inv["paid"]
                paid = min(amount, out) if out > 0 else Decimal(0)
                inv["paid"] += paid
            self.payments[user].append([amount, paid])

    def balances(self) -> list[tuple[str, str, int, str]]:
        """(User, Balance, OpenInvoices, Undisbursed) as `ferry report balances` writes them."""
        out = []
        for u in sorted(self.users):
            inv = self.books[u]["inv"]
            balance = sum((i["total"] for i in inv), Decimal(0)) - sum((p[0] for p in self.payments[u]), Decimal(0))
            undisbursed = sum((p[0] - p[1] for p in self.payments[u]), Decimal(0))
            out.append((u, money2(balance), sum(not i["closed"] for i in inv), money2(undisbursed)))
        return out


def money2(d: Decimal) -> str:
    """A plain decimal with 2 to 4 fractional digits."""
    q = d.quantize(Decimal("0.0001"))
    s = f"{q:.4f}"
    while s.endswith("0") and len(s.split(".")[1]) > 2:
        s = s[:-1]
    return "0.00" if s in ("-0.00",) else s


def write_balances(path: Path, model: LedgerModel) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["User", "Balance", "OpenInvoices", "Undisbursed"])
        w.writerows(model.balances())


# ------------------------------------------------------------------------------------------
# The mistakes variant: every clean record, unchanged, plus these.
# ------------------------------------------------------------------------------------------


@dataclass
class Mistake:
    no: int
    what: str
    rec: Rec | None  # the record that carries it (None: see special)
    fname: str | None  # the field where the finding points
    severity: str
    expected: str  # the finding it should produce
    why: str  # short tag for the answer key
    special: str = ""  # "column" (unknown column) or "sheet" (unknown sheet)
    dependents: list[Rec] = field(default_factory=list)


def build_mistakes(clean: list[Rec], accounts: list[Account]):
    rng = random.Random(SEED + 1)
    # work on copies so the clean data stays untouched
    copy_of: dict[int, Rec] = {}
    for r in clean:
        copy_of[id(r)] = Rec(r.type, dict(r.f), r.block)
    setup = [copy_of[id(r)] for r in clean if r.block == ""]
    ledger = [copy_of[id(r)] for r in clean if r.block == "ledger"]
    blocks: dict[str, list[Rec]] = {}
    for a in accounts:
        blocks[a.name] = [copy_of[id(r)] for r in a.records]
    mistakes: list[Mistake] = []

    def add(no, what, rec, fld, severity, expected, why, **kw):
        m = Mistake(no, what, rec, fld, severity, expected, why, **kw)
        mistakes.append(m)
        return m

    # accounts to hang the record-level mistakes on: stand-alone accounts, all different
    singles = [a for a in accounts if a.kind in ("individual", "business")]
    bob = next(a for a in accounts if any(c.first == "Bob" for c in a.contacts))
    pool = [a for a in singles if a is not bob]
    rng.shuffle(pool)
    pick = iter(pool)

    def ua(a: Account) -> Rec:
        return blocks[a.name][0]

    # 15. unknown column "Colour" on the User sheet (value ignored, record imported)
    a = next(pick)
    ua(a).f["Colour"] = "Navy"
    add(15, 'unknown column "Colour" on User', ua(a), "Colour", "warning",
        "warning input.unknown_field, once for the User sheet/file/element type, at the header "
        "cell (XML: at the first element carrying it); the value is ignored, the record imported",
        "unknown_field:Colour", special="column")

    # 7. invalid email (Bob's account)
    c = next(c for c in bob.contacts if c.first == "Bob")
    r = Rec("ContactEmail", {"User": bob.name, "ContactName": c.name, "Email": "bob@@example"}, bob.name)
    blocks[bob.name].append(r)
    add(7, 'invalid e-mail "bob@@example"', r, "Email", "error",
        "error value.email_invalid", "email:invalid")

    # 8. empty Email
    a = next(pick)
    c = a.contacts[0]
    r = Rec("ContactEmail", {"User": a.name, "ContactName": c.name, "Email": "", "ContactType": c.contact_type}, a.name)
    blocks[a.name].append(r)
    add(8, "empty Email in ContactEmail", r, "Email", "error",
        "error value.required (Email; empty means not given)", "missing:Email")

    # 20. ContactEmail for a contact that is not on that account (it is on another one)
    a, other = next(pick), next(pick)
    r = Rec("ContactEmail", {"User": a.name, "ContactName": other.contacts[0].name,
                             "Email": f"{ascii_fold(other.contacts[0].first)}.sailing@example.net"}, a.name)
    blocks[a.name].append(r)
    add(20, f'ContactEmail names contact "{other.contacts[0].name}", who belongs to {other.name}, not {a.name}',
        r, "ContactName", "error",
        "error reference.unknown: no such contact (User, ContactName) on that account", "contact:unknown")

    # 17. ContactName longer than 255 characters (name kind)
    a = next(pick)
    long = ("Eleanor Whitcombe (retired harbour pilot; prefers e-mail; do not call before 9 am; "
            "invoices go to her accountant at the Ballard office; she crews on Tuesday evening "
            "races and helps with the junior programme in July and August; keys to the dinghy "
            "shed are with her from May to September; see also the note on her late husband's "
            "boat)")
    long = (long + " " * 300)[:300].rstrip()
    while len(long) < 300:
        long += "."
    assert len(long) == 300
    r = Rec("Contact", {"User": a.name, "ContactName": long, "ContactFirstName": "Eleanor",
                        "ContactLastName": "Whitcombe", "ContactType": "Emergency Contact"}, a.name)
    blocks[a.name].append(r)
    add(17, "ContactName of 300 characters (max 255)", r, "ContactName", "error",
        "error value.too_long (ContactName, name kind: 1-255 characters)", "value:too_long")

    # 19. Country "Atlantis"
    a = next(pick)
    c = a.contacts[0]
    r = Rec("ContactAddress", {"User": a.name, "ContactName": c.name, "Address1": "1 Sunken Quay",
                               "City": "Poseidonis", "Country": "Atlantis"}, a.name)
    blocks[a.name].append(r)
    add(19, 'ContactAddress Country "Atlantis"', r, "Country", "error",
        "error value.country_invalid", "country:invalid")

    # 13. ChildAccount self-parent
    a = next(pick)
    r = Rec("ChildAccount", {"Name": a.name, "Parent": a.name}, a.name)
    blocks[a.name].insert(1, r)
    add(13, "ChildAccount with Name = Parent", r, "Parent", "error",
        "error account.child_self", "child:self_parent")

    # 14. ChildAccount cycle: A -> B (accepted), then B -> A (closes the cycle: rejected)
    a, b = sorted([next(pick), next(pick)], key=lambda x: x.name)
    r1 = Rec("ChildAccount", {"Name": a.name, "Parent": b.name}, a.name)
    r2 = Rec("ChildAccount", {"Name": b.name, "Parent": a.name}, b.name)
    blocks[a.name].insert(1, r1)
    blocks[b.name].insert(1, r2)
    add(14, f"ChildAccount cycle {a.name} -> {b.name}, then {b.name} -> {a.name}", r2, "Parent", "error",
        f"error account.child_cycle on the second record ({b.name} -> {a.name}); the first "
        f"({a.name} -> {b.name}) is valid and imported", "child:cycle")

    # ---- new accounts, each with one mistake on the User record ----
    new_blocks: list[list[Rec]] = []
    base = dt.datetime(2024, 12, 2, 10, 15, 0)

    def new_user(n: int, **over) -> Rec:
        f = {"Name": f"HSC-{n:04d}", "Owner": OWNER, "Role": "Member", "Culture": "English",
             "Currency": "USD", "Language": "English",
             "CreatedDate": base + dt.timedelta(days=n - 51, minutes=17 * (n - 50)),
             "StatusType": "Active", "TaxCode": "Standard", "BillGroup": "Annual",
             "CreditRating": "Default", "BillDay": 1 + (n * 7) % 28}
        for k, v in over.items():
            if v is None:
                f.pop(k, None)
            else:
                f[k] = v
        r = Rec("User", f, f["Name"])
        new_blocks.append([r])
        return r

    r = new_user(51, Role=None)
    add(1, "User without Role", r, "Role", "error", "error value.required (Role)", "missing:Role")
    r = new_user(52, CreatedDate="2/30/2007")
    add(2, 'impossible date CreatedDate "2/30/2007"', r, "CreatedDate", "error",
        "error value.date_invalid: 2/30/2007 does not exist (never rolled over)", "date:invalid")
    r = new_user(53, BillDay=30)
    add(3, "BillDay 30", r, "BillDay", "error", "error value.out_of_range (BillDay is 1-28)", "billday:range")
    r = new_user(54, BillDay="abc")
    add(4, 'BillDay "abc"', r, "BillDay", "error", "error value.integer_invalid", "billday:not_integer")
    r = new_user(55, TaxCode="Residental", Email="noor.haddad@example.org")
    cr = Rec("Contact", {"User": "HSC-0055", "ContactFirstName": "Noor", "ContactLastName": "Haddad",
                         "ContactTitle": "Ms.", "ContactType": "Billing Contact"}, "HSC-0055")
    ce = Rec("ContactEmail", {"User": "HSC-0055", "ContactName": "Noor Haddad",
                              "Email": "noor.haddad@example.org"}, "HSC-0055")
    new_blocks[-1] += [cr, ce]
    add(5, 'unknown reference TaxCode "Residental"', r, "TaxCode", "error",
        "error reference.unknown (no such TaxCode, no hint)", "user:unknown_taxcode")
    add(12, "Contact and ContactEmail of the rejected account HSC-0055 (mistake 5)", cr, "User", "error",
        "error reference.rejected_parent on the Contact (naming the User's location) and on its "
        "ContactEmail (its User and Contact were rejected); not a second copy of the TaxCode error",
        "cascade:rejected user", dependents=[ce])
    r = new_user(56, TaxCode="standard")
    add(6, 'wrongly cased reference TaxCode "standard"', r, "TaxCode", "error",
        'error reference.unknown with hint `did you mean "Standard"?` (with --fold-case: '
        "accepted, warning reference.case_folded)", "user:case_mismatch")
    r = new_user(57, Owner="Harbor Sailing Club")
    add(10, 'User Owner "Harbor Sailing Club" does not exist', r, "Owner", "error",
        "error reference.unknown (Owner; no hint: it is a spelling, not a case difference)",
        "user:unknown_owner")
    r = new_user(58, Currency="EURO")
    add(18, 'User Currency "EURO"', r, "Currency", "error",
        "error value.currency_invalid (not three letters)",
        "currency:invalid")
    # 9. duplicate User Name: an existing account's name again, with different data
    dup_of = next(pick)
    f = dict(ua(dup_of).f)
    f.pop("Colour", None)
    f.update({"Role": "Customer", "BillGroup": "Default", "BillDay": (f["BillDay"] % 28) + 1,
              "CreatedDate": base + dt.timedelta(days=9, hours=3, minutes=41, seconds=12),
              "StatusType": "Active", "Email": "second.signup@example.com"})
    f.pop("DisableReason", None)
    f = {k: f[k] for k in FIELDS["User"] if k in f}
    r = Rec("User", f, dup_of.name + "#2")
    new_blocks.append([r])
    add(9, f"duplicate User Name {dup_of.name} (second record, different data)", r, "Name", "error",
        f"error key.duplicate on the second {dup_of.name}, naming the first one's location",
        "key:duplicate")
    # 11. a Contact of an account that does not exist
    r = Rec("Contact", {"User": "HSC-0999", "ContactName": "Constance Pettigrew", "ContactFirstName": "Constance",
                        "ContactLastName": "Pettigrew", "ContactType": "Billing Contact"}, "HSC-0999")
    new_blocks.append([r])
    add(11, "Contact of User HSC-0999, which does not exist", r, "User", "error",
        "error reference.unknown (User)", "contact:unknown_user")

    # 16. unknown sheet / element type "Invoices"
    inv = [Rec("Invoices", {"User": accounts[0].name, "Invoice": f"{accounts[0].name}-1",
                            "Date": "1/15/2024", "Amount": Money("120.00")}, "Invoices"),
           Rec("Invoices", {"User": accounts[1].name, "Invoice": f"{accounts[1].name}-1",
                            "Date": "1/15/2024", "Amount": Money("120.00")}, "Invoices")]
    new_blocks.append(inv)
    add(16, 'unknown sheet / element type "Invoices"', inv[0], None, "warning",
        "warning input.unknown_entity, once (workbook/CSV: row/line 1; XML: the first element); "
        "its records are ignored", "unknown_sheet:Invoices", special="sheet")

    # ---- ledger mistakes, at the end of the ledger stream, on accounts that carry no other ----
    taken = {r.f.get("User", r.f.get("Name")) for m in mistakes for r in [m.rec] + m.dependents}
    by_name = {a.name: a for a in accounts}

    def ledger_acct(name: str) -> Account:
        assert name not in taken, name
        taken.add(name)
        return by_name[name]

    # 21. a negative Debit (amounts are absolute values; a refund is a Credit)
    a = ledger_acct("HSC-0031")
    r = Rec("Debit", {"User": a.name, "Date": dt.date(2025, 3, 10), "Debit": Money("-25.00"),
                      "Description": "Refund of locker deposit"}, "ledger")
    ledger.append(r)
    add(21, "negative Debit -25.00", r, "Debit", "error",
        "error value.negative (Debit, Credit and Tax1-4 are absolute values: a refund is a Credit)",
        "ledger:negative")
    # 22. a Payment naming an invoice the account does not have
    a = ledger_acct("HSC-0044")
    r = Rec("Payment", {"User": a.name, "Date": dt.date(2025, 3, 12), "Credit": Money("78.75"),
                        "PaymentType": "Cheque", "Invoice": f"{a.name}-2", "Reference": "Chq 0917"},
            "ledger")
    ledger.append(r)
    add(22, f'Payment to invoice "{a.name}-2", which {a.name} does not have (its only invoice is '
            f'{a.name}-1)', r, "Invoice", "error",
        "error ledger.invoice_unknown (no such invoice on the account or its child accounts)",
        "ledger:invoice_unknown")
    # 23. Tax2 where the tax code has no rank-2 rate (the Debit itself is imported, Tax1 kept)
    a = ledger_acct("HSC-0036")
    amount = "40.00"
    r = Rec("Debit", {"User": a.name, "Date": dt.date(2025, 3, 14), "Debit": Money(amount),
                      "Tax1": gst(amount), "Tax2": Money("2.80"), "TaxCode": "Standard",
                      "Description": "Guest mooring, 2 nights", "Package": "Mooring"}, "ledger")
    ledger.append(r)
    add(23, "Debit with Tax2 2.80, but tax code Standard has no rank-2 rate", r, "Tax2", "warning",
        "warning ledger.tax_ignored on Tax2 (Tax2 is dropped; the Debit and its Tax1 are imported, "
        "opening invoice HSC-0036-1)", "ledger:tax_ignored")
    # 24. CloseInvoice when the account has nothing open
    a = ledger_acct("HSC-0013")
    r = Rec("CloseInvoice", {"User": a.name, "Delivered": True}, "ledger")
    ledger.append(r)
    add(24, f"CloseInvoice for {a.name}, which has no open invoice", r, "User", "warning",
        "warning ledger.nothing_to_close (no change)", "ledger:nothing_to_close")

    # ---- 25-27. likely duplicates (SPEC §9): new accounts that repeat an earlier account's
    # e-mail, phone and name, or name and postal code, once normalized ----
    def first_with(type_: str, after: str) -> tuple[Account, Rec]:
        """The first individual account after `after` with a record of type_ (first contact)."""
        for a in accounts:
            if a.kind == "individual" and a.name > after:
                r = next((r for r in a.records if r.type == type_
                          and r.f.get("ContactName") == a.contacts[0].name), None)
                if r is not None:
                    return a, r
        raise AssertionError(type_)

    def new_contact(n: int, first: str, last: str, **over) -> Rec:
        r = new_user(n, **over)
        c = Rec("Contact", {"User": r.f["Name"], "ContactFirstName": first, "ContactLastName": last,
                            "ContactType": "Billing Contact"}, r.f["Name"])
        new_blocks[-1].append(c)
        return c

    orig, oe = first_with("ContactEmail", "HSC-0010")
    new_contact(59, "Wilhelmina", "Ostrander", Email="new.member.59@example.net")
    local, domain = oe.f["Email"].split("@")
    r = Rec("ContactEmail", {"User": "HSC-0059", "ContactName": "Wilhelmina Ostrander",
                             "Email": f" {local.title()}@{domain.upper()}"}, "HSC-0059")
    new_blocks[-1].append(r)
    add(25, f'ContactEmail of new account HSC-0059 repeats {orig.name}\'s e-mail in other case',
        r, "Email", "warning",
        f"warning duplicate.likely naming {orig.name} and its ContactEmail's location, score 1.00",
        "duplicate:email")

    orig, op = first_with("ContactPhone", "HSC-0020")
    p = orig.contacts[0]
    near = p.first[:2] + p.first[3:] if len(p.first) > 4 else p.first + p.first[-1]
    new_contact(60, near, p.last, Email="new.member.60@example.net")
    digits = "".join(ch for ch in op.f["Phone"] if ch.isdigit())[-10:]
    r = Rec("ContactPhone", {"User": "HSC-0060", "ContactName": f"{near} {p.last}",
                             "Phone": f"{digits[:3]} {digits[3:6]}-{digits[6:]}"}, "HSC-0060")
    new_blocks[-1].append(r)
    add(26, f'ContactPhone of new account HSC-0060 ("{near} {p.last}") is {orig.name}\'s phone '
            f'("{p.name}"), written differently', r, "Phone", "warning",
        f"warning duplicate.likely naming {orig.name}, the phone's location and the Jaro-Winkler "
        "score of the names (at least 0.92)", "duplicate:phone_name")

    orig, oa = first_with("ContactAddress", "HSC-0030")
    p = orig.contacts[0]
    new_contact(61, p.first.upper(), p.last, Email="new.member.61@example.net")
    r = Rec("ContactAddress", {"User": "HSC-0061", "ContactName": f"{p.first.upper()} {p.last}",
                               "Address1": "PO Box 77", "City": oa.f.get("City"),
                               "Region": oa.f.get("Region"),
                               "PostalCode": oa.f["PostalCode"].replace(" ", "").lower(),
                               "Country": oa.f.get("Country")}, "HSC-0061")
    r.f = {k: v for k, v in r.f.items() if v is not None}
    new_blocks[-1].append(r)
    add(27, f'ContactAddress of new account HSC-0061 has {orig.name}\'s contact name (in capitals) '
            f'and postal code (unspaced, lower case)', r, "PostalCode", "warning",
        f"warning duplicate.likely naming {orig.name} and its address's location, score 1.00",
        "duplicate:name_postal")

    records = (setup + [r for a in accounts for r in blocks[a.name]] + ledger
               + [r for b in new_blocks for r in b])
    mistakes.sort(key=lambda m: m.no)
    return records, mistakes


# ------------------------------------------------------------------------------------------
# Containers.  Each writer returns the location of every record it wrote.
# ------------------------------------------------------------------------------------------


def columns_of(sheet: str, recs: list[Rec]) -> list[str]:
    """The columns of a sheet / CSV file (or the attributes of one XML element), in field order."""
    known = LEDGER_COLUMNS if sheet == LEDGER else FIELDS.get(sheet, [])
    present = [k for k in known if any(k in r.f for r in recs)]
    extra: list[str] = []
    for r in recs:
        for k in r.f:
            if k not in known and k not in extra:
                extra.append(k)
    return (["Type"] if sheet == LEDGER else []) + present + extra


def row_values(sheet: str, r: Rec, cols: list[str]) -> list:
    return [r.type if (sheet == LEDGER and c == "Type") else r.f.get(c) for c in cols]


def by_type(records: list[Rec]) -> list[tuple[str, list[Rec]]]:
    """Records per entity type, in processing order (unknown types last)."""
    types = [t for t in TYPE_ORDER if any(r.type == t for r in records)]
    types += sorted({r.type for r in records} - set(TYPE_ORDER))
    return [(t, [r for r in records if r.type == t]) for t in types]


def by_sheet(records: list[Rec]) -> list[tuple[str, list[Rec]]]:
    """Records per sheet / CSV file: the four ledger types share the Ledger sheet, in record order."""
    sheets = [s for s in SHEET_ORDER if any(sheet_of(r.type) == s for r in records)]
    sheets += sorted({r.type for r in records} - set(TYPE_ORDER))
    return [(s, [r for r in records if sheet_of(r.type) == s]) for s in sheets]


def xml_attr(v: str) -> str:
    return escape(v, {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def write_xml(path: Path, records: list[Rec]) -> dict[int, tuple[int, int]]:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f"<!-- {OWNER}: example data for Ferry, generated by examples/generate.py -->",
             "<Import>"]
    loc: dict[int, tuple[int, int]] = {}
    prev_block = None  # records are grouped in blocks: setup, one per account, the ledger
    for r in records:
        if r.block != prev_block:
            if prev_block is not None:
                lines.append("")
            if r.block in XML_COMMENTS:
                lines.append(f"  <!-- {XML_COMMENTS[r.block]} -->")
            prev_block = r.block
        order = columns_of(r.type, [r])
        attrs = " ".join(f'{k}="{xml_attr(text_of(r.f[k]))}"' for k in order)
        loc[id(r)] = (len(lines) + 1, 3)
        lines.append(f"  <{r.type} {attrs}/>")
    lines.append("</Import>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")
    return loc


def write_csv_folder(folder: Path, records: list[Rec]) -> dict[int, tuple[str, int]]:
    folder.mkdir(parents=True)
    loc: dict[int, tuple[str, int]] = {}
    for sheet, recs in by_sheet(records):
        cols = columns_of(sheet, recs)
        with open(folder / f"{sheet}.csv", "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
            w.writerow(cols)
            for n, r in enumerate(recs):
                w.writerow(["" if v is None else text_of(v) for v in row_values(sheet, r, cols)])
                loc[id(r)] = (f"{sheet}.csv", n + 2)
    with open(folder / "Options.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(["Name", "Value"])
        w.writerow(["DateOrder", "MDY"])
        w.writerow(["CreateAccounts", "TRUE"])
    return loc


def col_letter(i: int) -> str:  # 0 -> A
    s = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        s = chr(65 + rem) + s
    return s


EXCEL_EPOCH = dt.datetime(1899, 12, 30)
STYLE_HEADER, STYLE_DATE, STYLE_MONEY, STYLE_DAY = 1, 2, 3, 4
STYLES_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="1"><numFmt numFmtId="164" formatCode="m/d/yyyy h:mm:ss AM/PM"/></numFmts>
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


class SharedStrings:
    def __init__(self):
        self.index: dict[str, int] = {}
        self.count = 0

    def get(self, s: str) -> int:
        self.count += 1
        if s not in self.index:
            self.index[s] = len(self.index)
        return self.index[s]

    def xml(self) -> str:
        parts = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                 f'<sst xmlns="{NS_MAIN}" count="{self.count}" uniqueCount="{len(self.index)}">']
        for s in self.index:
            sp = ' xml:space="preserve"' if s != s.strip() or "\n" in s else ""
            parts.append(f"<si><t{sp}>{escape(s)}</t></si>")
        parts.append("</sst>")
        return "".join(parts)


def number_text(v) -> str:
    s = str(v)
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def cell_xml(ref: str, v, sst: SharedStrings, style: int = 0) -> str:
    st = f' s="{style}"' if style else ""
    if isinstance(v, bool):
        return f'<c r="{ref}" t="b"{st}><v>{int(v)}</v></c>'
    if isinstance(v, dt.datetime):
        serial = (v - EXCEL_EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="{STYLE_DATE}"><v>{serial!r}</v></c>'
    if isinstance(v, dt.date):  # a whole-number serial: a date without a time
        serial = (dt.datetime(v.year, v.month, v.day) - EXCEL_EPOCH).days
        return f'<c r="{ref}" s="{STYLE_DAY}"><v>{serial}</v></c>'
    if isinstance(v, Money):
        return f'<c r="{ref}" s="{STYLE_MONEY}"><v>{number_text(v)}</v></c>'
    if isinstance(v, int):
        return f'<c r="{ref}"{st}><v>{v}</v></c>'
    return f'<c r="{ref}" t="s"{st}><v>{sst.get(str(v))}</v></c>'


def sheet_xml(rows: list[list], sst: SharedStrings) -> str:
    ncols = max(len(r) for r in rows)
    widths = [8.0] * ncols
    for row in rows:
        for i, v in enumerate(row):
            if v is None or v == "":
                continue
            n = 20 if isinstance(v, dt.datetime) else 10 if isinstance(v, dt.date) else len(text_of(v))
            widths[i] = max(widths[i], min(60.0, n * 1.1 + 2))
    out = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_R}">',
           f'<dimension ref="A1:{col_letter(ncols - 1)}{len(rows)}"/>',
           '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>',
           '<sheetFormatPr defaultRowHeight="15"/>', "<cols>"]
    out += [f'<col min="{i + 1}" max="{i + 1}" width="{w:.1f}" customWidth="1"/>' for i, w in enumerate(widths)]
    out.append("</cols><sheetData>")
    for rn, row in enumerate(rows, start=1):
        cells = []
        for i, v in enumerate(row):
            if v is None or v == "":  # an empty value is an absent cell, as Excel writes it
                continue
            cells.append(cell_xml(f"{col_letter(i)}{rn}", v, sst, STYLE_HEADER if rn == 1 else 0))
        out.append(f'<row r="{rn}">' + "".join(cells) + "</row>")
    out.append("</sheetData></worksheet>")
    return "".join(out)


def write_xlsx(path: Path, records: list[Rec]) -> dict[int, tuple[str, int]]:
    loc: dict[int, tuple[str, int]] = {}
    sheets: list[tuple[str, list[list]]] = []
    for sheet, recs in by_sheet(records):
        cols = columns_of(sheet, recs)
        rows: list[list] = [cols]
        for n, r in enumerate(recs):
            rows.append(row_values(sheet, r, cols))
            loc[id(r)] = (sheet, n + 2)
        sheets.append((sheet, rows))
    sheets.append(("Options", [["Name", "Value"], ["DateOrder", "MDY"], ["CreateAccounts", "TRUE"]]))
    for name, _ in sheets:
        assert len(name) <= 31

    sst = SharedStrings()
    sheet_parts = [sheet_xml(rows, sst) for _, rows in sheets]
    n = len(sheets)
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
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
        "</Types>")
    root_rels = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{NS_PKG_R}">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>'
        "</Relationships>")
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{NS_MAIN}" xmlns:r="{NS_R}">'
        '<workbookPr/><bookViews><workbookView/></bookViews><sheets>'
        + "".join(f'<sheet name="{xml_attr(name)}" sheetId="{i}" r:id="rId{i}"/>' for i, (name, _) in enumerate(sheets, start=1))
        + "</sheets></workbook>")
    wb_rels = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{NS_PKG_R}">'
        + "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
                  for i in range(1, n + 1))
        + f'<Relationship Id="rId{n + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        f'<Relationship Id="rId{n + 2}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>")
    core = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{OWNER} - Ferry example data</dc:title><dc:creator>examples/generate.py</dc:creator>"
        '<dcterms:created xsi:type="dcterms:W3CDTF">2024-12-01T00:00:00Z</dcterms:created>'
        "</cp:coreProperties>")
    app = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Application>Ferry examples/generate.py</Application></Properties>")

    parts = [("[Content_Types].xml", content_types), ("_rels/.rels", root_rels),
             ("docProps/core.xml", core), ("docProps/app.xml", app),
             ("xl/workbook.xml", workbook), ("xl/_rels/workbook.xml.rels", wb_rels),
             ("xl/styles.xml", STYLES_XML)]
    parts += [(f"xl/worksheets/sheet{i}.xml", s) for i, s in enumerate(sheet_parts, start=1)]
    parts.append(("xl/sharedStrings.xml", sst.xml()))
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts:
            info = zipfile.ZipInfo(name, date_time=(2024, 12, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data.encode("utf-8"))
    return loc


def write_all(folder: Path, stem: str, records: list[Rec]):
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    xml_loc = write_xml(folder / f"{stem}.xml", records)
    xlsx_loc = write_xlsx(folder / f"{stem}.xlsx", records)
    csv_loc = write_csv_folder(folder / f"{stem}_csv", records)
    # a ticket attachment's Path is relative to its source file's folder: the XML file and the
    # workbook are in `folder`, TicketAttachment.csv in the CSV folder
    for base in (folder, folder / f"{stem}_csv"):
        (base / ATTACHMENT_PATH).parent.mkdir(parents=True, exist_ok=True)
        (base / ATTACHMENT_PATH).write_text(BERTH_MAP, encoding="utf-8", newline="\n")
    return xml_loc, xlsx_loc, csv_loc


# ------------------------------------------------------------------------------------------
# Self-check: read the three containers back (standard library only) and compare.
# ------------------------------------------------------------------------------------------


def _canon(v: str) -> str:
    v = v.strip()
    if v and all(ch.isdigit() or ch in ".-" for ch in v) and v.count(".") <= 1 and v.lstrip("-")[:1].isdigit():
        if "." in v:
            v = v.rstrip("0").rstrip(".")
        return v.lstrip("0") or "0"
    return v


def read_xml(path: Path) -> list[tuple[str, dict]]:
    import xml.etree.ElementTree as ET
    root = ET.parse(path).getroot()
    return [(el.tag, {k: _canon(v) for k, v in el.attrib.items() if v.strip()}) for el in root]


def read_csv_folder(folder: Path) -> dict[str, list[dict]]:
    out = {}
    for p in sorted(folder.glob("*.csv")):
        with open(p, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh, strict=True))
        out[p.stem] = [{h: _canon(v) for h, v in zip(rows[0], r) if v.strip()} for r in rows[1:]]
    return out


def read_xlsx(path: Path) -> dict[str, list[dict]]:
    import re
    import xml.etree.ElementTree as ET
    ns = {"m": NS_MAIN}
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        for name in z.namelist():  # every part is well-formed XML
            ET.fromstring(z.read(name))
        sst = [si.find("m:t", ns).text or "" for si in ET.fromstring(z.read("xl/sharedStrings.xml"))]
        styles = ET.fromstring(z.read("xl/styles.xml"))
        xfs = [int(x.get("numFmtId")) for x in styles.find("m:cellXfs", ns)]
        wb = ET.fromstring(z.read("xl/workbook.xml"))
        out = {}
        for i, sh in enumerate(wb.find("m:sheets", ns), start=1):
            ws = ET.fromstring(z.read(f"xl/worksheets/sheet{i}.xml"))
            rows = []
            for row in ws.find("m:sheetData", ns):
                cells = {}
                for c in row:
                    col = re.match(r"[A-Z]+", c.get("r")).group(0)
                    t, v = c.get("t"), c.find("m:v", ns).text
                    if t == "s":
                        val = sst[int(v)]
                    elif t == "b":
                        val = "true" if v == "1" else "false"
                    elif xfs[int(c.get("s", "0"))] == 164:
                        secs = round(float(v) * 86400)
                        val = us_datetime(EXCEL_EPOCH + dt.timedelta(seconds=secs))
                    elif xfs[int(c.get("s", "0"))] == 14:
                        val = text_of((EXCEL_EPOCH + dt.timedelta(days=int(v))).date())
                    else:
                        val = v
                    cells[col] = _canon(val)
                rows.append(cells)
            header = rows[0]
            out[sh.get("name")] = [{header[k]: v for k, v in r.items()} for r in rows[1:]]
        return out


def verify(folder: Path, stem: str, records: list[Rec]) -> None:
    def fields(r: Rec) -> dict:
        return {k: _canon(text_of(v)) for k, v in r.f.items() if text_of(v).strip()}

    got_xml = read_xml(folder / f"{stem}.xml")
    assert got_xml == [(r.type, fields(r)) for r in records], "XML differs from the records"
    want_by_type = {s: [({"Type": r.type} if s == LEDGER else {}) | fields(r) for r in recs]
                    for s, recs in by_sheet(records)}
    for name, got in (("CSV", read_csv_folder(folder / f"{stem}_csv")), ("XLSX", read_xlsx(folder / f"{stem}.xlsx"))):
        assert got.pop("Options") == [{"Name": "DateOrder", "Value": "MDY"}, {"Name": "CreateAccounts", "Value": "TRUE"}], name
        assert got == want_by_type, f"{name} differs from the records"


# ------------------------------------------------------------------------------------------
# Answer key and README.
# ------------------------------------------------------------------------------------------


def field_col(records: list[Rec], rec: Rec, fld: str) -> tuple[str, int]:
    """Column letter and 1-based CSV position of a field on its record's sheet."""
    sheet = sheet_of(rec.type)
    cols = columns_of(sheet, [r for r in records if sheet_of(r.type) == sheet])
    i = cols.index(fld)
    return col_letter(i), i + 1


def locations(m: Mistake, records, stem, xml_loc, xlsx_loc, csv_loc):
    """(xml, xlsx, csv) human-readable locations of a mistake."""
    r = m.rec
    line = xml_loc[id(r)][0]
    sheet, row = xlsx_loc[id(r)]
    cfile, cline = csv_loc[id(r)]
    if m.special == "sheet":
        return (f"{stem}.xml line {line} (first `<Invoices>`; 2 elements)",
                f"sheet `Invoices` (2 rows)", f"`{stem}_csv/Invoices.csv` (2 lines)")
    letter, pos = field_col(records, r, m.fname)
    if m.special == "column":
        return (f"{stem}.xml line {line} (attribute `{m.fname}`)",
                f"`User`!{letter}1 (header; value in row {row})",
                f"`User.csv` line 1 field {pos} (header; value on line {cline})")
    x, s, c = f"line {line}", f"`{sheet}`!{letter}{row}", f"`{cfile}` line {cline} field {pos}"
    for d in m.dependents:
        dsheet, drow = xlsx_loc[id(d)]
        dfile, dline = csv_loc[id(d)]
        x += f", line {xml_loc[id(d)][0]}"
        s += f", `{dsheet}` row {drow}"
        c += f", `{dfile}` line {dline}"
    return (f"{stem}.xml {x}", s, c)


def key_rows(m: Mistake, stem, xml_loc, xlsx_loc, csv_loc):
    """Rows for expected_errors.csv / expected_warnings.csv, one per container."""
    out = []
    recs = [(m.rec, m.why)] + [(d, m.why) for d in m.dependents]
    for rec, why in recs:
        line = xml_loc[id(rec)][0]
        sheet, row = xlsx_loc[id(rec)]
        cfile, cline = csv_loc[id(rec)]
        entity = rec.type
        if m.special == "column":  # the warning sits on the header, in XML on the element
            row, cline = 1, 1
        if m.special == "sheet":
            row, cline = 1, 1
        out.append(("xml", f"{stem}.xml", "", line, entity, why))
        out.append(("xlsx", f"{stem}.xlsx", sheet, row, entity, why))
        out.append(("csv", cfile, "", cline, entity, why))
    return out


def counts(records: list[Rec]) -> list[tuple[str, int]]:
    return [(t, len(rs)) for t, rs in by_type(records)]


def main() -> None:
    clean, accounts = build_clean()
    assert {r.type for r in clean} == set(TYPE_ORDER), set(TYPE_ORDER) - {r.type for r in clean}
    model = LedgerModel(clean)
    assert model.findings == [], [(r.f, code) for r, code, _ in model.findings]
    xml_c, xlsx_c, csv_c = write_all(HERE / "club", "club", clean)
    write_balances(HERE / "club" / "expected_balances.csv", model)

    mrecs, mistakes = build_mistakes(clean, accounts)
    mdir = HERE / "mistakes"
    xml_m, xlsx_m, csv_m = write_all(mdir, "mistakes", mrecs)
    # the ledger model must find exactly the ledger mistakes, given the other rejections
    rejected = {id(r) for m in mistakes if m.severity == "error" for r in [m.rec] + m.dependents
                if r.type not in LEDGER_TYPES}
    mmodel = LedgerModel(mrecs, rejected)
    assert sorted((id(r), code) for r, code, _ in mmodel.findings) == sorted(
        (id(m.rec), m.expected.split()[1]) for m in mistakes if m.rec.type in LEDGER_TYPES), \
        [(r.f, code) for r, code, _ in mmodel.findings]
    write_balances(mdir / "expected_balances.csv", mmodel)

    errs, warns = [], []
    for m in mistakes:
        rows = key_rows(m, "mistakes", xml_m, xlsx_m, csv_m)
        (errs if m.severity == "error" else warns).extend(rows)
    for name, rows in (("expected_errors.csv", errs), ("expected_warnings.csv", warns)):
        rows.sort(key=lambda r: (["xml", "xlsx", "csv"].index(r[0]), r[1], r[2], r[3]))
        with open(mdir / name, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["container", "file", "sheet", "row", "entity", "why"])
            w.writerows(rows)

    write_readme(clean, mrecs, mistakes, (xml_m, xlsx_m, csv_m), model)
    verify(HERE / "club", "club", clean)
    verify(mdir, "mistakes", mrecs)

    print("club:")
    for t, n in counts(clean):
        print(f"  {t:15} {n}")
    print(f"  {'total':15} {len(clean)}")
    print("mistakes:")
    for t, n in counts(mrecs):
        print(f"  {t:15} {n}")
    print(f"  {'total':15} {len(mrecs)}")
    for m in mistakes:
        x, s, c = locations(m, mrecs, "mistakes", *(xml_m, xlsx_m, csv_m))
        print(f"  {m.no:2}. {m.what}: {x}; {s}; {c}")


def write_readme(clean, mrecs, mistakes, locs, model: LedgerModel):
    cc = dict(counts(clean))
    mc = dict(counts(mrecs))
    types = [t for t, _ in counts(mrecs)]
    users = [r for r in clean if r.type == "User"]
    contacts = [r for r in clean if r.type == "Contact"]
    n_lapsed = sum(u.f["StatusType"] == "Lapsed" for u in users)
    n_reason = sum("DisableReason" in u.f for u in users)
    n_email = sum("Email" in u.f for u in users)
    n_customer = sum(u.f["Role"] == "Customer" for u in users)
    n_default_name = sum("ContactName" not in c.f for c in contacts)
    ledger = [r for r in clean if r.type in LEDGER_TYPES]
    ledger_users = sorted({r.f["User"] for r in ledger if "User" in r.f})
    n_ledger = {t: sum(r.type == t for r in ledger) for t in LEDGER_TYPES}
    n_invoices = sum(len(model.books[u]["inv"]) for u in model.books)
    n_open = sum(not i["closed"] for u in model.books for i in model.books[u]["inv"])
    bal_rows = "\n".join(f"| {u} | {b} | {o} | {d} | {', '.join(i['name'] for i in model.books[u]['inv'])} |"
                         for u, b, o, d in model.balances() if u in ledger_users)
    count_rows = "\n".join(f"| `{t}` | {cc.get(t, 0)} | {mc.get(t, 0)} |" for t in types)
    mrows = []
    for m in mistakes:
        x, s, c = locations(m, mrecs, "mistakes", *locs)
        key = m.rec.f.get("Name") if m.rec.type == "User" else m.rec.f.get("User", m.rec.f.get("Name"))
        if m.special == "sheet":
            key = "(2 records)"
        mrows.append(f"| {m.no} | {m.what} | `{m.rec.type}` {key} | {m.expected} | {x} | {s} | {c} |")
    warned = [m.no for m in mistakes if m.severity == "warning"]
    warned_text = ", ".join(str(n) for n in warned[:-1]) + f" and {warned[-1]}"
    text = f"""# Example data: Harbour Sailing Club

Generated by [`generate.py`](generate.py) (Python 3.11, standard library only, fixed seed):
`python3 examples/generate.py` deletes and rewrites `club/` and `mistakes/` and this file,
byte for byte the same every time. Edit the script, not the files. All people, e-mail
addresses (`example.com/.net/.org`) and phone numbers (`555-01xx`) are fictional; card and
bank numbers are the well-known public test numbers.

Every data set comes in the three containers of SPEC section 2, holding exactly the same
records:

* an XML file (root `<Import>`, one element per record, fields as attributes): the setup
  records, then each account's records grouped together, then the ledger as interleaved
  `Debit`/`Credit`/`CloseInvoice`/`Payment` elements in stream order;
* a workbook: one sheet per entity type (header row 1), except that the four ledger types
  share one `Ledger` sheet whose `Type` column names each row's type, in the same order as the
  XML elements; date-and-time fields (`CreatedDate`, ticket dates, note dates) are real Excel
  date cells formatted `m/d/yyyy h:mm:ss AM/PM`, date-only fields (ledger dates, periods,
  expiry dates) whole-number date cells formatted `m/d/yyyy`; amounts are numeric cells,
  booleans Excel booleans, card/bank/routing numbers text cells; an `Options` sheet holds
  `DateOrder` = `MDY` and `CreateAccounts` = `TRUE`;
* a CSV folder: one `<EntityType>.csv` per type and `Ledger.csv` for the ledger (same
  columns as the sheet), UTF-8 without BOM, RFC 4180 with CRLF line ends, plus `Options.csv`.

XML has no Options (`MDY` is the default anyway). Text dates are written
`M/D/YYYY h:mm:ss AM/PM`, or `M/D/YYYY` for a date without a time.

**Logins.** The workbook's `Options` sheet and `Options.csv` set `CreateAccounts` = `TRUE`, so
importing them creates a web login for every account (SPEC section 8). XML has no Options: give
the flag, `ferry import club/club.xml --create-accounts`, for the same result (or
`--create-accounts=false` to override the sheet). Every account of the clean set has an e-mail of
its own (its `User` `Email`, else its first `ContactEmail`), so that gives {len(users)} logins and
no `login.*` warning. Logins are not part of exports, so the three containers still export the
same records.

**Attachments.** Ticket attachment `Path`s are relative to the source file's folder: for
`club.xml` and `club.xlsx` that is `club/`, for the CSV folder it is `club/club_csv/` (the
folder of `TicketAttachment.csv`), so `{ATTACHMENT_PATH}` is in both places (likewise in
`mistakes/`).

Import into a new target (`ferry import` creates it with the default setup data of
`ferry init`: owner `admin`, currency `USD`, culture and language `English`, role `Customer`,
status `Active`, bill group and credit rating `Default`, the standard contact and contact point
types, note type `Default`, service `Opening Balance`); each data set carries the rest of its
setup records itself.

## `club/` — the clean data set

`club.xml`, `club.xlsx`, `club_csv/`. It covers every entity type of SPEC section 4 and imports
with no finding at all (exit 0, no error, warning or info), with or without
`--create-accounts`. The three containers give identical `ferry export` output and identical
`ferry report balances`, which equals `club/expected_balances.csv` (from `examples/`):

```
for c in club/club.xml club/club.xlsx club/club_csv; do
  rm -f /tmp/ex.db; ferry import $c --db /tmp/ex.db --create-accounts --log /tmp/ex.jsonl
  ferry report balances --db /tmp/ex.db | diff - club/expected_balances.csv
done
```

* **Setup**: owner `{OWNER}` (currency `USD`), currency `CAD` (Canadian Dollar), role `Member`,
  status type `Lapsed`, bill group `Annual`, contact type `Emergency Contact`, note type
  `Membership`, payment types `Cheque`, `Credit Card`, `Cash`, `Bank Transfer`, ticket
  priorities `Normal`/`High`, categories `Moorings`/`Billing`/`Membership`, statuses
  `Open`/`Closed`, tax codes `Standard` and `Exempt`, tax rate `Standard`/1 `GST` 5 %,
  services `Annual Dues` 120.00, `Mooring` 450.00 and `Dinghy Rack` 75.00; packages
  `Full Membership` (Annual: `Annual Dues` 120.00 and `Mooring` 450.00, the mooring
  `Optional`) and `Junior Membership` (Annual: `Annual Dues` at 60.00); profile questions
  `Sailing experience` (role `Member`) and `Boat length` with its child question `Beam`
  (service `Mooring`, `Parent` = `Boat length`).
* **{len(users)} accounts** `HSC-0001` … `HSC-{len(users):04d}`: {len(users) - n_customer} members (role
  `Member`, bill group `Annual`) and {n_customer} customers (role `Customer`, bill group `Default`),
  {n_lapsed} of them `Lapsed` ({n_reason} with a `DisableReason`), three with currency written `USA`
  (the seed-003 alias of `USD`), two with tax code `Exempt`, {n_email} with an `Email`.
* Six families: a parent account and one or two child accounts each (8 `ChildAccount`
  records, no cycles), sharing the household address.
* One or two contacts per account ({len(contacts)} in all); `ContactName` is left out on
  {n_default_name} of them so that the default `First Last` applies (the contact's other records
  then use that name).
  Phones in several US/Canadian notations (`(206) 555-0143`, `415.555.0199`,
  `+1 617 555 0100`, `1-212-555-0127` …), addresses in the US and Canada.
* Six businesses (role `Customer`), company given either per contact (`ContactCompany`) or per
  account (`UserCompany`), among them `Smith & Daughters Rigging` (an `&` in XML) and
  `"Blue Heron" Marine Supply, Inc.` (a quote and a comma in CSV).
* Non-ASCII names (Zoë, José, Søren, Anaïs, Jørgensen, Grünewald …).
* **Ledger**: {len(ledger)} records on {len(ledger_users)} accounts ({n_ledger['Debit']} `Debit`,
  {n_ledger['Credit']} `Credit`, {n_ledger['CloseInvoice']} `CloseInvoice`, {n_ledger['Payment']} `Payment`),
  giving {n_invoices} invoices, {n_open} of them left open:
  * opening balances dated 12/31/2024: a `Debit` (four accounts) or a `Credit` (HSC-0029, an
    account in credit) with `Package="Opening Balance"`, each followed by
    `CloseInvoice Delivered="true"`; the one for HSC-0031 has no `User` and so applies to the
    account of the preceding ledger record (seed 003's form);
  * 2025 dues on 1/15/2025 with `PeriodStart`/`PeriodEnd`: 120.00 for adults, 60.00 for the
    four juniors, plus `Mooring` 450.00 (HSC-0016, HSC-0035) and `Dinghy Rack` 75.00
    (HSC-0029, HSC-0044); on tax code `Standard` with `TaxCode="Standard"` and `Tax1` = 5 %
    GST, on the `Exempt` account HSC-0006 with no tax at all (that code has no rate);
  * credits: a volunteer credit of 15.00 × `BulkAmount` 2 (HSC-0035), an early-renewal
    discount of 50.00 with `ApplyTax="true"` (its 2.50 GST is credited too, HSC-0016), a family
    discount (HSC-0048);
  * `CloseInvoice` for most dues invoices, `Delivered="true"` (mailed by the old system), two
    with `Delivered="false"` (HSC-0010, HSC-0035: closed, still to be sent); HSC-0029, HSC-0044
    and HSC-0047 keep theirs open;
  * a named invoice `2025-SPRING` (regatta entry, HSC-0047), paid by a payment naming it and
    closed by `CloseInvoice Invoice="2025-SPRING"`; HSC-0047-1 stays open beside it;
  * payments naming an invoice — the closed opening-balance invoices `HSC-0002-1` (paid in
    full), `HSC-0046-1` (in part), `HSC-0010-1`, and dues invoices (automatic names
    `<User>-<n>`: HSC-0010's dues invoice is `HSC-0010-2` because it already holds
    `HSC-0010-1`); two payments without `Invoice` (HSC-0008, HSC-0031: left undisbursed, for
    billing to disburse); family payments: HSC-0021 pays `HSC-0022-1` and `HSC-0023-1` of its
    child accounts, HSC-0048 pays `HSC-0049-1`.
* **Subscriptions**: `UserPackage` on {cc['UserPackage']} members (`Full Membership`, or `Junior Membership` for
  juniors; `NextBillDate` 1/1/2026 for active ones), `UserService` for the services of the
  package (`Mooring` on HSC-0016 and HSC-0035, in the package as an optional service) and a
  `Dinghy Rack` with `Optional="true"` (HSC-0044, in no package); a 10 % `Percent` discount
  (HSC-0021); `UserAttributeExpiryDate` (date only: the end of that day); a reseller
  (HSC-0012) with `UserAttributeTaxClass`, `UserAttributeTaxCode` `Exempt` and
  `UserAttributeTaxExempt` for `Standard` with a certificate; `UserNote` of type `Membership`;
  `ProfileAnswer` to `Sailing experience` on members and one to the service question
  `Boat length` (`Service="Mooring"`); extended attributes on accounts and packages (locker,
  sail number, parking permit); `UserPackageStatusChange` (`Active`, then `Lapsed` for the
  lapsed HSC-0046); on the two moorings: `UserServiceAttribute` (dock, shore power),
  `UserServiceContact` (a contact of that account), `UserServiceTelecomBucket` (500 kWh of shore
  power), `UserServiceProfileAnswer` (`Boat length` and its child `Beam`), `UserServiceResource`
  (berths `B-14`, `C-03`; rack `R-07` for the dinghy rack).
* **Tickets**: {cc['Ticket']} tickets (`T-1001` … `T-1005`), handled by two volunteers' accounts
  (HSC-0020, the secretary, and HSC-0042, the harbour master, as `LoggedBy`/`AssignedTo`/`ClosedBy`);
  two `Closed` with `ClosedBy` and a `DateClosed` after `Date`; {cc['TicketTracking']} `TicketTracking` entries;
  two `TicketAttachment`s: `berth-map.txt` by `Path` (`{ATTACHMENT_PATH}`) and
  `meter-reading.txt` as base64 `Data`.
* **Payment methods**: {cc['UserPaymentMethod']} `UserPaymentMethod`s (`Ref` `PM-<User>-1`), each with exactly one
  detail: three credit cards (test numbers 4111 1111 1111 1111, 5555 5555 5555 4444,
  3782 822463 10005; expiry 2028–2030), one ACH (routing 011000015, account 000123456789,
  `Checking`), one cheque, one cash.

Balances of the accounts with ledger records (`ferry report balances`; every other account is
0.00, 0, 0.00). Balances are per account (SPEC section 7): a parent's payment to a child's
invoice pays that invoice but counts among the parent's payments, so HSC-0021 shows −126.00
while its children HSC-0022 and HSC-0023 still show their invoice totals (their invoices have
nothing outstanding).

| User | Balance | OpenInvoices | Undisbursed | invoices |
|---|---|---|---|---|
{bal_rows}

## `mistakes/` — the same club with deliberate mistakes

`mistakes.xml`, `mistakes.xlsx`, `mistakes_csv/`. Every clean record is in it unchanged (one
clean `User` carries the extra `Colour` value), and these records are added, one mistake per
record and, except for the two halves of the cycle, per account; the ledger mistakes come at
the end of the ledger stream (XML: after the clean ledger; workbook and CSV: the last rows of
`Ledger`). So a run should import exactly the clean data plus the one valid `ChildAccount`
link of mistake 14 and the `Debit` of mistake 23 (without its `Tax2`), reject the records
below (mistake 12 is the two dependents of mistake 5), and warn about mistakes {warned_text}.

`expected_errors.csv` and `expected_warnings.csv` are the answer key in the format of
`/work/shared/samples/migration-300` (container, file, sheet, row, entity, why): XML rows are
the element's line, workbook rows the sheet row (for ledger records: the row of the `Ledger`
sheet), CSV rows the line (header = line 1; no value spans lines; ledger records:
`Ledger.csv`). The unknown column and the unknown sheet are keyed at their header row (XML:
the first element that carries them). `expected_balances.csv` holds the balances after a live
run (all {len(users)} accounts; the rejected ledger records change nothing). Check a run with
(from `examples/`)

```
ferry import mistakes/mistakes.xlsx --db /tmp/m.db --log /tmp/m.jsonl
ferry report balances --db /tmp/m.db > /tmp/m_bal.csv
python3 /work/shared/acceptance/score_sample.py mistakes xlsx /tmp/m.jsonl /tmp/m_bal.csv
```

(`--test-only` gives the same findings; leave out the balances then, as nothing stays).

| # | mistake | record | expected finding | XML | XLSX | CSV |
|---|---|---|---|---|---|---|
{chr(10).join(mrows)}

## Record counts

| entity | club | mistakes |
|---|---|---|
{count_rows}
| **total** | {len(clean)} | {len(mrecs)} |
"""
    (HERE / "README.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
