//! The approved list is checked again at run time: it was frozen when the request was made, and
//! Okta may have changed since. When a run starts, resumes (restart, takeover) or continues after
//! its canary, the protected accounts are read again; just before each user's reset the user and
//! their admin roles are read again. Someone no longer resettable is skipped (*changed since
//! approval*, with what changed): the list may shrink at run time, never grow.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;

use crate::domain::classify::{classify, Classification};
use crate::okta::protected::Protection;
use crate::okta::OktaError;
use crate::service::resolve::protection_text;
use crate::service::Service;
use crate::slack::outbound::Message;
use crate::slack::render;
use crate::store::{RequestRecord, TargetRecord};

/// Waits between attempts to read the protected accounts: the first retry comes soon (a blip),
/// later ones once a minute (a scope or a group an administrator has to fix).
const FIRST_RETRY: Duration = Duration::from_secs(2);
const LAST_RETRY: Duration = Duration::from_secs(60);

/// Why a run left the protection read without one.
pub(super) enum NoProtection {
    /// Okta refused the token itself: the run stops, as a reset refused this way stops it.
    Systemic(OktaError),
    /// Cancelled, shutting down, or another replica holds the run now: nobody was reset.
    Interrupted,
}

/// Reads who is protected now. Fails closed: while it cannot be read nobody is reset; the thread
/// is told once, and the read is tried again until it works or the run is cancelled, the bot
/// stops or the lease is lost.
pub(super) async fn protection_now(
    svc: &Service,
    r: &RequestRecord,
    cancel: &AtomicBool,
    lost: &AtomicBool,
) -> Result<Protection, NoProtection> {
    let policy = &svc.config.policy;
    let mut wait = FIRST_RETRY;
    let mut told = false;
    loop {
        match Protection::load(
            svc.okta.as_ref(),
            &policy.protected_groups,
            &policy.protected_logins,
        )
        .await
        {
            Ok(p) => {
                if told {
                    svc.say_in_thread(
                        r,
                        &Message::text(format!(
                            "✅ Okta answered {}: the protected accounts were read again and the run goes on.",
                            render::slack_date(svc.now())
                        )),
                    )
                    .await;
                }
                return Ok(p);
            }
            Err(e) => {
                // A rejected token fails every call: the run stops. Anything else (a 403 for a
                // missing `okta.roles.read`, a deleted protected group, Okta away) may be fixed
                // while the run waits.
                if let Some(okta) = e.okta_error().filter(|o| token_rejected(o)) {
                    return Err(NoProtection::Systemic(okta.clone()));
                }
                let e = protection_text(&e);
                tracing::warn!(request = %r.id, error = %e, "protected accounts unreadable; nobody is reset until they are");
                if !told {
                    told = true;
                    svc.audit(
                        Some(r.id.as_str()),
                        None,
                        "protection_unreadable",
                        json!({"why": e}),
                    )
                    .await;
                    svc.say_in_thread(
                        r,
                        &Message::text(format!(
                            "⚠️ Before resetting anyone the bot reads again who is protected, and {e}. Nobody is reset until it can be read; the bot keeps trying. To stop here: `/okta-reset cancel {}`.",
                            r.id
                        )),
                    )
                    .await;
                }
            }
        }
        // Sleep in short steps, so a cancel, a shutdown or a lost lease ends the wait promptly.
        let until = tokio::time::Instant::now() + wait;
        while tokio::time::Instant::now() < until {
            if cancel.load(Ordering::SeqCst) || svc.is_stopping() || lost.load(Ordering::SeqCst) {
                return Err(NoProtection::Interrupted);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        wait = (wait * 2).min(LAST_RETRY);
    }
}

fn token_rejected(e: &OktaError) -> bool {
    matches!(e, OktaError::Unauthorized | OktaError::AuthRefused { .. })
}

/// What the read just before a reset found.
pub(super) enum Recheck {
    Resettable,
    /// Not resettable any more; what changed.
    Changed(String),
}

/// Reads `t`'s user and admin roles again (`GET /api/v1/users/{id}` and
/// `GET /api/v1/users/{id}/roles`, at once) and decides whether they may still be reset.
pub(super) async fn still_resettable(
    svc: &Service,
    protect: &Protection,
    okta_id: &str,
    t: &TargetRecord,
) -> Result<Recheck, OktaError> {
    let (user, roles) = tokio::join!(
        svc.okta.get_user_entry(okta_id),
        svc.okta.user_roles(okta_id)
    );
    let user = match user? {
        Some(Ok(u)) => u,
        Some(Err(m)) => return Err(OktaError::Protocol(m.reason())),
        None => return Ok(Recheck::Changed("no longer in Okta".into())),
    };
    if let Some(p) = protect.check(&user) {
        return Ok(Recheck::Changed(format!("now {p}")));
    }
    match roles? {
        None => return Ok(Recheck::Changed("no longer in Okta".into())),
        Some(held) if !held.is_empty() => {
            let held: Vec<String> = held.iter().map(ToString::to_string).collect();
            return Ok(Recheck::Changed(format!(
                "now holds an Okta admin role ({})",
                held.join(", ")
            )));
        }
        Some(_) => {}
    }
    // Okta mails the reset link to the primary email the user has at the reset: one changed
    // since approval (what an intruder keeping an account does) is not the address approved.
    // Said without the addresses: the reason reaches the thread and the results file.
    let same = |now: Option<&str>, then: Option<&String>| match then {
        Some(then) => now.is_some_and(|n| n.trim().eq_ignore_ascii_case(then.trim())),
        None => true,
    };
    if !same(user.profile.email.as_deref(), t.target.email.as_ref()) {
        return Ok(Recheck::Changed(
            "primary email changed; the reset link would go to the new address".into(),
        ));
    }
    if !same(Some(user.profile.login.as_str()), t.target.login.as_ref()) {
        return Ok(Recheck::Changed("Okta login changed".into()));
    }
    let provider = user.provider().unwrap_or("");
    let was = |now: &str, then: Option<&String>| match then {
        Some(then) if then != now => format!(" (was {then})"),
        _ => String::new(),
    };
    Ok(match classify(provider, &user.status) {
        Classification::Reset if user.offers_reset() => Recheck::Resettable,
        Classification::Reset => Recheck::Changed(format!(
            "Okta no longer offers a password reset (status {})",
            user.status
        )),
        Classification::SkipStatus(s) => Recheck::Changed(format!(
            "status now {s}{}",
            was(&s, t.target.status.as_ref())
        )),
        other => Recheck::Changed(format!(
            "credential provider now {provider}{}: {other}",
            was(provider, t.target.provider.as_ref())
        )),
    })
}
