//! Issue 12 point 3: lookups of every kind at a steady pace never wait for a rate-limit window
//! they have not nearly spent. Each Okta endpoint family has its own bucket (in the simulated org
//! as in Okta), and the pacer keeps them apart.

use std::time::Duration;

use okta_reset::sim::okta::{okta_id, OktaSimConfig, SimOrg};

use crate::helpers::*;

#[tokio::test]
async fn mixed_lookups_never_wait_for_a_window_they_have_not_spent() {
    // Okta's default limits; a short window so the run covers most of one, where the old pacer
    // (one bucket for group-by-id, members, user search and roles) read another family's lower
    // `Remaining` as someone else's spending and waited the window out.
    let org = SimOrg::demo().with_generated_group("bench", 1000);
    let app = spawn_with()
        .org(org)
        .okta(OktaSimConfig {
            window: Duration::from_secs(4),
            latency: Duration::from_millis(20),
            ..OktaSimConfig::default()
        })
        .config(|c| {
            c.policy.max_requests_per_hour = 1000;
            c.policy.max_targets_per_day = 1_000_000;
        })
        .start()
        .await;
    let contractors = okta_id("00g", "demo:contractors");
    let lookups = [
        "group:bench".to_string(),
        format!("group:{contractors}"),
        "user:c01.lee@contractors.example.com".to_string(),
        r#"search:'profile.department eq "Sales"'"#.to_string(),
    ];
    let mut n = 0;
    for round in 0..4 {
        for what in &lookups {
            n += 1;
            let p = app
                .request_nth(n, &format!(r#"{what} reason:"round {round}""#))
                .await;
            assert!(!p.id.is_empty());
        }
    }
    let okta = app.w.app.okta.stats();
    let sim = app.w.okta.stats();
    assert_eq!(sim.rate_limited + sim.concurrency_limited, 0);
    assert_eq!(
        okta.window_waits, 0,
        "a lookup waited for a rate-limit window far from spent"
    );
    // The run did reach every family it paces.
    assert!(sim.calls.group_by_id > 0 && sim.calls.groups > 0);
    assert!(sim.calls.users_list > 0 && sim.calls.other > 0);
}
