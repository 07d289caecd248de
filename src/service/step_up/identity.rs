//! Who the approver is in Okta: the email of their Slack profile, matched exactly on Okta's
//! `login`, then on `profile.email`. None or more than one is a refusal: an approval must be
//! bound to exactly one Okta account before Okta is asked to confirm it.

use crate::okta::client::escape_filter_value;
use crate::okta::OktaApi;
use crate::slack::escape::{escape_clipped, one_line};
use crate::slack::outbound::SlackApi;

/// The approver's Okta account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OktaAccount {
    pub id: String,
    pub login: String,
}

const NO_SINGLE: &str = "No single Okta account matches your Slack email";

/// Finds the one Okta account of `slack_user`, or the sentence that says why not.
pub async fn okta_account(
    slack: &dyn SlackApi,
    okta: &dyn OktaApi,
    slack_user: &str,
) -> Result<OktaAccount, String> {
    let me = slack.user_info(slack_user).await.map_err(|e| {
        tracing::warn!(error = %e, "users.info failed for a step-up");
        "Your Slack profile could not be read, so your Okta account is not known; nothing was recorded. Try again shortly.".to_string()
    })?;
    let Some(email) = me.email.filter(|e| !e.trim().is_empty()) else {
        return Err(format!(
            "{NO_SINGLE}: your Slack profile shows no email; nothing was recorded."
        ));
    };
    let email = email.trim().to_string();
    for attr in ["profile.login", "profile.email"] {
        let found = matches(okta, attr, &email).await?;
        match found.len() {
            0 => continue,
            1 => return Ok(found.into_iter().next().expect("one")),
            n => {
                return Err(format!(
                    "{NO_SINGLE} ({n} Okta accounts have it as their {}); nothing was recorded. Ask an Okta admin to make it unique.",
                    attr.trim_start_matches("profile.")
                ))
            }
        }
    }
    Err(format!(
        "{NO_SINGLE} (no Okta account has it as its login or email); nothing was recorded."
    ))
}

/// Users whose `attr` equals `value` (Okta compares case-insensitively; checked again here).
async fn matches(okta: &dyn OktaApi, attr: &str, value: &str) -> Result<Vec<OktaAccount>, String> {
    let expr = format!("{attr} eq \"{}\"", escape_filter_value(value));
    let mut url = Some(okta.user_search_url(&expr));
    let mut out = Vec::new();
    while let Some(u) = url {
        let page = okta.users_page(&u).await.map_err(|e| {
            tracing::warn!(error = %e, "Okta user search failed for a step-up");
            let said = escape_clipped(&one_line(&e.to_string()), 300).0;
            format!("Okta could not be asked who you are ({said}); nothing was recorded. Try again shortly.")
        })?;
        for user in page.items.into_iter().flatten() {
            let field = match attr {
                "profile.login" => Some(user.profile.login.as_str()),
                _ => user.profile.email.as_deref(),
            };
            if field.is_some_and(|f| f.eq_ignore_ascii_case(value)) {
                out.push(OktaAccount {
                    id: user.id.clone(),
                    login: user.profile.login.clone(),
                });
            }
        }
        url = page.next;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::fakes::{FakeOkta, FakeSlack};

    fn slack() -> FakeSlack {
        FakeSlack::default()
            .with_user("U0002", Some(" Bob@Example.com "))
            .with_user("U0005", None)
    }

    #[tokio::test]
    async fn the_login_decides_first_then_the_email_and_matching_ignores_case() {
        let okta = FakeOkta::default()
            .with_user("00u1", "bob@example.com", "robert@example.com")
            .with_user("00u2", "robert", "bob@example.com");
        let found = okta_account(&slack(), &okta, "U0002").await.unwrap();
        assert_eq!(
            found,
            OktaAccount {
                id: "00u1".into(),
                login: "bob@example.com".into()
            }
        );
        // The Slack email was trimmed and asked as is; the login match made the email search moot.
        assert_eq!(
            *okta.calls.lock().unwrap(),
            vec![r#"users_page profile.login eq "Bob@Example.com""#.to_string()]
        );

        let okta = FakeOkta::default().with_user("00u2", "robert", "BOB@example.com");
        let found = okta_account(&slack(), &okta, "U0002").await.unwrap();
        assert_eq!(found.id, "00u2");
    }

    #[tokio::test]
    async fn none_or_two_accounts_or_no_email_is_a_refusal_in_words() {
        let two = FakeOkta::default()
            .with_user("00u1", "bob1", "bob@example.com")
            .with_user("00u2", "bob2", "bob@example.com");
        assert_eq!(
            okta_account(&slack(), &two, "U0002").await.unwrap_err(),
            "No single Okta account matches your Slack email (2 Okta accounts have it as their email); nothing was recorded. Ask an Okta admin to make it unique."
        );
        let none = FakeOkta::default().with_user("00u1", "carol", "carol@example.com");
        assert_eq!(
            okta_account(&slack(), &none, "U0002").await.unwrap_err(),
            "No single Okta account matches your Slack email (no Okta account has it as its login or email); nothing was recorded."
        );
        let err = okta_account(&slack(), &none, "U0005").await.unwrap_err();
        assert_eq!(
            err,
            "No single Okta account matches your Slack email: your Slack profile shows no email; nothing was recorded."
        );
        assert_eq!(
            none.calls.lock().unwrap().len(),
            2,
            "no search without an email"
        );
        let err = okta_account(&slack(), &none, "U0009").await.unwrap_err();
        assert!(
            err.starts_with("Your Slack profile could not be read"),
            "{err}"
        );
    }
}
