use super::*;

const ID1: &str = "00u1a2b3c4d5e6f7g8h9";
const ID2: &str = "00uZZZZZZZZZZZZZZZZZ";

fn ok(text: &str) -> CsvTargets {
    read(text.as_bytes()).unwrap_or_else(|e| panic!("{text:?} refused: {e}"))
}

fn users(t: &CsvTargets) -> Vec<(usize, String)> {
    t.targets
        .iter()
        .map(|t| (t.row, t.user.as_str().to_string()))
        .collect()
}

fn problems(t: &CsvTargets) -> Vec<(usize, RowProblem)> {
    t.errors
        .iter()
        .map(|e| (e.row, e.problem.clone()))
        .collect()
}

#[test]
fn rockstar_export_users_reads_ids_by_header() {
    let text = format!(
        "User Id,Status,Username,First name,Last name,Primary email\n\
         \"{ID1}\",\"ACTIVE\",\"dana@example.com\",\"Dana\",\"Lee\",\"dana@example.com\"\n\
         \"{ID2}\",\"ACTIVE\",\"eli@example.com\",\"Eli\",\"Moss, Jr.\",\"eli@example.com\"\n"
    );
    let t = ok(&text);
    assert_eq!(users(&t), [(2, ID1.into()), (3, ID2.into())]);
    assert!(t.targets.iter().all(|t| matches!(t.user, UserRef::Id(_))));
    assert_eq!(
        t.layout.describe(),
        "Rockstar “Export Users”, column User Id / Username / Primary email"
    );
    assert_eq!(t.rows, 2);
}

#[test]
fn rockstar_group_members_and_okta_reports_are_recognised_case_insensitively() {
    let t = ok(&format!(
        "id,login,firstName,lastName,status\n{ID1},a@x.com,A,B,ACTIVE\n"
    ));
    assert_eq!(users(&t), [(2, ID1.into())]);
    assert!(t
        .layout
        .describe()
        .starts_with("Rockstar “Export Group Members”"));
    for header in ["user.Id", "USER ID", "User ID", "userId"] {
        let t = ok(&format!("{header},Login\n{ID1},a@x.com\n"));
        assert_eq!(users(&t), [(2, ID1.into())], "{header}");
    }
    for header in [
        "Username",
        "Login",
        "login",
        "Primary email",
        "email",
        "E-mail",
    ] {
        let t = ok(&format!("Name,{header}\nA B,a@x.com\n"));
        assert_eq!(users(&t), [(2, "a@x.com".into())], "{header}");
    }
}

#[test]
fn the_id_column_wins_and_an_empty_id_falls_back_to_login_then_email() {
    let t = ok(&format!(
        "Primary email,Username,User Id\n\
         a@x.com,a.login@x.com,{ID1}\n\
         b@x.com,b.login@x.com,\n\
         c@x.com,,\n"
    ));
    assert_eq!(
        users(&t),
        [
            (2, ID1.into()),
            (3, "b.login@x.com".into()),
            (4, "c@x.com".into())
        ]
    );
}

#[test]
fn ids_are_checked_against_oktas_shape_before_any_call() {
    let t = ok(&format!(
        "User Id,Username\n00u123,a@x.com\n{ID1},b@x.com\nnot-an-id,c@x.com\n"
    ));
    assert_eq!(users(&t), [(3, ID1.into())]);
    assert_eq!(
        problems(&t),
        [(2, RowProblem::BadId), (4, RowProblem::BadId)]
    );
    assert_eq!(t.errors[0].value, "00u123");
    assert_eq!(
        t.errors[0].reason(),
        "row 2: not an Okta user id (expected 20 letters/digits starting with 00u)"
    );
    // Without a header, a broken `00u…` is refused too rather than looked up as a login.
    let t = ok(&format!("{ID1}\n00uSHORT\n00u1a2b3c4d5e6f7g8h9X\n"));
    assert_eq!(users(&t), [(1, ID1.into())]);
    assert_eq!(
        problems(&t),
        [(2, RowProblem::BadId), (3, RowProblem::BadId)]
    );
}

#[test]
fn a_headerless_single_column_mixes_ids_logins_and_emails() {
    let t = ok(&format!("alice@example.com\n{ID1}\njdoe\n"));
    assert_eq!(t.layout, Layout::SingleColumn);
    assert_eq!(
        users(&t),
        [
            (1, "alice@example.com".into()),
            (2, ID1.into()),
            (3, "jdoe".into())
        ]
    );
    assert!(matches!(t.targets[1].user, UserRef::Id(_)));
    assert!(matches!(t.targets[2].user, UserRef::Login(_)));
}

#[test]
fn bom_crlf_quotes_embedded_commas_quotes_and_line_breaks() {
    let text = "\u{feff}\"Username\",\"Note\"\r\n\
                \"o\"\"brien,jr@x.com\",\"has, commas\"\r\n\
                \"b@x.com\",\"two\r\nlines\"\r\n\
                \"c@x.com\",\"\"\r\n";
    let t = ok(text);
    assert_eq!(
        users(&t),
        [
            (2, "o\"brien,jr@x.com".into()),
            (3, "b@x.com".into()),
            // The note on row 3 spans two lines: the next record starts on line 5.
            (5, "c@x.com".into())
        ]
    );
}

#[test]
fn semicolon_and_tab_delimiters_are_detected_from_the_first_line() {
    let t = ok("Login;Name\na@x.com;Müller, Anna\nb@x.com;B\n");
    assert_eq!(users(&t), [(2, "a@x.com".into()), (3, "b@x.com".into())]);
    let t = ok("Name\tEmail\nA, B\ta@x.com\n");
    assert_eq!(users(&t), [(2, "a@x.com".into())]);
    // A comma inside a quoted header does not outvote the semicolons.
    let t = ok("\"Name, full\";Login;Dept\nA;a@x.com;IT\n");
    assert_eq!(users(&t), [(2, "a@x.com".into())]);
}

#[test]
fn blank_lines_and_empty_rows_are_skipped_and_row_numbers_stay_line_numbers() {
    let t = ok("\n\nEmail,Name\n\na@x.com,A\n,,\n  ,  \n\nb@x.com,B\n\n\n");
    assert_eq!(users(&t), [(5, "a@x.com".into()), (9, "b@x.com".into())]);
    assert_eq!(t.rows, 2);
}

#[test]
fn surrounding_spaces_and_invisible_marks_are_trimmed() {
    let t = ok("Email\n  a@x.com  \n\u{a0}b@x.com\u{a0}\n\u{200b}c@x.com\n\" d@x.com \"\n");
    assert_eq!(
        users(&t).into_iter().map(|(_, u)| u).collect::<Vec<_>>(),
        ["a@x.com", "b@x.com", "c@x.com", "d@x.com"]
    );
}

#[test]
fn duplicates_are_reported_with_the_row_they_repeat() {
    let t = ok(&format!(
        "Email\na@x.com\nA@X.COM\n{ID1}\n{ID1}\nb@x.com\na@x.com\n"
    ));
    assert_eq!(
        users(&t),
        [
            (2, "a@x.com".into()),
            (4, ID1.into()),
            (6, "b@x.com".into())
        ]
    );
    assert_eq!(
        problems(&t),
        [
            (3, RowProblem::Duplicate { first_row: 2 }),
            (5, RowProblem::Duplicate { first_row: 4 }),
            (7, RowProblem::Duplicate { first_row: 2 })
        ]
    );
    assert_eq!(t.errors[0].reason(), "row 3: duplicate of row 2");
}

#[test]
fn old_mac_line_endings_number_rows_like_an_editor() {
    let t = ok("Email\ra@x.com\rb@x.com\r");
    assert_eq!(users(&t), [(2, "a@x.com".into()), (3, "b@x.com".into())]);
}

#[test]
fn a_row_without_id_login_or_email_is_reported_empty() {
    let t = ok("User Id,Username,First name\n,,Dana\n");
    assert_eq!(problems(&t), [(2, RowProblem::Empty)]);
    assert_eq!(
        t.errors[0].reason(),
        "row 2: no id, login or email in this row"
    );
}

#[test]
fn formulas_and_mentions_are_plain_text_values() {
    let t =
        ok("Email\n\"=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\"\n<!channel>@x.com\n");
    assert_eq!(
        users(&t).into_iter().map(|(_, u)| u).collect::<Vec<_>>(),
        [
            "=HYPERLINK(\"http://evil.example\",\"click\")",
            "<!channel>@x.com"
        ]
    );
}

#[test]
fn bad_cells_are_row_errors_and_the_other_rows_go_on() {
    let mut bytes = b"Email,Name\na@x.com,Ren\xe9\n".to_vec();
    bytes.extend_from_slice(b"b\xff@x.com,B\n");
    bytes.extend_from_slice(b"c\x07@x.com,C\n");
    bytes.extend_from_slice(format!("{}@x.com,D\n", "d".repeat(300)).as_bytes());
    let t = read(&bytes).unwrap();
    // Latin-1 in a column the bot does not use is no problem.
    assert_eq!(users(&t), [(2, "a@x.com".into())]);
    assert_eq!(
        problems(&t),
        [
            (3, RowProblem::NotUtf8),
            (4, RowProblem::ControlChars),
            (5, RowProblem::TooLong)
        ]
    );
    assert_eq!(t.errors[1].value, "c�@x.com");
    assert_eq!(t.errors[2].value.chars().count(), 64);
}

#[test]
fn files_that_are_not_csv_text_are_refused_by_content() {
    let cases: [(&[u8], CsvError); 7] = [
        (
            b"PK\x03\x04\x14\x00rest",
            CsvError::NotCsv(NotCsv::Spreadsheet),
        ),
        (
            &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0],
            CsvError::NotCsv(NotCsv::Spreadsheet),
        ),
        (b"\x89PNG\r\n\x1a\n\0\0", CsvError::NotCsv(NotCsv::Image)),
        (&[0xFF, 0xD8, 0xFF, 0xE0], CsvError::NotCsv(NotCsv::Image)),
        (b"%PDF-1.7\n", CsvError::NotCsv(NotCsv::Document)),
        (b"\xff\xfeE\0m\0a\0i\0l\0", CsvError::Utf16),
        (b"E\0m\0a\0i\0l\0\n\0a\0", CsvError::Utf16),
    ];
    for (bytes, want) in cases {
        assert_eq!(read(bytes), Err(want.clone()), "{bytes:?}");
    }
    assert_eq!(
        read(b"Email\na@x.com\0\0\x01\x02 binary tail, but mostly text"),
        Err(CsvError::NotCsv(NotCsv::Binary))
    );
}

#[test]
fn files_are_refused_by_slacks_metadata_before_download() {
    use NotCsv::*;
    let cases = [
        ("users.xlsx", Some("xlsx"), None, Some(Spreadsheet)),
        (
            "users",
            None,
            Some("application/vnd.ms-excel"),
            Some(Spreadsheet),
        ),
        ("Users.XLS", None, None, Some(Spreadsheet)),
        (
            "screenshot.png",
            Some("png"),
            Some("image/png"),
            Some(Image),
        ),
        ("scan", None, Some("image/heic"), Some(Image)),
        (
            "list.pdf",
            Some("pdf"),
            Some("application/pdf"),
            Some(Document),
        ),
        ("users.csv", Some("csv"), Some("text/csv"), None),
        ("users.txt", Some("text"), Some("text/plain"), None),
    ];
    for (name, ft, mt, want) in cases {
        assert_eq!(
            check_metadata(name, ft, mt),
            want.map_or(Ok(()), |k| Err(CsvError::NotCsv(k))),
            "{name}"
        );
    }
}

#[test]
fn a_file_without_a_usable_column_is_refused_with_its_first_row() {
    let e = read(b"Name,Department\nDana Lee,IT\n").unwrap_err();
    assert_eq!(
        e,
        CsvError::NoColumn {
            first_row: vec!["Name".into(), "Department".into()]
        }
    );
    // The words shown for it: service/upload.rs's tests.
    // A lone header word is a header, not a user called "Name".
    assert!(matches!(
        read(b"Name\nDana\n"),
        Err(CsvError::NoColumn { .. })
    ));
    assert!(matches!(
        read(b"Full name\nDana Lee\n"),
        Err(CsvError::NoColumn { .. })
    ));
    // Headerless rows of several columns cannot be told apart.
    assert!(matches!(
        read(format!("{ID1},a@x.com\n").as_bytes()),
        Err(CsvError::NoColumn { .. })
    ));
}

#[test]
fn empty_files_and_bare_headers_have_no_rows() {
    for text in ["", "\n\n", "\u{feff}", "Email\n", "User Id,Username\n,\n\n"] {
        assert_eq!(read(text.as_bytes()), Err(CsvError::NoRows), "{text:?}");
    }
}

#[test]
fn more_than_the_cap_is_refused() {
    let big = vec![b'a'; MAX_FILE_BYTES + 1];
    assert_eq!(read(&big), Err(CsvError::TooLarge));
}
