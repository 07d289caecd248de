//! The reader never panics, and every row of a file comes out exactly once: as a target or as a
//! numbered error. Files are generated the way exports are written (headers, quoting styles,
//! delimiters, CRLF, BOM, blank lines), then read back.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

const HEADERS: [&[&str]; 4] = [
    &[
        "User Id",
        "Status",
        "Username",
        "First name",
        "Last name",
        "Primary email",
    ],
    &["id", "login", "firstName", "lastName", "status"],
    &["Username", "Primary email"],
    // Headerless single column.
    &[],
];

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        // A few ids and emails, so duplicates happen.
        prop::sample::select(vec![
            "00u1a2b3c4d5e6f7g8h9",
            "00uZZZZZZZZZZZZZZZZZ",
            "00uAAAAAAAAAAAAAAAAA",
        ])
        .prop_map(String::from),
        "[a-c]{1,2}@x\\.com".prop_map(String::from),
        Just(String::new()),
        Just("   ".to_string()),
        Just("\u{a0}".to_string()),
        "00u[a-z0-9]{0,25}".prop_map(String::from),
        // Anything, including quotes, delimiters, line breaks and mentions.
        "[a-zA-Z0-9 ,;\"'\t\n<>!@=()._-]{0,20}".prop_map(String::from),
        Just("=HYPERLINK(\"http://e.example\",\"x\")".to_string()),
        Just("<!channel>@x.com".to_string()),
    ]
}

#[derive(Debug, Clone)]
struct File {
    header: usize,
    rows: Vec<Option<Vec<String>>>,
    delimiter: u8,
    always_quote: bool,
    crlf: bool,
    bom: bool,
}

fn file() -> impl Strategy<Value = File> {
    (0..HEADERS.len())
        .prop_flat_map(|header| {
            let width = HEADERS[header].len().max(1);
            let row = prop_oneof![
                1 => Just(None),
                6 => prop::collection::vec(cell(), width).prop_map(Some),
            ];
            (
                Just(header),
                prop::collection::vec(row, 0..30),
                prop::sample::select(vec![b',', b';', b'\t']),
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
            )
        })
        .prop_map(|(header, rows, delimiter, always_quote, crlf, bom)| File {
            header,
            rows,
            delimiter,
            always_quote,
            crlf,
            bom,
        })
}

fn is_blank_cells(cells: &[String]) -> bool {
    cells.iter().all(|c| super::clean(c).is_empty())
}

/// The bytes of `f`, and for each non-blank data row its line number and cells.
fn write(f: &File) -> (Vec<u8>, Vec<(usize, Vec<String>)>) {
    let record = |cells: &[String]| -> Vec<u8> {
        let mut w = csv::WriterBuilder::new()
            .delimiter(f.delimiter)
            .quote_style(if f.always_quote {
                csv::QuoteStyle::Always
            } else {
                csv::QuoteStyle::Necessary
            })
            .terminator(if f.crlf {
                csv::Terminator::CRLF
            } else {
                csv::Terminator::Any(b'\n')
            })
            .from_writer(Vec::new());
        w.write_record(cells).unwrap();
        w.into_inner().unwrap()
    };
    let newline: &[u8] = if f.crlf { b"\r\n" } else { b"\n" };
    let mut out = Vec::new();
    if f.bom {
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    let mut line = 1;
    let header = HEADERS[f.header];
    if !header.is_empty() {
        let cells: Vec<String> = header.iter().map(|h| h.to_string()).collect();
        out.extend(record(&cells));
        line += 1;
    }
    let mut expected = Vec::new();
    for row in &f.rows {
        match row {
            None => {
                out.extend_from_slice(newline);
                line += 1;
            }
            Some(cells) => {
                let bytes = record(cells);
                if !is_blank_cells(cells) {
                    expected.push((line, cells.clone()));
                }
                line += bytes.iter().filter(|b| **b == b'\n').count();
                out.extend(bytes);
            }
        }
    }
    (out, expected)
}

proptest! {
    // 400 cases by default (each file is large); PROPTEST_CASES still raises it for a long run.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(400)
    ))]

    #[test]
    fn every_row_is_a_target_or_a_reported_error(mut f in file()) {
        // A headerless file starts with a user, or it is refused as having no usable column.
        // A single column has no delimiter to detect: it is written with commas.
        if f.header == 3 {
            f.rows.insert(0, Some(vec!["first@x.com".to_string()]));
            f.delimiter = b',';
        }
        let (bytes, expected) = write(&f);
        let got = match read(&bytes) {
            Ok(t) => t,
            Err(CsvError::NoRows) => {
                prop_assert!(expected.is_empty(), "NoRows but {} rows written", expected.len());
                return Ok(());
            }
            Err(e) => return Err(TestCaseError::fail(format!("refused: {e}"))),
        };
        let mut seen: Vec<usize> = got.targets.iter().map(|t| t.row)
            .chain(got.errors.iter().map(|e| e.row))
            .collect();
        seen.sort_unstable();
        let want: Vec<usize> = expected.iter().map(|(l, _)| *l).collect();
        prop_assert_eq!(&seen, &want, "rows accounted for");
        prop_assert_eq!(got.rows, want.len());
        // A target names a user written on its own row (a single column may be split by a
        // delimiter the first line did not show, so compare with any part of the row).
        for t in &got.targets {
            let (_, cells) = expected.iter().find(|(l, _)| *l == t.row).unwrap();
            let joined = cells.join("\u{1}");
            prop_assert!(joined.contains(t.user.as_str()), "{:?} not on row {}: {:?}", t.user, t.row, cells);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_rows_add_up(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..3000),
            prop::collection::vec(
                prop::sample::select(b"a@x.c0u,;\"\n\r \t\xff\xef\xbb\xbf=<>".to_vec()),
                0..3000,
            ),
        ]
    ) {
        if let Ok(t) = read(&bytes) {
            prop_assert_eq!(t.rows, t.targets.len() + t.errors.len());
            let rows: BTreeSet<usize> = t.targets.iter().map(|t| t.row)
                .chain(t.errors.iter().map(|e| e.row))
                .collect();
            prop_assert_eq!(rows.len(), t.rows, "each row once");
            prop_assert!(rows.iter().all(|r| *r >= 1));
        }
    }
}
