//! What kind of file this is, before any CSV parsing: spreadsheets, images and UTF-16 text are
//! refused with a sentence that says how to save the file as CSV.

use super::CsvError;

/// Spreadsheet and document kinds by Slack's `filetype` or the name's extension.
const SPREADSHEETS: &[&str] = &["xlsx", "xlsm", "xlsb", "xls", "numbers", "ods", "gsheet"];
const IMAGES: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "heic", "heif", "webp", "bmp", "tif", "tiff", "svg",
];
const DOCUMENTS: &[&str] = &["pdf", "doc", "docx", "pages", "odt", "rtf", "pptx", "key"];

/// Refuses a file by what Slack says it is (`filetype`, `mimetype`) or by its name, so a
/// spreadsheet or an image is never downloaded.
pub fn check_metadata(
    name: &str,
    filetype: Option<&str>,
    mimetype: Option<&str>,
) -> Result<(), CsvError> {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let kinds = [filetype.unwrap_or("").to_ascii_lowercase(), ext];
    let is = |list: &[&str]| kinds.iter().any(|k| list.contains(&k.as_str()));
    let mime = mimetype.unwrap_or("").to_ascii_lowercase();
    if is(SPREADSHEETS) || mime.contains("spreadsheet") || mime.contains("ms-excel") {
        return Err(CsvError::NotCsv(NotCsv::Spreadsheet));
    }
    if is(IMAGES) || mime.starts_with("image/") {
        return Err(CsvError::NotCsv(NotCsv::Image));
    }
    if is(DOCUMENTS) || mime == "application/pdf" {
        return Err(CsvError::NotCsv(NotCsv::Document));
    }
    Ok(())
}

/// What a file that is not CSV text turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotCsv {
    Spreadsheet,
    Image,
    Document,
    Binary,
}

impl NotCsv {
    pub fn noun(self) -> &'static str {
        match self {
            NotCsv::Spreadsheet => "a spreadsheet (Excel, Numbers or OpenDocument)",
            NotCsv::Image => "an image",
            NotCsv::Document => "a document (PDF, Word, …)",
            NotCsv::Binary => "a binary file",
        }
    }
}

/// Refuses content that is not text by its first bytes: whatever Slack's metadata said, the
/// bytes decide.
pub fn check_content(bytes: &[u8]) -> Result<(), CsvError> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    // xlsx, ods and numbers files are zip archives; xls is an OLE2 compound file.
    if starts(b"PK\x03\x04") || starts(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Err(CsvError::NotCsv(NotCsv::Spreadsheet));
    }
    if starts(b"%PDF-") || starts(b"{\\rtf") {
        return Err(CsvError::NotCsv(NotCsv::Document));
    }
    let webp = bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP";
    let heic = bytes.len() >= 12 && &bytes[4..8] == b"ftyp";
    if starts(b"\x89PNG")
        || starts(&[0xFF, 0xD8, 0xFF])
        || starts(b"GIF8")
        || starts(b"II*\0")
        || starts(b"MM\0*")
        || webp
        || heic
    {
        return Err(CsvError::NotCsv(NotCsv::Image));
    }
    if starts(&[0xFF, 0xFE]) || starts(&[0xFE, 0xFF]) {
        return Err(CsvError::Utf16);
    }
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        // UTF-16 without a byte-order mark has a NUL next to every ASCII character.
        let nuls = head.iter().filter(|b| **b == 0).count();
        return Err(if nuls * 3 >= head.len() {
            CsvError::Utf16
        } else {
            CsvError::NotCsv(NotCsv::Binary)
        });
    }
    Ok(())
}

/// The delimiter of the first line: the most frequent of `,` `;` and tab outside quotes, `,` on
/// a tie (a single column has none of them).
pub fn delimiter(bytes: &[u8]) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for &b in bytes.iter().skip_while(|b| matches!(b, b'\r' | b'\n')) {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            _ if !quoted => {
                if let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
                    c.1 += 1;
                }
            }
            _ => {}
        }
    }
    counts
        .iter()
        .fold(
            (b',', 0),
            |best, &(d, n)| if n > best.1 { (d, n) } else { best },
        )
        .0
}
