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
use ferry_report::account::{self, Account};
use ferry_report::account_ledger::{Invoice, Payment};
use ferry_report::accounts;
use ferry_report::origin::Origin;
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
        let total = accounts::count(&t)?;
        let hits = if qq.is_empty() {
            vec![]
        } else {
            accounts::search(&t, &qq, HITS)?
                .into_iter()
                .map(hit)
                .collect()
        };
        Ok((hits, total))
    })
    .await??;
    Ok(page(&SearchPage {
        base: Base::new("Records", &staff, "records"),
        searched: !query.is_empty(),
        q: query,
        hits,
        accounts: view::counted(accounts, "account", "accounts"),
    }))
}

/// Where a record came from, as the page shows it: the run (linked) and the file, sheet and row.
pub struct OriginView {
    pub run: Option<i64>,
    /// `club.xlsx › User › row 5`; empty when the record has no place of its own.
    pub place: String,
}

impl From<Origin> for OriginView {
    fn from(o: Origin) -> OriginView {
        let mut parts = vec![];
        if !o.file.is_empty() {
            parts.push(o.file);
        }
        if !o.sheet.is_empty() {
            parts.push(o.sheet);
        }
        if o.row > 0 {
            parts.push(format!("row {}", o.row));
        }
        OriginView {
            run: o.run,
            place: parts.join(" › "),
        }
    }
}

pub struct ContactView {
    pub name: String,
    pub kind: String,
    pub title: String,
    pub company: String,
    pub points: Vec<(String, String, OriginView)>,
    pub origin: OriginView,
}

pub struct LineView {
    pub date: String,
    pub kind: String,
    pub description: String,
    pub amount: String,
    pub origin: OriginView,
}

/// A row of a table of plain cells (tickets, certifications) and where it came from.
pub struct RowView {
    pub cells: Vec<String>,
    pub origin: OriginView,
}

pub struct InvoiceView {
    pub name: String,
    /// Not closed yet (shown as a warning).
    pub open: bool,
    pub state: String,
    pub total: String,
    pub paid: String,
    pub outstanding: String,
    pub lines: Vec<LineView>,
    pub origin: OriginView,
}

pub struct PaymentView {
    pub date: String,
    pub description: String,
    pub amount: String,
    pub undisbursed: String,
    pub to: String,
    pub origin: OriginView,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    base: Base,
    name: String,
    /// What people call the account (its company or first contact), or empty.
    title: String,
    origin: OriginView,
    facts: Vec<(String, String)>,
    balance: String,
    open_invoices: String,
    undisbursed: String,
    parent: String,
    children: Vec<String>,
    contacts: Vec<ContactView>,
    invoices: Vec<InvoiceView>,
    payments: Vec<PaymentView>,
    packages: Vec<(String, String, OriginView)>,
    tickets: Vec<RowView>,
    methods: Vec<(String, String, OriginView)>,
    certifications: Vec<RowView>,
}

fn hit(h: accounts::AccountHit) -> Hit {
    Hit {
        name: h.name,
        email: h.email,
        phone: h.phone,
        contact: h.contact,
        status: h.status,
    }
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

fn invoice_view(i: Invoice) -> InvoiceView {
    let state = match (i.closed, i.delivered) {
        (false, _) => "open",
        (true, false) => "closed",
        (true, true) => "closed, delivered",
    };
    InvoiceView {
        origin: i.origin.into(),
        name: i.name,
        open: !i.closed,
        state: state.into(),
        total: view::money(i.total_e4),
        paid: view::money(i.paid_e4),
        outstanding: view::money(i.total_e4 - i.paid_e4),
        lines: i
            .lines
            .into_iter()
            .map(|l| LineView {
                kind: line_kind(&l.kind, l.tax_rank),
                date: l.date,
                description: l.description,
                amount: view::money(l.amount_e4),
                origin: l.origin.into(),
            })
            .collect(),
    }
}

fn payment_view(p: Payment, account: &str) -> PaymentView {
    let to: Vec<String> =
        p.to.iter()
            .map(|d| {
                let other = if d.account != account {
                    format!(" ({})", d.account)
                } else {
                    String::new()
                };
                format!("{}{other}: {}", d.invoice, view::money(d.amount_e4))
            })
            .collect();
    PaymentView {
        date: p.date,
        description: p.description,
        amount: view::money(p.amount_e4),
        undisbursed: view::money(p.amount_e4 - p.disbursed_e4),
        to: to.join("; "),
        origin: p.origin.into(),
    }
}

fn account_page(a: Account, base: Base) -> AccountPage {
    let b = a.balance.as_ref();
    AccountPage {
        base,
        balance: b.map(|b| b.balance.clone()).unwrap_or_default(),
        open_invoices: view::counted(
            b.map(|b| b.open_invoices).unwrap_or(0),
            "open invoice",
            "open invoices",
        ),
        undisbursed: b.map(|b| b.undisbursed.clone()).unwrap_or_default(),
        contacts: a
            .contacts
            .into_iter()
            .map(|c| ContactView {
                name: c.name,
                kind: c.kind,
                title: c.title,
                company: c.company,
                points: c
                    .points
                    .into_iter()
                    .map(|(l, v, o)| (l, v, o.into()))
                    .collect(),
                origin: c.origin.into(),
            })
            .collect(),
        invoices: a.invoices.into_iter().map(invoice_view).collect(),
        payments: a
            .payments
            .into_iter()
            .map(|p| payment_view(p, &a.name))
            .collect(),
        tickets: a
            .tickets
            .into_iter()
            .map(|t| RowView {
                cells: vec![t.id, t.subject, t.status, t.priority, t.date],
                origin: t.origin.into(),
            })
            .collect(),
        certifications: a
            .certifications
            .into_iter()
            .map(|c| RowView {
                cells: vec![c.program, c.component, c.status, c.grade, c.completed],
                origin: c.origin.into(),
            })
            .collect(),
        name: a.name,
        title: a.title,
        origin: a.origin.into(),
        facts: a.facts,
        parent: a.parent,
        children: a.children,
        packages: a.packages.into_iter().map(origin_third).collect(),
        methods: a.methods.into_iter().map(origin_third).collect(),
    }
}

fn origin_third((a, b, o): (String, String, Origin)) -> (String, String, OriginView) {
    (a, b, o.into())
}

pub async fn account(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Path(name): Path<String>,
) -> Result<Response, Failure> {
    let a = app.clone();
    let n = name.clone();
    let found = tokio::task::spawn_blocking(move || -> Result<_, Failure> {
        Ok(account::account(&*a.target()?, &n)?)
    })
    .await??;
    match found {
        Some(a) => Ok(page(&account_page(a, Base::new(name, &staff, "records")))),
        None => Err(Failure::new(
            StatusCode::NOT_FOUND,
            format!("There is no account named \"{name}\"."),
        )),
    }
}
