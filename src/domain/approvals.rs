//! How many people must sign a request off, and where a canary stops a run. Pure: the callers
//! read the facts (the approvals recorded, the outcomes journalled) and act on the answer.

/// Approvals a request needs: two distinct approvers when it resets more users than
/// `policy.two_approvers_above`, else one. Unset means one, always.
pub fn approvals_required(to_reset: usize, two_approvers_above: Option<usize>) -> usize {
    match two_approvers_above {
        Some(limit) if to_reset > limit => 2,
        _ => 1,
    }
}

/// What a recorded approval does to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalStep {
    /// Enough distinct approvers: the request becomes approved.
    Complete,
    /// Recorded; `have` of `need` so far, the request stays pending.
    Recorded { have: usize, need: usize },
}

/// `distinct_approvers` is how many different approvers have approved, this one included.
pub fn approval_step(distinct_approvers: usize, required: usize) -> ApprovalStep {
    if distinct_approvers >= required {
        ApprovalStep::Complete
    } else {
        ApprovalStep::Recorded {
            have: distinct_approvers,
            need: required,
        }
    }
}

/// How many more users a run may start before its canary pause: `None` when no canary applies
/// (none set, already continued past it, or nothing would be left after it — a request of N or
/// fewer users has nobody to protect by pausing). `done` counts users whose outcome is known
/// (reset or failed), `pending` those still to do.
pub fn canary_allowance(
    canary_users: Option<usize>,
    continued: bool,
    done: usize,
    pending: usize,
) -> Option<usize> {
    let n = canary_users?;
    if continued || pending == 0 || done + pending <= n {
        return None;
    }
    Some(n.saturating_sub(done))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn two_approvers_only_above_the_threshold() {
        assert_eq!(approvals_required(10, None), 1);
        assert_eq!(approvals_required(10, Some(10)), 1);
        assert_eq!(approvals_required(11, Some(10)), 2);
        assert_eq!(approvals_required(1, Some(0)), 2);
        assert_eq!(
            approval_step(1, 2),
            ApprovalStep::Recorded { have: 1, need: 2 }
        );
        assert_eq!(approval_step(2, 2), ApprovalStep::Complete);
        assert_eq!(approval_step(1, 1), ApprovalStep::Complete);
    }

    #[test]
    fn the_canary_stops_after_n_and_never_again_once_continued() {
        assert_eq!(canary_allowance(None, false, 0, 30), None);
        assert_eq!(canary_allowance(Some(3), false, 0, 30), Some(3));
        assert_eq!(canary_allowance(Some(3), false, 2, 28), Some(1));
        // Restarted after the canary's users were done but before the pause was recorded.
        assert_eq!(canary_allowance(Some(3), false, 3, 27), Some(0));
        assert_eq!(canary_allowance(Some(3), true, 3, 27), None);
        // Three users or fewer: nothing would be left to protect.
        assert_eq!(canary_allowance(Some(3), false, 0, 3), None);
    }

    proptest! {
        /// A request becomes approved exactly when as many distinct approvers as required
        /// have approved; one approver never suffices above the threshold.
        #[test]
        fn approval_completes_exactly_at_the_required_count(to_reset in 0usize..50, limit in proptest::option::of(0usize..50), have in 1usize..4) {
            let need = approvals_required(to_reset, limit);
            let step = approval_step(have, need);
            prop_assert_eq!(step == ApprovalStep::Complete, have >= need);
            if limit.is_some_and(|l| to_reset > l) {
                prop_assert_ne!(approval_step(1, need), ApprovalStep::Complete);
            }
        }

        /// A run with a canary never starts more than N users before its pause, and a pause
        /// always leaves someone to do after it.
        #[test]
        fn the_canary_never_lets_more_than_n_through(n in 1usize..20, done in 0usize..30, pending in 0usize..30) {
            match canary_allowance(Some(n), false, done, pending) {
                Some(k) => {
                    prop_assert!(done + k <= n.max(done));
                    prop_assert!(pending > k);
                }
                None => prop_assert!(done + pending <= n || pending == 0),
            }
        }
    }
}
