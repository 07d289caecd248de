//! Identifier newtypes.
//!
//! Each id is validated once, at the edge, by `parse`; afterwards its shape is a type-level fact.
//! Every id serializes as a plain string, and deserializing goes through the same `parse`, so a
//! malformed id in a stored record or a Slack payload is refused rather than carried along.

use std::fmt;

/// Longest echo of user input in an error message, in characters (the rest is cut with `…`).
pub const MAX_ECHO_CHARS: usize = 64;

/// `value` made safe to echo inside a Slack `code` span: at most [`MAX_ECHO_CHARS`] characters
/// (the last one `…` when cut) and no backticks, which would end the span early.
pub fn clip_for_display(value: &str) -> String {
    let clean = value.replace('`', "'");
    if clean.chars().count() <= MAX_ECHO_CHARS {
        return clean;
    }
    let mut cut: String = clean.chars().take(MAX_ECHO_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// Which kind of id failed to parse; decides the wording of [`IdError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    SlackUser,
    SlackUserGroup,
    SlackChannel,
    SlackTeam,
    OktaUser,
    OktaGroup,
    Request,
}

impl IdKind {
    /// The kind with its article, as it reads in a sentence.
    pub fn noun(self) -> &'static str {
        match self {
            IdKind::SlackUser => "a Slack user id",
            IdKind::SlackUserGroup => "a Slack user group id",
            IdKind::SlackChannel => "a Slack channel id",
            IdKind::SlackTeam => "a Slack workspace id",
            IdKind::OktaUser => "an Okta user id",
            IdKind::OktaGroup => "an Okta group id",
            IdKind::Request => "a request id",
        }
    }

    /// What a valid id of this kind looks like.
    pub fn expected(self) -> &'static str {
        match self {
            IdKind::SlackUser => "U or W followed by 2-20 capital letters/digits, e.g. U0123ABCD",
            IdKind::SlackUserGroup => "S followed by 2-20 capital letters/digits, e.g. S0123ABCD",
            IdKind::SlackChannel => {
                "C, G or D followed by 2-20 capital letters/digits, e.g. C0123ABCD"
            }
            IdKind::SlackTeam => "T or E followed by 2-20 capital letters/digits, e.g. T0123ABCD",
            IdKind::OktaUser => "20 letters/digits starting with 00u",
            IdKind::OktaGroup => "20 letters/digits starting with 00g",
            IdKind::Request => "R- followed by 8 letters/digits, e.g. R-7K3M9QXD",
        }
    }
}

/// A string that is not a valid id of the named kind. `value` is already clipped for display.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} is not {} (expected {})", echo(.value), .kind.noun(), .kind.expected())]
pub struct IdError {
    pub kind: IdKind,
    pub value: String,
}

impl IdError {
    pub fn new(kind: IdKind, value: &str) -> Self {
        IdError {
            kind,
            value: clip_for_display(value),
        }
    }
}

fn echo(value: &str) -> String {
    if value.is_empty() {
        "an empty value".to_owned()
    } else {
        format!("`{value}`")
    }
}

fn is_upper_alnum(c: char) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}

/// Slack ids: one prefix letter from `prefixes`, then 2–20 capital letters/digits.
fn slack_shape(s: &str, prefixes: &[char]) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) if prefixes.contains(&first) => {}
        _ => return false,
    }
    let rest = chars.as_str();
    (2..=20).contains(&rest.len()) && rest.chars().all(is_upper_alnum)
}

/// Okta ids: exactly 20 ASCII letters/digits beginning with `prefix`.
fn okta_shape(s: &str, prefix: &str) -> bool {
    s.len() == 20 && s.starts_with(prefix) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Declares a `String` newtype whose only constructor is `parse`, plus the traits every id shares.
macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident, $kind:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl $name {
            /// The kind reported in this type's [`IdError`]s.
            pub const KIND: IdKind = $kind;
        }
    };
}

string_id!(
    /// A Slack user id: `U` or `W` then 2–20 capital letters/digits (`U0001`, `W012A3CDE`).
    SlackUserId,
    IdKind::SlackUser
);
string_id!(
    /// A Slack user group id (`S…`): an allowlist may name one beside user ids.
    SlackUserGroupId,
    IdKind::SlackUserGroup
);
string_id!(
    /// A Slack conversation id: `C`, `G` or `D` then 2–20 capital letters/digits.
    SlackChannelId,
    IdKind::SlackChannel
);
string_id!(
    /// A Slack workspace (`T…`) or Enterprise Grid org (`E…`) id.
    SlackTeamId,
    IdKind::SlackTeam
);
string_id!(
    /// An Okta user id: 20 letters/digits starting `00u` (`00ub0oNGTSWTBKOLGLNR`).
    OktaUserId,
    IdKind::OktaUser
);
string_id!(
    /// An Okta group id: 20 letters/digits starting `00g`.
    OktaGroupId,
    IdKind::OktaGroup
);
string_id!(
    /// A reset request's id as users see and type it: `R-` then 8 Crockford base32 characters.
    RequestId,
    IdKind::Request
);

impl SlackUserId {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if slack_shape(s, &['U', 'W']) {
            Ok(SlackUserId(s.to_owned()))
        } else {
            Err(IdError::new(Self::KIND, s))
        }
    }
}

impl SlackUserGroupId {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if slack_shape(s, &['S']) {
            Ok(SlackUserGroupId(s.to_owned()))
        } else {
            Err(IdError::new(Self::KIND, s))
        }
    }
}

impl SlackChannelId {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if slack_shape(s, &['C', 'G', 'D']) {
            Ok(SlackChannelId(s.to_owned()))
        } else {
            Err(IdError::new(Self::KIND, s))
        }
    }
}

impl SlackTeamId {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if slack_shape(s, &['T', 'E']) {
            Ok(SlackTeamId(s.to_owned()))
        } else {
            Err(IdError::new(Self::KIND, s))
        }
    }
}

impl OktaUserId {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if Self::looks_like(s) {
            Ok(OktaUserId(s.to_owned()))
        } else {
            Err(IdError::new(Self::KIND, s))
        }
    }

    /// True when `s` has the shape of an Okta user id (so `user:` treats it as an id, not a login).
    pub fn looks_like(s: &str) -> bool {
        okta_shape(s, "00u")
    }
}

impl OktaGroupId {
    pub fn parse(s: &str) -> Result<Self, IdError> {
        if Self::looks_like(s) {
            Ok(OktaGroupId(s.to_owned()))
        } else {
            Err(IdError::new(Self::KIND, s))
        }
    }

    /// True when `s` has the shape of an Okta group id (so `group:` treats it as an id, not a name).
    pub fn looks_like(s: &str) -> bool {
        okta_shape(s, "00g")
    }
}

/// Crockford base32, upper case: no I, L, O or U, so ids survive being read aloud or retyped.
pub const CROCKFORD_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const REQUEST_PREFIX: &str = "R-";
const REQUEST_BODY_LEN: usize = 8;

impl RequestId {
    /// Parses `R-XXXXXXXX`; lower-case input is accepted and stored upper-case.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let upper = s.to_ascii_uppercase();
        let valid = upper.strip_prefix(REQUEST_PREFIX).is_some_and(|body| {
            body.len() == REQUEST_BODY_LEN && body.bytes().all(|b| CROCKFORD_ALPHABET.contains(&b))
        });
        if valid {
            Ok(RequestId(upper))
        } else {
            Err(IdError::new(Self::KIND, s))
        }
    }

    /// A fresh random id (40 bits). Uniqueness is the store's job; this only draws.
    pub fn generate(rng: &mut impl rand::Rng) -> Self {
        let mut id = String::with_capacity(REQUEST_PREFIX.len() + REQUEST_BODY_LEN);
        id.push_str(REQUEST_PREFIX);
        for _ in 0..REQUEST_BODY_LEN {
            id.push(char::from(CROCKFORD_ALPHABET[rng.gen_range(0..32)]));
        }
        RequestId(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;

    #[test]
    fn slack_user_ids() {
        for ok in ["U0001", "W012A3CDE", "U12", "U12345678901234567890"] {
            assert_eq!(SlackUserId::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "U",
            "U1",
            "u0001",
            "U00a1",
            "C0001",
            "U123456789012345678901",
            " U0001",
            "U0001 ",
        ] {
            let err = SlackUserId::parse(bad).unwrap_err();
            assert_eq!(err.kind, IdKind::SlackUser, "{bad}");
        }
    }

    #[test]
    fn slack_user_group_ids() {
        for ok in ["S0123ABCD", "S12"] {
            assert_eq!(SlackUserGroupId::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["U0123ABCD", "S1", "s0123", "S01-23", "@admins", ""] {
            let err = SlackUserGroupId::parse(bad).unwrap_err();
            assert_eq!(err.kind, IdKind::SlackUserGroup, "{bad}");
        }
    }

    #[test]
    fn slack_channel_and_team_ids() {
        for ok in ["C0123ABCD", "G12", "D024BE91L"] {
            assert!(SlackChannelId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["U0123", "C1", "c0123", "C01-23"] {
            assert!(SlackChannelId::parse(bad).is_err(), "{bad}");
        }
        for ok in ["T0001", "E12AB"] {
            assert!(SlackTeamId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["C0001", "T1", "t0001"] {
            assert!(SlackTeamId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn okta_ids() {
        let user = "00ub0oNGTSWTBKOLGLNR";
        assert_eq!(OktaUserId::parse(user).unwrap().as_str(), user);
        assert!(OktaUserId::looks_like(user));
        assert!(!OktaGroupId::looks_like(user));
        let group = "00g1emaKYZTWRYYRRTSK";
        assert!(OktaGroupId::parse(group).is_ok());
        assert!(!OktaUserId::looks_like(group));
        for bad in [
            "00ub0oNGTSWTBKOLGLN",   // 19
            "00ub0oNGTSWTBKOLGLNRX", // 21
            "00Ub0oNGTSWTBKOLGLNR",  // prefix is case-sensitive
            "00ub0oNGTSWTBKOLGL-R",
            "00ub0oNGTSWTBKOLGLNé",
        ] {
            assert!(!OktaUserId::looks_like(bad), "{bad}");
            assert_eq!(OktaUserId::parse(bad).unwrap_err().kind, IdKind::OktaUser);
        }
    }

    #[test]
    fn okta_user_error_reads_as_the_brief_asks() {
        let err = OktaUserId::parse("00x12").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`00x12` is not an Okta user id (expected 20 letters/digits starting with 00u)"
        );
        let empty = OktaGroupId::parse("").unwrap_err();
        assert_eq!(
            empty.to_string(),
            "an empty value is not an Okta group id (expected 20 letters/digits starting with 00g)"
        );
    }

    #[test]
    fn error_echo_is_clipped_and_span_safe() {
        let long = "x".repeat(200);
        let err = RequestId::parse(&long).unwrap_err();
        assert_eq!(err.value.chars().count(), MAX_ECHO_CHARS);
        assert!(err.value.ends_with('…'));
        assert!(!err.to_string().contains(&long));
        let ticked = SlackUserId::parse("U`rm`").unwrap_err();
        assert_eq!(ticked.value, "U'rm'");
        // Exactly at the limit: untouched.
        let edge = "é".repeat(MAX_ECHO_CHARS);
        assert_eq!(clip_for_display(&edge), edge);
    }

    #[test]
    fn request_ids_normalise_case_and_reject_ambiguous_letters() {
        let id = RequestId::parse("r-7k3m9qxd").unwrap();
        assert_eq!(id.as_str(), "R-7K3M9QXD");
        assert_eq!(id, RequestId::parse("R-7K3M9QXD").unwrap());
        for bad in [
            "R-7K3M9QX",
            "R-7K3M9QXDD",
            "R7K3M9QXD",
            "R-7K3M9QXI",
            "R-7K3M9QXL",
            "R-7K3M9QXO",
            "R-7K3M9QXU",
            "Q-7K3M9QXD",
            "R-7K3M9QX\u{0130}",
        ] {
            let err = RequestId::parse(bad).unwrap_err();
            assert_eq!(err.kind, IdKind::Request);
            assert!(err.to_string().contains(bad), "{err}");
        }
    }

    #[test]
    fn serde_is_a_plain_string_and_validates() {
        let id = OktaUserId::parse("00ub0oNGTSWTBKOLGLNR").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"00ub0oNGTSWTBKOLGLNR\"");
        assert_eq!(serde_json::from_str::<OktaUserId>(&json).unwrap(), id);
        let err = serde_json::from_str::<OktaUserId>("\"00x12\"").unwrap_err();
        assert!(err.to_string().contains("is not an Okta user id"), "{err}");
        // Deserializing goes through parse, so it normalises too.
        let req: RequestId = serde_json::from_str("\"r-7k3m9qxd\"").unwrap();
        assert_eq!(req.as_str(), "R-7K3M9QXD");
        assert!(serde_json::from_str::<SlackUserId>("42").is_err());
    }

    #[test]
    fn display_and_from_str_agree_with_as_str() {
        let id: SlackChannelId = "C0123ABCD".parse().unwrap();
        assert_eq!(id.to_string(), id.as_str());
        assert_eq!(String::from(id.clone()), "C0123ABCD");
    }

    proptest! {
        #[test]
        fn generated_request_ids_parse_back(seed in any::<u64>()) {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let id = RequestId::generate(&mut rng);
            prop_assert_eq!(RequestId::parse(id.as_str()), Ok(id.clone()));
            prop_assert_eq!(RequestId::parse(&id.as_str().to_lowercase()), Ok(id.clone()));
            let json = serde_json::to_string(&id).unwrap();
            prop_assert_eq!(serde_json::from_str::<RequestId>(&json).unwrap(), id);
        }

        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = SlackUserId::parse(&s);
            let _ = SlackChannelId::parse(&s);
            let _ = SlackTeamId::parse(&s);
            let _ = OktaUserId::parse(&s);
            let _ = OktaGroupId::parse(&s);
            if let Err(e) = RequestId::parse(&s) {
                prop_assert!(e.value.chars().count() <= MAX_ECHO_CHARS);
                let _ = e.to_string();
            }
        }

        #[test]
        fn valid_shapes_parse_and_display_unchanged(
            user in "[UW][A-Z0-9]{2,20}",
            channel in "[CGD][A-Z0-9]{2,20}",
            team in "[TE][A-Z0-9]{2,20}",
            okta_user in "00u[a-zA-Z0-9]{17}",
            okta_group in "00g[a-zA-Z0-9]{17}",
        ) {
            prop_assert_eq!(SlackUserId::parse(&user).unwrap().to_string(), user);
            prop_assert_eq!(SlackChannelId::parse(&channel).unwrap().to_string(), channel);
            prop_assert_eq!(SlackTeamId::parse(&team).unwrap().to_string(), team);
            prop_assert_eq!(OktaUserId::parse(&okta_user).unwrap().to_string(), okta_user);
            prop_assert_eq!(OktaGroupId::parse(&okta_group).unwrap().to_string(), okta_group);
        }
    }
}
