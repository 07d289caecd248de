//! The Web API side, driven by slack-morphism's client and by raw requests.

use std::time::Duration;

use serde_json::{json, Value};
use slack_morphism::errors::SlackClientError;
use slack_morphism::prelude::*;

use super::*;

#[tokio::test]
async fn slack_morphism_client_round_trips_every_method() {
    let sim = sim().await;
    let client = client(&sim.api_url());
    let tok = token(sim.bot_token());
    let session = client.open_session(&tok);

    let auth = session.auth_test().await.unwrap();
    assert_eq!(auth.user_id.0, "UBOT");
    assert_eq!(auth.team_id.0, "T0001");
    assert_eq!(auth.bot_id.unwrap().0, SIM_BOT_ID);

    let root = session
        .chat_post_message(&SlackApiChatPostMessageRequest::new(
            "C100".into(),
            SlackMessageContent::new()
                .with_text("reset request".into())
                .with_blocks(decision_blocks()),
        ))
        .await
        .unwrap();
    assert_eq!(root.channel.0, "C100");
    assert_eq!(root.ts.0, "1700000000.000100");
    assert_eq!(root.message.content.text.as_deref(), Some("reset request"));
    assert_eq!(root.message.content.blocks.as_ref().map(Vec::len), Some(2));

    let reply = session
        .chat_post_message(
            &SlackApiChatPostMessageRequest::new(
                "C100".into(),
                SlackMessageContent::new().with_text("working on it".into()),
            )
            .with_thread_ts(root.ts.clone()),
        )
        .await
        .unwrap();
    assert!(reply.ts.0.as_str() > root.ts.0.as_str());
    assert_eq!(reply.message.origin.thread_ts, Some(root.ts.clone()));

    let updated = session
        .chat_update(&SlackApiChatUpdateRequest::new(
            "C100".into(),
            SlackMessageContent::new().with_text("approved by <@U0002>".into()),
            root.ts.clone(),
        ))
        .await
        .unwrap();
    assert_eq!(updated.ts, root.ts);
    assert_eq!(
        updated.message.content.text.as_deref(),
        Some("approved by <@U0002>")
    );

    session
        .chat_post_ephemeral(
            &SlackApiChatPostEphemeralRequest::new(
                "C100".into(),
                "U0004".into(),
                SlackMessageContent::new().with_text("you cannot approve".into()),
            )
            .with_thread_ts(root.ts.clone()),
        )
        .await
        .unwrap();

    let alice = session
        .users_info(&SlackApiUsersInfoRequest::new("U0001".into()))
        .await
        .unwrap()
        .user;
    assert_eq!(alice.real_name.as_deref(), Some("Alice Admin"));
    assert_eq!(alice.flags.is_admin, Some(true));
    let email = alice.profile.unwrap().email.unwrap();
    assert_eq!(email.0, "alice@example.com");
    let guest = session
        .users_info(&SlackApiUsersInfoRequest::new("UGUEST1".into()))
        .await
        .unwrap()
        .user;
    assert_eq!(guest.flags.is_restricted, Some(true));
    assert_eq!(guest.flags.is_admin, Some(false));

    // What the sim recorded.
    let thread = sim.thread("C100", &root.ts.0);
    assert_eq!(thread.len(), 2);
    assert_eq!(thread[0].text, "approved by <@U0002>");
    assert_eq!(thread[0].edits.len(), 1);
    assert_eq!(thread[0].edits[0].0, "reset request");
    // A text-only update keeps the blocks, as Slack does.
    assert_eq!(thread[0].blocks[1]["elements"][0]["action_id"], "approve");
    assert_eq!(thread[1].text, "working on it");
    assert_eq!(thread[1].thread_ts.as_deref(), Some(root.ts.0.as_str()));
    assert_eq!(thread[1].user, "UBOT");
    let eph = sim.ephemerals();
    assert_eq!(eph.len(), 1);
    assert_eq!(
        (eph[0].channel.as_str(), eph[0].user.as_str()),
        ("C100", "U0004")
    );
    assert_eq!(eph[0].thread_ts.as_deref(), Some(root.ts.0.as_str()));
    assert!(!eph[0].via_response_url);
    assert_eq!(sim.api_calls("chat.postMessage"), 2);
    assert_eq!(sim.api_calls("users.info"), 2);
    assert_eq!(sim.api_calls("chat.update"), 1);
}

#[tokio::test]
async fn slack_errors_come_back_as_api_errors() {
    let sim = sim().await;
    let client = client(&sim.api_url());
    let tok = token(sim.bot_token());
    let session = client.open_session(&tok);
    let e = session
        .users_info(&SlackApiUsersInfoRequest::new("U9999".into()))
        .await
        .unwrap_err();
    assert_eq!(api_error(e), "user_not_found");
    let e = session
        .chat_update(&SlackApiChatUpdateRequest::new(
            "C1".into(),
            SlackMessageContent::new().with_text("x".into()),
            "1.000001".into(),
        ))
        .await
        .unwrap_err();
    assert_eq!(api_error(e), "message_not_found");
    let e = session
        .chat_post_message(
            &SlackApiChatPostMessageRequest::new(
                "C1".into(),
                SlackMessageContent::new().with_text("x".into()),
            )
            .with_thread_ts("1.000001".into()),
        )
        .await
        .unwrap_err();
    assert_eq!(api_error(e), "thread_not_found");
    let e = session
        .chat_post_ephemeral(&SlackApiChatPostEphemeralRequest::new(
            "C1".into(),
            "UNOBODY".into(),
            SlackMessageContent::new().with_text("x".into()),
        ))
        .await
        .unwrap_err();
    assert_eq!(api_error(e), "user_not_in_channel");
    assert!(sim.messages().is_empty());

    let wrong_tok = token("xoxb-wrong");
    let wrong = client.open_session(&wrong_tok);
    assert_eq!(
        api_error(wrong.auth_test().await.unwrap_err()),
        "invalid_auth"
    );

    sim.fail_next("chat.postMessage", 1, "fatal_error");
    let req = SlackApiChatPostMessageRequest::new(
        "C1".into(),
        SlackMessageContent::new().with_text("hi".into()),
    );
    assert_eq!(
        api_error(session.chat_post_message(&req).await.unwrap_err()),
        "fatal_error"
    );
    assert!(session.chat_post_message(&req).await.is_ok());
    assert_eq!(sim.messages().len(), 1);
}

#[tokio::test]
async fn usergroups_users_list_answers_members_and_no_such_subteam() {
    let sim = sim().await;
    let client = client(&sim.api_url());
    let tok = token(sim.bot_token());
    let session = client.open_session(&tok);
    sim.put_usergroup("S0ADMINS", &["U0001", "U0003"]);
    let req = SlackApiUserGroupsUsersListRequest::new("S0ADMINS".into());
    let users = session.usergroups_users_list(&req).await.unwrap().users;
    assert_eq!(users, vec!["U0001".into(), "U0003".into()]);
    // A changed membership is seen by the next call.
    sim.put_usergroup("S0ADMINS", &["U0002"]);
    let users = session.usergroups_users_list(&req).await.unwrap().users;
    assert_eq!(users, vec![SlackUserId("U0002".into())]);
    let e = session
        .usergroups_users_list(&SlackApiUserGroupsUsersListRequest::new("S0NOPE".into()))
        .await
        .unwrap_err();
    assert_eq!(api_error(e), "no_such_subteam");
    assert_eq!(sim.api_calls("usergroups.users.list"), 3);
}

#[tokio::test]
async fn rate_limited_calls_get_429_with_retry_after() {
    let sim = sim().await;
    let client = client(&sim.api_url());
    let tok = token(sim.bot_token());
    let session = client.open_session(&tok);
    sim.rate_limit_next("chat.postMessage", 1, 1);
    let req = SlackApiChatPostMessageRequest::new(
        "C1".into(),
        SlackMessageContent::new().with_text("hi".into()),
    );
    // The queued 429, then a call too early: refused again and recorded as a violation.
    for _ in 0..2 {
        match session.chat_post_message(&req).await.unwrap_err() {
            SlackClientError::RateLimitError(e) => {
                assert_eq!(e.retry_after, Some(Duration::from_secs(1)));
                assert_eq!(e.code.as_deref(), Some("ratelimited"));
            }
            other => panic!("expected 429, got {other:?}"),
        }
    }
    let violations = sim.retry_after_violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(violations[0].starts_with("chat.postMessage called "));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(session.chat_post_message(&req).await.is_ok());
    assert_eq!(sim.api_calls("chat.postMessage"), 3);
    assert_eq!(sim.call_times("chat.postMessage").len(), 3);
    assert_eq!(sim.messages().len(), 1);
    assert_eq!(sim.retry_after_violations().len(), 1);

    // And on the wire.
    sim.rate_limit_next("users.info", 1, 3);
    let r = reqwest::Client::new()
        .get(format!("{}/users.info?user=U0001", sim.api_url()))
        .bearer_auth(sim.bot_token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(r.headers()["retry-after"], "3");
}

#[tokio::test]
async fn form_bodies_get_queries_missing_auth_and_unknown_methods() {
    let sim = sim().await;
    let http = reqwest::Client::new();
    let api = sim.api_url();
    let blocks = json!([{"type": "section", "text": {"type": "mrkdwn", "text": "from a form"}}]);
    let form = [
        ("channel", "C7".to_string()),
        ("text", "fallback".to_string()),
        ("blocks", blocks.to_string()),
    ];
    let r: Value = http
        .post(format!("{api}/chat.postMessage"))
        .bearer_auth(sim.bot_token())
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["ok"], true);
    assert_eq!(sim.messages()[0].blocks, blocks);

    // Block Kit's limits: a section of 3001 characters, a 151-character header, 51 blocks.
    let section =
        |n: usize| json!({"type": "section", "text": {"type": "mrkdwn", "text": "é".repeat(n)}});
    for (blocks, ok) in [
        (json!([section(3000)]), true),
        (json!([section(3001)]), false),
        (
            json!([{"type": "header", "text": {"type": "plain_text", "text": "h".repeat(151)}}]),
            false,
        ),
        (Value::Array(vec![section(1); 51]), false),
    ] {
        let r: Value = http
            .post(format!("{api}/chat.postMessage"))
            .bearer_auth(sim.bot_token())
            .json(&json!({"channel": "C7", "text": "t", "blocks": blocks}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(r["ok"], ok, "{r}");
        if !ok {
            assert_eq!(r["error"], "invalid_blocks");
        }
    }

    // Query and body merge: channel in the query, text in the JSON body.
    let r: Value = http
        .post(format!("{api}/chat.postMessage?channel=C8"))
        .bearer_auth(sim.bot_token())
        .json(&json!({"text": "merged"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (r["ok"].clone(), r["channel"].clone()),
        (json!(true), json!("C8"))
    );

    let r: Value = http
        .get(format!("{api}/users.info?user=U0002"))
        .bearer_auth(sim.bot_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["user"]["profile"]["email"], "bob@example.com");

    let r = http.get(format!("{api}/auth.test")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"ok": false, "error": "invalid_auth"})
    );

    let r: Value = http
        .post(format!("{api}/chat.delete"))
        .bearer_auth(sim.bot_token())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r, json!({"ok": false, "error": "unknown_method"}));

    let r: Value = http
        .post(format!("{api}/chat.postMessage"))
        .bearer_auth(sim.bot_token())
        .json(&json!({"text": "nowhere"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["error"], "channel_not_found");

    // A base URL with a trailing slash (double slash on the wire) still reaches the method.
    let c = client(&format!("{api}/"));
    let auth = c.open_session(&token(sim.bot_token())).auth_test().await;
    assert_eq!(auth.unwrap().user_id.0, "UBOT");
}

#[tokio::test]
async fn transcript_shows_buttons_edits_replies_and_ephemerals() {
    let sim = sim().await;
    let client = client(&sim.api_url());
    let tok = token(sim.bot_token());
    let s = client.open_session(&tok);
    let post = |text: &str, thread: Option<SlackTs>| {
        let mut r = SlackApiChatPostMessageRequest::new(
            "C1".into(),
            SlackMessageContent::new().with_text(text.into()),
        );
        r.thread_ts = thread;
        r
    };
    let root = s
        .chat_post_message(&SlackApiChatPostMessageRequest::new(
            "C1".into(),
            SlackMessageContent::new()
                .with_text("fallback".into())
                .with_blocks(decision_blocks()),
        ))
        .await
        .unwrap();
    s.chat_post_message(&post("Approved by bob", Some(root.ts.clone())))
        .await
        .unwrap();
    s.chat_post_ephemeral(
        &SlackApiChatPostEphemeralRequest::new(
            "C1".into(),
            "U0001".into(),
            SlackMessageContent::new().with_text("You cannot approve your own request".into()),
        )
        .with_thread_ts(root.ts.clone()),
    )
    .await
    .unwrap();
    s.chat_post_ephemeral(&SlackApiChatPostEphemeralRequest::new(
        "C1".into(),
        "U0003".into(),
        SlackMessageContent::new().with_text("Usage: /okta-reset group &lt;NAME&gt;".into()),
    ))
    .await
    .unwrap();
    s.chat_update(&SlackApiChatUpdateRequest::new(
        "C1".into(),
        SlackMessageContent::new()
            .with_text("done".into())
            .with_blocks(vec![SlackSectionBlock::new()
                .with_text(md!("Reset *3* users: done"))
                .into()]),
        root.ts.clone(),
    ))
    .await
    .unwrap();
    s.chat_post_message(&post("second root", None))
        .await
        .unwrap();
    s.chat_post_message(&SlackApiChatPostMessageRequest::new(
        "C2".into(),
        SlackMessageContent::new().with_text("other channel".into()),
    ))
    .await
    .unwrap();

    assert_eq!(
        sim.transcript("C1"),
        "Reset *3* users: done\n\
         (edited 1 times)\n  \
         ↳ Approved by bob\n  \
         ↳ [only visible to alice] You cannot approve your own request\n\
         [only visible to carol] Usage: /okta-reset group &lt;NAME&gt;\n\
         second root\n"
    );
    // Before the edit the buttons showed: the first version is kept in the history.
    let first = &sim.messages()[0].edits[0];
    assert_eq!(
        render_blocks(&first.1).unwrap(),
        "Reset *3* users in `Sales &amp; Ops`?\n[Approve] [Deny]"
    );
    assert_eq!(sim.transcript("C2"), "other channel\n");
    assert_eq!(sim.transcript("C404"), "");
}

#[tokio::test]
async fn wait_for_succeeds_when_the_condition_holds_and_names_what_it_waited_for() {
    let sim = sim().await;
    let err = sim
        .wait_for("the approval message", Duration::from_millis(50), |s| {
            !s.messages().is_empty()
        })
        .await
        .unwrap_err();
    assert!(err.contains("the approval message"), "{err}");
    let s2 = sim.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(30)).await;
        let c = client(&s2.api_url());
        c.open_session(&token(s2.bot_token()))
            .chat_post_message(&SlackApiChatPostMessageRequest::new(
                "C1".into(),
                SlackMessageContent::new().with_text("late".into()),
            ))
            .await
            .unwrap();
    });
    sim.wait_for("a message", Duration::from_secs(5), |s| {
        s.messages().len() == 1
    })
    .await
    .unwrap();
    assert_eq!(sim.messages()[0].text, "late");
}

#[tokio::test]
async fn email_lookups_and_dm_opening_answer_as_slack_does() {
    let sim = sim().await;
    let http = reqwest::Client::new();
    let api = sim.api_url();
    let call = |method: &str, form: Vec<(&str, &str)>| {
        let req = http
            .post(format!("{api}/{method}"))
            .bearer_auth(sim.bot_token())
            .form(&form);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let found = call("users.lookupByEmail", vec![("email", "BOB@example.com")]).await;
    assert_eq!(found["user"]["id"], "U0002");
    assert_eq!(found["user"]["deleted"], false);
    let none = call("users.lookupByEmail", vec![("email", "nobody@example.com")]).await;
    assert_eq!(none, json!({"ok": false, "error": "users_not_found"}));

    let dm = call("conversations.open", vec![("users", "U0002")]).await;
    assert_eq!(dm["channel"]["id"], bot_dm("U0002"));
    let mut gone = sim.user("U0003").unwrap();
    gone.deleted = true;
    sim.put_user(gone);
    // Slack still finds a deactivated user by email, and will not open a DM with them.
    let found = call("users.lookupByEmail", vec![("email", "carol@example.com")]).await;
    assert_eq!(found["user"]["deleted"], true);
    let refused = call("conversations.open", vec![("users", "U0003")]).await;
    assert_eq!(refused["error"], "user_disabled");
    let unknown = call("conversations.open", vec![("users", "U0999")]).await;
    assert_eq!(unknown["error"], "user_not_found");

    // slack-morphism's own request (`users` as a JSON array) works too.
    let client = client(&api);
    let tok = token(sim.bot_token());
    let session = client.open_session(&tok);
    let opened = session
        .conversations_open(
            &SlackApiConversationsOpenRequest::new().with_users(vec!["U0002".into()]),
        )
        .await
        .unwrap();
    assert_eq!(opened.channel.id.0, bot_dm("U0002"));
}
