//! Who is online, as the online pane shows it: the number online, the list
//! (a [`Window`]: everyone in a small room, a few pages of a big one), what
//! the user is finding, and the window of the list the server tells this
//! client about (PROTOCOL §18).
//!
//! Everything here is state: it decides which request goes out
//! ([`UsersRequest`]) and the app sends it. The count comes from the server
//! (`login_ok`, `user_list`, `presence`); a server from before presence
//! paging sends none, and then the count is the list's length.
//!
//! **Watching.** While the pane is on screen the client watches a window of
//! [`WATCH_LIMIT`] names around the rows shown, starting [`WATCH_MARGIN`]
//! rows above them, and watches again only when the rows shown leave it: a
//! request per 400 rows scrolled, not per key. With at most [`WATCH_LIMIT`]
//! online it watches from the first name, so the window is everyone and
//! every join and leave is told.

use chatroom_shared::message::{OnlineUser, Presence, PresenceLeft, UserList};

pub use super::online_window::{Order, PAGE, Window};
use crate::net::UsersRequest;

/// Names in the watched window (the server's largest page). Up to this many
/// online the window is everyone.
pub const WATCH_LIMIT: u32 = 500;
/// Rows above the first one shown that the watched window starts at, so
/// scrolling up a little stays inside it.
pub const WATCH_MARGIN: usize = 100;
/// Up to this many online, joins and leaves told by `presence` events are
/// written in the main room as "\[bob\] joined the chat room", as
/// `user_joined` / `user_left` are. Above it they are not: thousands of
/// people come and go every minute in a room that size, and a line for each
/// would push every message out of sight. It is the server's default
/// `--presence-broadcast-max`, the number up to which clients that do not
/// watch are told of every join and leave.
pub const LOG_PRESENCE_MAX: u64 = 500;

/// The rows of the list on screen: the first one's index and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    /// Index of the first loaded user shown.
    pub first: usize,
    /// Rows shown.
    pub rows: usize,
}

/// Finding a user by the start of their name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Find {
    /// What the user typed.
    pub text: String,
    /// The users whose name starts with it, by name.
    pub results: Window,
}

/// The window of the list the server tells this client about.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Watch {
    /// Not watching: `user_joined` / `user_left` come while few are online.
    Off,
    /// Watching the names after `after` up to `last`.
    On(Watched),
    /// The server does not know `watch_users`: not asked again this session.
    Refused,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Watched {
    /// The window starts after this name (none: at the first name).
    after: Option<String>,
    /// The window's last name (none: to the end of the list). A guess until
    /// the reply says.
    last: Option<String>,
    /// Asked while more than [`WATCH_LIMIT`] were online (a window of a
    /// page, not everyone).
    narrow: bool,
}

impl Watched {
    fn holds(&self, name: &str) -> bool {
        self.after.as_deref().is_none_or(|a| name > a)
            && self.last.as_deref().is_none_or(|l| name <= l)
    }
}

/// What a `presence` event changed in the list, for the main room's lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Who came online and was not listed.
    pub joined: Vec<OnlineUser>,
    /// Who went offline and was listed.
    pub left: Vec<PresenceLeft>,
}

/// The online pane's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Online {
    /// The number online, as the server last said, moved by the joins and
    /// leaves told since.
    count: u64,
    /// The server counts (false before presence paging: the list's length
    /// is the count).
    counted: bool,
    /// The list: everyone in a small room, a window of a big one.
    pub list: Window,
    /// Finding by name, while the user types.
    pub find: Option<Find>,
    watch: Watch,
}

impl Online {
    /// The list as `login_ok` gives it: everyone in the order they came
    /// online, or (with `next`) the first page by name.
    pub fn from_login(online: Vec<OnlineUser>, count: u64, next: Option<String>) -> Self {
        let list = match next {
            Some(next) => Window::first_page(online, Some(next)),
            None => Window::whole(online),
        };
        let mut this = Self {
            count,
            counted: count > 0,
            list,
            find: None,
            watch: Watch::Off,
        };
        this.order_for_count();
        this
    }

    /// How many are online.
    pub fn count(&self) -> u64 {
        if self.counted {
            self.count
        } else {
            self.list.len() as u64
        }
    }

    /// The names loaded in the list (for completing a name in the input).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.list.users().iter().map(|u| u.name.as_str())
    }

    /// True when `name` is loaded in the list.
    pub fn is_listed(&self, name: &str) -> bool {
        self.list.position(name).is_some()
    }

    /// True while the pane shows what was found rather than the list.
    pub fn finding(&self) -> bool {
        self.find.as_ref().is_some_and(|f| !f.text.is_empty())
    }

    /// The window the pane shows: what was found, or the list.
    pub fn shown(&self) -> &Window {
        match &self.find {
            Some(f) if !f.text.is_empty() => &f.results,
            _ => &self.list,
        }
    }

    fn shown_mut(&mut self) -> &mut Window {
        match &mut self.find {
            Some(f) if !f.text.is_empty() => &mut f.results,
            _ => &mut self.list,
        }
    }

    /// The request for the page `fetch` of the window shown.
    fn ask(&self, fetch: super::online_window::Fetch) -> UsersRequest {
        UsersRequest::Page {
            after: fetch.after,
            prefix: self
                .find
                .as_ref()
                .map(|f| f.text.clone())
                .filter(|t| !t.is_empty()),
            limit: fetch.limit,
        }
    }

    /// A list grown past what a watched window holds goes over to name
    /// order, the order the server pages and watches in.
    fn order_for_count(&mut self) {
        if self.list.order() == Order::Login && self.count() > u64::from(WATCH_LIMIT) {
            self.list.to_name_order();
        }
    }

    /// The server said how many are online.
    fn counted_now(&mut self, count: u64) {
        if count > 0 {
            self.count = count;
            self.counted = true;
        }
        self.order_for_count();
    }

    /// `user_joined`: someone logged in. True when they were not listed.
    pub fn joined(&mut self, user: OnlineUser) -> bool {
        let whole = self.list.order() == Order::Login;
        if whole && self.is_listed(&user.name) {
            return false;
        }
        self.count += 1;
        self.find_joined(&user);
        let new = self.list.insert(user);
        self.order_for_count();
        new
    }

    /// `user_left`: someone went offline. True when they were listed.
    pub fn left(&mut self, name: &str) -> bool {
        let listed = self.list.remove(name);
        if let Some(f) = &mut self.find {
            f.results.remove(name);
        }
        if listed || self.list.order() == Order::Name {
            self.count = self.count.saturating_sub(1);
        }
        listed
    }

    fn find_joined(&mut self, user: &OnlineUser) {
        if let Some(f) = &mut self.find
            && !f.text.is_empty()
            && user.name.starts_with(&f.text)
        {
            f.results.insert(user.clone());
        }
    }

    /// A `presence` event: `left` first, then `joined` (a name listed
    /// already gets its new entry), and the count.
    pub fn presence(&mut self, p: Presence) -> Changes {
        let mut changes = Changes::default();
        for gone in p.left {
            if let Some(f) = &mut self.find {
                f.results.remove(&gone.name);
            }
            if self.list.remove(&gone.name) {
                changes.left.push(gone);
            }
        }
        for user in p.joined {
            self.find_joined(&user);
            if self.list.insert(user.clone()) {
                changes.joined.push(user);
            }
        }
        self.counted_now(p.online_count);
        changes
    }

    /// Select the user at `i` of the window shown (a click).
    pub fn select(&mut self, i: usize) {
        let window = self.shown_mut();
        if i < window.len() {
            window.selected = i;
        }
    }

    /// Move the selection of the window shown by `rows` (negative: up);
    /// the page beyond an end of what is loaded is asked for.
    pub fn move_by(&mut self, rows: isize) -> Option<UsersRequest> {
        let fetch = self.shown_mut().move_by(rows)?;
        Some(self.ask(fetch))
    }

    /// Home: the first user.
    pub fn home(&mut self) -> Option<UsersRequest> {
        let fetch = self.shown_mut().home()?;
        Some(self.ask(fetch))
    }

    /// End: the last user, reading on to the end of the list.
    pub fn end(&mut self) -> Option<UsersRequest> {
        let fetch = self.shown_mut().end()?;
        Some(self.ask(fetch))
    }

    /// Start finding (nothing typed yet: the list stays).
    pub fn start_find(&mut self) {
        if self.find.is_none() {
            self.find = Some(Find {
                text: String::new(),
                results: Window::whole(Vec::new()),
            });
        }
    }

    /// A character typed into the find: the first page of the names that
    /// start with it all is asked for.
    pub fn find_push(&mut self, c: char) -> Option<UsersRequest> {
        let find = self.find.as_mut()?;
        find.text.push(c);
        self.find_again()
    }

    /// Backspace in the find; with nothing left the list shows again.
    pub fn find_pop(&mut self) -> Option<UsersRequest> {
        let find = self.find.as_mut()?;
        find.text.pop();
        self.find_again()
    }

    fn find_again(&mut self) -> Option<UsersRequest> {
        let find = self.find.as_mut()?;
        if find.text.is_empty() {
            find.results = Window::whole(Vec::new());
            return None;
        }
        let (results, fetch) = Window::loading_first(PAGE);
        find.results = results;
        Some(self.ask(fetch))
    }

    /// Stop finding: the list shows again as it was.
    pub fn clear_find(&mut self) {
        self.find = None;
    }

    /// The reply to `request`: a page goes where it was asked for (a page
    /// for an earlier find, or one nobody waits for, is dropped). Returns
    /// the next page to ask for while End reads on.
    pub fn page_came(
        &mut self,
        request: &UsersRequest,
        page: Result<UserList, chatroom_shared::message::ErrorReply>,
    ) -> Option<UsersRequest> {
        match request {
            UsersRequest::Watch { after, .. } => {
                let Ok(page) = page else {
                    // A server from before watching: user_joined and
                    // user_left keep the list as before.
                    self.watch = Watch::Refused;
                    return None;
                };
                self.counted_now(page.online_count);
                if let Watch::On(w) = &mut self.watch
                    && w.after == *after
                {
                    w.last = page
                        .has_more
                        .then(|| page.users.last().map(|u| u.name.clone()))
                        .flatten();
                }
                self.list.refresh(after.as_deref(), page);
                None
            }
            UsersRequest::Page {
                after,
                prefix,
                limit,
            } => {
                let window = match prefix {
                    None => &mut self.list,
                    Some(p) => match &mut self.find {
                        Some(f) if f.text == *p => &mut f.results,
                        _ => return None,
                    },
                };
                let Ok(page) = page else {
                    window.cancel_loading();
                    return None;
                };
                let count = page.online_count;
                let fetch = window.page_came(after.as_deref(), *limit, page);
                self.counted_now(count);
                fetch.map(|f| UsersRequest::Page {
                    after: f.after,
                    prefix: prefix.clone(),
                    limit: f.limit,
                })
            }
            UsersRequest::Unwatch => None,
        }
    }

    /// What to tell the server now that the list's rows `view` are on
    /// screen (none: the pane is not): watch the window around them when
    /// they are not in the one watched, or stop watching.
    pub fn sync_watch(&mut self, view: Option<View>) -> Option<UsersRequest> {
        if self.watch == Watch::Refused {
            return None;
        }
        let Some(view) = view else {
            if matches!(self.watch, Watch::On(_)) {
                self.watch = Watch::Off;
                return Some(UsersRequest::Unwatch);
            }
            return None;
        };
        let many = self.count() > u64::from(WATCH_LIMIT);
        if let Watch::On(w) = &self.watch {
            let shown = self.list.users().iter().skip(view.first).take(view.rows);
            let holds = shown.into_iter().all(|u| w.holds(&u.name));
            // A window asked for a room of another size is asked again:
            // everyone once few are online, a page once many are.
            if holds && w.narrow == many {
                return None;
            }
        }
        let (first, after) = if many || self.list.has_before() {
            let first = view.first.saturating_sub(WATCH_MARGIN);
            (first, self.list.after_of(first))
        } else {
            (0, None)
        };
        let limit = WATCH_LIMIT as usize;
        let last = match self.list.users().get(first + limit - 1) {
            Some(u) => Some(u.name.clone()),
            None if self.list.has_more() => self.list.users().last().map(|u| u.name.clone()),
            None => None,
        };
        self.watch = Watch::On(Watched {
            after: after.clone(),
            last,
            narrow: many,
        });
        Some(UsersRequest::Watch {
            after,
            limit: WATCH_LIMIT,
        })
    }

    /// True while the server tells this client of changes in a window.
    pub fn watching(&self) -> bool {
        matches!(self.watch, Watch::On(_))
    }
}
