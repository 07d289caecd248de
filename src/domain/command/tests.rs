use super::*;
use crate::domain::search_expr::SearchExpr;
use proptest::prelude::*;

const U1: &str = "00ub0oNGTSWTBKOLGLNR";
const G1: &str = "00g1emaKYZTWRYYRRTSK";

fn reset(text: &str) -> ResetSpec {
    match parse(text) {
        Ok(Command::Reset(spec)) => spec,
        other => panic!("{text:?} gave {other:?}"),
    }
}

fn err(text: &str) -> CommandError {
    match parse(text) {
        Err(e) => e,
        Ok(c) => panic!("{text:?} parsed as {c:?}"),
    }
}

fn group(name: &str) -> TargetSpec {
    TargetSpec::GroupName(name.to_owned())
}

fn login(login: &str) -> TargetSpec {
    TargetSpec::User(UserRef::Login(login.to_owned()))
}

fn user_id(id: &str) -> TargetSpec {
    TargetSpec::User(UserRef::Id(OktaUserId::parse(id).unwrap()))
}

/// What Slack does to typed text on the way to us.
fn slack_escape(typed: &str) -> String {
    typed
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[test]
fn empty_and_help() {
    for text in ["help", "HELP", "Help me", "--help"] {
        assert_eq!(parse(text), Ok(Command::Help), "{text:?}");
    }
}

#[test]
fn nothing_or_form_opens_the_form() {
    for text in ["", "   ", "\n\t", "form", "FORM", " Form "] {
        assert_eq!(parse(text), Ok(Command::Form), "{text:?}");
    }
    assert_eq!(Command::Form.to_string(), "form");
    // `form` followed by more is not the form: it is read (and refused) as a reset.
    assert!(matches!(
        parse("form group:x"),
        Err(CommandError::UnknownToken { .. })
    ));
}

#[test]
fn contain_implies_revoke_sessions_and_is_named_alone_in_the_canonical_text() {
    let spec = reset("user:a@x.com --contain");
    assert!(spec.contain && spec.revoke_sessions && !spec.dry_run);
    assert_eq!(spec.to_string(), "user:a@x.com --contain");
    let spec = reset("user:a@x.com —CONTAIN --revoke-sessions");
    assert!(spec.contain && spec.revoke_sessions);
    assert_eq!(
        reset("user:a@x.com --contain --dry-run").to_string(),
        "user:a@x.com --dry-run --contain"
    );
    // Next to a shared file too.
    let spec = parse_options("reason:\"INC-88\" --contain").unwrap();
    assert!(spec.contain && spec.revoke_sessions && spec.targets.is_empty());
    assert!(!reset("user:a@x.com --revoke-sessions").contain);
}

#[test]
fn options_next_to_a_file_need_no_target() {
    let spec = parse_options("reason:\"INC-88\" --revoke-sessions").unwrap();
    assert_eq!(spec.reason.as_deref(), Some("INC-88"));
    assert!(spec.revoke_sessions && !spec.dry_run && spec.targets.is_empty());
    assert_eq!(parse_options("").unwrap(), ResetSpec::default());
    let spec = parse_options("user:bob@example.com —dry-run").unwrap();
    assert_eq!(spec.targets.len(), 1);
    assert!(spec.dry_run);
    assert!(matches!(
        parse_options("please reset these"),
        Err(CommandError::UnknownToken { .. })
    ));
}

#[test]
fn status_and_cancel() {
    let id = RequestId::parse("R-7K3M9QXD").unwrap();
    assert_eq!(parse("status R-7K3M9QXD"), Ok(Command::Status(id.clone())));
    assert_eq!(
        parse(" Status  r-7k3m9qxd "),
        Ok(Command::Status(id.clone()))
    );
    assert_eq!(parse("cancel R-7K3M9QXD"), Ok(Command::Cancel(id.clone())));
    assert_eq!(parse("CANCEL \"R-7K3M9QXD\""), Ok(Command::Cancel(id)));
}

#[test]
fn status_and_cancel_errors() {
    assert_eq!(
        err("status"),
        CommandError::MissingRequestId { command: "status" }
    );
    let e = err("cancel R-123");
    assert!(
        matches!(&e, CommandError::BadRequestId { command: "cancel", source } if source.value == "R-123"),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "`cancel` needs a request id, but `R-123` is not a request id \
         (expected R- followed by 8 letters/digits, e.g. R-7K3M9QXD)"
    );
    let e = err("status R-7K3M9QXD now");
    assert_eq!(
        e,
        CommandError::TrailingToken {
            command: "status",
            token: "now".into()
        }
    );
    assert!(e.to_string().contains("`now`"));
}

#[test]
fn groups_by_name_and_id() {
    let spec = reset(&format!(
        "group:Sales group:\"Sales EMEA\" Group:{G1} GROUP:sales"
    ));
    assert_eq!(
        spec.targets,
        [
            group("Sales"),
            group("Sales EMEA"),
            TargetSpec::GroupId(OktaGroupId::parse(G1).unwrap()),
            group("sales"),
        ]
    );
    assert_eq!(spec.reason, None);
    assert!(!spec.dry_run && !spec.revoke_sessions);
    // An id-like value one character short is a name; the resolver will say it doesn't exist.
    assert_eq!(
        reset("group:00g1emaKYZTWRYYRRTS").targets,
        [group("00g1emaKYZTWRYYRRTS")]
    );
    // Values are trimmed but otherwise verbatim, colons included.
    assert_eq!(reset("group:\"  Ops: EU \"").targets, [group("Ops: EU")]);
}

#[test]
fn users_lists_ids_and_logins_in_order() {
    let spec = reset(&format!(
        "user:a@x.com,Bob.Smith,{U1} group:Ops user:\"c@x.com , d@x.com\" user:a@x.com"
    ));
    assert_eq!(
        spec.targets,
        [
            login("a@x.com"),
            login("Bob.Smith"),
            user_id(U1),
            group("Ops"),
            login("c@x.com"),
            login("d@x.com"),
            login("a@x.com"), // exact duplicates are kept for the resolver to report
        ]
    );
}

#[test]
fn reason_and_flags_anywhere() {
    let spec = reset("--dry-run REASON:\"Phishing incident #42\" user:a@x.com --Revoke-Sessions");
    assert_eq!(spec.targets, [login("a@x.com")]);
    assert_eq!(spec.reason.as_deref(), Some("Phishing incident #42"));
    assert!(spec.dry_run && spec.revoke_sessions);
    assert_eq!(
        reset("reason:phish user:a").reason.as_deref(),
        Some("phish")
    );
    assert_eq!(
        reset("reason:\"  padded  \" user:a").reason.as_deref(),
        Some("padded")
    );
    // Repeated flags are harmless.
    assert!(reset("--dry-run user:a --dry-run").dry_run);
}

#[test]
fn smart_punctuation_from_apple_clients() {
    let spec = reset("group:“Sales Team” reason:“O’Brien left” —dry-run –revoke-sessions");
    assert_eq!(spec.targets, [group("Sales Team")]);
    assert_eq!(spec.reason.as_deref(), Some("O'Brien left"));
    assert!(spec.dry_run && spec.revoke_sessions);
}

#[test]
fn slack_escaping_is_undone() {
    assert_eq!(
        reset("group:\"Sales &amp; &lt;Marketing&gt;\"").targets,
        [group("Sales & <Marketing>")]
    );
    assert_eq!(
        reset("user:<mailto:a@x.com|a@x.com>,<mailto:b@x.com|b@x.com>").targets,
        [login("a@x.com"), login("b@x.com")]
    );
    assert_eq!(
        reset("user:<mailto:a@x.com|a@x.com> group:<http://r-d.example|r-d.example>").targets,
        [login("a@x.com"), group("r-d.example")]
    );
    assert_eq!(
        reset("reason:\"see <https://jira.example/SEC-1>\" user:a")
            .reason
            .as_deref(),
        Some("see https://jira.example/SEC-1")
    );
}

#[test]
fn unknown_key_suggests_one_edit_away() {
    let e = err("gruop:Sales");
    assert_eq!(
        e,
        CommandError::UnknownKey {
            token: "gruop:Sales".into(),
            key: "gruop".into(),
            suggestion: Some("group:".into())
        }
    );
    assert_eq!(
        e.to_string(),
        "`gruop:Sales` has an unknown key `gruop:`; did you mean `group:`?"
    );
    for (text, want) in [
        ("users:a", "user:"),
        ("Usr:a", "user:"),
        ("reasno:x", "reason:"),
        ("email:a@x.com", "user:"),
    ] {
        match err(text) {
            CommandError::UnknownKey { suggestion, .. } => {
                assert_eq!(suggestion.as_deref(), Some(want), "{text}")
            }
            other => panic!("{text}: {other:?}"),
        }
    }
    let e = err("user:a team:x");
    assert!(matches!(&e, CommandError::UnknownKey { suggestion: None, key, .. } if key == "team"));
    assert!(e.to_string().contains("`team:x`"), "{e}");
    assert!(
        e.to_string().contains("group:, user:, search: and reason:"),
        "{e}"
    );
}

#[test]
fn unknown_token_suggests_a_fix() {
    for (text, want) in [
        ("user:a --dryrun", Some("--dry-run")),
        ("user:a dry-run", Some("--dry-run")),
        ("user:a -revoke-sessions", Some("--revoke-sessions")),
        ("group Sales", Some("group:NAME")),
        ("bob@x.com", Some("user:bob@x.com")),
        (U1, Some(&*format!("user:{U1}"))),
        (G1, Some(&*format!("group:{G1}"))),
        ("user:a please", None),
        ("user:a status", None),
    ] {
        let e = err(text);
        match &e {
            CommandError::UnknownToken { token, suggestion } => {
                assert!(text.contains(token.as_str()), "{text}: {token}");
                assert_eq!(suggestion.as_deref(), want, "{text}");
                assert!(e.to_string().contains(&format!("`{token}`")), "{e}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
    assert_eq!(
        err("user:a please").to_string(),
        "I don't understand `please`; use group:, user:, reason:, --dry-run, --revoke-sessions or --contain (see help)"
    );
}

#[test]
fn unterminated_quote() {
    let e = err("group:\"Sales Team user:a");
    assert_eq!(
        e,
        CommandError::UnterminatedQuote {
            token: "group:\"Sales Team user:a".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "`group:\"Sales Team user:a` opens a quote that is never closed; add the closing \""
    );
    // A smart opening quote with a straight closing one still balances.
    assert_eq!(reset("group:“A B\"").targets, [group("A B")]);
}

#[test]
fn empty_values() {
    for (text, key) in [
        ("group:", "group"),
        ("group:\"  \"", "group"),
        ("user:", "user"),
        ("user:a reason:", "reason"),
        ("user:a reason:\"\"", "reason"),
    ] {
        let e = err(text);
        match &e {
            CommandError::EmptyValue { token, key: k } => {
                assert_eq!(*k, key, "{text}");
                assert!(text.ends_with(token.as_str()), "{text}: {token}");
            }
            other => panic!("{text}: {other:?}"),
        }
        assert!(e.to_string().contains(&format!("`{key}:VALUE`")), "{e}");
    }
}

#[test]
fn empty_list_items() {
    for text in [
        "user:a@x.com,",
        "user:,a",
        "user:a,,b",
        "user:\"a, ,b\"",
        "user:a, b@x.com",
    ] {
        let e = err(text);
        let CommandError::EmptyListItem { token } = &e else {
            panic!("{text}: {e:?}");
        };
        assert!(text.contains(token.as_str()), "{text}");
        assert!(e.to_string().contains(&format!("`{token}`")), "{e}");
    }
}

#[test]
fn reason_twice_or_too_long() {
    let e = err("user:a reason:x reason:\"y z\"");
    assert_eq!(
        e,
        CommandError::ReasonRepeated {
            token: "reason:\"y z\"".into()
        }
    );
    assert!(e.to_string().contains("`reason:\"y z\"`"));

    let ok = format!("user:a reason:\"{}\"", "é".repeat(MAX_REASON_CHARS));
    assert_eq!(reset(&ok).reason.map(|r| r.chars().count()), Some(500));
    let e = err(&format!("user:a reason:\"{}\"", "x".repeat(501)));
    let CommandError::ReasonTooLong { token, chars } = &e else {
        panic!("{e:?}");
    };
    assert_eq!(*chars, 501);
    assert!(token.starts_with("reason:\"xxx") && token.chars().count() == 64);
    assert!(e.to_string().contains("501 characters"), "{e}");
}

#[test]
fn no_target() {
    for text in ["reason:\"x\"", "--dry-run", "reason:x --revoke-sessions"] {
        assert_eq!(err(text), CommandError::NoTarget, "{text}");
    }
    assert_eq!(
        CommandError::NoTarget.to_string(),
        "say whom to reset: group:NAME or user:LOGIN"
    );
}

#[test]
fn too_long() {
    let long = format!("user:{}", "a".repeat(MAX_TEXT_CHARS));
    assert_eq!(
        err(&long),
        CommandError::TooLong {
            chars: MAX_TEXT_CHARS + 5
        }
    );
    // Characters, not bytes.
    let ok = format!("reason:x user:{}", "é".repeat(MAX_TEXT_CHARS - 20));
    assert!(parse(&ok).is_ok());
}

#[test]
fn messages_clip_long_tokens() {
    let e = err(&format!("user:a {}", "z".repeat(300)));
    let text = e.to_string();
    assert!(text.len() < 200, "{text}");
    assert!(text.contains('…'));
    // Backticks in the echo would break the code span.
    let e = err("user:a `rm`");
    assert!(e.to_string().contains("`'rm'`"), "{e}");
}

#[test]
fn errors_are_reported_left_to_right() {
    assert!(matches!(
        err("gruop:x reason:"),
        CommandError::UnknownKey { .. }
    ));
    assert!(matches!(
        err("reason: gruop:x"),
        CommandError::EmptyValue { .. }
    ));
}

#[test]
fn render_is_canonical() {
    let spec = ResetSpec {
        targets: vec![
            login("a@x.com"),
            user_id(U1),
            group("Sales EMEA"),
            TargetSpec::GroupId(OktaGroupId::parse(G1).unwrap()),
            login("say \"hi\" \\o/"),
        ],
        reason: Some("phishing".into()),
        dry_run: true,
        revoke_sessions: true,
        contain: false,
    };
    let text = spec.to_string();
    assert_eq!(
        text,
        format!(
            "user:a@x.com,{U1} group:\"Sales EMEA\" group:{G1} user:\"say \\\"hi\\\" \\\\o/\" \
             reason:phishing --dry-run --revoke-sessions"
        )
    );
    assert_eq!(reset(&text), spec);
    assert_eq!(Command::Help.to_string(), "help");
    let id = RequestId::parse("R-7K3M9QXD").unwrap();
    assert_eq!(Command::Cancel(id).to_string(), "cancel R-7K3M9QXD");
}

#[test]
fn usage_lists_every_form() {
    for form in [
        "group:NAME",
        "group:\"Name With Spaces\"",
        "group:00g",
        "user:",
        "00u",
        "reason:",
        "--dry-run",
        "--revoke-sessions",
        "--contain",
        "status R-XXXXXXXX",
        "cancel R-XXXXXXXX",
        "help",
    ] {
        assert!(USAGE.contains(form), "{form}");
    }
    assert_eq!(USAGE.matches('`').count() % 2, 0, "unbalanced code spans");
}

// ---- property tests ----

/// Characters a name, login or reason may hold: the grammar's own metacharacters, Slack's
/// escaped ones, apostrophes and non-ASCII included; curly quotes excluded (they are normalised).
const VALUE_CHARS: &str = "[a-zA-Z0-9 &<>\"\\\\':,.@_é漢🙂#|-]";

fn trimmed(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("{VALUE_CHARS}{{1,{max}}}"))
        .unwrap()
        .prop_map(|s| s.trim().to_owned())
        .prop_filter("non-empty after trim", |s| !s.is_empty())
}

fn target() -> impl Strategy<Value = TargetSpec> {
    prop_oneof![
        trimmed(30)
            .prop_filter("not id-shaped", |s| !OktaGroupId::looks_like(s))
            .prop_map(TargetSpec::GroupName),
        "00g[a-zA-Z0-9]{17}".prop_map(|s| TargetSpec::GroupId(OktaGroupId::parse(&s).unwrap())),
        trimmed(30)
            .prop_filter("commas split lists", |s| !s.contains(','))
            .prop_filter("not id-shaped", |s| !OktaUserId::looks_like(s))
            .prop_map(|s| TargetSpec::User(UserRef::Login(s))),
        "00u[a-zA-Z0-9]{17}"
            .prop_map(|s| TargetSpec::User(UserRef::Id(OktaUserId::parse(&s).unwrap()))),
        (
            prop::sample::select(vec!["profile.lastName", "status", "profile.login"]),
            prop::sample::select(vec!["eq", "sw", "co", "gt", "lt"]),
            trimmed(30),
        )
            .prop_map(|(attr, op, v)| {
                // `co` is allowed on profile.lastName/login only (Okta's spec).
                let attr = if op == "co" && attr == "status" {
                    "profile.login"
                } else {
                    attr
                };
                let q = v.replace('\\', "\\\\").replace('"', "\\\"");
                TargetSpec::Search(SearchExpr::parse(&format!("{attr} {op} \"{q}\"")).unwrap())
            }),
    ]
}

fn reset_spec_strategy() -> impl Strategy<Value = ResetSpec> {
    (
        prop::collection::vec(target(), 1..8),
        prop::option::of(trimmed(MAX_REASON_CHARS)),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(targets, reason, dry_run, revoke_sessions, contain)| ResetSpec {
                targets,
                reason,
                dry_run,
                // `--contain` implies `--revoke-sessions`, as the parser makes it.
                revoke_sessions: revoke_sessions || contain,
                contain,
            },
        )
}

/// Fragments that stress the normaliser and tokenizer more than uniform random text does.
fn nasty_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("group:".to_owned()),
        Just("user:".to_owned()),
        Just("reason:".to_owned()),
        Just("status".to_owned()),
        Just("--dry-run".to_owned()),
        Just("\"".to_owned()),
        Just("\\".to_owned()),
        Just("“".to_owned()),
        Just("’".to_owned()),
        Just("&amp;".to_owned()),
        Just("&lt;".to_owned()),
        Just("<mailto:".to_owned()),
        Just("|".to_owned()),
        Just(">".to_owned()),
        Just(",".to_owned()),
        Just(" ".to_owned()),
        Just("—".to_owned()),
        Just(U1.to_owned()),
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

proptest! {
    #[test]
    fn parse_never_panics(text in any::<String>()) {
        if let Err(e) = parse(&text) {
            let _ = e.to_string();
        }
    }

    #[test]
    fn parse_never_panics_on_grammar_soup(text in nasty_text()) {
        match parse(&text) {
            Ok(Command::Reset(spec)) => prop_assert!(!spec.targets.is_empty()),
            Ok(_) => {}
            // Echoes are clipped, so no message grows with its input.
            Err(e) => prop_assert!(e.to_string().chars().count() < 400, "{}", e),
        }
    }

    #[test]
    fn rendered_specs_parse_back(spec in reset_spec_strategy()) {
        let typed = spec.to_string();
        prop_assert_eq!(parse(&slack_escape(&typed)), Ok(Command::Reset(spec.clone())), "{}", typed);
    }

    #[test]
    fn rendered_specs_survive_smart_quotes(spec in reset_spec_strategy(), open in any::<bool>()) {
        // A phone swaps straight quotes for curly ones; which curly one doesn't matter.
        let typed = spec
            .to_string()
            .replace('"', if open { "“" } else { "”" })
            .replace('\'', "’");
        prop_assert_eq!(parse(&slack_escape(&typed)), Ok(Command::Reset(spec)));
    }

    #[test]
    fn rendering_is_stable(spec in reset_spec_strategy()) {
        let Ok(Command::Reset(again)) = parse(&slack_escape(&spec.to_string())) else {
            return Err(TestCaseError::fail("did not parse"));
        };
        prop_assert_eq!(again.to_string(), spec.to_string());
    }
}

#[test]
fn search_targets_in_single_quotes() {
    let spec = reset(r#"search:'profile.department eq "Sales"' reason:x"#);
    assert_eq!(
        spec.targets,
        [TargetSpec::Search(
            SearchExpr::parse(r#"profile.department eq "Sales""#).unwrap()
        )]
    );
    // Smart quotes from a phone, Slack's escaping, an apostrophe inside the value.
    let spec = reset("search:‘profile.lastName eq “O\\’Brien &amp; Co”’ user:a");
    assert_eq!(
        spec.targets[0].to_string(),
        r#"search:'profile.lastName eq "O\'Brien & Co"'"#
    );
    // Double quotes around the whole expression work too, with the inner ones escaped.
    let spec = reset(r#"search:"status eq \"ACTIVE\"""#);
    assert_eq!(
        spec.targets[0].to_string(),
        r#"search:'status eq "ACTIVE"'"#
    );
}

#[test]
fn bad_searches_are_refused_with_the_reason() {
    let e = err(r#"search:'profile.department eq "Sales' reason:x"#);
    assert_eq!(
        e.to_string(),
        "`search:'profile.department eq \"Sales'` is not a search I can send to Okta: a double quote in the search is never closed; put each value in a pair of double quotes, e.g. profile.department eq \"Sales\""
    );
    let e = err(r#"search:'profile.department like "Sales"'"#);
    assert!(
        matches!(&e, CommandError::BadSearch { source: SearchError::UnsupportedOperator { op }, .. } if op == "like"),
        "{e:?}"
    );
    assert!(e.to_string().ends_with("use eq, sw, co, gt or lt"), "{e}");
    let e = err(r#"search:'status eq "ACTIVE" user:a"#);
    assert_eq!(
        e,
        CommandError::UnterminatedSearch {
            token: r#"search:'status eq "ACTIVE" user:a"#.into()
        }
    );
    assert!(e.to_string().ends_with("add the closing '"), "{e}");
    assert!(matches!(
        err("search:"),
        CommandError::EmptyValue { key: "search", .. }
    ));
    let long = format!("search:'status eq \"{}\"'", "x".repeat(600));
    assert!(matches!(
        err(&long),
        CommandError::BadSearch {
            source: SearchError::TooLong { .. },
            ..
        }
    ));
}
