//! Point 4 of issue 16: `okta-reset report R-…`, the incident record, from the store alone.

use okta_reset::report::{report_command, EXIT_CANNOT, EXIT_OK};
use okta_reset::sim::okta::{SimGroup, SimOrg, SimUser};

use crate::audit_cli::config_file;
use crate::helpers::*;

/// A login, name and reason full of Markdown: pipes, backticks, HTML, links, headings, newlines.
const HOSTILE: &str = "a|b `x` <img src=x onerror=alert(1)> [click](http://evil) # H";

fn hostile_org() -> SimOrg {
    let evil = SimUser::new("pipe|`tick`<b>@example.com", "[Eve](http://evil)", "# Head");
    let group = SimGroup::new("hostile").member(&evil.id);
    SimOrg::demo().user(evil).group(group)
}

#[tokio::test]
async fn the_report_holds_the_request_decisions_timeline_users_and_chain_head_escaped() {
    let app = spawn_with()
        .org(hostile_org())
        .config(|c| c.policy.notify_users = true)
        .start()
        .await;
    let ask = format!(r#"group:hostile reason:"{HOSTILE}" --contain"#);
    let p = app.request(&ask).await;
    app.click(APPROVER, &p, "approve").await;
    app.wait_thread(&p, "Run complete").await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while !app
        .audit_events(&p.id)
        .await
        .iter()
        .any(|e| e.action == "summary_posted")
    {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let url = app.w.config.store.url.clone();
    let digest = app.record(&p.id).await.digest;
    let okta_reset::sim::world::World {
        app: bot,
        store_dir,
        ..
    } = app.w;
    bot.shutdown().await;
    let config = config_file(store_dir.path(), &url);
    let out = report_command(&config, &p.id.to_lowercase()).await;
    assert_eq!(out.code, EXIT_OK, "{}", out.text);
    let md = out.text;
    for part in [
        format!("# Incident record: password reset R\\-{}", &p.id[2..]),
        format!("- **Requested by:** Slack user {REQUESTER}"),
        "- **Channel:** C0001 (team T0001)".to_string(),
        format!("- **Digest:** {digest}"),
        "- **Resolved:** 1, **to reset:** 1".to_string(),
        "- **Outcomes:** 1 reset, 0 skipped, 0 failed, 0 not attempted".to_string(),
        format!(" — approved by {APPROVER}"),
        "| Okta id | login | outcome | reason | sessions ended | notified | confirmed in System Log |".to_string(),
        // Sessions ended after the reset (`--contain`); no Slack account for this email.
        "| yes | no\\: no Slack account has their email | yes |".to_string(),
        "## Users who said they did not expect this\n\nNobody.".to_string(),
        "Head at the time of this report: #".to_string(),
    ] {
        assert!(md.contains(&part), "{part}\nin\n{md}");
    }
    // Hostile text is shown, escaped: no heading, link, HTML, code span or table cell of its own.
    assert!(
        md.contains("a\\|b \\`x\\` &lt;img src=x onerror=alert\\(1\\)&gt; \\[click\\]\\(http\\:"),
        "{md}"
    );
    assert!(
        md.contains("pipe\\|\\`tick\\`&lt;b&gt;@example\\.com"),
        "{md}"
    );
    assert!(!md.contains("<img"));
    assert!(!md.contains("](http"));
    assert_eq!(
        md.lines().filter(|l| l.starts_with('#')).count(),
        8,
        "only the report's own headings"
    );
    for row in md.lines().filter(|l| l.starts_with("| ")) {
        let unescaped = row.replace("\\|", "");
        assert_eq!(unescaped.matches('|').count(), 8, "seven cells: {row}");
    }
    // The timeline has the run's steps in order.
    let pos = |a: &str| {
        md.find(&format!(" — {a} ("))
            .unwrap_or_else(|| panic!("{a} in {md}"))
    };
    assert!(pos("request\\_received") < pos("approved"));
    assert!(pos("approved") < pos("run\\_finished"));
}

#[tokio::test]
async fn a_report_for_an_unknown_request_refuses_with_exit_2() {
    let app = spawn().await;
    let url = app.w.config.store.url.clone();
    let okta_reset::sim::world::World {
        app: bot,
        store_dir,
        ..
    } = app.w;
    bot.shutdown().await;
    let config = config_file(store_dir.path(), &url);
    let out = report_command(&config, "R-7K3M9QXD").await;
    assert_eq!(out.code, EXIT_CANNOT);
    assert_eq!(out.text, "There is no request R-7K3M9QXD in this store.");
    let out = report_command(&config, "R-<script>").await;
    assert_eq!(out.code, EXIT_CANNOT);
    assert_eq!(
        out.text,
        "`R-<script>` is not a request id (R- and 8 letters or digits, as in the thread)."
    );
}
