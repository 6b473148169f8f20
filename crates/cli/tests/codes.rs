//! One test input per finding code: each must produce its code, located, through the real binary.
//! `every_code_has_a_case` fails when a code is added without a case here.

mod common;
use common::*;
use std::path::Path;

/// (code, the input's files as (relative path, content), extra flags, setup import run first).
/// An input `cert:<path>` is run with `ferry certification migrate` instead of `ferry import`.
struct Case {
    code: &'static str,
    files: &'static [(&'static str, &'static str)],
    input: &'static str,
    flags: &'static [&'static str],
    setup: Option<&'static str>,
}

const fn case(
    code: &'static str,
    input: &'static str,
    files: &'static [(&'static str, &'static str)],
) -> Case {
    Case {
        code,
        files,
        input,
        flags: &[],
        setup: None,
    }
}

const U: &str = "Owner=\"admin\" Role=\"Customer\"";

macro_rules! xml {
    ($body:expr) => {
        concat!(
            "<?xml version=\"1.0\"?>\n<Import>\n",
            $body,
            "\n</Import>\n"
        )
    };
}

/// A student, and a registration for a component its program does not contain.
const CERT_FILES: &[(&str, &str)] = &[
    ("u.xml", xml!("<User Name=\"101\" Owner=\"admin\" Role=\"Customer\"/>")),
    ("c.xml", xml!("<LegacyProgram ProgramCode=\"PA\" Title=\"Program A - Initial\"/>\n<LegacyComponent ComponentCode=\"ABC\" Title=\"Boats\"/>\n<LegacyRegistration Seqn=\"56789\" StudentId=\"101\" ProgramCode=\"PA\" ComponentCode=\"ABC\"/>")),
];

/// A mapping of a legacy member list (SPEC §15): status codes mapped, a filter, a date format.
const MAPPING: &str = "version = 1\n[[source]]\nmatch = { file = \"members.csv\" }\naccount = \"No\"\nskip = [{ column = \"Deleted\", equals = \"Y\" }]\n[source.columns.Joined]\nformat = \"%d.%m.%Y\"\n[[source.record]]\nentity = \"User\"\nfields.Owner = { value = \"admin\" }\nfields.Role = { value = \"Customer\" }\nfields.CreatedDate = \"Joined\"\n";

fn cases() -> Vec<Case> {
    vec![
        case("input.unknown_entity", "a.xml", &[("a.xml", xml!("<Role Name=\"Member\"/>\n<Invoice User=\"u\"/>"))]),
        case("input.alias", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<Ticket TicketID=\"1\" User=\"u1\" Subject=\"s\" Date=\"2024-01-01\" Loggedby=\"u1\"/>"))]),
        Case { code: "mapping.value", input: "members.csv", files: &[("m.toml", MAPPING), ("members.csv", "No,Joined,Deleted\nM1,31.02.2019,N\n")], flags: &["--mapping", "m.toml"], setup: None },
        Case { code: "mapping.unused_column", input: "members.csv", files: &[("m.toml", MAPPING), ("members.csv", "No,Joined,Deleted,Colour\nM1,03.01.2019,N,red\n")], flags: &["--mapping", "m.toml"], setup: None },
        Case { code: "mapping.filtered", input: "members.csv", files: &[("m.toml", MAPPING), ("members.csv", "No,Joined,Deleted\nM1,03.01.2019,N\nM2,04.01.2019,Y\n")], flags: &["--mapping", "m.toml"], setup: None },
        case("input.unknown_field", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" Colour=\"red\"/>"))]),
        case("input.header_matched", "d", &[("d/User.csv", "\u{feff}Name,Owner,Role,E-mail\nu1,admin,Customer,a@example.com\n")]),
        case("input.field_not_for_type", "d", &[("d/User.csv", "Name,Owner,Role\nu1,admin,Customer\n"), ("d/Ledger.csv", "Type,User,Date,Credit,Debit\nPayment,u1,2024-01-02,5,7\n")]),
        case("input.unknown_type", "d", &[("d/Ledger.csv", "Type,User,Date,Credit\nRefund,u1,2024-01-02,5\n")]),
        case("input.extra_values", "d", &[("d/User.csv", "Name,Owner,Role\nu1,admin,Customer,oops\n")]),
        case("input.too_many_fields", "@many_attributes.xml", &[]),
        case("input.field_twice", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" BillDay=\"1\" BilllDay=\"2\"/>"))]),
        case("input.no_header", "@no_header.xlsx", &[]),
        case("input.duplicate_column", "d", &[("d/User.csv", "Name,Owner,Name\nu1,admin,u2\n")]),
        case("input.formula_no_value", "@cells.xlsx", &[]),
        case("input.cell_error", "@cells.xlsx", &[]),
        case("value.date_numeric", "@cells.xlsx", &[]),
        case("input.empty", "d", &[("d/User.csv", "")]),
        case("option.unknown", "d", &[("d/Options.csv", "Name,Value\nColour,red\n"), ("d/Role.csv", "Name\nMember\n")]),
        case("value.required", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\"/>"))]),
        case("value.too_long", "a.xml", &[("a.xml", xml!("<Role Name=\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"/>"))]),
        case("value.control_char", "d", &[("d/Role.csv", "Name\n\"a\u{7}b\"\n")]),
        case("value.byte_order_mark", "d", &[("d/Role.csv", "\u{feff}Name\nM1\n\u{feff}M2\n")]),
        case("value.integer_invalid", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" BillDay=\"x\"/>"))]),
        case("value.out_of_range", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" BillDay=\"29\"/>"))]),
        case("value.money_invalid", "a.xml", &[("a.xml", xml!("<Service Name=\"s\" Amount=\"$5\"/>"))]),
        case("value.money_precision", "a.xml", &[("a.xml", xml!("<Service Name=\"s\" Amount=\"5.12345\"/>"))]),
        case("value.negative", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<Debit User=\"u1\" Date=\"2024-01-01\" Debit=\"-5\"/>"))]),
        case("value.not_positive", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<Payment User=\"u1\" Date=\"2024-01-01\" Credit=\"0\"/>"))]),
        case("value.decimal_invalid", "a.xml", &[("a.xml", xml!("<TaxCode Name=\"T\"/>\n<TaxRate TaxCode=\"T\" Rank=\"1\" Name=\"GST\" Percent=\"five\"/>"))]),
        case("value.date_invalid", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" CreatedDate=\"2/30/2007\"/>"))]),
        Case { code: "value.date_order_conflict", input: "a.xml", files: &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" CreatedDate=\"25/6/2016\"/>"))], flags: &["--date-order", "mdy"], setup: None },
        Case { code: "value.date_ambiguous", input: "a.xml", files: &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" CreatedDate=\"25/6/2016\"/>\n<User Name=\"u2\" Owner=\"admin\" Role=\"Customer\" CreatedDate=\"9/6/2016\"/>"))], flags: &["--date-order", "mdy"], setup: None },
        case("value.date_order_inferred", "d", &[("d/User.csv", "\u{feff}Name,Owner,Role,CreatedDate\nu1,admin,Customer,25/6/2016\nu2,admin,Customer,9/6/2016\n")]),
        case("value.date_order_assumed", "d", &[("d/User.csv", "Name,Owner,Role,CreatedDate\nu1,admin,Customer,9/6/2016\n")]),
        case("value.bool_invalid", "a.xml", &[("a.xml", xml!("<Service Name=\"s\"/>\n<Package Name=\"p\"/>\n<PackageService Package=\"p\" Service=\"s\" Optional=\"maybe\"/>"))]),
        case("value.enum_invalid", "a.xml", &[("a.xml", xml!("<Package Name=\"p\" BillCycle=\"Weekly\"/>"))]),
        case("value.email_invalid", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" Email=\"bob@@example\"/>"))]),
        case("value.phone_unparsed", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<Contact User=\"u1\" ContactName=\"A\" ContactType=\"Billing Contact\"/>\n<ContactPhone User=\"u1\" ContactName=\"A\" Phone=\"555-1234\"/>"))]),
        case("value.country_invalid", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<Contact User=\"u1\" ContactName=\"A\" ContactType=\"Billing Contact\"/>\n<ContactAddress User=\"u1\" ContactName=\"A\" Address1=\"1 Main St\" Country=\"Atlantis\"/>"))]),
        case("value.currency_invalid", "a.xml", &[("a.xml", xml!("<Currency Code=\"EURO\"/>"))]),
        case("value.base64_invalid", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<Ticket TicketID=\"1\" User=\"u1\" Subject=\"s\" Date=\"2024-01-01\"/>\n<TicketAttachment TicketID=\"1\" FileName=\"a.txt\" Data=\"@@@\"/>"))]),
        case("reference.unknown", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" TaxCode=\"Residential\"/>"))]),
        Case { code: "reference.case_folded", input: "a.xml", files: &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"customer\"/>"))], flags: &["--fold-case"], setup: None },
        case("reference.rejected_parent", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"nobody\" Role=\"Customer\"/>\n<Contact User=\"u1\" ContactName=\"A\" ContactType=\"Billing Contact\"/>"))]),
        case("key.duplicate", "a.xml", &[("a.xml", xml!("<Role Name=\"Member\"/>\n<Role Name=\"Member\"/>"))]),
        case("duplicate.likely", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" Email=\"a@example.com\"/>\n<User Name=\"u2\" Owner=\"admin\" Role=\"Customer\" Email=\"A@Example.com\"/>"))]),
        Case { code: "key.exists", input: "b.xml", files: &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>")), ("b.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" BillDay=\"3\"/>"))], flags: &[], setup: Some("a.xml") },
        Case { code: "key.identical", input: "a.xml", files: &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>"))], flags: &[], setup: Some("a.xml") },
        Case { code: "key.skipped", input: "b.xml", files: &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>")), ("b.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" BillDay=\"3\"/>"))], flags: &["--on-existing", "skip"], setup: Some("a.xml") },
        case("account.child_self", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<ChildAccount Name=\"u1\" Parent=\"u1\"/>"))]),
        case("account.child_cycle", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<User Name=\"u2\" Owner=\"admin\" Role=\"Customer\"/>\n<ChildAccount Name=\"u1\" Parent=\"u2\"/>\n<ChildAccount Name=\"u2\" Parent=\"u1\"/>"))]),
        Case {
            code: "account.child_has_ledger",
            input: "b.xml",
            files: &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<User Name=\"u2\" Owner=\"admin\" Role=\"Customer\"/>\n<Debit User=\"u1\" Date=\"2024-01-01\" Debit=\"5\"/>")), ("b.xml", xml!("<ChildAccount Name=\"u1\" Parent=\"u2\"/>"))],
            flags: &[],
            setup: Some("a.xml"),
        },
        case("ledger.tax_ignored", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<Debit User=\"u1\" Date=\"2024-01-01\" Debit=\"10\" Tax1=\"1\"/>"))]),
        case("ledger.period_reversed", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<Debit User=\"u1\" Date=\"2024-01-01\" Debit=\"10\" PeriodStart=\"2024-02-01\" PeriodEnd=\"2024-01-01\"/>"))]),
        case("ledger.nothing_to_close", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<CloseInvoice User=\"u1\"/>"))]),
        case("ledger.invoice_closed", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<Debit User=\"u1\" Date=\"2024-01-01\" Debit=\"10\" Invoice=\"X\"/>\n<CloseInvoice User=\"u1\" Invoice=\"X\"/>\n<Debit User=\"u1\" Date=\"2024-01-02\" Debit=\"5\" Invoice=\"X\"/>"))]),
        case("ledger.invoice_unknown", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<Payment User=\"u1\" Date=\"2024-01-01\" Credit=\"10\" Invoice=\"NOPE\"/>"))]),
        case(
            "ledger.invoice_ambiguous",
            "a.xml",
            &[(
                "a.xml",
                xml!("<User Name=\"p\" Owner=\"admin\" Role=\"Customer\"/>\n<User Name=\"c1\" Owner=\"admin\" Role=\"Customer\"/>\n<User Name=\"c2\" Owner=\"admin\" Role=\"Customer\"/>\n<ChildAccount Name=\"c1\" Parent=\"p\"/>\n<ChildAccount Name=\"c2\" Parent=\"p\"/>\n<Debit User=\"c1\" Date=\"2024-01-01\" Debit=\"10\" Invoice=\"INV\"/>\n<Debit User=\"c2\" Date=\"2024-01-01\" Debit=\"10\" Invoice=\"INV\"/>\n<Payment User=\"p\" Date=\"2024-01-02\" Credit=\"10\" Invoice=\"INV\"/>"),
            )],
        ),
        Case { code: "ledger.duplicate", input: "a.xml", files: &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<Debit User=\"u1\" Date=\"2024-01-01\" Debit=\"10\"/>"))], flags: &[], setup: Some("a.xml") },
        Case {
            code: "ledger.duplicate_skipped",
            input: "a.xml",
            files: &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<Debit User=\"u1\" Date=\"2024-01-01\" Debit=\"10\"/>"))],
            flags: &["--on-existing", "skip"],
            setup: Some("a.xml"),
        },
        Case {
            code: "login.no_email",
            input: "a.xml",
            files: &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>"))],
            flags: &["--create-accounts"],
            setup: None,
        },
        Case {
            code: "login.exists",
            input: "b.xml",
            files: &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" Email=\"a@example.com\"/>")), ("b.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" Email=\"a@example.com\" BillDay=\"3\" Password=\"NewSecret-42\"/>"))],
            flags: &["--create-accounts", "--on-existing", "update"],
            setup: Some("a.xml --create-accounts"),
        },
        Case {
            code: "login.duplicate_email",
            input: "a.xml",
            files: &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" Email=\"a@example.com\"/>\n<User Name=\"u2\" Owner=\"admin\" Role=\"Customer\" Email=\"A@example.com\"/>"))],
            flags: &["--create-accounts"],
            setup: None,
        },
        Case {
            code: "value.password_hash_invalid",
            input: "a.xml",
            files: &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" Email=\"a@example.com\" Password=\"$2b$12$cut-short\"/>"))],
            flags: &["--create-accounts"],
            setup: None,
        },
        Case {
            code: "value.password_hash_unsupported",
            input: "a.xml",
            files: &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" Email=\"a@example.com\" Password=\"$1$salt$qwertyuiopasdfghjklzx\"/>"))],
            flags: &["--create-accounts"],
            setup: None,
        },
        case(
            "payment.number_masked",
            "a.xml",
            &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<UserPaymentMethod User=\"u1\" Ref=\"r\"/>\n<UserPaymentMethodCreditCard Ref=\"r\" CardNumber=\"************1111\" ExpiryMonth=\"1\" ExpiryYear=\"2040\"/>"))],
        ),
        case("account.no_account", "a.xml", &[("a.xml", xml!("<CloseInvoice/>"))]),
        case("payment.card_invalid", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<UserPaymentMethod User=\"u1\" Ref=\"m1\"/>\n<UserPaymentMethodCreditCard Ref=\"m1\" CardNumber=\"4111111111111112\" ExpiryMonth=\"1\" ExpiryYear=\"2099\"/>"))]),
        case("payment.card_expired", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<UserPaymentMethod User=\"u1\" Ref=\"m1\"/>\n<UserPaymentMethodCreditCard Ref=\"m1\" CardNumber=\"4111111111111111\" ExpiryMonth=\"1\" ExpiryYear=\"2020\"/>"))]),
        case("payment.routing_invalid", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<UserPaymentMethod User=\"u1\" Ref=\"m1\"/>\n<UserPaymentMethodACH Ref=\"m1\" RoutingNumber=\"011000016\" AccountNumber=\"12345678\" AccountType=\"Checking\"/>"))]),
        case("payment.method_conflict", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<UserPaymentMethod User=\"u1\" Ref=\"m1\"/>\n<UserPaymentMethodCash Ref=\"m1\"/>\n<UserPaymentMethodCheck Ref=\"m1\"/>"))]),
        case("ticket.closed_incomplete", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<TicketStatus Name=\"Closed\"/>\n<Ticket TicketID=\"1\" User=\"u1\" Subject=\"s\" Date=\"2024-01-01\" Status=\"Closed\"/>"))]),
        case("ticket.closed_before_opened", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<Ticket TicketID=\"1\" User=\"u1\" Subject=\"s\" Date=\"2024-01-02\" DateClosed=\"2024-01-01\"/>"))]),
        case("attachment.path_or_data", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<Ticket TicketID=\"1\" User=\"u1\" Subject=\"s\" Date=\"2024-01-01\"/>\n<TicketAttachment TicketID=\"1\" FileName=\"a.txt\"/>"))]),
        Case { code: "attachment.too_big", input: "a.xml", files: &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<Ticket TicketID=\"1\" User=\"u1\" Subject=\"s\" Date=\"2024-01-01\"/>\n<TicketAttachment TicketID=\"1\" FileName=\"a.txt\" Data=\"aGVsbG8=\"/>"))], flags: &["--max-attachment-bytes", "4"], setup: None },
        case("attachment.path_refused", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<Ticket TicketID=\"1\" User=\"u1\" Subject=\"s\" Date=\"2024-01-01\"/>\n<TicketAttachment TicketID=\"1\" FileName=\"a.txt\" Path=\"../a.txt\"/>"))]),
        case("attachment.missing", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<Ticket TicketID=\"1\" User=\"u1\" Subject=\"s\" Date=\"2024-01-01\"/>\n<TicketAttachment TicketID=\"1\" FileName=\"a.txt\" Path=\"nope.txt\"/>"))]),
        case("subscription.occurrence_unknown", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<Service Name=\"s1\"/>\n<Package Name=\"p\"/>\n<PackageService Package=\"p\" Service=\"s1\"/>\n<ProfileQuestion Name=\"q\" AppliesTo=\"Service\" Target=\"s1\"/>\n<UserPackage User=\"u1\" Name=\"p\"/>\n<UserService User=\"u1\" UserPackage=\"p\" Name=\"s1\"/>\n<UserServiceProfileAnswer User=\"u1\" UserPackage=\"p\" UserService=\"s1\" Question=\"q\" Answer=\"a\" Occurrence=\"2\"/>"))]),
        case("subscription.service_not_in_package", "a.xml", &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<Service Name=\"s1\"/>\n<Service Name=\"s2\"/>\n<Package Name=\"p\"/>\n<PackageService Package=\"p\" Service=\"s1\"/>\n<UserPackage User=\"u1\" Name=\"p\"/>\n<UserService User=\"u1\" UserPackage=\"p\" Name=\"s2\"/>"))]),
        Case { code: "run.max_records", input: "a.xml", files: &[("a.xml", xml!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<User Name=\"u2\" Owner=\"admin\" Role=\"Customer\"/>"))], flags: &["--max-records", "1"], setup: None },
        case("input.certification_entity", "a.xml", &[("a.xml", xml!("<LegacyComponent ComponentCode=\"C1\" Title=\"One\"/>"))]),
        case("input.not_configuration", "config:a.xml", &[("a.xml", xml!("<Role Name=\"Member\"/>\n<User Name=\"u1\" Owner=\"admin\" Role=\"Member\"/>"))]),
        case("input.not_certification", "cert:a.xml", &[("a.xml", xml!("<Role Name=\"Member\"/>\n<LegacyComponent ComponentCode=\"C1\" Title=\"One\"/>"))]),
        Case { code: "certification.component_not_in_program", input: "cert:c.xml", files: CERT_FILES, flags: &[], setup: Some("u.xml") },
        Case { code: "certification.component_added", input: "cert:c.xml", files: CERT_FILES, flags: &["--add-missing-components"], setup: Some("u.xml") },
        Case { code: "run.not_written", input: "a.xml", files: &[("a.xml", xml!("<Role Name=\"Member\"/>\n<User Name=\"u1\" Owner=\"nobody\" Role=\"Customer\"/>"))], flags: &["--all-or-nothing"], setup: None },
    ]
}

fn run_case(c: &Case, dir: &Path) -> Vec<serde_json::Value> {
    for (p, content) in c.files {
        let path = dir.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    if let Some(s) = c.setup {
        // "file --flag …": the setup import's own flags.
        let args: Vec<&str> = std::iter::once("import").chain(s.split(' ')).collect();
        let r = ferry(dir, &args);
        assert!(r.code <= 1, "{}: setup failed: {}", c.code, r.stderr);
    }
    let (command, input) = match (
        c.input.strip_prefix("cert:"),
        c.input.strip_prefix("config:"),
    ) {
        (Some(i), _) => (&["certification", "migrate"][..], i),
        (_, Some(i)) => (&["config", "import"][..], i),
        _ => (&["import"][..], c.input),
    };
    let input = match input.strip_prefix('@') {
        Some(f) => fixture(f).display().to_string(),
        None => input.to_string(),
    };
    let mut args = command.to_vec();
    args.extend(["--log", "f.jsonl", input.as_str()]);
    args.extend(c.flags);
    let r = ferry(dir, &args);
    assert!(r.code <= 1, "{}: exit {} {}", c.code, r.code, r.stderr);
    findings(&dir.join("f.jsonl"))
}

#[test]
fn every_code_is_produced_and_located() {
    for c in cases() {
        let dir = scratch();
        let f = run_case(&c, dir.path());
        let hit = f.iter().find(|f| f["code"] == c.code);
        let Some(hit) = hit else {
            panic!("{}: not produced; got {:#?}", c.code, f)
        };
        assert!(
            !hit["file"].as_str().unwrap_or("").is_empty() || c.code == "run.not_written",
            "{}: no file in {hit}",
            c.code
        );
        assert!(!hit["message"].as_str().unwrap().is_empty());
        let sev = ferry_findings::Code::parse(c.code).unwrap().severity();
        assert_eq!(hit["severity"], sev.as_str(), "{}", c.code);
    }
}

#[test]
fn every_code_has_a_case() {
    let covered: Vec<&str> = cases().iter().map(|c| c.code).collect();
    for code in ferry_findings::Code::ALL {
        assert!(covered.contains(&code.as_str()), "no test case for {code}");
    }
}

#[test]
fn hints_and_locations_are_exact() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(d.join("a.xml"), xml!("<TaxCode Name=\"Residential\"/>\n  <User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" TaxCode=\"residential\"/>")).unwrap();
    let r = ferry(d, &["import", "a.xml", "--log", "f.jsonl"]);
    assert_eq!(r.code, 1);
    let f = findings(&d.join("f.jsonl"));
    assert_eq!(f[0]["hint"], "did you mean \"Residential\"?");
    assert_eq!(f[0]["row"], 4);
    assert_eq!(f[0]["column"], "3");
    assert_eq!(f[0]["field"], "TaxCode");
    // a workbook finding names the sheet, the spreadsheet row and the column letter
    let r = ferry(
        d,
        &[
            "import",
            fixture("cells.xlsx").to_str().unwrap(),
            "--db",
            "x.db",
            "--log",
            "x.jsonl",
        ],
    );
    assert_eq!(r.code, 1);
    let f = findings(&d.join("x.jsonl"));
    let numdate = f
        .iter()
        .find(|f| f["code"] == "value.date_numeric")
        .unwrap();
    assert_eq!(numdate["sheet"], "User");
    assert_eq!(numdate["row"], 3);
    assert_eq!(numdate["column"], "D");
    // a CSV finding names the line and the field's position
    std::fs::create_dir_all(d.join("c")).unwrap();
    std::fs::write(
        d.join("c/User.csv"),
        "Name,Owner,Role,BillDay\nu1,admin,Customer,31\n",
    )
    .unwrap();
    let r = ferry(d, &["import", "c", "--db", "c.db", "--log", "c.jsonl"]);
    assert_eq!(r.code, 1);
    let f = findings(&d.join("c.jsonl"));
    assert_eq!(f[0]["row"], 2);
    assert_eq!(f[0]["column"], "4");
    assert!(f[0]["file"].as_str().unwrap().ends_with("User.csv"));
    let _ = U;
}
