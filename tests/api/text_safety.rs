//! One test for text safety: hostile text (`<!channel>`, `<@U…>`, `<https://evil|click>`, `&`) in
//! every field that can reach Slack — the reason, an Okta group name, Okta logins, first and last
//! names, a search value, an Okta error summary, a shared file's name and its cells (usable and
//! unusable rows), a refused request — then the flow to the summary, and a scan of everything the
//! simulated Slack recorded: messages and their edits, ephemerals, `response_url` posts, opened
//! modals, and uploaded files' titles and comments. None of it may carry a live mention, link or
//! bare `&`.
//!
//! The uploaded CSV files are not mrkdwn (Slack shows a file's bytes as they are, and a login must
//! stay exactly as Okta has it), so their cells are not HTML-escaped; what applies to them is
//! formula neutralisation (`spreadsheet::safe_cell`): no cell may start with `=`, `+`, `-`, `@`.

use okta_reset::sim::okta::{SimGroup, SimOrg, SimUser};
use okta_reset::sim::world::CHANNEL;
use serde_json::Value;

use crate::helpers::*;

/// A mention of someone who never takes part, so any `<@U0EVIL` in the output is injected.
const EVIL_MENTION: &str = "<@U0EVIL>";
const GROUP: &str = "Ops & <!channel> <@U0EVIL> <https://evil|click>";
const SEARCH_VALUE: &str = "Cole <https://evil|click> & <!channel> <@U0EVIL>";
const SUMMARY: &str = "Refused & <!channel> <@U0EVIL> <https://evil|click>";

fn hostile_org() -> SimOrg {
    let a = SimUser::new(
        "h1&<!channel><@U0EVIL>@evil.example.com",
        "<!channel> & <@U0EVIL>",
        "<https://evil|click> &",
    );
    let b = SimUser::new(
        "h2@evil.example.com",
        "=HYPERLINK(\"https://evil|click\")",
        "<@U0EVIL> & co",
    );
    let c = SimUser::new("h3@evil.example.com", "Cy", SEARCH_VALUE);
    let d = SimUser::new(
        "h4@evil.example.com",
        "@SUM(1+1)",
        "<!here> &amp <https://evil|click>",
    );
    let group = SimGroup::new(GROUP).members([a.id.clone(), b.id.clone()]);
    SimOrg::demo().user(a).user(b).user(c).user(d).group(group)
}

/// Everything wrong with one piece of mrkdwn the bot sent.
fn problems(label: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for bad in [
        "<!channel",
        "<!here",
        "<!everyone",
        "<@U0EVIL",
        "<https://evil",
    ] {
        if text.contains(bad) {
            out.push(format!("{label}: unescaped {bad:?}"));
        }
    }
    // Every mention is of someone taking part; every link is the bot's own (the sim's host).
    for (i, _) in text.match_indices("<@") {
        let who: String = text[i + 2..].chars().take_while(|c| *c != '>').collect();
        if ![REQUESTER, APPROVER].contains(&who.as_str()) {
            out.push(format!("{label}: mention of {who:?}"));
        }
    }
    let mut rest = text.to_string();
    while let Some(i) = rest.find("<http") {
        let end = rest[i..].find('>').map(|e| i + e + 1).unwrap_or(rest.len());
        let link = rest[i..end].to_string();
        if !link.starts_with("<http://127.0.0.1") {
            out.push(format!("{label}: link {link:?}"));
        }
        // The bot's own link may carry `&` in its query string.
        rest.replace_range(i..end, "");
    }
    for (i, _) in rest.match_indices('&') {
        let after = &rest[i..];
        if !["&amp;", "&lt;", "&gt;"]
            .iter()
            .any(|e| after.starts_with(e))
        {
            let around: String = after.chars().take(24).collect();
            out.push(format!("{label}: bare & in {around:?}"));
        }
    }
    out
}

fn blocks_text(v: &Value) -> String {
    if v.is_null() {
        String::new()
    } else {
        v.to_string()
    }
}

#[tokio::test]
async fn hostile_text_in_every_field_never_reaches_slack_unescaped() {
    // The scan itself catches each kind of hole.
    let caught = problems(
        "self-check",
        "<!channel> & <@U0EVIL> <https://evil|click> <!here>",
    );
    assert_eq!(caught.len(), 7, "{caught:#?}");
    assert!(problems("self-check", "&amp; &lt;!channel&gt; <@U0001> <#C0001>").is_empty());

    let app = spawn_with().org(hostile_org()).start().await;
    let reason = format!("<!channel> & {EVIL_MENTION} <https://evil|click>");
    // The slash commands' own answers (shown only to the person) are scanned too.
    let mut acks = Vec::new();

    // 1. A refused request echoes what was asked (a group that does not exist).
    let ack = app
        .slash(
            REQUESTER,
            &format!(r#"group:"Nope {GROUP}" reason:"{reason}""#),
        )
        .await;
    assert!(ack.starts_with("Looking up"), "{ack}");
    app.ephemeral_to(REQUESTER, "No Okta group is named").await;
    // A grammar error echoes the token.
    app.slash(REQUESTER, "gruop:<!channel>&<@U0EVIL>").await;

    // 2. A hostile group name (its members have hostile logins and names), a user, and a
    // hostile search value; one reset fails with a hostile Okta error summary.
    let ask = format!(
        r#"group:"{GROUP}" user:h4@evil.example.com search:'profile.lastName eq "{SEARCH_VALUE}"' reason:"{reason}""#
    );
    let ack = app.slash(REQUESTER, &ask).await;
    assert!(ack.starts_with("Looking up"), "{ack}");
    let p1 = app.wait_nth_root(1).await;
    let root = app.root_text(&p1);
    assert!(root.contains("*4 will reset*"), "{root}");
    app.w
        .okta
        .fail_next_resets_saying(1, 400, "E0000099", SUMMARY);
    app.click(APPROVER, &p1, "approve").await;
    let summary = app.wait_thread(&p1, "Run complete").await;
    assert!(
        summary.contains("*3 reset*, 0 skipped, 1 failed"),
        "{summary}"
    );
    assert!(
        summary.contains("Refused &amp; &lt;!channel&gt; &lt;@U0EVIL&gt;"),
        "the Okta summary is shown, escaped: {summary}"
    );
    acks.push(app.slash(REQUESTER, &format!("status {}", p1.id)).await);

    // 3. A shared CSV with a hostile name, usable rows naming hostile users and unusable rows
    // that are hostile themselves.
    let csv = "login,note\r\n\
               h2@evil.example.com,<!channel>\r\n\
               h3@evil.example.com,& co\r\n\
               <!channel>&<@U0EVIL>,mention\r\n\
               <https://evil|click>,link\r\n\
               00u<@U0EVIL>,id\r\n\
               \"=HYPERLINK(\"\"https://evil|click\"\")\",formula\r\n";
    let file = app.upload(REQUESTER, "ops & <!channel> <@U0EVIL>.csv", csv);
    app.share(REQUESTER, &format!("<@UBOT> reason:\"{reason}\""), &[file])
        .await;
    let p2 = app.wait_nth_root(2).await;
    app.click(APPROVER, &p2, "approve").await;
    let summary = app.wait_thread(&p2, "Run complete").await;
    assert!(summary.contains("*2 reset*"), "{summary}");

    // 4. The form (a modal).
    app.open_form(REQUESTER, "").await;

    // The scan.
    let slack = &app.w.slack;
    let mut found = Vec::new();
    let mut seen = String::new();
    for m in slack.messages() {
        let label = format!("message {}", m.ts);
        for (text, blocks) in
            std::iter::once((&m.text, &m.blocks)).chain(m.edits.iter().map(|(t, b)| (t, b)))
        {
            let all = format!("{text}\n{}", blocks_text(blocks));
            found.extend(problems(&label, &all));
            seen.push_str(&all);
        }
    }
    for e in slack.ephemerals() {
        let all = format!("{}\n{}", e.text, blocks_text(&e.blocks));
        found.extend(problems("ephemeral", &all));
        seen.push_str(&all);
    }
    for a in &acks {
        found.extend(problems("slash command answer", a));
        seen.push_str(a);
    }
    for h in slack.hook_posts() {
        found.extend(problems(
            &format!("response_url {}", h.path),
            &h.body.to_string(),
        ));
    }
    let views = slack.views();
    assert!(!views.is_empty(), "the form opened");
    for v in views {
        found.extend(problems("modal", &v.view.to_string()));
    }
    let uploads = slack.uploads();
    assert!(uploads.len() >= 2, "two results files: {}", uploads.len());
    for u in &uploads {
        for text in [&u.title, &u.initial_comment].into_iter().flatten() {
            found.extend(problems(
                &format!("file {} title/comment", u.filename),
                text,
            ));
            seen.push_str(text);
        }
        // Files are data, not mrkdwn: no cell a spreadsheet would execute.
        let bytes = u.content.clone().expect("file bytes arrived");
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes.as_slice());
        for rec in r.records() {
            for cell in rec.unwrap().iter() {
                if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                    found.push(format!("file {}: formula cell {cell:?}", u.filename));
                }
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
    // The files keep Okta's text as it is (data), with formulas neutralised.
    let files: String = uploads
        .iter()
        .filter_map(|u| u.content.clone())
        .map(|b| String::from_utf8(b).unwrap())
        .collect();
    assert!(
        files.contains("h1&<!channel><@U0EVIL>@evil.example.com"),
        "{files}"
    );
    assert!(files.contains("'=HYPERLINK"), "{files}");

    // The scan looked at the hostile text, escaped, from each source.
    for escaped in [
        "&lt;!channel&gt; &amp; &lt;@U0EVIL&gt; &lt;https://evil|click&gt;", // reason
        "Ops &amp; &lt;!channel&gt; &lt;@U0EVIL&gt; &lt;https://evil|click&gt;", // group name
        "h1&amp;&lt;!channel&gt;&lt;@U0EVIL&gt;@evil.example.com",           // login
        "&lt;!channel&gt; &amp; &lt;@U0EVIL&gt; &lt;https://evil|click&gt; &amp;", // names
        "Cole &lt;https://evil|click&gt; &amp; &lt;!channel&gt; &lt;@U0EVIL&gt;", // search value
        "Refused &amp; &lt;!channel&gt;",                                    // Okta summary
        "ops &amp; &lt;!channel&gt; &lt;@U0EVIL&gt;.csv",                    // file name
        "&lt;!channel&gt;&amp;&lt;@U0EVIL&gt;",                              // unusable row
    ] {
        assert!(seen.contains(escaped), "{escaped:?} not seen in\n{seen}");
    }
}

/// Issue 13: a reason with line breaks, `*bold*` and `` `code` `` drew fake "*Resolved 1
/// user(s):* *1 will reset*" lines above the real counts. And a formatted link in the reason
/// (Slack sends `<https://host/path|label>`) showed only its label. Now the counts come first,
/// the reason is one quoted line in which nothing formats, and a link's address is shown.
#[tokio::test]
async fn a_reason_cannot_forge_lines_of_the_approval_message_and_a_link_shows_its_address() {
    let org = SimOrg::demo().user(SimUser::new(
        "forger@example.com",
        "Eve\n*Resolved 1 user(s):*",
        "`x`",
    ));
    let app = spawn_with().org(org).start().await;
    let sent = "user:c01.lee@contractors.example.com,forger@example.com reason:\"INC-7\n\
                *Resolved 1 user(s):* *1 will reset*\n`code` &gt; see \
                <https://evil.example/t?a=1&amp;b=2|the ticket>\"";
    let r = app.w.driver.slash_as_sent(REQUESTER, CHANNEL, sent).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let p = app.wait_root().await;
    let blocks: Vec<(String, String)> = app
        .root_blocks(&p)
        .into_iter()
        .map(|(kind, _, text)| (kind, text))
        .collect();
    assert_eq!(blocks[0].0, "header");
    assert_eq!(blocks[1].1, "*Resolved 2 user(s):* *2 will reset*");
    let about = &blocks[2].1;
    assert!(
        about.contains(
            "\n*Reason:* `INC-7 *Resolved 1 user(s):* *1 will reset* 'code' &gt; see the ticket (https://evil.example/t?a=1&amp;b=2)`\n"
        ),
        "{about}"
    );
    assert!(
        blocks[3]
            .1
            .contains("• `forger@example.com` `Eve *Resolved 1 user(s):* 'x'`"),
        "{}",
        blocks[3].1
    );
    // No line of the message but the real one starts like the bot's counts.
    let starts: usize = blocks
        .iter()
        .flat_map(|(_, t)| t.lines().map(str::to_string).collect::<Vec<_>>())
        .filter(|l| l.starts_with("*Resolved"))
        .count();
    assert_eq!(starts, 1);
}
