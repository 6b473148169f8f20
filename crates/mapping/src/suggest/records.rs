//! The records a placed sample gives per row: a list of accounts gives a `User`, its
//! `Contact`, one contact point per e-mail and phone column, an address per address group,
//! attributes and notes; a payments export gives a `Payment`; a native part its own type.

use super::place::{Family, Placed, Placement};
use super::Sample;

/// Where a field's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Src {
    Column(usize),
    Value(String),
    /// Columns joined with spaces.
    Template(Vec<usize>),
}

/// One field of a proposed record.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldPlan {
    pub field: &'static str,
    pub src: Src,
    /// Said beside the field (`check: …` asks a person to look).
    pub comment: Option<String>,
    /// The confidence of a column placed on this field; `None` when the field only names
    /// another record (a contact point's `ContactName`), which is no guess of its own.
    pub guess: Option<f64>,
}

/// One proposed `[[source.record]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordPlan {
    pub entity: &'static str,
    pub comment: Option<String>,
    pub fields: Vec<FieldPlan>,
}

impl RecordPlan {
    fn new(entity: &'static str) -> RecordPlan {
        RecordPlan {
            entity,
            comment: None,
            fields: Vec::new(),
        }
    }
    fn column(&mut self, field: &'static str, i: usize, confidence: f64) {
        self.fields.push(FieldPlan {
            field,
            src: Src::Column(i),
            comment: None,
            guess: Some(confidence),
        });
    }
    fn constant(&mut self, field: &'static str, value: &str, comment: &str) {
        self.fields.push(FieldPlan {
            field,
            src: Src::Value(value.into()),
            comment: Some(comment.into()),
            guess: None,
        });
    }
    fn reference(&mut self, field: &'static str, src: Src) {
        self.fields.push(FieldPlan {
            field,
            src,
            comment: None,
            guess: None,
        });
    }
}

/// The records one row of the sample gives.
pub fn records(s: &Sample, p: &Placement) -> Vec<RecordPlan> {
    match p.family {
        Family::Account => accounts(p),
        Family::Payment => {
            let mut r = RecordPlan::new("Payment");
            for (i, c) in placed(p, "Payment") {
                r.column(c.field, i, c.confidence);
            }
            vec![r]
        }
        Family::Native(e) => vec![native(s, p, e)],
    }
}

/// The placed columns of one entity type, in column order.
fn placed<'p>(p: &'p Placement, entity: &str) -> impl Iterator<Item = (usize, &'p Placed)> + 'p {
    let entity = entity.to_string();
    p.columns
        .iter()
        .enumerate()
        .filter_map(move |(i, c)| c.as_ref().filter(|c| c.entity == entity).map(|c| (i, c)))
}

/// How the contact of a row is named, and whether that is a guess of its own.
#[derive(Debug, Clone)]
struct ContactName {
    src: Src,
    /// A column used as the name though it was placed elsewhere (a company's name).
    borrowed: Option<f64>,
}

fn contact_name(p: &Placement) -> Option<ContactName> {
    let field = |f: &str| {
        placed(p, "Contact")
            .find(|(_, c)| c.field == f)
            .map(|(i, _)| i)
    };
    if let Some(i) = field("ContactName") {
        return Some(ContactName {
            src: Src::Column(i),
            borrowed: None,
        });
    }
    let parts: Vec<usize> = [field("ContactFirstName"), field("ContactLastName")]
        .into_iter()
        .flatten()
        .collect();
    if !parts.is_empty() {
        return Some(ContactName {
            src: Src::Template(parts),
            borrowed: None,
        });
    }
    let (i, confidence) = field("ContactCompany")
        .map(|i| (i, 0.6))
        .or_else(|| placed(p, "ContactEmail").next().map(|(i, _)| (i, 0.4)))
        .or_else(|| p.account.as_ref().map(|a| (a.column, 0.4)))?;
    Some(ContactName {
        src: Src::Column(i),
        borrowed: Some(confidence),
    })
}

fn accounts(p: &Placement) -> Vec<RecordPlan> {
    let mut out = Vec::new();
    if !p.child {
        let mut user = RecordPlan::new("User");
        user.constant(
            "Role",
            "Customer",
            "check: a Role of the target (ferry init makes \"Customer\"; load your own roles first)",
        );
        user.constant("Owner", "admin", "check: an Owner of the target");
        for (i, c) in placed(p, "User") {
            user.column(c.field, i, c.confidence);
        }
        out.push(user);
        for (i, c) in placed(p, "ChildAccount") {
            let mut r = RecordPlan::new("ChildAccount");
            r.comment = Some("this account is a child of the account in this column".into());
            r.column(c.field, i, c.confidence);
            out.push(r);
        }
    }
    let Some(name) = contact_name(p) else {
        return out;
    };
    let mut contacts = Vec::new();
    contact_points(p, &name.src, &mut contacts);
    addresses(p, &name.src, &mut contacts);
    let contact_fields: Vec<(usize, &Placed)> = placed(p, "Contact").collect();
    if !contacts.is_empty() || !contact_fields.is_empty() {
        let mut c = RecordPlan::new("Contact");
        match (&name.src, name.borrowed) {
            (Src::Template(_), _) => c.reference("ContactName", name.src.clone()),
            (Src::Column(i), Some(conf)) => c.column("ContactName", *i, conf),
            _ => {}
        }
        for (i, f) in contact_fields {
            c.column(f.field, i, f.confidence);
        }
        c.constant(
            "ContactType",
            "Billing Contact",
            "check: a ContactType of the target",
        );
        out.push(c);
        out.extend(contacts);
    }
    extras(p, &mut out);
    out
}

/// One record per e-mail, phone and fax column.
fn contact_points(p: &Placement, name: &Src, out: &mut Vec<RecordPlan>) {
    for (i, c) in p.columns.iter().enumerate() {
        let Some(c) = c else { continue };
        if !matches!(c.entity, "ContactEmail" | "ContactPhone" | "ContactFax") {
            continue;
        }
        let mut r = RecordPlan::new(c.entity);
        r.reference("ContactName", name.clone());
        r.column(c.field, i, c.confidence);
        if let Some(tag) = c.tag {
            r.constant(
                "ContactPointType",
                tag,
                "the column's name says which phone",
            );
        }
        out.push(r);
    }
}

/// One record per address group that has a street (`Address1` is required).
fn addresses(p: &Placement, name: &Src, out: &mut Vec<RecordPlan>) {
    let mut groups: Vec<&str> = Vec::new();
    for (_, c) in placed(p, "ContactAddress") {
        if !groups.contains(&c.group.as_str()) {
            groups.push(&c.group);
        }
    }
    for g in groups {
        let cols: Vec<(usize, &Placed)> = placed(p, "ContactAddress")
            .filter(|(_, c)| c.group == g)
            .collect();
        if !cols.iter().any(|(_, c)| c.field == "Address1") {
            continue;
        }
        let mut r = RecordPlan::new("ContactAddress");
        if !g.is_empty() {
            r.comment = Some(format!("the {g} address"));
        }
        r.reference("ContactName", name.clone());
        for (i, c) in cols {
            r.column(c.field, i, c.confidence);
        }
        out.push(r);
    }
}

/// Extended attributes (one per column, named by the table) and notes.
fn extras(p: &Placement, out: &mut Vec<RecordPlan>) {
    for (i, c) in placed(p, "UserExtendedAttribute") {
        let mut r = RecordPlan::new("UserExtendedAttribute");
        r.constant("Name", c.tag.unwrap_or("Attribute"), "the attribute's name");
        r.column("Value", i, c.confidence);
        out.push(r);
    }
    for (i, c) in placed(p, "UserNote") {
        let mut r = RecordPlan::new("UserNote");
        r.constant("Type", "Default", "check: a NoteType of the target");
        r.column(c.field, i, c.confidence);
        out.push(r);
    }
}

/// A part named after an entity type: its columns, and every required field no column holds
/// left empty for a person to fill.
fn native(s: &Sample, p: &Placement, entity: &'static str) -> RecordPlan {
    let mut r = RecordPlan::new(entity);
    for (i, c) in placed(p, entity) {
        r.column(c.field, i, c.confidence);
    }
    let e = ferry_catalogue::entity(entity).expect("placed on a catalogue type");
    for f in e.fields {
        let set = r.fields.iter().any(|x| x.field == f.name);
        if f.req == ferry_catalogue::Req::Required && f.default.is_none() && !set {
            r.constant(
                f.name,
                "",
                &format!("check: required, and no column of {} holds it", s.file),
            );
        }
    }
    r
}
