//! Records: find an account by name, e-mail or phone, and see what the target holds for it —
//! contacts and their contact points, child accounts, invoices with their lines and what is
//! outstanding, payments and where they went, the balance (computed as `ferry report balances`
//! computes it), packages, tickets, payment methods (masked) and certifications — so staff can
//! verify a conversion by locating records (seed 000).

use crate::auth::Staff;
use crate::view::{self, page, Base, Failure};
use crate::Shared;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use ferry_store::{params, Target};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub struct Hit {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub contact: String,
    pub status: String,
}

#[derive(Template)]
#[template(path = "records.html")]
struct SearchPage {
    base: Base,
    q: String,
    hits: Vec<Hit>,
    searched: bool,
    accounts: String,
}

/// Most accounts one search lists.
const HITS: usize = 50;

fn like(q: &str) -> String {
    format!(
        "%{}%",
        q.to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}

fn search_accounts(t: &Target, q: &str) -> Result<Vec<Hit>, Failure> {
    let pattern = like(q);
    let digits: String = q.chars().filter(|c| c.is_ascii_digit()).collect();
    // A phone is matched on its digits (as given or in E.164), so any way of writing it finds it.
    let phone = if digits.len() >= 4 {
        format!("%{digits}%")
    } else {
        "\u{1}never".to_string()
    };
    let names = t.rows(
        "SELECT name FROM (
           SELECT u.name FROM \"user\" u WHERE lower(u.name) LIKE ?1 ESCAPE '\\' OR lower(coalesce(u.email, '')) LIKE ?1 ESCAPE '\\'
           UNION SELECT e.\"user\" FROM contact_email e WHERE lower(e.email) LIKE ?1 ESCAPE '\\'
           UNION SELECT c.\"user\" FROM contact c WHERE lower(c.contact_name) LIKE ?1 ESCAPE '\\'
           UNION SELECT p.\"user\" FROM contact_phone p WHERE replace(replace(replace(replace(replace(coalesce(p.phone_e164, p.phone), '+', ''), '-', ''), ' ', ''), '(', ''), ')', '') LIKE ?2
              OR replace(replace(replace(replace(replace(p.phone, '+', ''), '-', ''), ' ', ''), '(', ''), ')', '') LIKE ?2
         ) AS found ORDER BY name LIMIT 51",
        params![pattern, phone],
    )?;
    let mut out = vec![];
    for n in names.iter().take(HITS) {
        let name = n.text(0);
        let first = |sql: &str| -> Result<String, Failure> {
            Ok(t.first(sql, params![name.clone()])?
                .map(|r| r.text(0))
                .unwrap_or_default())
        };
        out.push(Hit {
            email: first(
                "SELECT email FROM contact_email WHERE \"user\" = ?1 ORDER BY id LIMIT 1",
            )?,
            phone: first(
                "SELECT phone FROM contact_phone WHERE \"user\" = ?1 ORDER BY id LIMIT 1",
            )?,
            contact: first(
                "SELECT contact_name FROM contact WHERE \"user\" = ?1 ORDER BY id LIMIT 1",
            )?,
            status: first("SELECT coalesce(status_type, '') FROM \"user\" WHERE name = ?1")?,
            name,
        });
    }
    Ok(out)
}

pub async fn search(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Query(q): Query<SearchQuery>,
) -> Result<Response, Failure> {
    let query = q.q.trim().to_string();
    let a = app.clone();
    let qq = query.clone();
    let (hits, accounts) = tokio::task::spawn_blocking(move || -> Result<_, Failure> {
        let t = a.target()?;
        let total = t.int("SELECT count(*) FROM \"user\"", &[])?;
        let hits = if qq.is_empty() {
            vec![]
        } else {
            search_accounts(&t, &qq)?
        };
        Ok((hits, total))
    })
    .await??;
    Ok(page(&SearchPage {
        base: Base::new("Records", &staff, "records"),
        searched: !query.is_empty(),
        q: query,
        hits,
        accounts: view::count(accounts),
    }))
}

pub struct ContactView {
    pub name: String,
    pub kind: String,
    pub title: String,
    pub company: String,
    pub points: Vec<(String, String)>,
}

pub struct LineView {
    pub date: String,
    pub kind: String,
    pub description: String,
    pub amount: String,
}

pub struct InvoiceView {
    pub name: String,
    pub state: String,
    pub total: String,
    pub paid: String,
    pub outstanding: String,
    pub lines: Vec<LineView>,
}

pub struct PaymentView {
    pub date: String,
    pub description: String,
    pub amount: String,
    pub undisbursed: String,
    pub to: String,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    base: Base,
    name: String,
    facts: Vec<(String, String)>,
    balance: String,
    open_invoices: i64,
    undisbursed: String,
    parent: String,
    children: Vec<String>,
    contacts: Vec<ContactView>,
    invoices: Vec<InvoiceView>,
    payments: Vec<PaymentView>,
    packages: Vec<(String, String)>,
    tickets: Vec<Vec<String>>,
    methods: Vec<(String, String)>,
    certifications: Vec<Vec<String>>,
}

/// The description and date of the record a ledger line came from.
fn source_of(t: &Target, entity: &str, row: i64) -> Result<(String, String), Failure> {
    let Some(e) = ferry_catalogue::entity(entity) else {
        return Ok(Default::default());
    };
    let has = |f: &str| e.field_def(f).is_some();
    let desc = if has("Description") {
        "coalesce(description, '')"
    } else {
        "''"
    };
    let date = if has("Date") {
        "coalesce(date, '')"
    } else {
        "''"
    };
    Ok(t.first(
        &format!(
            "SELECT {desc}, {date} FROM {} WHERE id = ?1",
            ferry_store::schema::quote(&e.table())
        ),
        params![row],
    )?
    .map(|r| (r.text(0), r.text(1)))
    .unwrap_or_default())
}

fn line_kind(kind: &str, rank: Option<i64>) -> String {
    match (kind, rank) {
        ("debit", _) => "Charge".into(),
        ("debit_tax", Some(r)) => format!("Tax {r}"),
        ("credit", _) => "Credit".into(),
        ("credit_tax", Some(r)) => format!("Tax {r} credited"),
        (k, _) => k.replace('_', " "),
    }
}

fn account_page(t: &Target, name: &str) -> Result<Option<AccountPage>, Failure> {
    let Some(u) = t.first(
        "SELECT name, role, coalesce(status_type, ''), coalesce(currency, ''), coalesce(created_date, ''), coalesce(email, ''), coalesce(owner, '') FROM \"user\" WHERE name = ?1",
        params![name],
    )?
    else {
        return Ok(None);
    };
    let facts: Vec<(String, String)> = [
        ("Owner", u.text(6)),
        ("Role", u.text(1)),
        ("Status", u.text(2)),
        ("Currency", u.text(3)),
        ("Created", u.text(4)),
        ("E-mail", u.text(5)),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let b = ferry_report::balances::balance_of(t, name)?;
    let texts = |sql: &str| -> Result<Vec<String>, Failure> {
        Ok(t.rows(sql, params![name])?
            .iter()
            .map(|r| r.text(0))
            .collect())
    };
    let parent = texts("SELECT parent FROM child_account WHERE name = ?1")?
        .into_iter()
        .next()
        .unwrap_or_default();
    let children = texts("SELECT name FROM child_account WHERE parent = ?1 ORDER BY name")?;
    let mut contacts = vec![];
    for c in t.rows(
        "SELECT contact_name, coalesce(contact_type, ''), coalesce(contact_title, ''), coalesce(contact_company, '') FROM contact WHERE \"user\" = ?1 ORDER BY id",
        params![name],
    )? {
        let cn = c.text(0);
        let mut points = vec![];
        for (sql, label) in [
            ("SELECT 'E-mail', email FROM contact_email WHERE \"user\" = ?1 AND contact_name = ?2 ORDER BY id", ""),
            ("SELECT coalesce(contact_point_type, 'Phone'), phone FROM contact_phone WHERE \"user\" = ?1 AND contact_name = ?2 ORDER BY id", ""),
            ("SELECT coalesce(contact_point_type, 'Fax'), phone FROM contact_fax WHERE \"user\" = ?1 AND contact_name = ?2 ORDER BY id", ""),
            ("SELECT contact_point_type, value FROM contact_point WHERE \"user\" = ?1 AND contact_name = ?2 ORDER BY id", ""),
            ("SELECT 'Address', address1 || coalesce(', ' || address2, '') || coalesce(', ' || city, '') || coalesce(', ' || region, '') || coalesce(' ' || postal_code, '') || coalesce(', ' || country, '') FROM contact_address WHERE \"user\" = ?1 AND contact_name = ?2 ORDER BY id", ""),
        ] {
            let _ = label;
            for p in t.rows(sql, params![name, cn.clone()])? {
                points.push((p.text(0), p.text(1)));
            }
        }
        contacts.push(ContactView {
            name: cn,
            kind: c.text(1),
            title: c.text(2),
            company: c.text(3),
            points,
        });
    }
    let mut invoices = vec![];
    for i in t.rows(
        "SELECT id, name, closed, delivered, total_e4, disbursed_e4 FROM invoice WHERE \"user\" = ?1 ORDER BY id",
        params![name],
    )? {
        let mut lines = vec![];
        for l in t.rows(
            "SELECT kind, tax_rank, amount_e4, entity, row_id FROM ledger_line WHERE invoice_id = ?1 AND kind <> 'payment' ORDER BY id",
            params![i.int(0)],
        )? {
            let (description, date) = source_of(t, &l.text(3), l.int(4))?;
            lines.push(LineView {
                date,
                kind: line_kind(&l.text(0), l.opt_int(1)),
                description,
                amount: view::money(l.int(2)),
            });
        }
        let (total, paid) = (i.int(4), i.int(5));
        invoices.push(InvoiceView {
            name: i.text(1),
            state: if i.int(2) != 0 {
                if i.int(3) != 0 {
                    "closed, delivered".into()
                } else {
                    "closed".into()
                }
            } else {
                "open".into()
            },
            total: view::money(total),
            paid: view::money(paid),
            outstanding: view::money(total - paid),
            lines,
        });
    }
    let mut payments = vec![];
    for p in t.rows(
        "SELECT id, amount_e4, disbursed_e4, entity, row_id FROM ledger_line WHERE \"user\" = ?1 AND kind = 'payment' ORDER BY id",
        params![name],
    )? {
        let (description, date) = source_of(t, &p.text(3), p.int(4))?;
        let to: Vec<String> = t
            .rows(
                "SELECT i.name, i.\"user\", d.amount_e4 FROM disbursement d JOIN invoice i ON i.id = d.invoice_id WHERE d.payment_line_id = ?1 ORDER BY d.id",
                params![p.int(0)],
            )?
            .iter()
            .map(|d| {
                let other = if d.text(1) != name {
                    format!(" ({})", d.text(1))
                } else {
                    String::new()
                };
                format!("{}{other}: {}", d.text(0), view::money(d.int(2)))
            })
            .collect();
        payments.push(PaymentView {
            date,
            description,
            amount: view::money(p.int(1)),
            undisbursed: view::money(p.int(1) - p.int(2)),
            to: to.join("; "),
        });
    }
    let packages = t
        .rows(
            "SELECT name, coalesce(next_bill_date, '') FROM user_package WHERE \"user\" = ?1 ORDER BY id",
            params![name],
        )?
        .iter()
        .map(|r| (r.text(0), r.text(1)))
        .collect();
    let tickets = t
        .rows(
            "SELECT ticket_id, subject, coalesce(status, ''), coalesce(priority, ''), coalesce(date, '') FROM ticket WHERE \"user\" = ?1 ORDER BY id",
            params![name],
        )?
        .iter()
        .map(|r| (0..5).map(|i| r.text(i)).collect())
        .collect();
    // Payment methods are shown as stored: brand and last four digits, never a full number.
    let methods = t
        .rows(
            "SELECT m.ref,
               coalesce((SELECT 'Card ' || coalesce(c.card_brand, '') || ' ending ' || c.card_last4 || ', expires ' || c.expiry_month || '/' || c.expiry_year FROM user_payment_method_credit_card c WHERE c.ref = m.ref),
                        (SELECT 'Bank account (' || a.account_type || ') ending ' || a.account_last4 FROM user_payment_method_ach a WHERE a.ref = m.ref),
                        (SELECT 'Cheque' || coalesce(', ' || k.bank_name, '') FROM user_payment_method_check k WHERE k.ref = m.ref),
                        (SELECT 'Cash' FROM user_payment_method_cash h WHERE h.ref = m.ref),
                        'No details')
               || CASE WHEN m.\"default\" = 1 THEN ' (default)' ELSE '' END
             FROM user_payment_method m WHERE m.\"user\" = ?1 ORDER BY m.id",
            params![name],
        )?
        .iter()
        .map(|r| (r.text(0), r.text(1)))
        .collect();
    let certifications = t
        .rows(
            "SELECT p.title, coalesce(e.component_code, ''), coalesce(e.status, r.status, ''), coalesce(e.grade, ''), coalesce(e.completed_date, r.completed_date, '')
             FROM cert_registration r JOIN cert_program p ON p.code = r.program_code
             LEFT JOIN cert_enrollment e ON e.registration_id = r.id
             WHERE r.\"user\" = ?1 ORDER BY p.title, e.component_code",
            params![name],
        )?
        .iter()
        .map(|r| (0..5).map(|i| r.text(i)).collect())
        .collect();
    Ok(Some(AccountPage {
        base: Base {
            title: name.to_string(),
            staff: None,
            nav: "records",
        },
        name: name.to_string(),
        facts,
        balance: b.as_ref().map(|b| b.balance.clone()).unwrap_or_default(),
        open_invoices: b.as_ref().map(|b| b.open_invoices).unwrap_or(0),
        undisbursed: b
            .as_ref()
            .map(|b| b.undisbursed.clone())
            .unwrap_or_default(),
        parent,
        children,
        contacts,
        invoices,
        payments,
        packages,
        tickets,
        methods,
        certifications,
    }))
}

pub async fn account(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Path(name): Path<String>,
) -> Result<Response, Failure> {
    let a = app.clone();
    let n = name.clone();
    let p = tokio::task::spawn_blocking(move || account_page(&a.target()?, &n)).await??;
    match p {
        Some(mut p) => {
            p.base = Base::new(name, &staff, "records");
            Ok(page(&p))
        }
        None => Err(Failure::new(
            StatusCode::NOT_FOUND,
            format!("There is no account named \"{name}\"."),
        )),
    }
}
