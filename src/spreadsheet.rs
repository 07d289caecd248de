//! CSV files people open in a spreadsheet: the results file, the full target list and the audit
//! export. Text from Okta or from people (logins, names, error summaries) can start with a
//! character that makes a spreadsheet evaluate the cell as a formula (`=HYPERLINK(…)`, `@SUM(…)`,
//! `-2+3`), so such cells are prefixed with `'`, which spreadsheets show as text (OWASP's advice
//! on CSV injection).

use std::borrow::Cow;

/// The characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `value`, prefixed with `'` when a spreadsheet would execute it.
pub fn safe_cell(value: &str) -> Cow<'_, str> {
    if value.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// A CSV file (RFC 4180 quoting, LF line ends, no BOM) with every cell made safe.
pub fn csv_bytes<I, R>(header: &[&str], rows: I) -> Vec<u8>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = String>,
{
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    // Writing to a Vec cannot fail; the only error source is I/O.
    w.write_record(header).expect("write to memory");
    for row in rows {
        let cells: Vec<String> = row
            .into_iter()
            .map(|c| safe_cell(&c).into_owned())
            .collect();
        w.write_record(&cells).expect("write to memory");
    }
    w.into_inner().expect("flush to memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_execute_are_neutralised() {
        for bad in [
            "=HYPERLINK(\"http://evil\",\"x\")",
            "+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(safe_cell(bad), format!("'{bad}"), "{bad:?}");
        }
        for fine in ["alice@example.com", "00u1", "a=b", "", "E0000001: x"] {
            assert_eq!(safe_cell(fine), fine);
        }
    }

    #[test]
    fn files_quote_what_needs_quoting_and_neutralise_every_cell() {
        let bytes = csv_bytes(
            &["login", "reason"],
            vec![
                vec!["=cmd|' /C calc'!A0".to_string(), "a, \"b\"".to_string()],
                vec!["bob@example.com".to_string(), String::new()],
            ],
        );
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "login,reason\n'=cmd|' /C calc'!A0,\"a, \"\"b\"\"\"\nbob@example.com,\n"
        );
    }
}
