//! The Okta org as the rest of the bot sees it: one trait with the calls the application layer
//! and the jobs make, implemented by the real [`OktaClient`] (tests may put a fake in its place,
//! as the store's contract tests do for the store). What only the real client has — its pacing
//! statistics, its concurrency gate, its last contact for `/readyz` — stays on [`OktaClient`],
//! held by the wiring (`app.rs`) beside the service.

use std::collections::HashSet;

use async_trait::async_trait;
use url::Url;

use super::client::{Page, PushChallenge, ResetDone, ResetEvent};
use super::entry::Malformed;
use super::model::{OktaGroup, OktaUser};
use super::protected::RoleHeld;
use super::{OktaClient, OktaError};
use crate::metrics::OktaHealth;

#[async_trait]
pub trait OktaApi: Send + Sync + 'static {
    /// What the last contact with Okta said about the connection, and when (unix seconds; 0 for
    /// never), for `/readyz`.
    fn last_contact(&self) -> (OktaHealth, i64);

    /// `GET /api/v1/users/{idOrLogin}`; `None` when Okta has no such user. An answer lacking a
    /// field the bot reads is an error naming the field.
    async fn get_user(&self, id_or_login: &str) -> Result<Option<OktaUser>, OktaError>;

    /// [`Self::get_user`], keeping a malformed answer apart from other failures.
    async fn get_user_entry(
        &self,
        id_or_login: &str,
    ) -> Result<Option<Result<OktaUser, Malformed>>, OktaError>;

    /// Groups whose name equals `name` (Okta compares case-insensitively).
    async fn groups_named(&self, name: &str) -> Result<Vec<OktaGroup>, OktaError>;

    async fn get_group(&self, id: &str) -> Result<Option<OktaGroup>, OktaError>;

    /// First page of a group's members.
    fn group_members_url(&self, group_id: &str) -> Url;

    /// First page of a user search (`profile.email eq "…"` and the like).
    fn user_search_url(&self, expression: &str) -> Url;

    /// One page of users; `next` only ever points at the org itself. A malformed entry is
    /// returned as such.
    async fn users_page(&self, url: &Url) -> Result<Page<Result<OktaUser, Malformed>>, OktaError>;

    /// Ids of every user holding an Okta admin role.
    async fn admin_user_ids(&self) -> Result<HashSet<String>, OktaError>;

    /// The admin roles `user_id` holds, directly or through a group; `None` when Okta has no
    /// such user.
    async fn user_roles(&self, user_id: &str) -> Result<Option<Vec<RoleHeld>>, OktaError>;

    /// Okta emails the user a reset link (`sendEmail=true`); their sessions end too when
    /// `revoke_sessions`.
    async fn reset_password(
        &self,
        user_id: &str,
        revoke_sessions: bool,
    ) -> Result<ResetDone, OktaError>;

    /// Ends every Okta session of the user, revokes their tokens, forgets their devices.
    async fn revoke_sessions(&self, user_id: &str) -> Result<(), OktaError>;

    /// Every `user.account.reset_password` event published in `[since_ms, until_ms)`.
    async fn reset_events(
        &self,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<ResetEvent>, OktaError>;

    /// The user's active Okta Verify push factor, if any.
    async fn push_factor(&self, user_id: &str) -> Result<Option<String>, OktaError>;

    /// Sends a number matching push.
    async fn verify_push(&self, user_id: &str, factor_id: &str)
        -> Result<PushChallenge, OktaError>;

    /// The push's `factorResult` now: WAITING, SUCCESS, REJECTED, TIMEOUT, …
    async fn push_result(&self, poll: &Url) -> Result<String, OktaError>;
}

/// Each method is the client's own (documented there); `OktaClient::…` names the inherent one.
#[async_trait]
impl OktaApi for OktaClient {
    fn last_contact(&self) -> (OktaHealth, i64) {
        self.contact.last()
    }

    async fn get_user(&self, id_or_login: &str) -> Result<Option<OktaUser>, OktaError> {
        OktaClient::get_user(self, id_or_login).await
    }

    async fn get_user_entry(
        &self,
        id_or_login: &str,
    ) -> Result<Option<Result<OktaUser, Malformed>>, OktaError> {
        OktaClient::get_user_entry(self, id_or_login).await
    }

    async fn groups_named(&self, name: &str) -> Result<Vec<OktaGroup>, OktaError> {
        OktaClient::groups_named(self, name).await
    }

    async fn get_group(&self, id: &str) -> Result<Option<OktaGroup>, OktaError> {
        OktaClient::get_group(self, id).await
    }

    fn group_members_url(&self, group_id: &str) -> Url {
        OktaClient::group_members_url(self, group_id)
    }

    fn user_search_url(&self, expression: &str) -> Url {
        OktaClient::user_search_url(self, expression)
    }

    async fn users_page(&self, url: &Url) -> Result<Page<Result<OktaUser, Malformed>>, OktaError> {
        OktaClient::users_page(self, url).await
    }

    async fn admin_user_ids(&self) -> Result<HashSet<String>, OktaError> {
        OktaClient::admin_user_ids(self).await
    }

    async fn user_roles(&self, user_id: &str) -> Result<Option<Vec<RoleHeld>>, OktaError> {
        OktaClient::user_roles(self, user_id).await
    }

    async fn reset_password(
        &self,
        user_id: &str,
        revoke_sessions: bool,
    ) -> Result<ResetDone, OktaError> {
        OktaClient::reset_password(self, user_id, revoke_sessions).await
    }

    async fn revoke_sessions(&self, user_id: &str) -> Result<(), OktaError> {
        OktaClient::revoke_sessions(self, user_id).await
    }

    async fn reset_events(
        &self,
        since_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<ResetEvent>, OktaError> {
        OktaClient::reset_events(self, since_ms, until_ms).await
    }

    async fn push_factor(&self, user_id: &str) -> Result<Option<String>, OktaError> {
        OktaClient::push_factor(self, user_id).await
    }

    async fn verify_push(
        &self,
        user_id: &str,
        factor_id: &str,
    ) -> Result<PushChallenge, OktaError> {
        OktaClient::verify_push(self, user_id, factor_id).await
    }

    async fn push_result(&self, poll: &Url) -> Result<String, OktaError> {
        OktaClient::push_result(self, poll).await
    }
}
