//! Pending Okta confirmations (`step_ups`). See `service::step_up`.

use sqlx::{ColumnIndex, Decode, Encode, Executor, IntoArguments, Row, Type};

use super::{Backend, SqlStore};
use crate::store::{codec, StepUpClaim, StepUpKey, StepUpRecord, StepUpState, StoreResult};

const COLUMNS: &str = "token_hash, request_id, kind, method, digest, slack_user, \
    channel_id, okta_user, okta_login, clicked_at, expires_at, state, oidc_state_hash, \
    nonce_hash, pkce_verifier, amr, auth_time";
const LIVE: &str = "request_id = $1 AND slack_user = $2 AND kind = $3 \
    AND state IN ('issued', 'started', 'checking') AND expires_at > $4";

impl<DB: Backend> SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Type<DB> + Encode<'q, DB> + Decode<'q, DB>,
    for<'q> bool: Type<DB> + Encode<'q, DB> + Decode<'q, DB>,
    for<'q> String: Type<DB> + Encode<'q, DB> + Decode<'q, DB>,
    for<'q> &'q str: Type<DB> + Encode<'q, DB>,
    for<'q> Option<i64>: Type<DB> + Encode<'q, DB>,
    for<'q> Option<String>: Type<DB> + Encode<'q, DB>,
    for<'q> Option<&'q str>: Type<DB> + Encode<'q, DB>,
    for<'a> &'a str: ColumnIndex<DB::Row>,
    usize: ColumnIndex<DB::Row>,
{
    fn step_up_from_row(r: &DB::Row) -> StoreResult<StepUpRecord> {
        Ok(StepUpRecord {
            token_hash: r.try_get("token_hash")?,
            request_id: codec::id(r, "request_id")?,
            kind: codec::column(r, "kind")?,
            method: r.try_get("method")?,
            digest: r.try_get("digest")?,
            slack_user: codec::id(r, "slack_user")?,
            channel_id: codec::id(r, "channel_id")?,
            okta_user: r.try_get("okta_user")?,
            okta_login: r.try_get("okta_login")?,
            clicked_at: r.try_get("clicked_at")?,
            expires_at: r.try_get("expires_at")?,
            state: codec::column(r, "state")?,
            oidc_state_hash: r.try_get("oidc_state_hash")?,
            nonce_hash: r.try_get("nonce_hash")?,
            pkce_verifier: r.try_get("pkce_verifier")?,
            amr: r.try_get("amr")?,
            auth_time: r.try_get("auth_time")?,
        })
    }

    pub(super) async fn create_step_up(
        &self,
        s: &StepUpRecord,
        replace_live: bool,
        now: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        // A write to the request's row first: the write lock (SQLite) or the row lock
        // (PostgreSQL) makes two replicas' clicks take turns here.
        sqlx::query("UPDATE requests SET id = id WHERE id = $1")
            .bind(s.request_id.as_str())
            .execute(&mut *tx)
            .await?;
        let live: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM step_ups WHERE {LIVE}"))
            .bind(s.request_id.as_str())
            .bind(s.slack_user.as_str())
            .bind(s.kind.code())
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        if live > 0 {
            if !replace_live {
                return Ok(false);
            }
            sqlx::query(&format!(
                "UPDATE step_ups SET state = 'superseded', settled_at = $5, pkce_verifier = NULL \
             WHERE {LIVE}"
            ))
            .bind(s.request_id.as_str())
            .bind(s.slack_user.as_str())
            .bind(s.kind.code())
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(&format!(
            "INSERT INTO step_ups ({COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        ))
        .bind(&s.token_hash)
        .bind(s.request_id.as_str())
        .bind(s.kind.code())
        .bind(&s.method)
        .bind(&s.digest)
        .bind(s.slack_user.as_str())
        .bind(s.channel_id.as_str())
        .bind(&s.okta_user)
        .bind(&s.okta_login)
        .bind(s.clicked_at)
        .bind(s.expires_at)
        .bind(s.state.code())
        .bind(&s.oidc_state_hash)
        .bind(&s.nonce_hash)
        .bind(&s.pkce_verifier)
        .bind(&s.amr)
        .bind(s.auth_time)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn find_step_up(&self, key: StepUpKey<'_>) -> StoreResult<Option<StepUpRecord>> {
        let (column, value) = match key {
            StepUpKey::Token(v) => ("token_hash", v),
            StepUpKey::OidcState(v) => ("oidc_state_hash", v),
        };
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM step_ups WHERE {column} = $1"
        ))
        .bind(value)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(Self::step_up_from_row).transpose()
    }

    pub(super) async fn claim_step_up(
        &self,
        key: StepUpKey<'_>,
        from: StepUpState,
        to: StepUpState,
        at: i64,
    ) -> StoreResult<StepUpClaim> {
        let (column, value) = match key {
            StepUpKey::Token(v) => ("token_hash", v),
            StepUpKey::OidcState(v) => ("oidc_state_hash", v),
        };
        let moved = DB::rows_affected(
            &sqlx::query(&format!(
            "UPDATE step_ups SET state = $1, settled_at = $2 WHERE {column} = $3 AND state = $4"
        ))
            .bind(to.code())
            .bind(at)
            .bind(value)
            .bind(from.code())
            .execute(&self.pool)
            .await?,
        ) == 1;
        Ok(match (self.find_step_up(key).await?, moved) {
            (Some(r), true) => StepUpClaim::Claimed(r),
            (Some(r), false) => StepUpClaim::Spent(r),
            (None, _) => StepUpClaim::Unknown,
        })
    }

    pub(super) async fn set_step_up_oidc(
        &self,
        token_hash: &str,
        state_hash: &str,
        nonce_hash: &str,
        verifier: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE step_ups SET oidc_state_hash = $1, nonce_hash = $2, pkce_verifier = $3 \
             WHERE token_hash = $4",
        )
        .bind(state_hash)
        .bind(nonce_hash)
        .bind(verifier)
        .bind(token_hash)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn settle_step_up(
        &self,
        token_hash: &str,
        state: StepUpState,
        amr: Option<&str>,
        auth_time: Option<i64>,
        at: i64,
    ) -> StoreResult<()> {
        // The verifier has done its work: it is not kept past the end.
        sqlx::query(
            "UPDATE step_ups SET state = $1, amr = COALESCE($2, amr), \
             auth_time = COALESCE($3, auth_time), settled_at = $4, pkce_verifier = NULL \
             WHERE token_hash = $5",
        )
        .bind(state.code())
        .bind(amr)
        .bind(auth_time)
        .bind(at)
        .bind(token_hash)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn step_ups(&self, request_id: &str) -> StoreResult<Vec<StepUpRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM step_ups WHERE request_id = $1 ORDER BY clicked_at, token_hash"
        ))
        .bind(request_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Self::step_up_from_row).collect()
    }
}
