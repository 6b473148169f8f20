//! A legacy export as the console's mapping tests upload it: a flat UK member list (the
//! shape of issue 14's first export, and that export itself), and a mapping of it with one
//! mistake to correct.
#![allow(dead_code)]

use super::*;

/// The member list of issue 14's fixtures (`tests/fixtures/exports/members.csv`, 40 rows).
pub fn members_fixture() -> Vec<u8> {
    std::fs::read(fixture("exports/members.csv")).unwrap()
}

/// A member list of the same shape whose every value the HTTP tests know: ten rows, every
/// `phone2` and `web` given.
pub fn members_csv() -> Vec<u8> {
    MEMBERS.as_bytes().to_vec()
}

const MEMBERS: &str = "first_name,last_name,company_name,address,city,county,postal,phone1,phone2,email,web
Aleshia,Tomkiewicz,Alan D Rosenburg Cpa Pc,14 Taylor St,St. Stephens Ward,Kent,CT2 7PP,01835-703597,01944-369967,atomkiewicz@hotmail.com,http://www.alandrosenburgcpapc.co.uk
Evan,Zigomalas,Cap Gemini America,5 Binney St,Abbey Ward,Buckinghamshire,HP11 2AX,01937-864715,01714-737668,evan.zigomalas@gmail.com,http://www.capgeminiamerica.co.uk
France,Andrade,\"Elliott, John W Esq\",8 Moor Place,East Southbourne and Tuckton W,Bournemouth,BH6 3BE,01347-368222,01935-821636,france.andrade@hotmail.com,http://www.elliottjohnwesq.co.uk
Ulysses,Mcwalters,\"Mcmahan, Ben L\",505 Exeter Rd,Hawerby cum Beesby,Lincolnshire,DN36 5RP,01912-771311,01302-601380,ulysses@hotmail.com,http://www.mcmahanbenl.co.uk
Tyisha,Veness,Champagne Room,5396 Forth Street,Greets Green and Lyng Ward,West Midlands,B70 9DT,01547-429341,01290-367248,tyisha.veness@hotmail.com,http://www.champagneroom.co.uk
Eric,Rampy,\"Thompson, Michael C Esq\",9472 Lind St,Desborough,Northamptonshire,NN14 2GH,01969-886290,01545-817375,erampy@rampy.co.uk,http://www.thompsonmichaelcesq.co.uk
Marg,Grasmick,Wrangle Hill Auto Auct & Slvg,7457 Cowl St #70,Bargate Ward,Southampton,SO14 3TY,01865-582516,01362-620532,marg@hotmail.com,http://www.wranglehillautoauctslvg.co.uk
Laquita,Hisaw,In Communications Inc,20 Gloucester Pl #96,Chirton Ward,Tyne & Wear,NE29 7AD,01746-394243,01590-982428,laquita@yahoo.com,http://www.incommunicationsinc.co.uk
Lura,Manzella,Bizerba Usa Inc,929 Augustine St,Staple Hill Ward,South Gloucestershire,BS16 4LL,01907-538509,01340-713951,lura@hotmail.com,http://www.bizerbausainc.co.uk
Yuette,Klapec,Max Video,45 Bradfield St #166,Parwich,Derbyshire,DE6 1QN,01903-649460,01933-512514,yuette.klapec@klapec.co.uk,http://www.maxvideo.co.uk
";

/// A mapping of the member list with one mistake: the `web` column is read as the contact's
/// e-mail (so every ContactEmail is rejected); `phone2` and `county` are left out.
pub const MISTAKEN_MAPPING: &str = r#"# The UK member list.
version = 1

[[source]]
name = "UK member list"
match = { file = "members*.csv" }
account = "email"

[[source.record]]
entity = "User"
fields.Owner = { value = "admin" }
fields.Role = { value = "Customer" }
fields.Email = "email"

[[source.record]]
entity = "Contact"
fields.ContactName = { template = "{first_name} {last_name}" }
fields.ContactFirstName = "first_name"
fields.ContactLastName = "last_name"
fields.ContactCompany = "company_name"
fields.ContactType = { value = "Billing Contact" }

[[source.record]]
entity = "ContactPhone"
fields.ContactName = { template = "{first_name} {last_name}" }
fields.Phone = "phone1"
fields.ContactPointType = { value = "Home Phone" }

[[source.record]]
entity = "ContactEmail"
fields.ContactName = { template = "{first_name} {last_name}" }
fields.Email = "web"  # check: web addresses are not e-mails

[[source.record]]
entity = "ContactAddress"
fields.ContactName = { template = "{first_name} {last_name}" }
fields.Address1 = "address"
fields.City = "city"
fields.PostalCode = "postal"
fields.Country = { value = "GB" }
"#;

/// The member list's columns, in order.
pub const MEMBER_COLUMNS: [&str; 11] = [
    "first_name",
    "last_name",
    "company_name",
    "address",
    "city",
    "county",
    "postal",
    "phone1",
    "phone2",
    "email",
    "web",
];

/// The index of a member-list column (the column view names its form fields by it).
pub fn column(name: &str) -> usize {
    MEMBER_COLUMNS.iter().position(|c| *c == name).unwrap()
}

/// The text of an HTML attribute or element as the page escapes it, unescaped.
pub fn unescape(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of the form field `name` (`<input … name="NAME" value="…">`), unescaped.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))? + name.len() + 15;
    let end = html[at..].find('"')?;
    Some(unescape(&html[at..at + end]))
}

/// The name of the input whose `aria-label` is `label`.
pub fn input_named_by_label(html: &str, label: &str) -> Option<String> {
    let at = html.find(&format!("aria-label=\"{label}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag = &html[tag_start..at];
    let n = tag.find("name=\"")? + 6;
    Some(tag[n..n + tag[n..].find('"')?].to_string())
}
