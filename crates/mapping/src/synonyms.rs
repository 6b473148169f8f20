//! The names other systems give Ferry's fields (spreadsheets, Salesforce, Odoo, CiviCRM,
//! PayPal, …), as one table, and how a header is matched against it.

use ferry_catalogue::normalized;

/// Headers that name one field. Matched across case, accents, spaces and punctuation
/// (`E-mail`, `e_mail` and `EMAIL` are all `email`); the field's own name always matches.
#[derive(Debug, Clone, Copy)]
pub struct Synonym {
    pub entity: &'static str,
    pub field: &'static str,
    /// A constant of the record the column makes: a phone's `ContactPointType`, an extended
    /// attribute's `Name`.
    pub tag: Option<&'static str>,
    pub names: &'static [&'static str],
}

const fn syn(entity: &'static str, field: &'static str, names: &'static [&'static str]) -> Synonym {
    Synonym {
        entity,
        field,
        tag: None,
        names,
    }
}

const fn tagged(
    entity: &'static str,
    field: &'static str,
    tag: &'static str,
    names: &'static [&'static str],
) -> Synonym {
    Synonym {
        entity,
        field,
        tag: Some(tag),
        names,
    }
}

/// The table. `User.Name` entries are legacy account ids (the mapping's `account`).
#[rustfmt::skip]
pub static SYNONYMS: &[Synonym] = &[
    // ---- the account key: a legacy id ------------------------------------------------------
    syn("User", "Name", &[
        "Id", "Customer ID", "Customer No", "Customer Number", "Customer Code", "Customer Ref",
        "Cust ID", "CustNo", "Member ID", "Member No", "Member Number", "Membership Number",
        "Membership No", "Membership ID", "Account ID", "Account No", "Account Code", "Contact ID",
        "Client ID", "Client No", "Client Number", "Legacy ID", "External ID", "Partner ID",
        "Donor ID", "Supporter ID", "Subscriber ID", "Record ID", "UID",
    ]),
    // ---- the account ------------------------------------------------------------------------
    syn("User", "CreatedDate", &[
        "Created Date", "Created", "Date Created", "Created At", "Created On", "create_date",
        "Creation Date", "Join Date", "Joined", "Date Joined", "Joined On", "Member Since",
        "Customer Since", "Signup Date", "Sign Up Date", "Registration Date", "Registered",
        "Start Date", "Since", "Create Date",
    ]),
    syn("User", "StatusType", &[
        "Status", "Account Status", "Member Status", "Membership Status", "Customer Status",
    ]),
    syn("User", "Currency", &["CurrencyIsoCode", "Currency Code", "Currency ISO Code"]),
    syn("User", "BillDay", &["Billing Day", "Bill Day Of Month", "Billing Day Of Month"]),
    syn("ChildAccount", "Parent", &[
        "ParentId", "Parent ID", "Parent Account", "Parent Account ID", "parent_id/id",
        "Parent Customer", "Parent Customer ID", "Head Office ID",
    ]),
    // ---- the contact --------------------------------------------------------------------------
    syn("Contact", "ContactFirstName", &[
        "First Name", "first_name", "FirstName", "Given Name", "Forename", "Forenames", "fname",
        "Christian Name", "First", "Vorname", "Prénom",
    ]),
    syn("Contact", "ContactLastName", &[
        "Last Name", "last_name", "LastName", "Surname", "Family Name", "lname", "Last", "Nachname",
        "Nom",
    ]),
    syn("Contact", "ContactName", &[
        "Name", "Full Name", "Contact Name", "Display Name", "Contact", "Member Name",
        "Customer Name", "Client Name", "Partner Name", "Sort Name",
    ]),
    syn("Contact", "ContactTitle", &[
        "Title", "Job Title", "Position", "Job Position", "Function", "Salutation", "Prefix",
    ]),
    syn("Contact", "ContactCompany", &[
        "Company", "Company Name", "company_name", "Organisation", "Organization",
        "Organisation Name", "Organization Name", "Employer", "Employer Name", "Current Employer",
        "Business Name", "Account Name", "Firm", "Parent Company",
    ]),
    // ---- contact points: one record per column ----------------------------------------------
    syn("ContactEmail", "Email", &[
        "E-mail", "Email Address", "E-mail Address", "email1", "Email 1", "email2", "Email 2",
        "Primary Email", "Secondary Email", "Other Email", "Alternate Email", "Personal Email",
        "Work Email", "Home Email", "Main Email", "Mail", "PersonEmail", "From Email Address",
        "Courriel",
    ]),
    tagged("ContactPhone", "Phone", "Mobile Phone", &[
        "Mobile", "Mobile Phone", "Mobile Number", "Mobile Phone Number", "Mobile No", "Mob",
        "Cell", "Cell Phone", "Cellphone", "Handy", "Portable", "Phone (Mobile)",
    ]),
    tagged("ContactPhone", "Phone", "Home Phone", &[
        "Home Phone", "Home Tel", "Home Telephone", "Evening Phone", "Phone (Home)",
    ]),
    tagged("ContactPhone", "Phone", "Work Phone", &[
        "Work Phone", "Business Phone", "Office Phone", "Work Tel", "Direct Line", "Direct Dial",
        "Day Phone", "Phone (Work)",
    ]),
    syn("ContactPhone", "Phone", &[
        "Telephone", "Tel", "Phone Number", "Telephone Number", "Phone No", "phone1", "Phone 1",
        "phone2", "Phone 2", "phone3", "Main Phone", "Primary Phone", "Other Phone",
        "Contact Phone Number", "Téléphone", "Telefon",
    ]),
    syn("ContactFax", "Phone", &["Fax", "Fax Number", "Fax No", "Facsimile", "Fax Phone"]),
    syn("ContactAddress", "Address1", &[
        "Address", "Address 1", "Address Line 1", "Street", "Street Address", "Street 1",
        "Street Address 1", "addr1", "Address Street", "Adresse", "Strasse",
    ]),
    syn("ContactAddress", "Address2", &[
        "Address Line 2", "Street 2", "street2", "addr2", "Street Address 2",
        "Supplemental Address 1",
    ]),
    syn("ContactAddress", "City", &[
        "Town", "Town/City", "City/Town", "Locality", "Suburb", "Post Town", "Ort", "Ville",
        "Stadt",
    ]),
    syn("ContactAddress", "Region", &[
        "State", "Province", "State/Province", "state_id", "State/Region", "Territory",
        "Prefecture",
    ]),
    // A county yields to a state when a list has both (a US list's county is no region).
    syn("ContactAddress", "Region", &["County", "County/State"]),
    syn("ContactAddress", "PostalCode", &[
        "Postcode", "Post Code", "Zip", "Zip Code", "Zipcode", "Postal", "Postal/Zip Code", "PLZ",
        "Code Postal", "Eircode",
    ]),
    syn("ContactAddress", "Country", &[
        "country_id", "Country Code", "Country Name", "Country/Region", "Nation",
    ]),
    // ---- extended attributes and notes ------------------------------------------------------
    tagged("UserExtendedAttribute", "Value", "Website", &[
        "web", "Website", "Web Site", "URL", "Homepage", "Home Page", "Web Address", "www",
    ]),
    tagged("UserExtendedAttribute", "Value", "Industry", &["Industry", "Sector"]),
    tagged("UserExtendedAttribute", "Value", "VAT Number", &[
        "VAT", "VAT Number", "VAT No", "VAT Reg No", "Tax ID", "Tax Number",
    ]),
    tagged("UserExtendedAttribute", "Value", "Gender", &["Gender", "Sex"]),
    tagged("UserExtendedAttribute", "Value", "Date of Birth", &[
        "Date of Birth", "DOB", "Birth Date", "Birthdate", "Birthday",
    ]),
    syn("UserNote", "Note", &[
        "Notes", "Note", "Comments", "Comment", "Remarks", "Description", "Memo",
    ]),
    // ---- payments ---------------------------------------------------------------------------
    syn("Payment", "Date", &[
        "Date", "Payment Date", "Receive Date", "Received Date", "Date Received",
        "Transaction Date", "Paid Date", "Date Paid", "Paid On", "Posting Date", "Value Date",
        "Completed Date",
    ]),
    syn("Payment", "Credit", &[
        "Amount", "Total Amount", "Gross", "Gross Amount", "Payment Amount", "Amount Paid",
        "Paid Amount", "Amount Received", "Total", "Donation Amount", "Contribution Amount",
    ]),
    syn("Payment", "Reference", &[
        "Transaction ID", "Ref", "Payment Reference", "Transaction Reference", "Trxn ID",
        "Receipt Number", "Receipt No", "Check Number", "Cheque Number", "Confirmation Number",
        "Payment ID", "Charge ID",
    ]),
    syn("Payment", "Invoice", &[
        "Invoice Number", "Invoice No", "Invoice ID", "Invoice Ref", "Invoice Reference",
    ]),
    syn("Payment", "PaymentType", &[
        "Payment Method", "Payment Type", "Method", "Payment Instrument", "Paid By", "Tender",
    ]),
    syn("Payment", "Description", &[
        "Memo", "Item Title", "Item Name", "Details", "Narrative", "Particulars", "Financial Type",
    ]),
];

/// Prefixes that name one of several addresses (`BillingStreet`, `Shipping City`).
pub const ADDRESS_GROUPS: &[&str] = &[
    "billing", "shipping", "mailing", "delivery", "invoice", "other", "home", "work", "business",
    "primary",
];

/// Headers of a row's status, whose done value makes a `keep` filter of a payments export.
pub const STATUS_HEADERS: &[&str] = &[
    "Status",
    "Contribution Status",
    "Payment Status",
    "Transaction Status",
    "State",
];

/// Status values of a completed payment.
pub const DONE_VALUES: &[&str] = &[
    "Completed",
    "Complete",
    "Paid",
    "Succeeded",
    "Success",
    "Cleared",
    "Settled",
];

/// Headers of a row's kind, whose values of money going out make a `skip` filter.
pub const TYPE_HEADERS: &[&str] = &["Type", "Transaction Type", "Balance Impact Type"];

/// Words of a kind of row that is no payment received.
pub const NOT_PAYMENT_WORDS: &[&str] = &[
    "withdrawal",
    "transfer",
    "refund",
    "reversal",
    "fee",
    "hold",
    "chargeback",
    "conversion",
];

/// Values read as empty (`missingValues`) when an export writes them.
pub const MISSING_MARKERS: &[&str] = &["NULL", "N/A", "n/a", "#N/A", "-", "null", "(none)"];

/// How a header names a field of one of `entities` (a name of the table, the field's own
/// name, or an address name after a group prefix).
#[derive(Debug, Clone, PartialEq)]
pub struct HeaderMatch {
    pub entity: &'static str,
    pub field: &'static str,
    pub tag: Option<&'static str>,
    /// The address a `ContactAddress` column belongs to (`billing`, …; empty for the plain one).
    pub group: String,
    pub confidence: f64,
    /// The entry's place in the table: of two columns for one field, the earlier entry wins.
    pub rank: usize,
}

/// The first entry of the table for `entities` that `header` names, with its confidence:
/// 1.0 the field's exact name, 0.9 its name across case and punctuation, 0.8 a synonym.
pub fn by_table(header: &str, entities: &[&str]) -> Option<HeaderMatch> {
    let n = normalized(header);
    if n.is_empty() {
        return None;
    }
    let hit = |s: &Synonym, n: &str| {
        (own_name_counts(s) && normalized(s.field) == n)
            || s.names.iter().any(|name| normalized(name) == n)
    };
    let allowed = |s: &&Synonym| entities.contains(&s.entity);
    let found = SYNONYMS
        .iter()
        .enumerate()
        .filter(|(_, s)| allowed(s))
        .find(|(_, s)| hit(s, &n));
    if let Some((rank, s)) = found {
        return Some(HeaderMatch {
            entity: s.entity,
            field: s.field,
            tag: s.tag,
            group: String::new(),
            confidence: confidence(header, s.field),
            rank,
        });
    }
    address_group(&n, entities)
}

/// Whether the field's own name names the entry: not for a tagged entry (`Value` is no
/// website) nor for an account field (`Name` is no legacy id).
fn own_name_counts(s: &Synonym) -> bool {
    s.tag.is_none()
        && ferry_catalogue::entity(s.entity).is_some_and(|e| e.account_field != Some(s.field))
}

/// `BillingStreet` → the billing address's `Address1`.
fn address_group(n: &str, entities: &[&str]) -> Option<HeaderMatch> {
    if !entities.contains(&"ContactAddress") {
        return None;
    }
    let (group, rest) = ADDRESS_GROUPS
        .iter()
        .find_map(|g| n.strip_prefix(g).map(|r| (*g, r)))?;
    let rest = rest
        .strip_prefix("address")
        .filter(|r| !r.is_empty())
        .unwrap_or(rest);
    let (rank, s) = SYNONYMS
        .iter()
        .enumerate()
        .filter(|(_, s)| s.entity == "ContactAddress")
        .find(|(_, s)| {
            !rest.is_empty()
                && (normalized(s.field) == rest || s.names.iter().any(|x| normalized(x) == rest))
        })?;
    Some(HeaderMatch {
        entity: s.entity,
        field: s.field,
        tag: None,
        group: group.to_string(),
        confidence: 0.8,
        rank,
    })
}

/// 1.0 for the exact name, 0.9 across case, accents, spaces and punctuation, else 0.8.
pub fn confidence(header: &str, field: &str) -> f64 {
    if header == field {
        1.0
    } else if normalized(header) == normalized(field) {
        0.9
    } else {
        0.8
    }
}

/// Whether `header` is one of `names` across case, accents, spaces and punctuation.
pub fn is_one_of(header: &str, names: &[&str]) -> bool {
    let n = normalized(header);
    !n.is_empty() && names.iter().any(|x| normalized(x) == n)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &[&str] = crate::suggest::ACCOUNT_ENTITIES;

    fn field(h: &str, entities: &[&str]) -> Option<(&'static str, &'static str, f64)> {
        by_table(h, entities).map(|m| (m.entity, m.field, m.confidence))
    }

    #[test]
    fn every_entry_names_a_field_of_the_catalogue() {
        for s in SYNONYMS {
            let e = ferry_catalogue::entity(s.entity).expect(s.entity);
            assert!(e.field_def(s.field).is_some(), "{}.{}", s.entity, s.field);
        }
    }

    #[test]
    fn no_name_is_given_twice_for_one_family() {
        let mut seen = std::collections::BTreeMap::new();
        for s in SYNONYMS {
            let family = if ferry_catalogue::Known::Payment.is_named(s.entity) {
                "pay"
            } else {
                "acct"
            };
            for n in s.names {
                let before = seen.insert((family, normalized(n)), (s.entity, s.field, s.tag));
                if before.is_some_and(|b| b != (s.entity, s.field, s.tag)) {
                    panic!("{n} names {before:?} and {}.{}", s.entity, s.field);
                }
            }
        }
    }

    #[test]
    fn headers_of_other_systems_name_ferry_fields() {
        let pay = &["Payment"];
        assert_eq!(
            field("E-mail", ACCOUNT),
            Some(("ContactEmail", "Email", 0.9))
        );
        assert_eq!(
            field("Email Address", ACCOUNT),
            Some(("ContactEmail", "Email", 0.8))
        );
        assert_eq!(
            field("email1", ACCOUNT),
            Some(("ContactEmail", "Email", 0.8))
        );
        assert_eq!(
            field("Email", ACCOUNT),
            Some(("ContactEmail", "Email", 1.0))
        );
        assert_eq!(field("Total Amount", pay), Some(("Payment", "Credit", 0.8)));
        assert_eq!(field("Gross", pay), Some(("Payment", "Credit", 0.8)));
        assert_eq!(field("Amount", pay), Some(("Payment", "Credit", 0.8)));
        assert_eq!(field("Receive Date", pay), Some(("Payment", "Date", 0.8)));
        assert_eq!(
            field("first_name", ACCOUNT),
            Some(("Contact", "ContactFirstName", 0.8))
        );
        assert_eq!(
            field("LAST NAME", ACCOUNT),
            Some(("Contact", "ContactLastName", 0.8))
        );
        for zip in ["zip", "postcode", "postal", "Post Code", "PostalCode"] {
            assert_eq!(
                field(zip, ACCOUNT).map(|f| f.1),
                Some("PostalCode"),
                "{zip}"
            );
        }
        assert_eq!(field("county", ACCOUNT).map(|f| f.1), Some("Region"));
        assert_eq!(field("State", ACCOUNT).map(|f| f.1), Some("Region"));
        assert_eq!(
            field("company_name", ACCOUNT).map(|f| f.1),
            Some("ContactCompany")
        );
        let m = by_table("Mobile", ACCOUNT).unwrap();
        assert_eq!(
            (m.entity, m.field, m.tag),
            ("ContactPhone", "Phone", Some("Mobile Phone"))
        );
        assert_eq!(by_table("Phone 2", ACCOUNT).unwrap().tag, None);
        assert_eq!(field("phone1", ACCOUNT).map(|f| f.0), Some("ContactPhone"));
        let web = by_table("web", ACCOUNT).unwrap();
        assert_eq!(
            (web.entity, web.tag),
            ("UserExtendedAttribute", Some("Website"))
        );
        // A family's table only: a payment's Date is no account field.
        assert_eq!(field("Date", ACCOUNT), None);
        assert_eq!(field("Colour", ACCOUNT), None);
    }

    #[test]
    fn salesforce_odoo_civicrm_and_paypal_headers() {
        let pay = &["Payment"];
        let sf = [
            ("Id", "User", "Name"),
            ("Name", "Contact", "ContactName"),
            ("BillingStreet", "ContactAddress", "Address1"),
            ("BillingCity", "ContactAddress", "City"),
            ("BillingPostalCode", "ContactAddress", "PostalCode"),
            ("ShippingState", "ContactAddress", "Region"),
            ("Phone", "ContactPhone", "Phone"),
            ("Fax", "ContactFax", "Phone"),
            ("CreatedDate", "User", "CreatedDate"),
            ("ParentId", "ChildAccount", "Parent"),
            ("CurrencyIsoCode", "User", "Currency"),
        ];
        for (h, e, f) in sf {
            let m = by_table(h, ACCOUNT).unwrap_or_else(|| panic!("{h}"));
            assert_eq!((m.entity, m.field), (e, f), "{h}");
        }
        assert_eq!(by_table("BillingStreet", ACCOUNT).unwrap().group, "billing");
        for (h, f) in [
            ("street", "Address1"),
            ("zip", "PostalCode"),
            ("city", "City"),
        ] {
            assert_eq!(field(h, ACCOUNT).map(|x| x.1), Some(f), "{h}");
        }
        assert_eq!(field("mobile", ACCOUNT).map(|x| x.0), Some("ContactPhone"));
        assert_eq!(field("parent_id/id", ACCOUNT).map(|x| x.1), Some("Parent"));
        assert_eq!(field("Contact ID", ACCOUNT).map(|x| x.1), Some("Name"));
        assert_eq!(field("Transaction ID", pay).map(|x| x.1), Some("Reference"));
        assert_eq!(
            field("Payment Method", pay).map(|x| x.1),
            Some("PaymentType")
        );
        assert_eq!(
            field("Financial Type", pay).map(|x| x.1),
            Some("Description")
        );
        assert_eq!(
            field("From Email Address", ACCOUNT).map(|x| x.0),
            Some("ContactEmail")
        );
        assert_eq!(field("Net", pay), None);
        assert_eq!(field("TimeZone", pay), None);
    }
}
