//! The snapshot digest: SHA-256 of the sorted Okta user ids that will be reset, one per line.
//! Shown to the approver, stored with the request, and checked again before the run starts.

use sha2::{Digest, Sha256};

pub fn snapshot_digest<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    let mut ids: Vec<&str> = ids.into_iter().collect();
    ids.sort_unstable();
    let mut h = Sha256::new();
    for id in ids {
        h.update(id.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// The first 16 hex digits, for messages (the full digest is in the store and the audit log).
pub fn short(digest: &str) -> &str {
    &digest[..digest.len().min(16)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn empty_list_has_the_sha256_of_nothing() {
        assert_eq!(
            snapshot_digest([]),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    proptest! {
        #[test]
        fn order_does_not_matter_but_membership_does(mut ids in proptest::collection::vec("00u[a-z0-9]{17}", 1..20)) {
            ids.sort();
            ids.dedup();
            let d1 = snapshot_digest(ids.iter().map(String::as_str));
            let mut rev = ids.clone();
            rev.reverse();
            prop_assert_eq!(&d1, &snapshot_digest(rev.iter().map(String::as_str)));
            let fewer = snapshot_digest(ids.iter().skip(1).map(String::as_str));
            prop_assert_ne!(d1, fewer);
        }
    }
}
