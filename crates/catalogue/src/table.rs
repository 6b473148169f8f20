//! The catalogue itself: every entity type of SPEC §4 with its fields, key and references, and
//! the other names a vendor's files give them.

use crate::{Alias, Entity, Field, FieldAlias, Group, Key, Kind, Ref, Req, Sign};

const fn req(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        req: Req::Required,
        default: None,
        doc: "",
    }
}
const fn opt(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        req: Req::Optional,
        default: None,
        doc: "",
    }
}
const fn dft(name: &'static str, kind: Kind, default: &'static str) -> Field {
    Field {
        name,
        kind,
        req: Req::Optional,
        default: Some(default),
        doc: "",
    }
}
impl Field {
    const fn doc(mut self, doc: &'static str) -> Field {
        self.doc = doc;
        self
    }
}

/// A reference of one field to the `Name` of an entity type.
macro_rules! to_name {
    ($field:literal, $target:literal) => {
        Ref {
            from: &[$field],
            target: $target,
            to: &["Name"],
        }
    };
}
const USER: Ref = to_name!("User", "User");
const CONTACT: Ref = Ref {
    from: &["User", "ContactName"],
    target: "Contact",
    to: &["User", "ContactName"],
};
const USER_PACKAGE: Ref = Ref {
    from: &["User", "UserPackage"],
    target: "UserPackage",
    to: &["User", "Name"],
};
const USER_SERVICE: Ref = Ref {
    from: &["User", "UserPackage", "UserService"],
    target: "UserService",
    to: &["User", "UserPackage", "Name"],
};

const TEXT: Kind = Kind::Text;
const NAME: Kind = Kind::Name;
const DATE: Kind = Kind::Date;
const BOOL: Kind = Kind::Bool;
const MONEY: Kind = Kind::Money(Sign::Any);
const MONEY_ABS: Kind = Kind::Money(Sign::NonNegative);
const INT: Kind = Kind::Integer {
    min: None,
    max: None,
};
const POS_INT: Kind = Kind::Integer {
    min: Some(1),
    max: None,
};

const NAME_ONLY: &[Field] = &[req("Name", NAME)];

const fn named(name: &'static str, doc: &'static str) -> Entity {
    Entity {
        name,
        group: Group::Setup,
        fields: NAME_ONLY,
        key: Key::Fields(&["Name"]),
        refs: &[],
        after: &[],
        account_field: None,
        doc,
    }
}

const fn account(
    name: &'static str,
    fields: &'static [Field],
    key: Key,
    refs: &'static [Ref],
    group: Group,
) -> Entity {
    Entity {
        name,
        group,
        fields,
        key,
        refs,
        after: &[],
        account_field: Some("User"),
        doc: "",
    }
}

const CONTACT_POINT_FIELDS: &[Field] = &[
    req("User", NAME),
    req("ContactName", NAME),
    req("Phone", Kind::Phone),
    opt("ContactType", NAME),
    dft("ContactPointType", NAME, "Work Phone"),
];
const FAX_FIELDS: &[Field] = &[
    req("User", NAME),
    req("ContactName", NAME),
    req("Phone", Kind::Phone),
    opt("ContactType", NAME),
    dft("ContactPointType", NAME, "Fax"),
];
const PHONE_REFS: &[Ref] = &[
    USER,
    CONTACT,
    to_name!("ContactType", "ContactType"),
    to_name!("ContactPointType", "ContactPointType"),
];

/// The last key field of a type an account may hold several identical records of (SPEC §4.4).
const OCCURRENCE: Field = Field {
    name: "Occurrence",
    kind: POS_INT,
    req: Req::Optional,
    default: None,
    doc: "Which of the account's records with the same other key values this is: counted 1, 2, … in source order when not given (an export gives it).",
};

/// What the ledger stream comes after although no reference says so: the account hierarchy
/// (SPEC §5: a run builds it, then imports its history) and every account attribute (SPEC §7:
/// "attribute records are applied before the ledger", so that a `UserAttributeTaxCode` of the
/// same run is the account's tax code for its charges).
const LEDGER_AFTER: &[&str] = &[
    "ChildAccount",
    "UserAttributeExpiryDate",
    "UserAttributeTaxClass",
    "UserAttributeTaxCode",
    "UserAttributeTaxExempt",
];

/// Every entity type, in the order of SPEC §4 (the tie-break of the dependency order).
pub static ENTITIES: &[Entity] = &[
    // ---- 4.1 Setup ------------------------------------------------------------------------
    Entity {
        name: "Currency",
        group: Group::Setup,
        fields: &[
            req("Code", Kind::CurrencyCode)
                .doc("3 letters, e.g. USD, CAD, EUR; USA is accepted for USD"),
            opt("Name", TEXT),
        ],
        key: Key::Fields(&["Code"]),
        refs: &[],
        after: &[],
        account_field: None,
        doc: "A currency.",
    },
    Entity {
        name: "Owner",
        group: Group::Setup,
        fields: &[req("Name", NAME), opt("Currency", Kind::CurrencyCode)],
        key: Key::Fields(&["Name"]),
        refs: &[Ref {
            from: &["Currency"],
            target: "Currency",
            to: &["Code"],
        }],
        after: &[],
        account_field: None,
        doc: "An owner (the organisation that accounts belong to).",
    },
    named("Role", "An account role."),
    named("Culture", "A culture (formatting locale)."),
    named("Language", "An interface language."),
    named("StatusType", "An account status type."),
    named("BillGroup", "A bill group."),
    named("CreditRating", "A credit rating."),
    named("ContactType", "A contact type."),
    named(
        "ContactPointType",
        "A contact point type (e-mail, phones, fax, …).",
    ),
    named("NoteType", "A note type."),
    named("PaymentType", "A payment type."),
    named("TicketPriority", "A ticket priority."),
    named("TicketCategory", "A ticket category."),
    named("TicketStatus", "A ticket status."),
    named("TaxCode", "A tax code; its rates are TaxRate records."),
    Entity {
        name: "TaxRate",
        group: Group::Setup,
        fields: &[
            req("TaxCode", NAME),
            req(
                "Rank",
                Kind::Integer {
                    min: Some(1),
                    max: Some(4),
                },
            )
            .doc("1–4: the TaxN field it fills"),
            req("Name", NAME),
            req("Percent", Kind::Decimal(Sign::NonNegative)).doc("e.g. 13 or 6.25"),
        ],
        key: Key::Fields(&["TaxCode", "Rank"]),
        refs: &[to_name!("TaxCode", "TaxCode")],
        after: &[],
        account_field: None,
        doc: "A tax rate of a tax code.",
    },
    Entity {
        name: "Service",
        group: Group::Setup,
        fields: &[req("Name", NAME), dft("Amount", MONEY, "0")],
        key: Key::Fields(&["Name"]),
        refs: &[],
        after: &[],
        account_field: None,
        doc: "A service (\"Package\" in ledger records is its legacy name).",
    },
    Entity {
        name: "Package",
        group: Group::Setup,
        fields: &[
            req("Name", NAME),
            opt("Owner", NAME),
            dft(
                "BillCycle",
                Kind::Enum(&["Monthly", "Quarterly", "Annual"]),
                "Monthly",
            ),
        ],
        key: Key::Fields(&["Name"]),
        refs: &[to_name!("Owner", "Owner")],
        after: &[],
        account_field: None,
        doc: "A package of services.",
    },
    Entity {
        name: "PackageService",
        group: Group::Setup,
        fields: &[
            req("Package", NAME),
            req("Service", NAME),
            opt("Amount", MONEY),
            opt("Optional", BOOL),
        ],
        key: Key::Fields(&["Package", "Service"]),
        refs: &[
            to_name!("Package", "Package"),
            to_name!("Service", "Service"),
        ],
        after: &[],
        account_field: None,
        doc: "A service in a package.",
    },
    Entity {
        name: "ProfileQuestion",
        group: Group::Setup,
        fields: &[
            req("Name", NAME),
            req("AppliesTo", Kind::Enum(&["Role", "Service"])),
            req("Target", NAME).doc("the role or service name"),
            opt("Parent", NAME).doc("parent question (same AppliesTo and Target)"),
        ],
        key: Key::Fields(&["AppliesTo", "Target", "Name"]),
        refs: &[Ref {
            from: &["AppliesTo", "Target", "Parent"],
            target: "ProfileQuestion",
            to: &["AppliesTo", "Target", "Name"],
        }],
        after: &["Role", "Service"],
        account_field: None,
        doc: "A profile question for a role or a service.",
    },
    // ---- 4.2 Accounts and contacts --------------------------------------------------------
    Entity {
        name: "User",
        group: Group::Accounts,
        fields: &[
            req("Name", NAME).doc("the account's unique name"),
            opt("Password", Kind::Password).doc("never stored or shown in plain text"),
            Field {
                name: "Owner",
                kind: NAME,
                req: Req::RequiredUnlessOption("DefaultOwner"),
                default: None,
                doc: "required unless the DefaultOwner option is set",
            },
            req("Role", NAME),
            opt("Culture", NAME),
            opt("Currency", Kind::CurrencyCode),
            opt("Language", NAME),
            opt("CreatedDate", DATE),
            opt("StatusType", NAME),
            opt("TaxCode", NAME),
            opt("BillGroup", NAME),
            opt("CreditRating", NAME),
            opt(
                "BillDay",
                Kind::Integer {
                    min: Some(1),
                    max: Some(28),
                },
            )
            .doc("1–28"),
            opt("DisableReason", TEXT),
            opt("Email", Kind::Email).doc("the primary e-mail"),
        ],
        key: Key::Fields(&["Name"]),
        refs: &[
            to_name!("Owner", "Owner"),
            to_name!("Role", "Role"),
            to_name!("Culture", "Culture"),
            Ref {
                from: &["Currency"],
                target: "Currency",
                to: &["Code"],
            },
            to_name!("Language", "Language"),
            to_name!("StatusType", "StatusType"),
            to_name!("TaxCode", "TaxCode"),
            to_name!("BillGroup", "BillGroup"),
            to_name!("CreditRating", "CreditRating"),
        ],
        after: &[],
        account_field: Some("Name"),
        doc: "A customer or member account.",
    },
    Entity {
        name: "ChildAccount",
        group: Group::Accounts,
        fields: &[
            req("Name", NAME).doc("the child account"),
            req("Parent", NAME).doc("the parent account"),
        ],
        key: Key::Fields(&["Name"]),
        refs: &[to_name!("Name", "User"), to_name!("Parent", "User")],
        after: &[],
        account_field: Some("Name"),
        doc: "Makes Name a child account of Parent.",
    },
    Entity {
        name: "Contact",
        group: Group::Accounts,
        fields: &[
            req("User", NAME),
            opt("ContactName", NAME).doc("defaults to ContactFirstName + \" \" + ContactLastName"),
            opt("ContactFirstName", TEXT),
            opt("ContactLastName", TEXT),
            opt("ContactTitle", TEXT),
            req("ContactType", NAME),
            opt("ContactCompany", TEXT),
        ],
        key: Key::Fields(&["User", "ContactName"]),
        refs: &[USER, to_name!("ContactType", "ContactType")],
        after: &[],
        account_field: Some("User"),
        doc: "A contact of an account.",
    },
    Entity {
        name: "ContactEmail",
        group: Group::Accounts,
        fields: &[
            req("User", NAME),
            req("ContactName", NAME),
            req("Email", Kind::Email),
            opt("ContactType", NAME),
        ],
        key: Key::Identity,
        refs: &[USER, CONTACT, to_name!("ContactType", "ContactType")],
        after: &[],
        account_field: Some("User"),
        doc: "An e-mail address of a contact (an `Email Address` contact point).",
    },
    account(
        "ContactPhone",
        CONTACT_POINT_FIELDS,
        Key::Identity,
        PHONE_REFS,
        Group::Accounts,
    ),
    account(
        "ContactFax",
        FAX_FIELDS,
        Key::Identity,
        PHONE_REFS,
        Group::Accounts,
    ),
    account(
        "ContactPoint",
        &[
            req("User", NAME),
            req("ContactName", NAME),
            req("ContactPointType", NAME),
            req("Value", TEXT),
        ],
        Key::Identity,
        &[
            USER,
            CONTACT,
            to_name!("ContactPointType", "ContactPointType"),
        ],
        Group::Accounts,
    ),
    account(
        "ContactAddress",
        &[
            req("User", NAME),
            req("ContactName", NAME),
            req("Address1", TEXT),
            opt("Address2", TEXT),
            opt("City", TEXT),
            opt("Region", TEXT),
            opt("PostalCode", TEXT),
            opt("Country", Kind::Country).doc("ISO 3166 alpha-2 code or English name"),
            opt("ContactType", NAME),
        ],
        Key::Identity,
        &[USER, CONTACT, to_name!("ContactType", "ContactType")],
        Group::Accounts,
    ),
    Entity {
        name: "UserCompany",
        group: Group::Accounts,
        fields: &[req("User", NAME), req("Company", TEXT)],
        key: Key::Identity,
        refs: &[USER],
        after: &[
            "Contact",
            "ContactEmail",
            "ContactPhone",
            "ContactFax",
            "ContactPoint",
            "ContactAddress",
        ],
        account_field: Some("User"),
        doc: "Sets the company name on the account's contacts that have none.",
    },
    // ---- 4.3 Ledger -----------------------------------------------------------------------
    Entity {
        name: "Debit",
        group: Group::Ledger,
        fields: &[
            req("User", NAME),
            req("Date", DATE),
            req("Debit", MONEY_ABS),
            opt("Tax1", MONEY_ABS),
            opt("Tax2", MONEY_ABS),
            opt("Tax3", MONEY_ABS),
            opt("Tax4", MONEY_ABS),
            opt("TaxCode", NAME),
            opt("Description", TEXT),
            opt("Package", NAME).doc("the service (legacy name)"),
            opt("PeriodStart", DATE),
            opt("PeriodEnd", DATE),
            opt("Invoice", NAME),
        ],
        key: Key::Identity,
        refs: &[
            USER,
            to_name!("TaxCode", "TaxCode"),
            to_name!("Package", "Service"),
        ],
        after: LEDGER_AFTER,
        account_field: Some("User"),
        doc: "A charge on an invoice.",
    },
    Entity {
        name: "Credit",
        group: Group::Ledger,
        fields: &[
            req("User", NAME),
            req("Date", DATE),
            req("Credit", MONEY_ABS),
            dft("BulkAmount", Kind::Decimal(Sign::Positive), "1"),
            dft("ApplyTax", BOOL, "false"),
            opt("TaxCode", NAME),
            opt("Description", TEXT),
            opt("Package", NAME).doc("the service (legacy name)"),
            opt("Invoice", NAME),
        ],
        key: Key::Identity,
        refs: &[
            USER,
            to_name!("TaxCode", "TaxCode"),
            to_name!("Package", "Service"),
        ],
        after: LEDGER_AFTER,
        account_field: Some("User"),
        doc: "A credit on an invoice.",
    },
    Entity {
        name: "CloseInvoice",
        group: Group::Ledger,
        fields: &[
            Field {
                name: "User",
                kind: NAME,
                req: Req::Optional,
                default: None,
                doc: "defaults to the account of the preceding ledger record",
            },
            opt("Invoice", NAME),
            dft("Delivered", BOOL, "false"),
        ],
        key: Key::Identity,
        refs: &[USER],
        after: LEDGER_AFTER,
        account_field: Some("User"),
        doc: "Closes the account's current (or the named) invoice.",
    },
    Entity {
        name: "Payment",
        group: Group::Ledger,
        fields: &[
            req("User", NAME),
            req("Date", DATE),
            req("Credit", Kind::Money(Sign::Positive)),
            opt("Description", TEXT),
            opt("PaymentType", NAME),
            opt("Invoice", NAME),
            opt("Reference", TEXT),
        ],
        key: Key::Identity,
        refs: &[USER, to_name!("PaymentType", "PaymentType")],
        after: LEDGER_AFTER,
        account_field: Some("User"),
        doc: "A payment, disbursed to the named invoice or left for billing.",
    },
    // ---- 4.4 Subscriptions, attributes, notes ---------------------------------------------
    account(
        "UserPackage",
        &[
            req("User", NAME),
            req("Name", NAME),
            opt("NextBillDate", DATE),
            dft("Quantity", POS_INT, "1"),
            OCCURRENCE,
        ],
        Key::Occurrence(&["User", "Name", "Occurrence"]),
        &[USER, to_name!("Name", "Package")],
        Group::Subscriptions,
    ),
    account(
        "UserService",
        &[
            req("User", NAME),
            req("UserPackage", NAME),
            req("Name", NAME),
            opt("Optional", BOOL),
            opt("Quantity", POS_INT),
            OCCURRENCE,
        ],
        Key::Occurrence(&["User", "UserPackage", "Name", "Occurrence"]),
        &[USER, USER_PACKAGE, to_name!("Name", "Service")],
        Group::Subscriptions,
    ),
    account(
        "UserPackageAttributeDiscount",
        &[
            req("User", NAME),
            req("UserPackage", NAME),
            opt("UserService", NAME),
            req("DiscountType", Kind::Enum(&["Fixed", "Price", "Percent"])),
            req("Amount", Kind::Decimal(Sign::Any)),
        ],
        Key::Identity,
        &[USER, USER_PACKAGE],
        Group::Subscriptions,
    ),
    account(
        "UserAttributeExpiryDate",
        &[req("User", NAME), req("Date", DATE)],
        Key::Fields(&["User"]),
        &[USER],
        Group::Subscriptions,
    ),
    account(
        "UserAttributeTaxClass",
        &[req("User", NAME), req("TaxClass", TEXT)],
        Key::Fields(&["User"]),
        &[USER],
        Group::Subscriptions,
    ),
    account(
        "UserAttributeTaxCode",
        &[req("User", NAME), req("TaxCode", NAME)],
        Key::Fields(&["User"]),
        &[USER, to_name!("TaxCode", "TaxCode")],
        Group::Subscriptions,
    ),
    account(
        "UserAttributeTaxExempt",
        &[
            req("User", NAME),
            req("TaxCode", NAME),
            opt("Certificate", TEXT),
            opt("ExpiryDate", DATE),
        ],
        Key::Fields(&["User", "TaxCode"]),
        &[USER, to_name!("TaxCode", "TaxCode")],
        Group::Subscriptions,
    ),
    account(
        "UserNote",
        &[
            req("User", NAME),
            req("Type", NAME),
            opt("Date", DATE),
            req("Note", TEXT),
            opt("CreatedBy", TEXT),
        ],
        Key::Identity,
        &[USER, to_name!("Type", "NoteType")],
        Group::Subscriptions,
    ),
    account(
        "ProfileAnswer",
        &[
            req("User", NAME),
            req("Question", NAME),
            req("Answer", TEXT),
            opt("Service", NAME),
        ],
        Key::Identity,
        &[USER, to_name!("Service", "Service")],
        Group::Subscriptions,
    ),
    account(
        "UserExtendedAttribute",
        &[req("User", NAME), req("Name", NAME), opt("Value", TEXT)],
        Key::Fields(&["User", "Name"]),
        &[USER],
        Group::Subscriptions,
    ),
    account(
        "UserPackageExtendedAttribute",
        &[
            req("User", NAME),
            req("UserPackage", NAME),
            req("Name", NAME),
            opt("Value", TEXT),
        ],
        Key::Fields(&["User", "UserPackage", "Name"]),
        &[USER, USER_PACKAGE],
        Group::Subscriptions,
    ),
    account(
        "UserPackageStatusChange",
        &[
            req("User", NAME),
            req("UserPackage", NAME),
            req("StatusType", NAME),
            req("Date", DATE),
        ],
        Key::Identity,
        &[USER, USER_PACKAGE, to_name!("StatusType", "StatusType")],
        Group::Subscriptions,
    ),
    account(
        "UserServiceAttribute",
        &[
            req("User", NAME),
            req("UserPackage", NAME),
            req("UserService", NAME),
            req("Name", NAME),
            opt("Value", TEXT),
        ],
        Key::Fields(&["User", "UserPackage", "UserService", "Name"]),
        &[USER, USER_PACKAGE, USER_SERVICE],
        Group::Subscriptions,
    ),
    account(
        "UserServiceContact",
        &[
            req("User", NAME),
            req("UserPackage", NAME),
            req("UserService", NAME),
            req("ContactName", NAME),
        ],
        Key::Identity,
        &[USER, USER_PACKAGE, USER_SERVICE, CONTACT],
        Group::Subscriptions,
    ),
    account(
        "UserServiceTelecomBucket",
        &[
            req("User", NAME),
            req("UserPackage", NAME),
            req("UserService", NAME),
            req("Bucket", NAME),
            opt("Amount", Kind::Decimal(Sign::NonNegative)),
            opt("Unit", TEXT),
        ],
        Key::Identity,
        &[USER, USER_PACKAGE, USER_SERVICE],
        Group::Subscriptions,
    ),
    account(
        "UserServiceProfileAnswer",
        &[
            req("User", NAME),
            req("UserPackage", NAME),
            req("UserService", NAME),
            req("Question", NAME),
            req("Answer", TEXT),
            opt("Occurrence", POS_INT),
        ],
        Key::Identity,
        &[USER, USER_PACKAGE, USER_SERVICE],
        Group::Subscriptions,
    ),
    account(
        "UserServiceResource",
        &[
            req("User", NAME),
            req("UserPackage", NAME),
            req("UserService", NAME),
            req("Resource", NAME),
            opt("Value", TEXT),
        ],
        Key::Identity,
        &[USER, USER_PACKAGE, USER_SERVICE],
        Group::Subscriptions,
    ),
    // ---- 4.5 Tickets ----------------------------------------------------------------------
    Entity {
        name: "Ticket",
        group: Group::Tickets,
        fields: &[
            req("TicketID", NAME).doc("the source system's ticket number"),
            req("User", NAME),
            opt("Reference", TEXT),
            req("Subject", TEXT),
            opt("Description", TEXT),
            opt("Resolution", TEXT),
            opt("AssignedTo", NAME),
            opt("LoggedBy", NAME),
            req("Date", DATE),
            opt(
                "TimeSpent",
                Kind::Integer {
                    min: Some(0),
                    max: None,
                },
            )
            .doc("minutes"),
            opt("Status", NAME),
            opt("Priority", NAME),
            opt("ClosedBy", NAME),
            opt("DateClosed", DATE),
            opt("Category", NAME),
            opt("ContactMethod", TEXT),
            opt("FromAddress", TEXT),
            opt("TotalTimeSpent", INT),
            opt("CurrentTimeSpent", INT),
            opt("LastModifiedBy", NAME),
            opt("HiddenResolution", TEXT),
            opt("ShowToUser", BOOL),
            opt("DueDate", DATE),
        ],
        key: Key::Fields(&["TicketID"]),
        refs: &[
            USER,
            to_name!("AssignedTo", "User"),
            to_name!("LoggedBy", "User"),
            to_name!("Status", "TicketStatus"),
            to_name!("Priority", "TicketPriority"),
            to_name!("ClosedBy", "User"),
            to_name!("Category", "TicketCategory"),
            to_name!("LastModifiedBy", "User"),
        ],
        after: &[],
        account_field: Some("User"),
        doc: "A support ticket.",
    },
    Entity {
        name: "TicketTracking",
        group: Group::Tickets,
        fields: &[
            req("TicketID", NAME),
            req("Date", DATE),
            opt("By", NAME),
            req("Text", TEXT),
            opt("ShowToUser", BOOL),
        ],
        key: Key::Identity,
        refs: &[
            Ref {
                from: &["TicketID"],
                target: "Ticket",
                to: &["TicketID"],
            },
            to_name!("By", "User"),
        ],
        after: &[],
        account_field: None,
        doc: "A tracking entry of a ticket.",
    },
    Entity {
        name: "TicketAttachment",
        group: Group::Tickets,
        fields: &[
            req("TicketID", NAME),
            req("FileName", TEXT),
            opt("Path", TEXT).doc("relative to the source file's folder"),
            opt("Data", Kind::Base64),
        ],
        key: Key::Identity,
        refs: &[Ref {
            from: &["TicketID"],
            target: "Ticket",
            to: &["TicketID"],
        }],
        after: &[],
        account_field: None,
        doc: "A file attached to a ticket: Path or Data, exactly one.",
    },
    // ---- 4.6 Payment methods --------------------------------------------------------------
    account(
        "UserPaymentMethod",
        &[
            req("User", NAME),
            req("Ref", NAME).doc("a label that the method's detail record uses"),
            opt("Default", BOOL),
        ],
        Key::Fields(&["Ref"]),
        &[USER],
        Group::PaymentMethods,
    ),
    Entity {
        name: "UserPaymentMethodCash",
        group: Group::PaymentMethods,
        fields: &[req("Ref", NAME)],
        key: Key::Fields(&["Ref"]),
        refs: &[Ref {
            from: &["Ref"],
            target: "UserPaymentMethod",
            to: &["Ref"],
        }],
        after: &[],
        account_field: None,
        doc: "Cash as the payment method.",
    },
    Entity {
        name: "UserPaymentMethodCheck",
        group: Group::PaymentMethods,
        fields: &[
            req("Ref", NAME),
            opt("BankName", TEXT),
            opt("CheckNumber", TEXT),
        ],
        key: Key::Fields(&["Ref"]),
        refs: &[Ref {
            from: &["Ref"],
            target: "UserPaymentMethod",
            to: &["Ref"],
        }],
        after: &[],
        account_field: None,
        doc: "Cheque as the payment method.",
    },
    Entity {
        name: "UserPaymentMethodCreditCard",
        group: Group::PaymentMethods,
        fields: &[
            req("Ref", NAME),
            req("CardNumber", Kind::SecretNumber)
                .doc("Luhn-checked; stored only as brand, last four and fingerprint"),
            req(
                "ExpiryMonth",
                Kind::Integer {
                    min: Some(1),
                    max: Some(12),
                },
            ),
            req(
                "ExpiryYear",
                Kind::Integer {
                    min: Some(1900),
                    max: Some(9999),
                },
            ),
            opt("NameOnCard", TEXT),
        ],
        key: Key::Fields(&["Ref"]),
        refs: &[Ref {
            from: &["Ref"],
            target: "UserPaymentMethod",
            to: &["Ref"],
        }],
        after: &[],
        account_field: None,
        doc: "A credit card.",
    },
    Entity {
        name: "UserPaymentMethodACH",
        group: Group::PaymentMethods,
        fields: &[
            req("Ref", NAME),
            req("RoutingNumber", TEXT),
            req("AccountNumber", Kind::SecretNumber)
                .doc("stored only as last four and fingerprint"),
            req("AccountType", Kind::Enum(&["Checking", "Savings"])),
            opt("BankName", TEXT),
        ],
        key: Key::Fields(&["Ref"]),
        refs: &[Ref {
            from: &["Ref"],
            target: "UserPaymentMethod",
            to: &["Ref"],
        }],
        after: &[],
        account_field: None,
        doc: "A bank account (ACH).",
    },
    // ---- 11 Legacy certification (`ferry certification migrate` only) -------------------
    Entity {
        name: "LegacyProgram",
        group: Group::Certification,
        fields: &[
            req("ProgramCode", NAME),
            req("Title", TEXT),
            opt("Established", DATE),
            opt("IndustryCode", TEXT),
            opt("UF_1", TEXT),
            opt("UF_2", TEXT),
            opt("UF_3", TEXT),
            opt("UF_4", TEXT),
            opt("Coordinators", TEXT),
            opt("Notes", TEXT),
            opt("Prerequisites", TEXT),
            opt("Seqn", INT).doc("the legacy system's sequence number"),
        ],
        key: Key::Fields(&["ProgramCode"]),
        refs: &[],
        after: &[],
        account_field: None,
        doc: "A legacy (desktop) certification program; becomes a certification program whose Description keeps the fields that have no equivalent.",
    },
    Entity {
        name: "LegacyComponent",
        group: Group::Certification,
        fields: &[
            req("ComponentCode", NAME),
            req("Title", TEXT),
            opt("Address", TEXT),
            opt("Prerequisites", TEXT),
            opt("Instructors", TEXT),
        ],
        key: Key::Fields(&["ComponentCode"]),
        refs: &[],
        after: &[],
        account_field: None,
        doc: "A legacy certification component (a course, exam or activity of programs).",
    },
    Entity {
        name: "LegacyProgramComponent",
        group: Group::Certification,
        fields: &[
            req("ProgramCode", NAME),
            req("ComponentCode", NAME),
            opt("Required", BOOL),
        ],
        key: Key::Fields(&["ProgramCode", "ComponentCode"]),
        refs: &[
            Ref {
                from: &["ProgramCode"],
                target: "LegacyProgram",
                to: &["ProgramCode"],
            },
            Ref {
                from: &["ComponentCode"],
                target: "LegacyComponent",
                to: &["ComponentCode"],
            },
        ],
        after: &[],
        account_field: None,
        doc: "A component of a legacy program.",
    },
    Entity {
        name: "LegacyRegistration",
        group: Group::Certification,
        fields: &[
            req("Seqn", INT).doc("unique: the legacy registration's sequence number"),
            req("StudentId", NAME).doc("the User (account name) registered"),
            req("ProgramCode", NAME),
            opt("ComponentCode", NAME)
                .doc("empty: the program registration; given: an enrollment in that component"),
            opt(
                "Status",
                Kind::Enum(&["Registered", "InProgress", "Complete", "Withdrawn"]),
            ),
            opt("Grade", TEXT),
            opt("RegisteredDate", DATE),
            opt("CompletedDate", DATE),
        ],
        key: Key::Fields(&["Seqn"]),
        refs: &[
            to_name!("StudentId", "User"),
            Ref {
                from: &["ProgramCode"],
                target: "LegacyProgram",
                to: &["ProgramCode"],
            },
            Ref {
                from: &["ComponentCode"],
                target: "LegacyComponent",
                to: &["ComponentCode"],
            },
        ],
        after: &["LegacyProgramComponent"],
        account_field: None,
        doc: "A legacy registration of a student in a program, or (with ComponentCode) an enrollment in one of its components.",
    },
    // ---- 12 Configuration (moved between targets by `ferry config export|import`) ---------
    Entity {
        name: "SavedMapping",
        group: Group::Configuration,
        fields: &[
            req("Name", NAME).doc("the mapping's name, e.g. the legacy system it reads"),
            req("Entity", NAME).doc("the entity type whose sheet or file the mapping applies to"),
            req("Column", NAME).doc("a column header as the source system writes it"),
            req("Field", NAME).doc("the field of the entity type that column holds"),
        ],
        key: Key::Fields(&["Name", "Entity", "Column"]),
        refs: &[],
        after: &[],
        account_field: None,
        doc: "A saved column mapping: one source column of one entity type.",
    },
    Entity {
        name: "ImportMapping",
        group: Group::Configuration,
        fields: &[
            req("Name", NAME).doc("the name `ferry import --mapping NAME` and the console use"),
            req("Definition", TEXT).doc("the whole mapping file (TOML, version 1; see Mappings below)"),
            opt("Description", TEXT),
        ],
        key: Key::Fields(&["Name"]),
        refs: &[],
        after: &[],
        account_field: None,
        doc: "A whole mapping of a legacy export (`ferry map save`): how the rows of its files, sheets or XML elements become records.",
    },
    Entity {
        name: "SavedQuery",
        group: Group::Configuration,
        fields: &[
            req("Name", NAME),
            opt("Description", TEXT),
            req("Sql", TEXT).doc("a read-only query over the target's tables"),
        ],
        key: Key::Fields(&["Name"]),
        refs: &[],
        after: &[],
        account_field: None,
        doc: "A saved query staff run against the target.",
    },
];

/// The vendor's names of entity types (seed 003, EngageIP's import elements), read as Ferry's:
/// a sheet, CSV file or XML element of such a name holds records of that type (one
/// `input.alias` note per sheet, file or element name). SPEC §4.4 names the first one.
pub static ENTITY_ALIASES: &[Alias] = &[
    Alias {
        alias: "UserAttributeChangeUserPackageStatusType",
        name: "UserPackageStatusChange",
    },
    Alias {
        alias: "UserServiceAttributeContact",
        name: "UserServiceContact",
    },
    Alias {
        alias: "UserServiceAttributeTelecomBucket",
        name: "UserServiceTelecomBucket",
    },
    Alias {
        alias: "UserServiceAttributeProfileAnswers",
        name: "UserServiceProfileAnswer",
    },
    Alias {
        alias: "UserServiceAttributeProfileAnswer",
        name: "UserServiceProfileAnswer",
    },
    Alias {
        alias: "UserServiceTechData",
        name: "UserServiceAttribute",
    },
];

/// The vendor's spellings of fields (seed 003's field tables), read as Ferry's field of that
/// entity type (one `input.alias` note per sheet, file or element type).
pub static FIELD_ALIASES: &[FieldAlias] = &[
    FieldAlias::new("User", "BilllDay", "BillDay"),
    FieldAlias::new("User", "Disable Reason", "DisableReason"),
    FieldAlias::new(
        "UserPackageAttributeDiscount",
        "Discount Type",
        "DiscountType",
    ),
    FieldAlias::new("Ticket", "Loggedby", "LoggedBy"),
    FieldAlias::new("Ticket", "Dateclosed", "DateClosed"),
    FieldAlias::new("Ticket", "Contactmethod", "ContactMethod"),
    FieldAlias::new("Ticket", "Fromaddress", "FromAddress"),
    FieldAlias::new("Ticket", "Totaltimespent", "TotalTimeSpent"),
    FieldAlias::new("Ticket", "Currenttimespent", "CurrentTimeSpent"),
    FieldAlias::new("Ticket", "Lastmodifiedby", "LastModifiedBy"),
    FieldAlias::new("Ticket", "Hiddenresolution", "HiddenResolution"),
    FieldAlias::new("Ticket", "Showtouser", "ShowToUser"),
    FieldAlias::new("Ticket", "Duedate", "DueDate"),
];

/// Fields a vendor's format carries that mean nothing to Ferry, per entity type: their values
/// are ignored without a warning (SPEC §2: seed 003's close tag `<CloseInvoice CloseInvoice=""/>`).
pub static IGNORED_FIELDS: &[(&str, &str)] = &[("CloseInvoice", "CloseInvoice")];
