//! A link to Okta's admin System Log showing the password resets of one run, so an admin can
//! reconcile the bot's results with Okta's own record in one click.
//!
//! The link is the admin console's System Log page (`/report/system_log_2`) with the query the
//! console itself puts in its address bar: `search` (a System Log filter expression, the same
//! language as the API's `filter`), `fromTime` and `toTime` (RFC 3339, UTC). This page address is
//! what Okta's console uses and links to ("View logs" on a user); it is not part of Okta's
//! documented API, so it lives here alone. The console lives on the org's `-admin` host
//! (`acme.okta.com` → `acme-admin.okta.com`); orgs on a custom domain set `okta.admin_url`.

use url::Url;

/// The System Log event Okta writes for each reset this bot asks for.
pub const RESET_EVENT: &str = "user.account.reset_password";

/// Slack and Okta clocks differ a little, and Okta logs an event when the call is handled:
/// the window is widened by a minute on each side and rounded out to whole minutes.
const MARGIN_MS: i64 = 60_000;

/// Okta's own domains, where the admin console is the org's first label plus `-admin`.
const OKTA_DOMAINS: [&str; 5] = [
    "okta.com",
    "oktapreview.com",
    "okta-emea.com",
    "okta-gov.com",
    "okta.mil",
];

/// The admin console's base URL for `org`, or why it cannot be derived.
pub fn derive_admin_url(org: &Url) -> Result<Url, String> {
    if crate::config::is_loopback(org) {
        // A local fake serves both roles.
        return Ok(org.clone());
    }
    let host = org.host_str().unwrap_or_default().to_ascii_lowercase();
    let Some((first, domain)) = host.split_once('.') else {
        return Err(format!("`{host}` has no domain"));
    };
    if !OKTA_DOMAINS.contains(&domain) {
        return Err(format!(
            "`{host}` is not an Okta domain ({}), so the admin console's address cannot be derived",
            OKTA_DOMAINS.join(", ")
        ));
    }
    let admin = if first.ends_with("-admin") {
        first.to_string()
    } else {
        format!("{first}-admin")
    };
    let mut url = org.clone();
    url.set_host(Some(&format!("{admin}.{domain}")))
        .map_err(|e| format!("`{admin}.{domain}` is not a host name: {e}"))?;
    url.set_path("/");
    url.set_query(None);
    Ok(url)
}

fn utc_seconds(ms: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

/// The window the link shows: `[start − 1 min, end + 1 min]`, rounded out to whole minutes.
pub fn window(start_ms: i64, end_ms: i64) -> (i64, i64) {
    let from = (start_ms - MARGIN_MS).div_euclid(MARGIN_MS) * MARGIN_MS;
    let to = (end_ms.max(start_ms) + 2 * MARGIN_MS - 1).div_euclid(MARGIN_MS) * MARGIN_MS;
    (from, to)
}

/// The System Log page filtered to password resets between `start_ms` and `end_ms`.
pub fn reset_events_link(admin: &Url, start_ms: i64, end_ms: i64) -> Url {
    let (from, to) = window(start_ms, end_ms);
    let mut url = admin.clone();
    url.set_path("/report/system_log_2");
    url.query_pairs_mut()
        .clear()
        .append_pair("search", &format!("eventType eq \"{RESET_EVENT}\""))
        .append_pair("fromTime", &utc_seconds(from))
        .append_pair("toTime", &utc_seconds(to));
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn the_admin_console_is_the_org_host_with_admin_added() {
        let cases = [
            ("https://acme.okta.com", "https://acme-admin.okta.com/"),
            (
                "https://acme.oktapreview.com/",
                "https://acme-admin.oktapreview.com/",
            ),
            (
                "https://Acme.okta-emea.com/x?y=1",
                "https://acme-admin.okta-emea.com/",
            ),
            (
                "https://acme-admin.okta.com",
                "https://acme-admin.okta.com/",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080/"),
        ];
        for (org, admin) in cases {
            assert_eq!(
                derive_admin_url(&url(org)).unwrap().as_str(),
                admin,
                "{org}"
            );
        }
        assert_eq!(
            derive_admin_url(&url("https://login.acme.com")).unwrap_err(),
            "`login.acme.com` is not an Okta domain (okta.com, oktapreview.com, okta-emea.com, okta-gov.com, okta.mil), so the admin console's address cannot be derived"
        );
    }

    #[test]
    fn the_link_filters_to_reset_events_in_the_runs_window() {
        // Run from 05:17:11.123 to 05:42:30.000 UTC on 2025-11-27.
        let start = 1_764_220_631_123;
        let end = 1_764_222_150_000;
        let link = reset_events_link(&url("https://acme-admin.okta.com/"), start, end);
        assert_eq!(
            link.as_str(),
            "https://acme-admin.okta.com/report/system_log_2?search=eventType+eq+%22user.account.reset_password%22&fromTime=2025-11-27T05%3A16%3A00Z&toTime=2025-11-27T05%3A44%3A00Z"
        );
        let pairs: Vec<(String, String)> = link.query_pairs().into_owned().collect();
        assert_eq!(
            pairs[0],
            (
                "search".into(),
                "eventType eq \"user.account.reset_password\"".into()
            )
        );
        // A run that ends on a whole minute still gets its margin.
        let (from, to) = window(1_764_220_620_000, 1_764_220_680_000);
        assert_eq!((from, to), (1_764_220_560_000, 1_764_220_740_000));
    }
}
