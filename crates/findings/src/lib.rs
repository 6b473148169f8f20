//! Findings (SPEC §10): the stable code table, severities, source locations and the finding record.
//!
//! Codes are stable identifiers kept in one table, separate from the human message, so that
//! scripts can match on them while messages improve.

pub mod words;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

macro_rules! codes {
    ($($variant:ident = ($code:literal, $sev:ident, $doc:literal),)*) => {
        /// Every finding code Ferry emits. The string form is stable.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }
            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$sev,)* }
            }
            /// What the code means, for the docs.
            pub fn doc(self) -> &'static str {
                match self { $(Code::$variant => $doc,)* }
            }
            pub fn parse(s: &str) -> Option<Code> {
                match s { $($code => Some(Code::$variant),)* _ => None }
            }
        }
    };
}

codes! {
    // input structure
    UnknownEntity = ("input.unknown_entity", Warning, "A sheet, CSV file or XML element names no entity type; it is ignored."),
    Alias = ("input.alias", Info, "A sheet, CSV file, XML element or column is named as the vendor's format names it (seed 003, e.g. `UserServiceAttributeContact`, `Loggedby`); it is read as Ferry's entity type or field."),
    HeaderMatched = ("input.header_matched", Info, "A column's header is a field's name written with other case, accents, spaces or punctuation (`E-mail`, `Bill Day`, `bill_day`); it is read as that field."),
    MappingValue = ("mapping.value", Error, "A mapping could not turn a source value into a Ferry value (a value its value map does not know, a date or number its format does not read, a cell error or an over-long value in a column it transforms); the record it was for is not imported, the row's other records are."),
    MappingUnusedColumn = ("mapping.unused_column", Warning, "Columns of a mapped file or sheet that no field, filter or account of the mapping reads; their values are not imported (one warning per source, listing them)."),
    MappingFiltered = ("mapping.filtered", Info, "Rows a mapping's `keep`/`skip` filters left out, counted per source and reason."),
    UnknownField = ("input.unknown_field", Warning, "A column or attribute names no field of its entity type; its values are ignored."),
    FieldNotForType = ("input.field_not_for_type", Warning, "A Ledger-sheet row has a value in a column its Type does not have."),
    UnknownType = ("input.unknown_type", Error, "A Ledger-sheet row's Type is missing or is not Debit, Credit, CloseInvoice or Payment."),
    ExtraValues = ("input.extra_values", Error, "A CSV line or sheet row has values beyond the last named column."),
    TooManyFields = ("input.too_many_fields", Error, "A record carries more fields than the limit."),
    FieldTwice = ("input.field_twice", Error, "An XML element gives a field twice: under Ferry's name and a vendor's spelling of it (seed 003, e.g. `LoggedBy` and `Loggedby`); the record is rejected."),
    NoHeader = ("input.no_header", Error, "Row 1 of a sheet is empty: it must hold the field names, so the sheet is not read."),
    DuplicateColumn = ("input.duplicate_column", Error, "A field appears twice in a header row; the sheet or file is not read."),
    FormulaNoValue = ("input.formula_no_value", Error, "A formula cell has no cached value (the workbook was never calculated)."),
    CellError = ("input.cell_error", Error, "A cell holds an Excel error value such as #N/A."),
    EmptyInput = ("input.empty", Warning, "An input holds no records."),
    CertificationEntity = ("input.certification_entity", Warning, "`ferry import` read legacy certification records (SPEC §11); they are left out: migrate them with `ferry certification migrate`."),
    NotConfiguration = ("input.not_configuration", Warning, "`ferry config import` read records that are not setup or configuration; they are left out: import them with `ferry import`."),
    NotCertification = ("input.not_certification", Warning, "`ferry certification migrate` read records that are not legacy certification data; they are left out: import them with `ferry import`."),
    UnknownOption = ("option.unknown", Warning, "An Options row names no known option; it is ignored."),
    // values
    Required = ("value.required", Error, "A required field is not given."),
    TooLong = ("value.too_long", Error, "A value is longer than its field allows."),
    ControlChar = ("value.control_char", Error, "Text holds a control character other than tab or line feed."),
    ByteOrderMark = ("value.byte_order_mark", Error, "Text holds U+FEFF, an invisible byte-order mark (typically where two files were joined); it is never kept silently in a value or key."),
    IntegerInvalid = ("value.integer_invalid", Error, "Not a whole number."),
    OutOfRange = ("value.out_of_range", Error, "A number is outside the field's range (e.g. BillDay 1–28)."),
    MoneyInvalid = ("value.money_invalid", Error, "Not an amount: digits with an optional '-' and '.', no currency symbol or grouping."),
    MoneyPrecision = ("value.money_precision", Error, "More than 4 fractional digits; Ferry never rounds money silently."),
    Negative = ("value.negative", Error, "The amount must not be negative (absolute values)."),
    NotPositive = ("value.not_positive", Error, "The amount must be greater than zero."),
    DecimalInvalid = ("value.decimal_invalid", Error, "Not a decimal number."),
    DateInvalid = ("value.date_invalid", Error, "Not a valid date (impossible dates are never rolled over)."),
    DateOrderConflict = ("value.date_order_conflict", Error, "A slash date fits only the order of day and month that its column is not read in (the order given, or the one the column's other values prove); it is not imported."),
    DateAmbiguous = ("value.date_ambiguous", Error, "A slash date that fits M/D/Y and D/M/Y in a column that also holds dates of the order not in force; it is not imported rather than read with day and month perhaps swapped."),
    DateOrderInferred = ("value.date_order_inferred", Info, "No order was given and every slash date of the column fits D/M/Y, some only D/M/Y: the column is read as D/M/Y (one note per column)."),
    DateOrderAssumed = ("value.date_order_assumed", Warning, "No order was given and every slash date of the column fits both M/D/Y and D/M/Y: the column is read as M/D/Y (one warning per column)."),
    DateNumeric = ("value.date_numeric", Error, "A number without a date format in a date field."),
    BoolInvalid = ("value.bool_invalid", Error, "Not a boolean (true/false, yes/no, 1/0)."),
    EnumInvalid = ("value.enum_invalid", Error, "Not one of the field's allowed values."),
    EmailInvalid = ("value.email_invalid", Error, "Not a syntactically valid e-mail address."),
    PhoneNotNormalized = ("value.phone_unparsed", Info, "A phone number kept as given: it has no E.164 form in the phone region."),
    CountryInvalid = ("value.country_invalid", Error, "Not an ISO 3166 alpha-2 code or English country name."),
    CurrencyInvalid = ("value.currency_invalid", Error, "Not a three-letter currency code."),
    Base64Invalid = ("value.base64_invalid", Error, "Not valid base64."),
    // references
    ReferenceUnknown = ("reference.unknown", Error, "A reference matches no record in the target or earlier in the run."),
    ReferenceCaseFolded = ("reference.case_folded", Warning, "--fold-case accepted a reference that matches only when case and spacing are ignored."),
    RejectedParent = ("reference.rejected_parent", Error, "The record it refers to was rejected, so this one is rejected too."),
    // keys
    KeyDuplicate = ("key.duplicate", Error, "The same key appears earlier in this run."),
    KeyExists = ("key.exists", Error, "The key already exists in the target (--on-existing error)."),
    KeyIdentical = ("key.identical", Info, "Identical to a record already in the target; skipped."),
    KeySkipped = ("key.skipped", Info, "The key already exists in the target; skipped (--on-existing skip)."),
    // duplicates
    DuplicateLikely = ("duplicate.likely", Warning, "Another account shares a normalized e-mail, a normalized phone and a similar name (Jaro-Winkler ≥ 0.92), or a normalized name and postal code: likely the same customer."),
    // accounts
    ChildSelf = ("account.child_self", Error, "An account cannot be its own parent."),
    ChildCycle = ("account.child_cycle", Error, "This link would close a cycle of child accounts."),
    ChildHasLedger = ("account.child_has_ledger", Error, "The child already has ledger entries in the target; its invoices would not follow."),
    // logins
    LoginNoEmail = ("login.no_email", Warning, "CreateAccounts: the account has no e-mail (User Email or a ContactEmail), so it gets no login."),
    LoginExists = ("login.exists", Warning, "CreateAccounts: the account already has a login; the Password of this record is not applied (an import never changes a login's password: use `ferry logins set-password`)."),
    LoginDuplicateEmail = ("login.duplicate_email", Warning, "CreateAccounts: the e-mail is already the login of another account, so this account gets no login."),
    PasswordHashInvalid = ("value.password_hash_invalid", Error, "CreateAccounts: the Password starts like a password hash (`$2b$`, `$argon2id$`, `pbkdf2_sha256$`, …) but is not a well-formed one, or its costs are beyond Ferry's bounds; it is never stored (nor shown)."),
    PasswordHashUnsupported = ("value.password_hash_unsupported", Error, "CreateAccounts: the Password is a hash of a scheme Ferry cannot verify (MD5-crypt, SHA-crypt, phpass, LDAP {SSHA}, …); leave it empty so that the login resets its password."),
    // ledger
    TaxIgnored = ("ledger.tax_ignored", Warning, "A tax amount or ApplyTax is ignored: the effective tax code has no rate of that rank."),
    NothingToClose = ("ledger.nothing_to_close", Warning, "CloseInvoice found no current invoice, or the named invoice is already closed."),
    InvoiceClosed = ("ledger.invoice_closed", Error, "A Debit or Credit names an invoice that is closed."),
    InvoiceUnknown = ("ledger.invoice_unknown", Error, "A CloseInvoice or Payment names an invoice the account (or its child accounts) does not have at that point."),
    InvoiceAmbiguous = ("ledger.invoice_ambiguous", Error, "A Payment's invoice name matches invoices on several child accounts."),
    PeriodReversed = ("ledger.period_reversed", Error, "A Debit's PeriodEnd is before its PeriodStart."),
    LedgerDuplicate = ("ledger.duplicate", Error, "The same ledger row (User, Date, amount, Description, Invoice) was imported by an earlier run."),
    LedgerDuplicateSkipped = ("ledger.duplicate_skipped", Info, "A ledger row imported by an earlier run is skipped (--on-existing skip or update)."),
    // payment methods
    CardInvalid = ("payment.card_invalid", Error, "A card number fails the Luhn check or does not have 12 to 19 digits."),
    CardExpired = ("payment.card_expired", Warning, "The card's expiry month is in the past."),
    NumberMasked = ("payment.number_masked", Info, "The card or account number is masked (an export of Ferry's): only its last four digits are kept, without a fingerprint."),
    RoutingInvalid = ("payment.routing_invalid", Error, "An ACH routing number is not 9 digits with a valid ABA checksum."),
    MethodConflict = ("payment.method_conflict", Error, "The payment method already has a detail of another type: exactly one of Cash, Check, CreditCard or ACH."),
    // tickets
    TicketClosedIncomplete = ("ticket.closed_incomplete", Warning, "A closed ticket has no ClosedBy or no DateClosed."),
    TicketClosedBeforeOpened = ("ticket.closed_before_opened", Error, "A ticket's DateClosed is before its Date."),
    AttachmentPathOrData = ("attachment.path_or_data", Error, "A ticket attachment gives both Path and Data, or neither: exactly one is required."),
    AttachmentTooBig = ("attachment.too_big", Error, "An attachment is larger than --max-attachment-bytes (2 MiB by default)."),
    AttachmentPathRefused = ("attachment.path_refused", Error, "An attachment Path is absolute, contains '..', or resolves outside the source file's folder."),
    AttachmentMissing = ("attachment.missing", Error, "An attachment Path names no readable file."),
    // subscriptions
    OccurrenceUnknown = ("subscription.occurrence_unknown", Error, "A UserServiceProfileAnswer's Occurrence is larger than the number of services of that name the account holds in that package."),
    ServiceNotInPackage = ("subscription.service_not_in_package", Error, "A UserService that is not optional is not a service of its package (no PackageService)."),
    // certification (SPEC §11)
    ComponentNotInProgram = ("certification.component_not_in_program", Warning, "A legacy registration names a component its program does not contain; it is not migrated (skipped) unless --add-missing-components adds the component to the program."),
    ComponentAdded = ("certification.component_added", Info, "--add-missing-components added a component to a program for a registration; remove it from the program afterwards if it is no longer required."),
    // runs
    MaxRecords = ("run.max_records", Info, "Records of accounts beyond --max-records were skipped."),
    NotWritten = ("run.not_written", Info, "--all-or-nothing: the run found errors, so these valid records were not written."),
    ParentMissing = ("account.no_account", Error, "A CloseInvoice names no User and no ledger record precedes it."),
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a record or value sits in its source, as a person would open it (SPEC §2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Location {
    /// The file as given on the command line; in a CSV folder, the folder joined with the file.
    pub file: Arc<str>,
    /// The sheet, for workbooks only.
    pub sheet: Option<Arc<str>>,
    /// Spreadsheet row (header = 1), CSV line where the record starts, or XML line.
    pub row: u64,
    /// Column: letter in a workbook, 1-based field position in CSV, character column in XML.
    pub column: Option<Column>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    /// 0-based column index of a workbook cell, shown as a letter.
    Letter(u32),
    /// 1-based position (CSV field, XML character column).
    Number(u32),
}

impl Column {
    pub fn render(&self) -> String {
        match *self {
            Column::Letter(i) => column_letter(i),
            Column::Number(n) => n.to_string(),
        }
    }
}

/// 0 → A, 25 → Z, 26 → AA.
pub fn column_letter(mut i: u32) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ascii")
}

impl Location {
    /// The start of a file (or of a sheet of a workbook): row 1, no column.
    pub fn start(file: Arc<str>, sheet: Option<Arc<str>>) -> Location {
        Location {
            file,
            sheet,
            row: 1,
            column: None,
        }
    }

    pub fn with_column(&self, column: Option<Column>) -> Location {
        Location {
            column,
            ..self.clone()
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        match (&self.sheet, self.column) {
            (Some(sheet), Some(Column::Letter(c))) => {
                write!(f, ", sheet {sheet}, cell {}{}", column_letter(c), self.row)
            }
            (Some(sheet), _) => write!(f, ", sheet {sheet}, row {}", self.row),
            (None, Some(Column::Number(c))) if self.file.ends_with(".csv") => {
                write!(f, ", line {}, field {c}", self.row)
            }
            (None, Some(Column::Number(c))) => write!(f, ":{}:{c}", self.row),
            (None, _) if self.file.ends_with(".csv") => write!(f, ", line {}", self.row),
            (None, _) => write!(f, ":{}", self.row),
        }
    }
}

/// Longest value written into a finding; longer values are cut (a 10 MB cell stays in its file).
pub const MAX_FINDING_VALUE: usize = 200;

/// One finding of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    pub entity: Option<&'static str>,
    pub key: Option<String>,
    pub location: Location,
    pub field: Option<String>,
    /// Already masked where the field is secret; cut to [`MAX_FINDING_VALUE`] characters.
    pub value: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

impl Finding {
    pub fn new(code: Code, location: Location, message: impl Into<String>) -> Finding {
        Finding {
            code,
            severity: code.severity(),
            entity: None,
            key: None,
            location,
            field: None,
            value: None,
            message: message.into(),
            hint: None,
        }
    }
    pub fn entity(mut self, e: &'static str) -> Self {
        self.entity = Some(e);
        self
    }
    pub fn key(mut self, k: Option<String>) -> Self {
        self.key = k;
        self
    }
    pub fn field(mut self, f: &str) -> Self {
        self.field = Some(f.to_string());
        self
    }
    /// Records the offending value, cut to a readable length. Never pass a secret here unmasked.
    pub fn value(mut self, v: &str) -> Self {
        self.value = Some(clip(v));
        self
    }
    pub fn hint(mut self, h: Option<String>) -> Self {
        self.hint = h;
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Cuts a value to [`MAX_FINDING_VALUE`] characters, saying how long it was.
pub fn clip(v: &str) -> String {
    if v.chars().count() <= MAX_FINDING_VALUE {
        v.to_string()
    } else {
        let head: String = v.chars().take(MAX_FINDING_VALUE).collect();
        format!("{head}… ({} characters)", v.chars().count())
    }
}

/// Masks a card or bank number: twelve `*` and the last four digits.
pub fn mask_number(v: &str) -> String {
    let digits: Vec<char> = v.chars().filter(|c| c.is_ascii_digit()).collect();
    let last4: String = digits.iter().rev().take(4).rev().collect();
    format!("************{last4}")
}

/// The text shown for a password: never the password.
pub const PASSWORD_MASK: &str = "********";

impl Finding {
    /// The finding as one JSON object with the fields of SPEC §10.
    pub fn to_json(&self, run: i64) -> serde_json::Value {
        serde_json::json!({
            "run": run,
            "severity": self.severity.as_str(),
            "code": self.code.as_str(),
            "entity": self.entity.unwrap_or(""),
            "key": self.key.clone().unwrap_or_default(),
            "file": &*self.location.file,
            "sheet": self.location.sheet.as_deref().unwrap_or(""),
            "row": self.location.row,
            "column": self.location.column.map(|c| c.render()).unwrap_or_default(),
            "field": self.field.clone().unwrap_or_default(),
            "value": self.value.clone().unwrap_or_default(),
            "message": self.message,
            "hint": self.hint.clone().unwrap_or_default(),
        })
    }

    /// Reads back what [`Finding::to_json`] wrote.
    pub fn from_json(v: &serde_json::Value) -> Option<Finding> {
        let s = |k: &str| {
            v.get(k)
                .and_then(|x| x.as_str())
                .filter(|x| !x.is_empty())
                .map(str::to_string)
        };
        let code = Code::parse(v.get("code")?.as_str()?)?;
        let sheet = s("sheet");
        let column = s("column").map(|c| {
            if sheet.is_some() {
                let mut n: u32 = 0;
                for ch in c.chars() {
                    n = n * 26 + (ch as u32).saturating_sub('A' as u32 - 1);
                }
                Column::Letter(n.saturating_sub(1))
            } else {
                Column::Number(c.parse().unwrap_or(0))
            }
        });
        Some(Finding {
            code,
            severity: Severity::parse(v.get("severity")?.as_str()?)?,
            entity: s("entity")
                .and_then(|e| ferry_catalogue::entity(&e))
                .map(|e| e.name),
            key: s("key"),
            location: Location {
                file: s("file").unwrap_or_default().into(),
                sheet: sheet.map(Into::into),
                row: v.get("row")?.as_u64()?,
                column,
            },
            field: s("field"),
            value: s("value"),
            message: v.get("message")?.as_str()?.to_string(),
            hint: s("hint"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_dotted() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "duplicate {c}");
            assert!(c.as_str().contains('.'), "{c}");
            assert_eq!(Code::parse(c.as_str()), Some(*c));
        }
    }

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(16383), "XFD");
    }

    #[test]
    fn clip_and_mask() {
        let long = "x".repeat(10_000);
        assert!(clip(&long).len() < 300);
        assert_eq!(mask_number("4111 1111 1111 1111"), "************1111");
    }

    #[test]
    fn locations_render() {
        let l = Location {
            file: "a.xlsx".into(),
            sheet: Some("User".into()),
            row: 5,
            column: Some(Column::Letter(2)),
        };
        assert_eq!(l.to_string(), "a.xlsx, sheet User, cell C5");
        let l = Location {
            file: "d/User.csv".into(),
            sheet: None,
            row: 7,
            column: Some(Column::Number(3)),
        };
        assert_eq!(l.to_string(), "d/User.csv, line 7, field 3");
        let l = Location {
            file: "a.xml".into(),
            sheet: None,
            row: 9,
            column: Some(Column::Number(4)),
        };
        assert_eq!(l.to_string(), "a.xml:9:4");
    }
}
