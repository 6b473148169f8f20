//! Ticket attachments uploaded to the console as one zip, over HTTP against a real `ferry
//! serve`: the zip's folders are kept, so a `Path` such as `tickets/1001/berth-map.txt`
//! resolves and the test run ends without errors; a zip with an entry outside its folder
//! (`../x`, an absolute path), a link, or a file that inflates past the cap is refused with a
//! clear message, and nothing of it is left in the data folder.

mod common;
use common::web::{agent, data_dir, multipart, page_csrf, sign_in_cookie, Console, ADMIN};
use common::*;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// The example club with its ticket attachment named by a nested path.
fn club_xml() -> Vec<u8> {
    let xml = std::fs::read_to_string(example("club/club.xml")).unwrap();
    assert!(xml.contains("Path=\"attachments/berth-map.txt\""));
    xml.replace(
        "Path=\"attachments/berth-map.txt\"",
        "Path=\"tickets/1001/berth-map.txt\"",
    )
    .into_bytes()
}

enum Entry<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Link(&'a str, &'a str),
    Zeros(&'a str, usize),
}

fn zip_of(entries: &[Entry]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for e in entries {
        match e {
            Entry::File(name, bytes) => {
                z.start_file(*name, o).unwrap();
                z.write_all(bytes).unwrap();
            }
            Entry::Dir(name) => z.add_directory(*name, o).unwrap(),
            Entry::Link(name, to) => z.add_symlink(*name, *to, o).unwrap(),
            Entry::Zeros(name, n) => {
                z.start_file(*name, o.large_file(*n > u32::MAX as usize))
                    .unwrap();
                let block = vec![0u8; 1 << 20];
                let mut left = *n;
                while left > 0 {
                    let k = left.min(block.len());
                    z.write_all(&block[..k]).unwrap();
                    left -= k;
                }
            }
        }
    }
    z.finish().unwrap().into_inner()
}

/// Posts a new test run of `club.xml` with `zip` (if any) as its attachments zip; the status
/// and the answer (the run's page address, or the refusal's text).
fn post(console: &Console, cookie: &str, zip: Option<&[u8]>) -> (u16, String) {
    let token = page_csrf(console, cookie.trim_start_matches("ferry_session="));
    let xml = club_xml();
    let mut files: Vec<(&str, &str, &[u8])> = vec![("files", "club.xml", &xml)];
    if let Some(z) = zip {
        files.push(("attachments_zip", "attachments.zip", z));
    }
    let (ct, body) = multipart(&files, &[("csrf", &token), ("test_only", "on")]);
    let mut r = agent()
        .post(format!("{}/runs/new", console.url))
        .header("Cookie", cookie)
        .header("Content-Type", &ct)
        .send(&body[..])
        .unwrap();
    let status = r.status().as_u16();
    let text = match r.headers().get("location") {
        Some(l) => l.to_str().unwrap().to_string(),
        None => r
            .body_mut()
            .read_to_string()
            .unwrap_or_default()
            .replace("&quot;", "\"")
            .replace("&#34;", "\"")
            .replace("&#39;", "'")
            .replace("&#x27;", "'")
            .replace("&amp;", "&"),
    };
    (status, text)
}

/// The status and error count of a run, once it has ended (at most 60 s).
fn ended(dir: &Path, run: &str) -> (String, String) {
    let id: i64 = run.trim_start_matches("/runs/").parse().unwrap();
    for _ in 0..1200 {
        let r = rows(
            dir,
            "console.db",
            &format!("SELECT status, errors FROM run WHERE id = {id}"),
        );
        if r[0][0] != "running" {
            return (r[0][0].clone(), r[0][1].clone());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("run {id} did not end");
}

fn uploads(dir: &Path) -> usize {
    std::fs::read_dir(data_dir(dir).join("uploads"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn a_zip_of_attachments_keeps_its_folders_and_refuses_escapes() {
    let s = scratch();
    let dir = s.path();
    let console = Console::start(dir, "console.db");
    let cookie = sign_in_cookie(&console, ADMIN);
    let cookie = cookie.split(';').next().unwrap().to_string();
    let map = std::fs::read(example("club/attachments/berth-map.txt")).unwrap();

    let refusals: Vec<(Vec<u8>, &str)> = vec![
        (
            zip_of(&[
                Entry::File("tickets/ok.txt", b"ok"),
                Entry::File("../x", b"evil"),
            ]),
            "\"../x\" would be unpacked outside its folder",
        ),
        (
            zip_of(&[Entry::File("tickets/../../x", b"evil")]),
            "would be unpacked outside its folder",
        ),
        (
            zip_of(&[Entry::File("/tmp/ferry-absolute", b"evil")]),
            "would be unpacked outside its folder",
        ),
        (
            zip_of(&[Entry::Link("tickets/link", "/etc/passwd")]),
            "is a link or a special file",
        ),
        (
            zip_of(&[Entry::Zeros("tickets/huge.bin", 64 * 1024 * 1024 + 1)]),
            "inflates to more than 64 MiB",
        ),
        (
            zip_of(&[Entry::File("club.xml", b"<Import/>")]),
            "is there already",
        ),
        (b"not a zip at all".to_vec(), "not a readable zip file"),
    ];
    for (zip, says) in &refusals {
        let (status, text) = post(&console, &cookie, Some(zip));
        assert_eq!(status, 400, "{says}: {text}");
        assert!(text.contains(says), "{says}: {text}");
        assert!(text.contains("attachments.zip"), "names the zip: {text}");
        assert_eq!(uploads(dir), 0, "nothing left of a refused upload ({says})");
    }
    assert!(!Path::new("/tmp/ferry-absolute").exists());
    assert!(!dir.join("x").exists() && !data_dir(dir).join("x").exists());

    // Without the zip the attachment is missing …
    let (status, run) = post(&console, &cookie, None);
    assert_eq!(status, 303, "{run}");
    let (_, errors) = ended(dir, &run);
    assert_ne!(errors, "0", "the attachment is missing without the zip");

    // … with it, nested folders and all, the test run ends clean.
    let zip = zip_of(&[
        Entry::Dir("tickets/"),
        Entry::Dir("tickets/1001/"),
        Entry::File("tickets/1001/berth-map.txt", &map),
        Entry::File("tickets/2002/notes/other.txt", b"unused"),
    ]);
    let (status, run) = post(&console, &cookie, Some(&zip));
    assert_eq!(status, 303, "{run}");
    assert_eq!(ended(dir, &run), ("succeeded".to_string(), "0".to_string()));
    let landed: Vec<_> = walk(&data_dir(dir).join("uploads"))
        .into_iter()
        .filter(|p| p.ends_with("tickets/1001/berth-map.txt"))
        .collect();
    assert_eq!(landed.len(), 1, "unpacked with its folders");
    assert_eq!(std::fs::read(&landed[0]).unwrap(), map);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// CSV files are read from their own folder, so a CSV upload's attachments zip is unpacked
/// there: the club's CSV folder, whose attachment `Path` is `attachments/berth-map.txt`, tests
/// clean with the zip.
#[test]
fn a_zip_of_attachments_serves_a_csv_upload_too() {
    let s = scratch();
    let dir = s.path();
    let console = Console::start(dir, "console.db");
    let cookie = sign_in_cookie(&console, ADMIN);
    let cookie = cookie.split(';').next().unwrap().to_string();
    let map = std::fs::read(example("club/attachments/berth-map.txt")).unwrap();
    let zip = zip_of(&[Entry::File("attachments/berth-map.txt", &map)]);
    let mut csvs: Vec<(String, Vec<u8>)> = std::fs::read_dir(example("club/club_csv"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "csv"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    csvs.sort();
    let mut files: Vec<(&str, &str, &[u8])> = csvs
        .iter()
        .map(|(n, b)| ("files", n.as_str(), b.as_slice()))
        .collect();
    files.push(("attachments_zip", "attachments.zip", &zip));
    let token = page_csrf(&console, cookie.trim_start_matches("ferry_session="));
    let (ct, body) = multipart(&files, &[("csrf", &token), ("test_only", "on")]);
    let r = agent()
        .post(format!("{}/runs/new", console.url))
        .header("Cookie", &cookie)
        .header("Content-Type", &ct)
        .send(&body[..])
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let run = r.headers().get("location").unwrap().to_str().unwrap();
    assert_eq!(ended(dir, run), ("succeeded".to_string(), "0".to_string()));
}
