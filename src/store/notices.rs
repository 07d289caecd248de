//! `policy.notify_users`: the journal of Slack DMs to reset users (`notices`): the types; the
//! SQL is `sql/notices.rs`. See `jobs::notify`.

/// One reset user's notice. `state` moves `sending` → `notified` | `not_notified`; `sending` is
/// written before the first Slack call for them, so a restart never DMs anyone twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRecord {
    pub request_id: String,
    pub seq: i64,
    pub state: String,
    pub reason: Option<String>,
    pub slack_user: Option<String>,
    pub dm_channel: Option<String>,
    pub dm_ts: Option<String>,
    pub reported_at: Option<i64>,
}

pub mod notice_state {
    pub const SENDING: &str = "sending";
    pub const NOTIFIED: &str = "notified";
    pub const NOT_NOTIFIED: &str = "not_notified";
}

/// How a notice ended (`Store::settle_notice`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoticeOutcome<'a> {
    pub state: &'a str,
    pub reason: Option<&'a str>,
    pub slack_user: Option<&'a str>,
    pub dm_channel: Option<&'a str>,
    pub dm_ts: Option<&'a str>,
}
