//! Why a workbook could not be annotated: the typed reasons, each keeping its cause.

use std::io;
use zip::result::ZipError;

/// Why a workbook could not be annotated.
#[derive(Debug, thiserror::Error)]
pub enum AnnotateError {
    #[error("{path}: cannot annotate this workbook: {source}")]
    Damaged {
        path: String,
        #[source]
        source: Damage,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
}

/// What is wrong with the workbook, or what failed while its copy was written.
#[derive(Debug, thiserror::Error)]
pub enum Damage {
    /// Refused by the import reader's checks (the reader's own message).
    #[error("{}", refusal(.0))]
    Refused(#[source] ferry_sources::SourceError),
    #[error("the zip container is damaged ({0})")]
    Container(#[source] ZipError),
    #[error("entry {0} of the zip has no readable name")]
    NoName(usize),
    #[error("{part}: {source}")]
    Entry {
        part: String,
        #[source]
        source: ZipError,
    },
    #[error("{part} inflates to {size} bytes, more than this part may")]
    TooLarge { part: String, size: u64 },
    #[error("{part}: {source}")]
    Read {
        part: String,
        #[source]
        source: io::Error,
    },
    #[error("{0} is not UTF-8")]
    NotUtf8(String),
    #[error("{0} is missing")]
    Missing(String),
    #[error("it has no {0}: not a workbook")]
    NotAWorkbook(String),
    #[error("it has no [Content_Types].xml")]
    NoContentTypes,
    #[error("the shared strings vanished")]
    StringsVanished,
    #[error("{what} is not readable XML ({source})")]
    Xml {
        what: String,
        #[source]
        source: quick_xml::Error,
    },
    /// An XML error inside a part already known to be readable (`styles.xml: …`).
    #[error("{what}: {source}")]
    XmlIn {
        what: &'static str,
        #[source]
        source: quick_xml::Error,
    },
    #[error("{0} has no root element")]
    NoRoot(String),
    #[error("workbook.xml has no <sheets> list")]
    NoSheets,
    #[error("styles.xml has no styleSheet element")]
    NoStyleSheet,
    #[error("styles.xml: a cell format is not an element")]
    CellFormatNotElement,
    #[error("styles.xml: a list is not an element")]
    ListNotElement,
    #[error("styles.xml: the {0} list is not closed")]
    ListNotClosed(String),
    #[error("a row is numbered \"{0}\", which is not a row number")]
    RowNumber(String),
    #[error("a row is numbered {0}, outside 1 to 1048576")]
    RowOutOfRange(u32),
    #[error("row {row}: a cell is named \"{name}\", which is not a cell reference")]
    CellName { row: u32, name: String },
    #[error("the sheet ended before its sheetData was closed")]
    SheetDataOpen,
    #[error("the sheet ends inside a cell")]
    EndsInCell,
    #[error("the sheet's VML drawing has no closing </xml>")]
    VmlUnclosed,
    #[error("{0}")]
    VmlNotUtf8(#[source] std::string::FromUtf8Error),
    /// Writing one part of the copy (`what`: "the sheet", "the comments", …).
    #[error("writing {what}: {source}")]
    Write {
        what: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("writing the annotated copy: {0}")]
    Zip(#[source] ZipError),
    /// A problem inside one part, named by its part.
    #[error("{part}: {source}")]
    In {
        part: String,
        #[source]
        source: Box<Damage>,
    },
    /// A problem inside one sheet, named by its sheet.
    #[error("sheet {sheet}: {source}")]
    InSheet {
        sheet: String,
        #[source]
        source: Box<Damage>,
    },
}

impl Damage {
    /// This problem, said to be inside part `part`.
    pub(crate) fn in_part(part: &str) -> impl FnOnce(Damage) -> Damage + '_ {
        move |e| Damage::In {
            part: part.to_string(),
            source: Box::new(e),
        }
    }

    /// A writing error of `what` ("the sheet", "the comments", …).
    pub(crate) fn writing(what: &'static str) -> impl Fn(io::Error) -> Damage + Copy {
        move |source| Damage::Write { what, source }
    }

    /// An XML reading error of `what` ("the sheet", "styles.xml", …).
    pub(crate) fn xml(what: &str) -> impl Fn(quick_xml::Error) -> Damage + Copy + '_ {
        move |source| Damage::Xml {
            what: what.to_string(),
            source,
        }
    }
}

/// The reader's own message for a refused workbook.
fn refusal(e: &ferry_sources::SourceError) -> String {
    match e {
        ferry_sources::SourceError::Refused { message, .. }
        | ferry_sources::SourceError::Malformed { message, .. } => message.clone(),
        other => other.to_string(),
    }
}
