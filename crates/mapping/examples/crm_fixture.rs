//! Writes `tests/fixtures/exports/crm.xlsx`, a small CRM's workbook: a `Companies` sheet and a
//! `People` sheet whose rows name their company by id and by name (dates are date cells).
//!
//! `cargo run -p ferry-mapping --example crm_fixture` (from the repository root).

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};

const COMPANIES: &[(&str, &str, &str, &str, &str, &str)] = &[
    // name, industry, town, postcode, street, website
    (
        "Harbour Lights Bakery",
        "Hospitality",
        "Bristol",
        "BS1 4DJ",
        "12 Welsh Back",
        "harbourlights.co.uk",
    ),
    (
        "Pennine Garden Supplies Ltd",
        "Retail",
        "Leeds",
        "LS1 3AB",
        "4 Kirkgate",
        "penninegarden.co.uk",
    ),
    (
        "Thistle & Rose Interiors",
        "Design",
        "Edinburgh",
        "EH1 1YZ",
        "88 Cockburn Street",
        "thistlerose.co.uk",
    ),
    (
        "Kestrel IT Services",
        "Technology",
        "Manchester",
        "M1 2WD",
        "Unit 5, Piccadilly Trading Estate",
        "kestrel-it.co.uk",
    ),
    (
        "Brightwater Dental Practice",
        "Healthcare",
        "Cardiff",
        "CF10 1EP",
        "21 Queen Street",
        "brightwaterdental.co.uk",
    ),
    (
        "Oakfield Joinery",
        "Construction",
        "Norwich",
        "NR2 1TF",
        "Oakfield Barn, Dereham Road",
        "oakfieldjoinery.co.uk",
    ),
    (
        "Severn Valley Accountants LLP",
        "Professional Services",
        "Shrewsbury",
        "SY1 1SJ",
        "3 Castle Gates",
        "severnvalley.co.uk",
    ),
    (
        "The Old Forge Tea Rooms",
        "Hospitality",
        "York",
        "YO1 7HH",
        "9 Shambles",
        "oldforgetearooms.co.uk",
    ),
    (
        "Northgate Physiotherapy",
        "Healthcare",
        "Chester",
        "CH1 2HU",
        "40 Northgate Street",
        "northgatephysio.co.uk",
    ),
    (
        "Cobble Lane Books",
        "Retail",
        "Bath",
        "BA1 1LT",
        "2 Cobble Lane",
        "cobblelanebooks.co.uk",
    ),
    (
        "Moorland Veterinary Centre",
        "Healthcare",
        "Exeter",
        "EX1 1HS",
        "Moor Lane",
        "moorlandvets.co.uk",
    ),
    (
        "Atlantic Surf School",
        "Leisure",
        "Truro",
        "TR1 2DS",
        "The Slipway, Quay Street",
        "atlanticsurf.co.uk",
    ),
    (
        "Greenway Cycles",
        "Retail",
        "Lancaster",
        "LA1 1LY",
        "17 Penny Street",
        "greenwaycycles.co.uk",
    ),
    (
        "Highland Print Co.",
        "Manufacturing",
        "Inverness",
        "IV1 1QA",
        "6 Academy Street",
        "highlandprint.co.uk",
    ),
    (
        "Castle Mews Lettings",
        "Property",
        "Durham",
        "DH1 3NJ",
        "1 Castle Mews",
        "castlemews.co.uk",
    ),
    (
        "Riverside Rowing Club",
        "Not For Profit",
        "Swansea",
        "SA1 3SN",
        "The Boathouse, Quay Parade",
        "riversiderowing.org.uk",
    ),
    (
        "Canterbury Cathedral Choir Trust",
        "Not For Profit",
        "Canterbury",
        "CT1 2EH",
        "11 The Precincts",
        "choirtrust.org.uk",
    ),
    (
        "Glasgow Glassworks",
        "Manufacturing",
        "Glasgow",
        "G1 3SL",
        "140 Trongate",
        "glasgowglassworks.co.uk",
    ),
    (
        "Lakeside Holiday Lets",
        "Property",
        "Lancaster",
        "LA1 4XQ",
        "Lakeside House, Bowerham Road",
        "lakesidelets.co.uk",
    ),
    (
        "Fenland Farm Shop",
        "Retail",
        "Norwich",
        "NR14 8TZ",
        "Manor Farm, Loddon Road",
        "fenlandfarmshop.co.uk",
    ),
    (
        "Marlow & Sons Solicitors",
        "Professional Services",
        "Bath",
        "BA1 2QH",
        "5 Gay Street",
        "marlowsons.co.uk",
    ),
    (
        "Summit Climbing Wall",
        "Leisure",
        "Leeds",
        "LS9 8AG",
        "Arch 12, Cross Green Industrial Estate",
        "summitclimbing.co.uk",
    ),
];

const PEOPLE: &[(&str, &str)] = &[
    ("Aisha", "Ahmed"),
    ("Ben", "Baker"),
    ("Catherine", "Campbell"),
    ("Daniel", "Davies"),
    ("Eleanor", "Evans"),
    ("Fergus", "Fraser"),
    ("Grace", "Griffiths"),
    ("Harry", "Hughes"),
    ("Imogen", "Iqbal"),
    ("Jack", "Jones"),
    ("Katie", "Kaur"),
    ("Liam", "Lewis"),
    ("Megan", "MacDonald"),
    ("Noah", "Morgan"),
    ("Olivia", "Nash"),
    ("Patrick", "O'Connor"),
    ("Rhian", "Patel"),
    ("Samuel", "Quinn"),
    ("Tara", "Roberts"),
    ("Usman", "Smith"),
    ("Victoria", "Thomas"),
    ("William", "Underwood"),
    ("Yasmin", "Vaughan"),
    ("Zoe", "Walsh"),
    ("Alistair", "Williams"),
    ("Bethan", "Young"),
    ("Callum", "Brown"),
    ("Deborah", "Clarke"),
    ("Euan", "Edwards"),
    ("Fiona", "Foster"),
    ("Gareth", "Green"),
    ("Hannah", "Hall"),
    ("Iain", "Jenkins"),
    ("Joanna", "Kelly"),
    ("Kieran", "Lloyd"),
    ("Lucy", "Mitchell"),
    ("Mohammed", "Owen"),
    ("Niamh", "Price"),
    ("Owen", "Reid"),
    ("Priya", "Shaw"),
];

const TITLES: &[&str] = &[
    "Director",
    "Office Manager",
    "Finance Manager",
    "Owner",
    "Practice Manager",
    "Bookkeeper",
    "Operations Lead",
    "",
];

fn main() -> Result<(), XlsxError> {
    let mut wb = Workbook::new();
    // A fixed creation time, so that the file only changes when its content does.
    let created = ExcelDateTime::from_ymd(2024, 1, 15)?;
    wb.set_properties(&DocProperties::new().set_creation_datetime(&created));
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let bold = Format::new().set_bold();
    let companies = wb.add_worksheet().set_name("Companies")?;
    let heads = [
        "Company ID",
        "Company Name",
        "Industry",
        "Website",
        "Phone",
        "Address",
        "Town",
        "Postcode",
        "Country",
        "Customer Since",
        "Account Manager",
        "Notes",
    ];
    for (c, h) in heads.iter().enumerate() {
        companies.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, (name, industry, town, postcode, street, web)) in COMPANIES.iter().enumerate() {
        let r = i as u32 + 1;
        companies.write_string(r, 0, format!("C{}", 1001 + i))?;
        companies.write_string(r, 1, *name)?;
        companies.write_string(r, 2, *industry)?;
        companies.write_string(r, 3, format!("https://www.{web}"))?;
        companies.write_string(r, 4, format!("01632 {:06}", 960100 + i * 29))?;
        companies.write_string(r, 5, *street)?;
        companies.write_string(r, 6, *town)?;
        companies.write_string(r, 7, *postcode)?;
        companies.write_string(r, 8, "United Kingdom")?;
        let since = ExcelDateTime::from_ymd(
            2012 + (i % 11) as u16,
            1 + (i * 5 % 12) as u8,
            1 + (i * 7 % 28) as u8,
        )?;
        companies.write_datetime_with_format(r, 9, &since, &date)?;
        companies.write_string(
            r,
            10,
            ["Sarah Jennings", "Tom Whitfield", "Aled Rees"][i % 3],
        )?;
        if i % 4 == 1 {
            companies.write_string(r, 11, "Pays by direct debit; statements by post.")?;
        }
    }
    let people = wb.add_worksheet().set_name("People")?;
    let heads = [
        "Person ID",
        "Company ID",
        "Company",
        "First Name",
        "Last Name",
        "Job Title",
        "Email",
        "Direct Line",
        "Mobile",
        "Last Contacted",
    ];
    for (c, h) in heads.iter().enumerate() {
        people.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, (first, last)) in PEOPLE.iter().enumerate() {
        let r = i as u32 + 1;
        let company = i * 7 % COMPANIES.len();
        let (name, .., web) = COMPANIES[company];
        let local = format!(
            "{}.{}",
            first.to_lowercase(),
            last.to_lowercase().replace('\'', "")
        );
        people.write_string(r, 0, format!("P{}", 2001 + i))?;
        people.write_string(r, 1, format!("C{}", 1001 + company))?;
        people.write_string(r, 2, name)?;
        people.write_string(r, 3, *first)?;
        people.write_string(r, 4, *last)?;
        people.write_string(r, 5, TITLES[i % TITLES.len()])?;
        people.write_string(r, 6, format!("{local}@{web}"))?;
        if i % 3 != 2 {
            people.write_string(r, 7, format!("01632 {:06}", 960500 + i * 11))?;
        }
        if i % 2 == 0 {
            people.write_string(r, 8, format!("07700 {:06}", 900200 + i * 13))?;
        }
        let seen = ExcelDateTime::from_ymd(2023, 1 + (i % 12) as u8, 1 + (i * 3 % 28) as u8)?;
        people.write_datetime_with_format(r, 9, &seen, &date)?;
    }
    let out = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/exports/crm.xlsx"
    );
    wb.save(out)?;
    println!("wrote {out}");
    Ok(())
}
