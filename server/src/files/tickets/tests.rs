//! Tickets and reservations as behaviour: a name held from reserve to the
//! upload's end, retries, the per-user limit and expiry.

use super::*;

fn plan(name: &str, uid: i64, key: &str) -> UploadPlan {
    UploadPlan {
        uid,
        uploader: "u".into(),
        name: name.into(),
        size: 10,
        sha256: "s".into(),
        comment: None,
        key: key.into(),
        offset: 0,
    }
}

#[test]
fn a_name_is_held_from_reserve_until_the_upload_ends() {
    let t = Tickets::new(Duration::from_secs(60), 0);
    let r = t.reserve("a", 1, "k", 10).unwrap();
    assert_eq!(
        t.reserve("a", 2, "j", 10).unwrap_err(),
        TicketError::NameBusy
    );
    let (ticket, _) = t.issue_upload(r, plan("a", 1, "k")).unwrap();
    assert_eq!(
        t.reserve("a", 2, "j", 10).unwrap_err(),
        TicketError::NameBusy
    );
    let Some(Grant::Upload(_, guard)) = t.redeem(&ticket) else {
        panic!("ticket should redeem");
    };
    assert!(t.redeem(&ticket).is_none(), "one-time");
    assert_eq!(
        t.reserve("a", 1, "k", 10).unwrap_err(),
        TicketError::NameBusy
    );
    drop(guard);
    assert!(t.reserve("a", 2, "j", 10).is_ok());
}

#[test]
fn the_same_user_retrying_replaces_an_unused_ticket() {
    let t = Tickets::new(Duration::from_secs(60), 0);
    let r = t.reserve("a", 1, "k", 10).unwrap();
    let (first, _) = t.issue_upload(r, plan("a", 1, "k")).unwrap();
    let r = t.reserve("a", 1, "k", 10).unwrap();
    let (second, _) = t.issue_upload(r, plan("a", 1, "k")).unwrap();
    assert!(t.redeem(&first).is_none());
    assert!(t.redeem(&second).is_some());
}

#[test]
fn a_users_uploads_in_progress_count_until_they_end() {
    let t = Tickets::new(Duration::from_secs(60), 0);
    let a = t.reserve("a", 1, "k", 10).unwrap();
    let b = t.reserve("b", 1, "l", 32).unwrap();
    let other = t.reserve("c", 2, "m", 64).unwrap();
    assert_eq!(t.in_progress_of(1, &a), 32);
    assert_eq!(t.in_progress_of(1, &b), 10);
    assert_eq!(t.in_progress_of(2, &a), 64);
    let (ticket, _) = t.issue_upload(b, plan("b", 1, "l")).unwrap();
    assert_eq!(
        t.in_progress_of(1, &a),
        32,
        "a ticket still holds its bytes"
    );
    let Some(Grant::Upload(_, running)) = t.redeem(&ticket) else {
        panic!("ticket should redeem");
    };
    assert_eq!(
        t.in_progress_of(1, &a),
        32,
        "a running upload holds them too"
    );
    drop(running);
    assert_eq!(t.in_progress_of(1, &a), 0);
    drop(other);
}

#[test]
fn a_user_holds_at_most_the_limit_of_uploads_and_an_ended_one_frees_its_place() {
    let t = Tickets::new(Duration::from_secs(60), 2);
    let a = t.reserve("a", 1, "k", 10).unwrap();
    let (ticket, _) = t.issue_upload(a, plan("a", 1, "k")).unwrap();
    let b = t.reserve("b", 1, "l", 10).unwrap();
    assert_eq!(
        t.reserve("c", 1, "m", 10).unwrap_err(),
        TicketError::TooManyUploads(2)
    );
    // Asking again for the same upload takes no second place; others have theirs.
    let again = t.reserve("a", 1, "k", 10).unwrap();
    let (ticket_again, _) = t.issue_upload(again, plan("a", 1, "k")).unwrap();
    assert!(t.redeem(&ticket).is_none(), "replaced");
    let other = t.reserve("d", 2, "n", 10).unwrap();
    // A running upload holds its place until it ends.
    let Some(Grant::Upload(_, running)) = t.redeem(&ticket_again) else {
        panic!("ticket should redeem");
    };
    assert_eq!(
        t.reserve("c", 1, "m", 10).unwrap_err(),
        TicketError::TooManyUploads(2)
    );
    drop(running);
    drop(other);
    assert!(t.reserve("c", 1, "m", 10).is_ok());
    drop(b);
}

#[test]
fn expired_tickets_release_their_names() {
    let t = Tickets::new(Duration::from_millis(1), 0);
    let r = t.reserve("a", 1, "k", 10).unwrap();
    let (ticket, _) = t.issue_upload(r, plan("a", 1, "k")).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    assert!(t.redeem(&ticket).is_none());
    assert!(t.reserve("a", 2, "j", 10).is_ok());
}
