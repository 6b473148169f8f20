//! `ferry template OUT.xlsx` (SPEC §10): an empty workbook to fill in by hand, generated from the
//! catalogue. One sheet per entity type in dependency order (the ledger types share one `Ledger`
//! sheet with a `Type` column, as the reader and exports expect), row 1 the field names with a
//! comment per field, row 2 the catalogue's note per field (which the reader skips), drop-down
//! lists kept in a hidden `_Lists` sheet, number formats per kind, and an `Options` sheet with
//! the defaults.

use crate::export::ExportError;
use ferry_catalogue::{self as cat, Entity, Field, Group, Kind, Phase, Ref};
use ferry_store::Target;
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, DataValidationRule, Format, FormatAlign,
    FormatBorder, Formula, Note, Workbook, Worksheet,
};
use std::path::Path;

/// The hidden sheet holding the drop-down lists (ignored by the reader: it starts with `_`).
pub const LISTS_SHEET: &str = "_Lists";

/// The last row (0-based) data validations and formats cover: the whole sheet.
const LAST_ROW: u32 = 1_048_575;
/// The first data row (0-based): after the header (row 1) and the notes row (row 2).
const FIRST_DATA_ROW: u32 = 2;

/// What a template holds, for the command's summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateSummary {
    /// Entity sheets written (the `Ledger` sheet counts once).
    pub sheets: usize,
    /// Columns with a drop-down list.
    pub drop_downs: usize,
    /// Lists in `_Lists`.
    pub lists: usize,
    /// Reference targets with no record in the target, hence no drop-down.
    pub empty_lists: Vec<&'static str>,
}

/// One column of a template sheet.
struct Column {
    name: &'static str,
    kind: Kind,
    note: String,
    comment: String,
    required: bool,
    list: Option<ListSource>,
}

/// Where a drop-down list's values come from.
#[derive(Clone, PartialEq, Eq)]
enum ListSource {
    /// The keys of a setup entity type in the target (`target`'s field `to`).
    Keys {
        target: &'static str,
        to: &'static str,
    },
    Bool,
    Values(&'static [&'static str]),
}

impl ListSource {
    fn title(&self) -> String {
        match self {
            ListSource::Keys { target, .. } => (*target).to_string(),
            ListSource::Bool => "TRUE/FALSE".to_string(),
            ListSource::Values(v) => v.join("/"),
        }
    }
}

/// The `_Lists` sheet being gathered: one column per distinct list.
#[derive(Default)]
struct Lists {
    columns: Vec<(ListSource, Vec<ListValue>)>,
}

#[derive(Clone)]
enum ListValue {
    Text(String),
    Bool(bool),
}

impl Lists {
    /// The formula of list `src` (`'_Lists'!$C$2:$C$5`), gathering its values on first use;
    /// `None` when the list is empty.
    fn formula(
        &mut self,
        src: &ListSource,
        target: &Target,
    ) -> Result<Option<String>, ExportError> {
        let at = match self.columns.iter().position(|(s, _)| s == src) {
            Some(i) => i,
            None => {
                let values = match src {
                    ListSource::Bool => vec![ListValue::Bool(true), ListValue::Bool(false)],
                    ListSource::Values(v) => {
                        v.iter().map(|s| ListValue::Text(s.to_string())).collect()
                    }
                    ListSource::Keys { target: t, to } => {
                        let e = cat::entity(t).expect("reference target in catalogue");
                        let mut keys = vec![];
                        target.keys(e, &[to], None, |k, _, _, _| keys.push(k))?;
                        keys.sort();
                        keys.dedup();
                        keys.into_iter().map(ListValue::Text).collect()
                    }
                };
                self.columns.push((src.clone(), values));
                self.columns.len() - 1
            }
        };
        let n = self.columns[at].1.len() as u32;
        if n == 0 {
            return Ok(None);
        }
        let col = column_letters(at as u16);
        Ok(Some(format!("'{LISTS_SHEET}'!${col}$2:${col}${}", n + 1)))
    }
}

/// `0` → `A`, `26` → `AA`.
fn column_letters(mut c: u16) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ascii")
}

/// The drop-down a field gets: the keys of a setup type it references, TRUE/FALSE for a
/// boolean, the values of an enum; none for anything else (accounts are too many to list).
fn list_of(e: &Entity, f: &Field) -> Option<ListSource> {
    match f.kind {
        Kind::Bool => return Some(ListSource::Bool),
        Kind::Enum(v) => return Some(ListSource::Values(v)),
        _ => {}
    }
    let r: &Ref = e.field_ref(f.name)?;
    let t = cat::entity(r.target)?;
    (t.group == Group::Setup && t.name != e.name).then_some(ListSource::Keys {
        target: t.name,
        to: r.to[0],
    })
}

/// The cell comment of a field's header: its note spelled out, its doc, and what the
/// drop-down means.
fn comment_for(e: &Entity, f: &Field, list: Option<&ListSource>) -> String {
    let mut lines = vec![
        f.name.to_string(),
        format!("Kind: {}", cat::kind_text(f.kind)),
    ];
    lines.push(match f.req {
        cat::Req::Required => "Required.".to_string(),
        cat::Req::Optional => "Optional.".to_string(),
        cat::Req::RequiredUnlessOption(o) => {
            format!("Required unless the Options sheet sets {o}.")
        }
    });
    if let Some(d) = f.default {
        lines.push(format!("Default when empty: {d}"));
    }
    for r in e.refs.iter().filter(|r| r.from.contains(&f.name)) {
        lines.push(format!(
            "Reference: the {} of a {} in the target or earlier in this workbook{}.",
            r.to.join(" + "),
            r.target,
            if r.from.len() > 1 {
                format!(" (together with {})", r.from.join(", "))
            } else {
                String::new()
            }
        ));
    }
    if !f.doc.is_empty() {
        lines.push(format!("Note: {}", f.doc));
    }
    if let Some(ListSource::Keys { target, .. }) = list {
        lines.push(format!(
            "The drop-down lists the {target} records of the target when the template was made; other values are allowed (with a warning), since the {target} sheet may add one."
        ));
    }
    lines.join("\n")
}

/// The number format a column gets so that what a person types stays what the spec wants:
/// dates as dates, money with up to 4 decimals, and text as text (leading zeros, long card
/// numbers and phone numbers must not become numbers).
fn num_format(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Date => Some("yyyy-mm-dd"),
        Kind::Money(_) => Some("0.00##"),
        Kind::Integer { .. } => Some("0"),
        Kind::Decimal(_) | Kind::Bool => None,
        Kind::Text
        | Kind::Name
        | Kind::Enum(_)
        | Kind::Email
        | Kind::Phone
        | Kind::CurrencyCode
        | Kind::Country
        | Kind::Password
        | Kind::SecretNumber
        | Kind::Base64 => Some("@"),
    }
}

fn entity_columns(e: &Entity) -> Vec<Column> {
    e.fields
        .iter()
        .map(|f| {
            let list = list_of(e, f);
            Column {
                name: f.name,
                kind: f.kind,
                note: cat::field_note(e, f),
                comment: comment_for(e, f, list.as_ref()),
                required: f.is_required(),
                list,
            }
        })
        .collect()
}

fn ledger_columns() -> Vec<Column> {
    let types: Vec<&'static Entity> = cat::LEDGER_TYPES
        .iter()
        .map(|t| cat::entity(t).expect("ledger type"))
        .collect();
    cat::ledger_columns()
        .into_iter()
        .map(|name| {
            let note = cat::ledger_column_note(name).expect("ledger column");
            if name == "Type" {
                return Column {
                    name,
                    kind: Kind::Enum(&cat::LEDGER_TYPES),
                    note,
                    comment: format!(
                        "Type\nRequired: which record the row is ({}).\nRows are processed in sheet order, across all accounts: put them in the order they happened. A column the row's type lacks must stay empty.",
                        cat::LEDGER_TYPES.join(", ")
                    ),
                    required: true,
                    list: Some(ListSource::Values(&cat::LEDGER_TYPES)),
                };
            }
            let users: Vec<(&'static Entity, &'static Field)> = types
                .iter()
                .filter_map(|e| e.field_def(name).map(|f| (*e, f)))
                .collect();
            let (e, f) = users[0];
            let list = list_of(e, f);
            let mut comment = vec![name.to_string()];
            for (e, f) in &users {
                comment.push(format!("{}: {}", e.name, cat::field_note(e, f)));
                if !f.doc.is_empty() {
                    comment.push(format!("  ({})", f.doc));
                }
            }
            if let Some(ListSource::Keys { target, .. }) = &list {
                comment.push(format!("The drop-down lists the {target} records of the target when the template was made; other values are allowed (with a warning), since the {target} sheet may add one."));
            }
            Column {
                name,
                kind: f.kind,
                note,
                comment: comment.join("\n"),
                required: users.iter().all(|(_, f)| f.is_required()),
                list,
            }
        })
        .collect()
}

/// Formats shared by all sheets.
struct Styles {
    header: Format,
    header_required: Format,
    notes: Format,
}

impl Styles {
    fn new() -> Styles {
        let header = Format::new()
            .set_bold()
            .set_border_bottom(FormatBorder::Thin)
            .set_background_color(Color::RGB(0xDDEBF7));
        Styles {
            header_required: header.clone().set_background_color(Color::RGB(0xFCE4D6)),
            header,
            notes: Format::new()
                .set_italic()
                .set_font_color(Color::RGB(0x595959))
                .set_text_wrap()
                .set_align(FormatAlign::Top),
        }
    }
}

fn xerr(e: rust_xlsxwriter::XlsxError) -> ExportError {
    ExportError::Xlsx(e.to_string())
}

/// The drop-down of a column: a list validation on the data rows, warning style.
///
/// Warning, not stop: a reference may name a record that this same workbook creates (a `Role`
/// sheet adds the role a `User` row uses), the reader accepts more spellings than the list shows
/// (booleans as yes/no/1/0, enum values in any case), and the list is a snapshot of the target
/// when the template was made. So a value outside the list is pointed out, never refused; the
/// import is what judges it.
fn drop_down(formula: &str, what: &str) -> Result<DataValidation, ExportError> {
    DataValidation::new()
        .allow_list_formula(Formula::new(formula))
        .ignore_blank(true)
        .set_error_style(DataValidationErrorStyle::Warning)
        .set_error_title("Not in the list")
        .map_err(xerr)?
        .set_error_message(format!(
            "This value is not in the list of {what}. Keep it only if this workbook adds it or Ferry accepts another spelling; the import will report it otherwise."
        ))
        .map_err(xerr)
}

fn write_sheet(
    ws: &mut Worksheet,
    name: &str,
    columns: &[Column],
    styles: &Styles,
    lists: &mut Lists,
    target: &Target,
    summary: &mut TemplateSummary,
) -> Result<(), ExportError> {
    ws.set_name(name).map_err(xerr)?;
    for (c, col) in columns.iter().enumerate() {
        let c = c as u16;
        let head = if col.required {
            &styles.header_required
        } else {
            &styles.header
        };
        ws.write_string_with_format(0, c, col.name, head)
            .map_err(xerr)?;
        ws.insert_note(
            0,
            c,
            &Note::new(&col.comment)
                .set_author("Ferry")
                .add_author_prefix(false)
                .set_width(320)
                .set_height(160),
        )
        .map_err(xerr)?;
        ws.write_string_with_format(1, c, &col.note, &styles.notes)
            .map_err(xerr)?;
        let width = (col.name.chars().count() + 4).clamp(14, 40) as f64;
        ws.set_column_width(c, width).map_err(xerr)?;
        if let Some(nf) = num_format(col.kind) {
            ws.set_column_format(c, &Format::new().set_num_format(nf))
                .map_err(xerr)?;
        }
        if let Some(src) = &col.list {
            match lists.formula(src, target)? {
                Some(formula) => {
                    let what = match src {
                        ListSource::Keys { target, .. } => {
                            format!("{target} records in the target")
                        }
                        other => format!("values ({})", other.title()),
                    };
                    ws.add_data_validation(
                        FIRST_DATA_ROW,
                        c,
                        LAST_ROW,
                        c,
                        &drop_down(&formula, &what)?,
                    )
                    .map_err(xerr)?;
                    summary.drop_downs += 1;
                }
                None => {
                    if let ListSource::Keys { target, .. } = src {
                        if !summary.empty_lists.contains(target) {
                            summary.empty_lists.push(target);
                        }
                    }
                }
            }
        }
    }
    ws.set_row_height(1, 48).map_err(xerr)?;
    ws.set_freeze_panes(FIRST_DATA_ROW, 0).map_err(xerr)?;
    Ok(())
}

/// The `Options` sheet: `Name`, `Value`, one row per option that has a default, with a
/// drop-down of option names on column A and a value check per row.
fn write_options(
    ws: &mut Worksheet,
    styles: &Styles,
    lists: &mut Lists,
    target: &Target,
) -> Result<(), ExportError> {
    ws.set_name(cat::OPTIONS_SHEET).map_err(xerr)?;
    let note = |text: String| {
        Note::new(text)
            .set_author("Ferry")
            .add_author_prefix(false)
            .set_width(360)
            .set_height(200)
    };
    ws.write_string_with_format(0, 0, "Name", &styles.header)
        .map_err(xerr)?;
    ws.write_string_with_format(0, 1, "Value", &styles.header)
        .map_err(xerr)?;
    let mut help =
        vec!["Run options (SPEC §6.5); a flag on the command line overrides them.".to_string()];
    for o in cat::OPTION_DEFS {
        help.push(format!(
            "{}: {} (default {})",
            o.name,
            o.doc,
            o.default.unwrap_or("none")
        ));
    }
    help.push("An option without a value is an error: delete a row rather than empty it.".into());
    ws.insert_note(0, 0, &note(help.join("\n"))).map_err(xerr)?;
    ws.set_column_width(0, 18).map_err(xerr)?;
    ws.set_column_width(1, 18).map_err(xerr)?;
    const NAMES: ListSource = ListSource::Values(&cat::OPTION_NAMES);
    if let Some(f) = lists.formula(&NAMES, target)? {
        ws.add_data_validation(
            1,
            0,
            1 + cat::OPTION_DEFS.len() as u32,
            0,
            &drop_down(&f, "option names")?,
        )
        .map_err(xerr)?;
    }
    let mut row = 1u32;
    for o in cat::OPTION_DEFS {
        let Some(default) = o.default else { continue };
        ws.write_string(row, 0, o.name).map_err(xerr)?;
        match o.kind {
            Kind::Bool => {
                ws.write_boolean(row, 1, default.eq_ignore_ascii_case("true"))
                    .map_err(xerr)?;
            }
            Kind::Integer { .. } => {
                let n: f64 = default.parse().expect("integer default");
                ws.write_number(row, 1, n).map_err(xerr)?;
            }
            _ => {
                ws.write_string(row, 1, default).map_err(xerr)?;
            }
        }
        let src = match o.kind {
            Kind::Bool => Some(ListSource::Bool),
            Kind::Enum(v) => Some(ListSource::Values(v)),
            _ => None,
        };
        if let Some(src) = src {
            if let Some(f) = lists.formula(&src, target)? {
                ws.add_data_validation(row, 1, row, 1, &drop_down(&f, &src.title())?)
                    .map_err(xerr)?;
            }
        } else if let Kind::Integer { min: Some(min), .. } = o.kind {
            let v = DataValidation::new()
                .allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(min as i32))
                .set_error_style(DataValidationErrorStyle::Warning);
            ws.add_data_validation(row, 1, row, 1, &v).map_err(xerr)?;
        }
        ws.insert_note(row, 0, &note(format!("{}: {}", o.name, o.doc)))
            .map_err(xerr)?;
        row += 1;
    }
    Ok(())
}

/// Writes the template to `out`, with drop-downs filled from `target`'s setup records.
pub fn write_template(target: &Target, out: &Path) -> Result<TemplateSummary, ExportError> {
    let mut wb = Workbook::new();
    let styles = Styles::new();
    let mut lists = Lists::default();
    let mut summary = TemplateSummary::default();
    for phase in cat::dependency_order() {
        let (name, columns) = match phase {
            Phase::Ledger => (cat::LEDGER_SHEET, ledger_columns()),
            Phase::Entity(id) => {
                let e = cat::by_id(id);
                if !e.in_template() {
                    continue;
                }
                (e.name, entity_columns(e))
            }
        };
        let ws = wb.add_worksheet();
        write_sheet(
            ws,
            name,
            &columns,
            &styles,
            &mut lists,
            target,
            &mut summary,
        )?;
        summary.sheets += 1;
    }
    write_options(wb.add_worksheet(), &styles, &mut lists, target)?;
    let ws = wb.add_worksheet();
    ws.set_name(LISTS_SHEET).map_err(xerr)?;
    for (c, (src, values)) in lists.columns.iter().enumerate() {
        let c = c as u16;
        ws.write_string_with_format(0, c, src.title(), &styles.header)
            .map_err(xerr)?;
        ws.set_column_width(c, 24).map_err(xerr)?;
        for (r, v) in values.iter().enumerate() {
            let r = r as u32 + 1;
            match v {
                ListValue::Text(s) => ws.write_string(r, c, s),
                ListValue::Bool(b) => ws.write_boolean(r, c, *b),
            }
            .map_err(xerr)?;
        }
    }
    ws.set_hidden(true);
    summary.lists = lists.columns.iter().filter(|(_, v)| !v.is_empty()).count();
    wb.save(out).map_err(xerr)?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
    }

    #[test]
    fn lists_for_setup_references_booleans_and_enums_only() {
        let user = cat::entity("User").unwrap();
        let f = |e: &Entity, n: &str| list_of(e, e.field_def(n).unwrap());
        assert!(matches!(
            f(user, "Role"),
            Some(ListSource::Keys {
                target: "Role",
                to: "Name"
            })
        ));
        assert!(matches!(
            f(user, "Currency"),
            Some(ListSource::Keys {
                target: "Currency",
                to: "Code"
            })
        ));
        assert!(f(user, "Name").is_none());
        let contact = cat::entity("Contact").unwrap();
        // Accounts are not setup data: no list of users.
        assert!(f(contact, "User").is_none());
        let credit = cat::entity("Credit").unwrap();
        assert!(matches!(f(credit, "ApplyTax"), Some(ListSource::Bool)));
        let pkg = cat::entity("Package").unwrap();
        assert!(matches!(f(pkg, "BillCycle"), Some(ListSource::Values(_))));
    }

    #[test]
    fn every_kind_that_could_lose_characters_is_text() {
        for e in cat::ENTITIES {
            for f in e.fields {
                if matches!(
                    f.kind,
                    Kind::Phone | Kind::SecretNumber | Kind::Name | Kind::Text
                ) {
                    assert_eq!(num_format(f.kind), Some("@"), "{}.{}", e.name, f.name);
                }
            }
        }
    }
}
