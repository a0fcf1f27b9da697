//! A window of the online list, alone: a watched page replaces its stretch,
//! a whole list keeps the order users came in, a window by name takes only
//! the names it covers, and a page nobody waits for is dropped.

use chatroom_shared::message::{OnlineUser, UserList};

use super::online_window::{PAGE, Window};

fn users(names: &[&str]) -> Vec<OnlineUser> {
    names
        .iter()
        .map(|n| OnlineUser {
            name: (*n).into(),
            since: 1,
        })
        .collect()
}

fn names(w: &Window) -> Vec<&str> {
    w.users().iter().map(|u| u.name.as_str()).collect()
}

fn page(names: &[&str], has_more: bool) -> UserList {
    UserList {
        seq: 1,
        users: users(names),
        has_more,
        next: has_more.then(|| names.last().unwrap().to_string()),
        online_count: 0,
    }
}

#[test]
fn a_watched_page_replaces_its_stretch_of_the_window() {
    let mut w = Window::first_page(users(&["a", "b", "c", "d", "e"]), Some("e".into()));
    w.selected = 3;
    // c left and bb came while nobody watched; the page ends at d.
    w.refresh(Some("a"), page(&["b", "bb", "d"], true));
    assert_eq!(names(&w), ["a", "b", "bb", "d", "e"]);
    assert_eq!(w.selected_user().unwrap().name, "d", "the same user");
    assert!(w.has_more());
    // A last page: the window reaches the end of the list.
    w.refresh(Some("d"), page(&["e", "f"], false));
    assert_eq!(names(&w), ["a", "b", "bb", "d", "e", "f"]);
    assert!(!w.has_more());
}

#[test]
fn a_watched_page_below_what_is_loaded_is_not_spliced_in_with_a_gap() {
    let mut w = Window::first_page(users(&["a", "b"]), Some("b".into()));
    w.refresh(Some("x"), page(&["y", "z"], true));
    assert_eq!(names(&w), ["a", "b"]);
}

#[test]
fn a_whole_list_keeps_the_order_users_came_in() {
    let mut w = Window::whole(users(&["alice", "zed", "bob"]));
    w.refresh(None, page(&["alice", "bob", "carol"], false));
    assert_eq!(names(&w), ["alice", "bob", "carol"]);
    assert!(w.insert(OnlineUser {
        name: "aaron".into(),
        since: 2
    }));
    assert_eq!(names(&w).last(), Some(&"aaron"));
    w.to_name_order();
    assert_eq!(names(&w), ["aaron", "alice", "bob", "carol"]);
}

#[test]
fn a_window_by_name_takes_only_the_names_it_covers() {
    let mut w = Window::first_page(users(&["b", "d"]), Some("d".into()));
    assert!(w.insert(users(&["c"]).remove(0)));
    assert!(!w.insert(users(&["e"]).remove(0)), "past the loaded end");
    assert!(!w.remove("e"));
    assert_eq!(names(&w), ["b", "c", "d"]);
}

#[test]
fn a_page_nobody_waits_for_is_dropped() {
    let mut w = Window::first_page(users(&["a", "b"]), Some("b".into()));
    w.selected = 1;
    let fetch = w.move_by(1).unwrap();
    assert_eq!(fetch.after.as_deref(), Some("b"));
    assert!(w.move_by(1).is_none(), "one page at a time");
    w.page_came(Some("zz"), PAGE, page(&["zzz"], false));
    assert_eq!(names(&w), ["a", "b"]);
    w.page_came(Some("b"), PAGE, page(&["c"], false));
    assert_eq!(names(&w), ["a", "b", "c"]);
    assert!(w.loading().is_none() && !w.has_more());
}
