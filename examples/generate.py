#!/usr/bin/env python3
"""Generate Ferry's example data sets (Python 3.11, standard library only).

Writes a small fictional organisation, "Harbour Sailing Club", in the three containers of
SPEC section 2, each holding exactly the same records:

  examples/club/       club.xml, club.xlsx, club_csv/              clean data, no findings
  examples/mistakes/   mistakes.xml, mistakes.xlsx, mistakes_csv/  the same data plus
                       deliberate mistakes, with an answer key
                       (expected_errors.csv, expected_warnings.csv)
  examples/README.md   description of both sets and where every mistake is

Everything is derived from a fixed seed, so the output is byte-for-byte reproducible.
Running the script again deletes and rewrites examples/club/ and examples/mistakes/.

usage: python3 examples/generate.py
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import shutil
import unicodedata
import zipfile
from dataclasses import dataclass, field
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
    return str(value)


def us_datetime(d: dt.datetime) -> str:
    """M/D/YYYY h:mm:ss AM/PM (seed 000: US ShortDate + LongTime)."""
    h12 = d.hour % 12 or 12
    ampm = "AM" if d.hour < 12 else "PM"
    return f"{d.month}/{d.day}/{d.year} {h12}:{d.minute:02d}:{d.second:02d} {ampm}"


# Field order of every entity type used here (SPEC 4.1 / 4.2, catalogue order).
FIELDS: dict[str, list[str]] = {
    "Currency": ["Code", "Name"],
    "Owner": ["Name", "Currency"],
    "Role": ["Name"],
    "StatusType": ["Name"],
    "BillGroup": ["Name"],
    "ContactType": ["Name"],
    "TaxCode": ["Name"],
    "TaxRate": ["TaxCode", "Rank", "Name", "Percent"],
    "Service": ["Name", "Amount"],
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
}
TYPE_ORDER = list(FIELDS)


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

    records = setup + [r for a in accounts for r in a.records]
    return records, accounts


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

    records = setup + [r for a in accounts for r in blocks[a.name]] + [r for b in new_blocks for r in b]
    mistakes.sort(key=lambda m: m.no)
    return records, mistakes


# ------------------------------------------------------------------------------------------
# Containers.  Each writer returns the location of every record it wrote.
# ------------------------------------------------------------------------------------------


def columns_of(type_: str, recs: list[Rec]) -> list[str]:
    known = FIELDS.get(type_, [])
    present = [k for k in known if any(k in r.f for r in recs)]
    extra: list[str] = []
    for r in recs:
        for k in r.f:
            if k not in known and k not in extra:
                extra.append(k)
    return present + extra


def by_type(records: list[Rec]) -> list[tuple[str, list[Rec]]]:
    types = [t for t in TYPE_ORDER if any(r.type == t for r in records)]
    types += sorted({r.type for r in records} - set(TYPE_ORDER))
    return [(t, [r for r in records if r.type == t]) for t in types]


def xml_attr(v: str) -> str:
    return escape(v, {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def write_xml(path: Path, records: list[Rec]) -> dict[int, tuple[int, int]]:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             f"<!-- {OWNER}: example data for Ferry, generated by examples/generate.py -->",
             "<Import>"]
    loc: dict[int, tuple[int, int]] = {}
    prev_block = None
    for r in records:
        if r.block != prev_block:
            if prev_block is not None:
                lines.append("")
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
    for type_, recs in by_type(records):
        cols = columns_of(type_, recs)
        with open(folder / f"{type_}.csv", "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
            w.writerow(cols)
            for n, r in enumerate(recs):
                w.writerow([text_of(r.f[c]) if c in r.f else "" for c in cols])
                loc[id(r)] = (f"{type_}.csv", n + 2)
    with open(folder / "Options.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(["Name", "Value"])
        w.writerow(["DateOrder", "MDY"])
    return loc


def col_letter(i: int) -> str:  # 0 -> A
    s = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        s = chr(65 + rem) + s
    return s


EXCEL_EPOCH = dt.datetime(1899, 12, 30)
STYLE_HEADER, STYLE_DATE, STYLE_MONEY = 1, 2, 3
STYLES_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="1"><numFmt numFmtId="164" formatCode="m/d/yyyy h:mm:ss AM/PM"/></numFmts>
<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font><font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="4">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
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
            n = 20 if isinstance(v, dt.datetime) else len(text_of(v))
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
    for type_, recs in by_type(records):
        cols = columns_of(type_, recs)
        rows: list[list] = [cols]
        for n, r in enumerate(recs):
            rows.append([r.f.get(c) for c in cols])
            loc[id(r)] = (type_, n + 2)
        sheets.append((type_, rows))
    sheets.append(("Options", [["Name", "Value"], ["DateOrder", "MDY"]]))
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
                    else:
                        val = v
                    cells[col] = _canon(val)
                rows.append(cells)
            header = rows[0]
            out[sh.get("name")] = [{header[k]: v for k, v in r.items()} for r in rows[1:]]
        return out


def verify(folder: Path, stem: str, records: list[Rec]) -> None:
    want = [(r.type, {k: _canon(text_of(v)) for k, v in r.f.items() if text_of(v).strip()}) for r in records]
    got_xml = read_xml(folder / f"{stem}.xml")
    assert got_xml == want, "XML differs from the records"
    want_by_type = {t: [f for tt, f in want if tt == t] for t, _ in by_type(records)}
    for name, got in (("CSV", read_csv_folder(folder / f"{stem}_csv")), ("XLSX", read_xlsx(folder / f"{stem}.xlsx"))):
        assert got.pop("Options") == [{"Name": "DateOrder", "Value": "MDY"}], name
        assert got == want_by_type, f"{name} differs from the records"


# ------------------------------------------------------------------------------------------
# Answer key and README.
# ------------------------------------------------------------------------------------------


def field_col(records: list[Rec], rec: Rec, fld: str) -> tuple[str, int]:
    """Column letter and 1-based CSV position of a field on its record's sheet."""
    cols = columns_of(rec.type, [r for r in records if r.type == rec.type])
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
    xml_c, xlsx_c, csv_c = write_all(HERE / "club", "club", clean)

    mrecs, mistakes = build_mistakes(clean, accounts)
    mdir = HERE / "mistakes"
    xml_m, xlsx_m, csv_m = write_all(mdir, "mistakes", mrecs)

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

    write_readme(clean, mrecs, mistakes, (xml_m, xlsx_m, csv_m))
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


def write_readme(clean, mrecs, mistakes, locs):
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
    count_rows = "\n".join(f"| `{t}` | {cc.get(t, 0)} | {mc.get(t, 0)} |" for t in types)
    mrows = []
    for m in mistakes:
        x, s, c = locations(m, mrecs, "mistakes", *locs)
        key = m.rec.f.get("Name") if m.rec.type == "User" else m.rec.f.get("User", m.rec.f.get("Name"))
        if m.special == "sheet":
            key = "(2 records)"
        mrows.append(f"| {m.no} | {m.what} | `{m.rec.type}` {key} | {m.expected} | {x} | {s} | {c} |")
    text = f"""# Example data: Harbour Sailing Club

Generated by [`generate.py`](generate.py) (Python 3.11, standard library only, fixed seed):
`python3 examples/generate.py` deletes and rewrites `club/` and `mistakes/` and this file,
byte for byte the same every time. Edit the script, not the files. All people, e-mail
addresses (`example.com/.net/.org`) and phone numbers (`555-01xx`) are fictional.

Every data set comes in the three containers of SPEC section 2, holding exactly the same
records: an XML file (root `<Import>`, one element per record, fields as attributes, an
account's records grouped together), a workbook (one sheet per entity type, header row 1,
`CreatedDate` as real Excel date cells with a `m/d/yyyy h:mm:ss AM/PM` format, numbers as
numeric cells, an `Options` sheet with `DateOrder` = `MDY`) and a CSV folder (one
`<EntityType>.csv` per type, UTF-8 without BOM, RFC 4180 with CRLF line ends, plus
`Options.csv`). XML has no Options; `MDY` is the default anyway. Text dates are written
`M/D/YYYY h:mm:ss AM/PM`.

Import into a target made by `ferry init` (its default reference data: owner `admin`,
currency `USD`, culture and language `English`, role `Customer`, status `Active`, bill group
and credit rating `Default`, the standard contact and contact point types); each data set
carries the rest of its setup records itself.

## `club/` — the clean data set

`club.xml`, `club.xlsx`, `club_csv/`. It should import with no error and no warning.

* Setup: owner `{OWNER}` (currency `USD`), currency `CAD` (Canadian Dollar), role `Member`,
  status type `Lapsed`, bill group `Annual`, contact type `Emergency Contact`, tax codes
  `Standard` and `Exempt`, tax rate `Standard`/1 `GST` 5 %, service `Annual Dues` 120.00.
* {len(users)} accounts `HSC-0001` … `HSC-{len(users):04d}`: {len(users) - n_customer} members (role
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

## `mistakes/` — the same club with deliberate mistakes

`mistakes.xml`, `mistakes.xlsx`, `mistakes_csv/`. Every clean record is in it unchanged (one
clean `User` carries the extra `Colour` value), and these records are added, one mistake per
record and, except for the two halves of the cycle, per account. So a run should import
exactly the clean data plus the one valid `ChildAccount` link of mistake 14, reject the
records below (mistake 12 is the two dependents of mistake 5), and warn about mistakes 15
and 16.

`expected_errors.csv` and `expected_warnings.csv` are the answer key in the format of
`/work/shared/samples/migration-300` (container, file, sheet, row, entity, why): XML rows are
the element's line, workbook rows the sheet row, CSV rows the line (header = line 1; no value
spans lines). The unknown column and the unknown sheet are keyed at their header row (XML: the
first element that carries them).

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
