//! In-memory stand-ins for Okta and Slack, for tests of the application layer that need no HTTP:
//! a fake answers from what the test put in it and records what it was asked. A call the fake
//! does not model fails (Okta: a transport error; Slack: an API error), so a test that strays
//! from what it set up fails loudly rather than passing on a default.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use url::Url;

use crate::clock::Clock;
use crate::config::Config;
use crate::metrics::OktaHealth;
use crate::okta::client::{Page, PushChallenge, ResetDone, ResetEvent};
use crate::okta::entry::Malformed;
use crate::okta::model::{OktaGroup, OktaUser, UserProfile};
use crate::okta::protected::RoleHeld;
use crate::okta::{OktaApi, OktaError};
use crate::results::CsvFile;
use crate::slack::outbound::{
    DownloadError, FileInfo, Lookup, Message, SlackApi, SlackApiError, SlackUserInfo,
};
use crate::slack::upload::UploadError;

use super::Service;

const ORG: &str = "https://fake.okta.test";

/// Okta users, found by id, login or an exact `eq` search on `profile.login`/`profile.email`.
#[derive(Default)]
pub struct FakeOkta {
    users: Vec<OktaUser>,
    /// Every call made, in order: the method and its argument (a search: its expression).
    pub calls: Mutex<Vec<String>>,
}

impl FakeOkta {
    pub fn with_user(mut self, id: &str, login: &str, email: &str) -> Self {
        self.users.push(OktaUser {
            id: id.into(),
            status: "ACTIVE".into(),
            status_changed: None,
            profile: UserProfile {
                login: login.into(),
                email: Some(email.into()),
                first_name: None,
                last_name: None,
            },
            credentials: None,
            links: None,
        });
        self
    }

    fn find(&self, id_or_login: &str) -> Option<OktaUser> {
        self.users
            .iter()
            .find(|u| u.id == id_or_login || u.profile.login.eq_ignore_ascii_case(id_or_login))
            .cloned()
    }

    fn asked(&self, method: &str, arg: impl std::fmt::Display) {
        self.calls
            .lock()
            .expect("calls")
            .push(format!("{method} {arg}"));
    }

    /// A call the fake does not model: recorded, and answered with a transport error.
    fn unmodelled<T>(&self, what: &str) -> Result<T, OktaError> {
        self.asked(what, "(not modelled)");
        Err(OktaError::Transport(format!(
            "{what} is not modelled by the fake"
        )))
    }

    /// The users an `attr eq "value"` search finds (Okta compares case-insensitively).
    fn search(&self, expression: &str) -> Result<Vec<OktaUser>, OktaError> {
        let Some((attr, value)) = expression.split_once(" eq ") else {
            return self.unmodelled(expression);
        };
        let value = value.trim_matches('"').to_lowercase();
        Ok(self
            .users
            .iter()
            .filter(|u| {
                let field = match attr {
                    "profile.login" => Some(u.profile.login.as_str()),
                    "profile.email" => u.profile.email.as_deref(),
                    _ => None,
                };
                field.is_some_and(|f| f.to_lowercase() == value)
            })
            .cloned()
            .collect())
    }
}

#[async_trait]
impl OktaApi for FakeOkta {
    fn last_contact(&self) -> (OktaHealth, i64) {
        (OktaHealth::Unknown, 0)
    }

    async fn get_user(&self, id_or_login: &str) -> Result<Option<OktaUser>, OktaError> {
        self.asked("get_user", id_or_login);
        Ok(self.find(id_or_login))
    }

    async fn get_user_entry(
        &self,
        id_or_login: &str,
    ) -> Result<Option<Result<OktaUser, Malformed>>, OktaError> {
        self.asked("get_user_entry", id_or_login);
        Ok(self.find(id_or_login).map(Ok))
    }

    async fn groups_named(&self, _: &str) -> Result<Vec<OktaGroup>, OktaError> {
        self.unmodelled("groups")
    }

    async fn get_group(&self, _: &str) -> Result<Option<OktaGroup>, OktaError> {
        self.unmodelled("groups")
    }

    fn group_members_url(&self, group_id: &str) -> Url {
        Url::parse(&format!("{ORG}/api/v1/groups/{group_id}/users")).expect("a URL")
    }

    fn user_search_url(&self, expression: &str) -> Url {
        let mut url = Url::parse(&format!("{ORG}/api/v1/users")).expect("a URL");
        url.query_pairs_mut().append_pair("search", expression);
        url
    }

    /// One page holding every user the search finds.
    async fn users_page(&self, url: &Url) -> Result<Page<Result<OktaUser, Malformed>>, OktaError> {
        let Some((_, expression)) = url.query_pairs().find(|(k, _)| k == "search") else {
            return self.unmodelled("group members");
        };
        self.asked("users_page", &expression);
        Ok(Page {
            items: self.search(&expression)?.into_iter().map(Ok).collect(),
            next: None,
        })
    }

    async fn admin_user_ids(&self) -> Result<HashSet<String>, OktaError> {
        self.asked("admin_user_ids", "");
        Ok(HashSet::new())
    }

    async fn user_roles(&self, user_id: &str) -> Result<Option<Vec<RoleHeld>>, OktaError> {
        self.asked("user_roles", user_id);
        Ok(Some(Vec::new()))
    }

    async fn reset_password(&self, _: &str, _: bool) -> Result<ResetDone, OktaError> {
        self.unmodelled("reset_password")
    }

    async fn revoke_sessions(&self, _: &str) -> Result<(), OktaError> {
        self.unmodelled("revoke_sessions")
    }

    async fn reset_events(&self, _: i64, _: i64) -> Result<Vec<ResetEvent>, OktaError> {
        self.unmodelled("the System Log")
    }

    async fn push_factor(&self, _: &str) -> Result<Option<String>, OktaError> {
        self.unmodelled("factors")
    }

    async fn verify_push(&self, _: &str, _: &str) -> Result<PushChallenge, OktaError> {
        self.unmodelled("factors")
    }

    async fn push_result(&self, _: &Url) -> Result<String, OktaError> {
        self.unmodelled("factors")
    }
}

/// What the fake Slack was asked to say, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said {
    Post {
        channel: String,
        thread_ts: Option<String>,
        text: String,
    },
    Update {
        channel: String,
        ts: String,
        text: String,
    },
    Ephemeral {
        channel: String,
        user: String,
        text: String,
    },
}

/// Slack users and user groups; messages are recorded, not sent.
#[derive(Default)]
pub struct FakeSlack {
    users: HashMap<String, SlackUserInfo>,
    pub groups: Mutex<HashMap<String, Vec<String>>>,
    /// `usergroups.users.list` calls answered with an error before the lists are given again.
    pub failing_group_reads: Mutex<u32>,
    /// `usergroups.users.list` calls made, failed ones included.
    pub group_reads: Mutex<u32>,
    pub said: Mutex<Vec<Said>>,
}

impl FakeSlack {
    pub fn with_user(mut self, id: &str, email: Option<&str>) -> Self {
        self.users.insert(
            id.into(),
            SlackUserInfo {
                email: email.map(str::to_string),
                deleted: false,
                is_bot: false,
                is_guest: false,
                team_id: None,
            },
        );
        self
    }

    /// A guest account (single- or multi-channel) of this workspace.
    pub fn with_guest(mut self, id: &str, email: &str) -> Self {
        self = self.with_user(id, Some(email));
        self.users.get_mut(id).expect("just added").is_guest = true;
        self
    }

    pub fn put_group(&self, group: &str, members: &[&str]) {
        self.groups.lock().expect("groups").insert(
            group.into(),
            members.iter().map(|m| m.to_string()).collect(),
        );
    }

    pub fn said(&self) -> Vec<Said> {
        self.said.lock().expect("said").clone()
    }

    fn record(&self, s: Said) {
        self.said.lock().expect("said").push(s);
    }
}

fn refused(method: &'static str, detail: &str) -> SlackApiError {
    SlackApiError {
        method,
        detail: detail.into(),
    }
}

#[async_trait]
impl SlackApi for FakeSlack {
    async fn post(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        msg: &Message,
    ) -> Result<String, SlackApiError> {
        let mut said = self.said.lock().expect("said");
        said.push(Said::Post {
            channel: channel.into(),
            thread_ts: thread_ts.map(str::to_string),
            text: msg.text.clone(),
        });
        Ok(format!("1700000000.{:06}", said.len()))
    }

    async fn update(&self, channel: &str, ts: &str, msg: &Message) -> Result<(), SlackApiError> {
        self.record(Said::Update {
            channel: channel.into(),
            ts: ts.into(),
            text: msg.text.clone(),
        });
        Ok(())
    }

    async fn ephemeral(
        &self,
        channel: &str,
        user: &str,
        _: Option<&str>,
        msg: &Message,
    ) -> Result<(), SlackApiError> {
        self.record(Said::Ephemeral {
            channel: channel.into(),
            user: user.into(),
            text: msg.text.clone(),
        });
        Ok(())
    }

    async fn user_info(&self, user: &str) -> Result<SlackUserInfo, SlackApiError> {
        self.users
            .get(user)
            .cloned()
            .ok_or_else(|| refused("users.info", "user_not_found"))
    }

    async fn usergroup_members(&self, group: &str) -> Result<Vec<String>, SlackApiError> {
        *self.group_reads.lock().expect("reads") += 1;
        {
            let mut failing = self.failing_group_reads.lock().expect("failing");
            if *failing > 0 {
                *failing -= 1;
                return Err(refused("usergroups.users.list", "fatal_error"));
            }
        }
        self.groups
            .lock()
            .expect("groups")
            .get(group)
            .cloned()
            .ok_or_else(|| refused("usergroups.users.list", "no_such_subteam"))
    }

    async fn lookup_by_email(&self, _: &str) -> Result<Lookup, SlackApiError> {
        Err(refused("users.lookupByEmail", "not modelled by the fake"))
    }

    async fn open_dm(&self, _: &str) -> Result<String, SlackApiError> {
        Err(refused("conversations.open", "not modelled by the fake"))
    }

    async fn views_open(&self, _: &str, _: serde_json::Value) -> Result<(), SlackApiError> {
        Err(refused("views.open", "not modelled by the fake"))
    }

    async fn file_info(&self, _: &str) -> Result<FileInfo, SlackApiError> {
        Err(refused("files.info", "not modelled by the fake"))
    }

    async fn bot_user_id(&self) -> Result<String, SlackApiError> {
        Ok("UBOT".into())
    }

    async fn is_dm_with_bot(&self, _: &str) -> Result<bool, SlackApiError> {
        Ok(false)
    }

    async fn download(&self, _: &Url, _: &Url, _: usize) -> Result<Vec<u8>, DownloadError> {
        Err(DownloadError::Transport("not modelled by the fake".into()))
    }

    async fn upload_file(
        &self,
        _: &str,
        _: &str,
        _: &CsvFile,
        _: &str,
    ) -> Result<String, UploadError> {
        Err(UploadError {
            step: "files.getUploadURLExternal",
            reason: "not modelled by the fake".into(),
        })
    }
}

/// A service on `okta` and `slack`, with the simulated world's configuration (changed by
/// `tweak`) and a SQLite store in `dir`.
pub async fn service(
    okta: Arc<FakeOkta>,
    slack: Arc<FakeSlack>,
    clock: Arc<dyn Clock>,
    dir: &tempfile::TempDir,
    tweak: impl FnOnce(&mut Config),
) -> Arc<Service> {
    let store_url = format!("sqlite://{}/store.db", dir.path().display());
    let toml = crate::sim::world::config_toml(
        "http://127.0.0.1:9/api",
        "http://127.0.0.1:9",
        &store_url,
        "127.0.0.1:0",
    );
    let mut config = Config::from_toml(&toml).expect("the world's configuration");
    tweak(&mut config);
    let store = crate::store::open(&store_url).await.expect("a store");
    Service::new(Arc::new(config), store, okta, slack, clock).0
}
