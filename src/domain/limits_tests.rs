use super::*;
use proptest::prelude::*;

const NOW: i64 = 1_800_000_000_000;
const MIN: i64 = 60_000;

fn limits(per_hour: usize, per_day: u64, runs: usize) -> Limits {
    Limits {
        requests_per_hour: per_hour,
        targets_per_day: per_day,
        runs_in_progress: runs,
    }
}

fn req(minutes_ago: i64, to_reset: u64) -> Earlier {
    Earlier {
        created_at: NOW - minutes_ago * MIN,
        to_reset,
        dry_run: false,
    }
}

fn dry(minutes_ago: i64) -> Earlier {
    Earlier {
        dry_run: true,
        ..req(minutes_ago, 0)
    }
}

#[test]
fn the_hour_limit_lifts_when_the_oldest_counted_request_is_an_hour_old() {
    let l = limits(3, 1000, 2);
    // 70 minutes ago is outside the window; dry runs count toward requests per hour.
    let earlier = [req(70, 5), req(50, 5), dry(20), req(10, 5)];
    let refused = check_request(&l, &earlier, Asking::DryRun, NOW).unwrap_err();
    assert_eq!(
        refused,
        LimitRefusal::Requests {
            made: 3,
            limit: 3,
            lifts_at: NOW - 50 * MIN + HOUR_MS,
        }
    );
    assert_eq!(refused.code(), "max_requests_per_hour");
    // Ten minutes later the request of 50 minutes ago has left the window.
    assert_eq!(
        check_request(&l, &earlier, Asking::DryRun, NOW + 10 * MIN),
        Ok(())
    );
    assert!(check_request(&l, &earlier, Asking::DryRun, NOW + 10 * MIN - 1).is_err());
    assert_eq!(
        check_request(&limits(4, 1000, 2), &earlier, Asking::Unresolved, NOW),
        Ok(())
    );
}

#[test]
fn the_day_limit_counts_what_was_asked_to_be_reset_and_not_dry_runs() {
    let l = limits(100, 100, 2);
    // 25 hours ago is outside the day; dry runs never count.
    let earlier = [req(25 * 60, 100), req(600, 40), dry(300), req(60, 50)];
    assert_eq!(check_request(&l, &earlier, Asking::Resets(10), NOW), Ok(()));
    let refused = check_request(&l, &earlier, Asking::Resets(11), NOW).unwrap_err();
    // 40 + 50 + 11 > 100; once the 40 leave (600 minutes ago + 24 h), 50 + 11 fit.
    assert_eq!(
        refused,
        LimitRefusal::Targets {
            used: 90,
            asking: Some(11),
            limit: 100,
            lifts_at: Some(NOW - 600 * MIN + DAY_MS),
        }
    );
    // 40 + 50 + 70 fits only when both have left: at the later one's 24 hours.
    let later = check_request(&l, &earlier, Asking::Resets(70), NOW).unwrap_err();
    assert_eq!(later.lifts_at(), Some(NOW - 60 * MIN + DAY_MS));
    // A dry run is never refused for targets.
    assert_eq!(check_request(&l, &earlier, Asking::DryRun, NOW), Ok(()));
}

#[test]
fn a_full_day_refuses_an_unresolved_request_before_okta_is_asked() {
    let l = limits(100, 100, 2);
    let earlier = [req(600, 60), req(60, 40)];
    let refused = check_request(&l, &earlier, Asking::Unresolved, NOW).unwrap_err();
    assert_eq!(
        refused,
        LimitRefusal::Targets {
            used: 100,
            asking: None,
            limit: 100,
            lifts_at: Some(NOW - 600 * MIN + DAY_MS),
        }
    );
    let text = refused.to_string();
    assert!(
        text.contains("You asked to reset 100 users in the last 24 hours"),
        "{text}"
    );
    assert!(text.contains("`--dry-run` is still possible"), "{text}");
    assert!(check_request(&l, &earlier[1..], Asking::Unresolved, NOW).is_ok());
}

#[test]
fn a_request_over_the_day_limit_on_its_own_never_fits() {
    let l = limits(100, 100, 2);
    let refused = check_request(&l, &[], Asking::Resets(101), NOW).unwrap_err();
    assert_eq!(refused.lifts_at(), None);
    assert!(refused.to_string().contains("Split it over several days"));
}

#[test]
fn a_request_stamped_ahead_of_this_clock_counts() {
    let l = limits(1, 100, 2);
    let ahead = Earlier {
        created_at: NOW + 5_000,
        to_reset: 1,
        dry_run: false,
    };
    let refused = check_request(&l, &[ahead], Asking::DryRun, NOW).unwrap_err();
    assert_eq!(refused.lifts_at(), Some(NOW + 5_000 + HOUR_MS));
}

#[test]
fn runs_in_progress_name_the_runs_to_wait_for() {
    let l = limits(10, 100, 2);
    assert_eq!(check_runs(&l, &["R-AAAAAAAA".into()]), Ok(()));
    let running = vec!["R-AAAAAAAA".to_string(), "R-BBBBBBBB".to_string()];
    let refused = check_runs(&l, &running).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "2 runs are in progress (R-AAAAAAAA, R-BBBBBBBB), the most allowed at once (`policy.max_runs_in_progress` = 2). Approve again once one of them has finished."
    );
    assert_eq!(refused.lifts_at(), None);
    let one = check_runs(&limits(10, 100, 1), &running[..1]).unwrap_err();
    assert!(one
        .to_string()
        .starts_with("1 run is in progress (R-AAAAAAAA)"));
}

#[test]
fn the_sentence_uses_the_given_date_writer() {
    let refused = LimitRefusal::Requests {
        made: 2,
        limit: 2,
        lifts_at: 1_764_220_631_123,
    };
    assert!(refused
        .explain(|ms| format!("<when {ms}>"))
        .contains("You can make another <when 1764220631123>."));
    assert!(refused
        .to_string()
        .contains("You can make another 2025-11-27 05:17:11 UTC."));
}

fn earlier_strategy() -> impl Strategy<Value = Vec<Earlier>> {
    proptest::collection::vec(
        (0i64..(2 * DAY_MS), 0u64..60, any::<bool>()).prop_map(|(ago, n, dry_run)| Earlier {
            created_at: NOW - ago,
            to_reset: if dry_run { 0 } else { n },
            dry_run,
        }),
        0..30,
    )
}

proptest! {
    /// Refused exactly when the window holds as many requests as the limit; and the lift time is
    /// exact: refused a millisecond before it, allowed at it (if nothing else is asked meanwhile).
    #[test]
    fn the_hour_limit_and_its_lift_time_are_exact(earlier in earlier_strategy(), limit in 1usize..8) {
        let l = limits(limit, u64::MAX, 1);
        let in_hour = earlier.iter().filter(|e| e.created_at > NOW - HOUR_MS).count();
        match check_request(&l, &earlier, Asking::DryRun, NOW) {
            Ok(()) => prop_assert!(in_hour < limit),
            Err(refusal) => {
                prop_assert!(in_hour >= limit);
                let at = refusal.lifts_at().expect("a lift time");
                prop_assert!(at > NOW && at <= NOW + HOUR_MS);
                prop_assert!(check_request(&l, &earlier, Asking::DryRun, at - 1).is_err());
                prop_assert_eq!(check_request(&l, &earlier, Asking::DryRun, at), Ok(()));
            }
        }
    }

    /// The same for the day's targets: refused exactly when the day's non-dry-run users plus
    /// the new ones pass the limit, and allowed from the lift time on, not a millisecond before.
    #[test]
    fn the_day_limit_and_its_lift_time_are_exact(earlier in earlier_strategy(), limit in 1u64..200, asking in 1u64..80) {
        let l = limits(usize::MAX, limit, 1);
        let used: u64 = earlier
            .iter()
            .filter(|e| !e.dry_run && e.created_at > NOW - DAY_MS)
            .map(|e| e.to_reset)
            .sum();
        match check_request(&l, &earlier, Asking::Resets(asking), NOW) {
            Ok(()) => prop_assert!(used + asking <= limit),
            Err(refusal) => {
                prop_assert!(used + asking > limit);
                match refusal.lifts_at() {
                    None => prop_assert!(asking > limit),
                    Some(at) => {
                        prop_assert!(at > NOW && at <= NOW + DAY_MS);
                        prop_assert!(check_request(&l, &earlier, Asking::Resets(asking), at - 1).is_err());
                        prop_assert_eq!(check_request(&l, &earlier, Asking::Resets(asking), at), Ok(()));
                    }
                }
            }
        }
    }
}
