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
    /// Not closed yet (shown as a warning).
    pub open: bool,
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
    }
}

fn account_page(a: Account, base: Base) -> AccountPage {
    let b = a.balance.as_ref();
    AccountPage {
        base,
        balance: b.map(|b| b.balance.clone()).unwrap_or_default(),
        open_invoices: b.map(|b| b.open_invoices).unwrap_or(0),
        undisbursed: b.map(|b| b.undisbursed.clone()).unwrap_or_default(),
        contacts: a
            .contacts
            .into_iter()
            .map(|c| ContactView {
                name: c.name,
                kind: c.kind,
                title: c.title,
                company: c.company,
                points: c.points,
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
            .map(|t| vec![t.id, t.subject, t.status, t.priority, t.date])
            .collect(),
        certifications: a
            .certifications
            .into_iter()
            .map(|c| vec![c.program, c.component, c.status, c.grade, c.completed])
            .collect(),
        name: a.name,
        facts: a.facts,
        parent: a.parent,
        children: a.children,
        packages: a.packages,
        methods: a.methods,
    }
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
