//! A window of a list of online users that comes page by page: the names
//! loaded (a few pages, never the whole of a big room), the selection, the
//! page being loaded, and the cursors to load what is not.
//!
//! The server pages the online list by name and only forward (`users` with
//! `after`). So the window remembers, for each page it dropped above the
//! loaded ones, the `after` that lists it again: scrolling back up re-reads
//! them. Below, the `next` of the last page read is enough. At most
//! [`MAX_LOADED`] users are kept: past that, pages are dropped at the end
//! farther from the selection.
//!
//! A small room's list (`login_ok` with everyone) is whole and in the order
//! users came online, as it always was; a big room's is a window of the list
//! by name.

use chatroom_shared::message::{OnlineUser, UserList};

/// Users per page asked for as the list scrolls or finds.
pub const PAGE: u32 = 100;
/// Users per page while End reads on to the end of the list (the server's
/// largest page): 20 pages for 10,000 online.
pub const END_PAGE: u32 = 500;
/// Most users kept in one window: 20 pages. A row costs about 50 bytes, so a
/// window stays near 100 KB whatever the number online.
pub const MAX_LOADED: usize = 2_000;
/// Users dropped at once when the window is over [`MAX_LOADED`] (a page, so
/// each dropped stretch above has its own cursor).
const DROP: usize = PAGE as usize;

/// The order of the loaded users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// The whole list, in the order they came online (a small room).
    Login,
    /// A stretch of the list by name (Unicode code point order, as the
    /// server pages it).
    Name,
}

/// Which end of the window a page is loaded at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// After the last loaded user.
    Below,
    /// Before the first loaded user (a page dropped earlier, read again).
    Above,
}

/// A page asked for and not come yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    /// The page's cursor: the names after this one (none: from the first).
    pub after: Option<String>,
    /// Where it goes.
    pub place: Place,
    /// How many users it asks for.
    pub limit: u32,
}

/// A window of the online list (or of the users found by a prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    users: Vec<OnlineUser>,
    order: Order,
    /// By name: the loaded users are the names after this one (none: from
    /// the first name on).
    start: Option<String>,
    /// By name: the `after` of each page dropped above `start`, the nearest
    /// last. One short name per 100 users scrolled past.
    above: Vec<Option<String>>,
    /// By name: more users follow the loaded ones, after this cursor (none:
    /// the loaded users reach the end of the list).
    next: Option<String>,
    /// The selected user (an index into the loaded ones).
    pub selected: usize,
    /// The page on its way, if any (one at a time).
    loading: Option<Fetch>,
    /// End was pressed: each page that comes asks for the next, and the
    /// selection goes to the last user, until the end of the list.
    to_end: bool,
}

impl Window {
    /// The whole list, in the order users came online.
    pub fn whole(users: Vec<OnlineUser>) -> Self {
        Self {
            users,
            order: Order::Login,
            start: None,
            above: Vec::new(),
            next: None,
            selected: 0,
            loading: None,
            to_end: false,
        }
    }

    /// The first page of the list by name, with the cursor of the rest
    /// (none: it is the whole list).
    pub fn first_page(users: Vec<OnlineUser>, next: Option<String>) -> Self {
        Self {
            order: Order::Name,
            next,
            ..Self::whole(users)
        }
    }

    /// Nothing loaded yet: the first page (`limit` users) is on its way.
    pub fn loading_first(limit: u32) -> (Self, Fetch) {
        let fetch = Fetch {
            after: None,
            place: Place::Below,
            limit,
        };
        let window = Self {
            loading: Some(fetch.clone()),
            ..Self::first_page(Vec::new(), None)
        };
        (window, fetch)
    }

    /// The loaded users, in order.
    pub fn users(&self) -> &[OnlineUser] {
        &self.users
    }

    /// How the loaded users are ordered.
    pub fn order(&self) -> Order {
        self.order
    }

    /// The loaded users' count.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// True when no user is loaded.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The selected user, if any.
    pub fn selected_user(&self) -> Option<&OnlineUser> {
        self.users.get(self.selected)
    }

    /// The page on its way, and where it goes.
    pub fn loading(&self) -> Option<&Fetch> {
        self.loading.as_ref()
    }

    /// The cursor just before the loaded user `i`: the `after` that lists
    /// the window from that user on.
    pub fn after_of(&self, i: usize) -> Option<String> {
        match i.checked_sub(1) {
            Some(prev) => self.users.get(prev).map(|u| u.name.clone()),
            None => self.start.clone(),
        }
    }

    /// True when users come after the loaded ones.
    pub fn has_more(&self) -> bool {
        self.next.is_some()
    }

    /// True when users come before the loaded ones.
    pub fn has_before(&self) -> bool {
        self.start.is_some()
    }

    /// Where `name` is loaded.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.users.iter().position(|u| u.name == name)
    }

    /// True when `name` belongs in what is loaded: between the cursors of a
    /// window by name; anywhere in a whole list.
    pub fn covers(&self, name: &str) -> bool {
        if self.order == Order::Login {
            return true;
        }
        let after_start = self.start.as_deref().is_none_or(|s| name > s);
        let before_end = match (&self.next, self.users.last()) {
            (None, _) => true,
            (Some(_), Some(last)) => name <= last.name.as_str(),
            (Some(_), None) => false,
        };
        after_start && before_end
    }

    /// Someone is online: an entry already there is replaced (a new
    /// session), a new one goes in its place when the window covers it.
    /// True when they were not listed before.
    pub fn insert(&mut self, user: OnlineUser) -> bool {
        if let Some(i) = self.position(&user.name) {
            self.users[i] = user;
            return false;
        }
        if !self.covers(&user.name) {
            return false;
        }
        let at = match self.order {
            Order::Login => self.users.len(),
            Order::Name => self.users.partition_point(|u| u.name < user.name),
        };
        if at <= self.selected && !self.users.is_empty() {
            self.selected += 1;
        }
        self.users.insert(at, user);
        self.trim();
        true
    }

    /// Someone went offline; true when they were listed.
    pub fn remove(&mut self, name: &str) -> bool {
        let Some(i) = self.position(name) else {
            return false;
        };
        self.users.remove(i);
        if i < self.selected {
            self.selected -= 1;
        }
        self.clamp();
        true
    }

    fn clamp(&mut self) {
        self.selected = self.selected.min(self.users.len().saturating_sub(1));
    }

    /// The whole list goes over to name order (it grew past what a list in
    /// login order shows well); the same user stays selected.
    pub fn to_name_order(&mut self) {
        if self.order == Order::Name {
            return;
        }
        let selected = self.selected_user().map(|u| u.name.clone());
        self.users.sort_by(|a, b| a.name.cmp(&b.name));
        self.order = Order::Name;
        if let Some(i) = selected.and_then(|name| self.position(&name)) {
            self.selected = i;
        }
        self.trim();
    }

    /// Move the selection by `rows` (negative: up). At an end of what is
    /// loaded with more beyond it, the page there is asked for (when none
    /// is on its way).
    pub fn move_by(&mut self, rows: isize) -> Option<Fetch> {
        self.to_end = false;
        let last = self.users.len().saturating_sub(1);
        let wanted = self.selected.saturating_add_signed(rows);
        self.selected = wanted.min(last);
        if rows > 0 && wanted >= last {
            self.fetch_below(PAGE)
        } else if rows < 0 && self.selected == 0 {
            self.fetch_above()
        } else {
            None
        }
    }

    /// Home: the first user of the list. A window that dropped the top
    /// starts again from the first page.
    pub fn home(&mut self) -> Option<Fetch> {
        self.to_end = false;
        if self.start.is_none() {
            self.selected = 0;
            return None;
        }
        let (fresh, fetch) = Self::loading_first(PAGE);
        *self = fresh;
        Some(fetch)
    }

    /// End: the last user loaded, then on to the end of the list page by
    /// page when more follow.
    pub fn end(&mut self) -> Option<Fetch> {
        self.selected = self.users.len().saturating_sub(1);
        self.to_end = self.next.is_some();
        self.fetch_below(END_PAGE)
    }

    fn fetch_below(&mut self, limit: u32) -> Option<Fetch> {
        let after = self.next.clone()?;
        self.ask(Fetch {
            after: Some(after),
            place: Place::Below,
            limit,
        })
    }

    fn fetch_above(&mut self) -> Option<Fetch> {
        self.start.as_ref()?;
        let after = self.above.last().cloned().unwrap_or_default();
        // Twice a page: those who came online meanwhile fit too.
        self.ask(Fetch {
            after,
            place: Place::Above,
            limit: 2 * PAGE,
        })
    }

    fn ask(&mut self, fetch: Fetch) -> Option<Fetch> {
        if self.loading.is_some() {
            return None;
        }
        self.loading = Some(fetch.clone());
        Some(fetch)
    }

    /// Nothing is on its way any more (the connection dropped, or the
    /// server refused the page).
    pub fn cancel_loading(&mut self) {
        self.loading = None;
        self.to_end = false;
    }

    /// The page after `after` (of `limit` users) came; a page nobody waits
    /// for any more is dropped. Returns the next page to ask for while End
    /// reads on.
    pub fn page_came(&mut self, after: Option<&str>, limit: u32, page: UserList) -> Option<Fetch> {
        let asked = self
            .loading
            .as_ref()
            .is_some_and(|f| f.after.as_deref() == after && f.limit == limit);
        if !asked {
            return None;
        }
        let fetch = self.loading.take()?;
        match fetch.place {
            Place::Below => self.append(page),
            Place::Above => self.prepend(fetch.after, page),
        }
        self.trim();
        if self.to_end {
            self.selected = self.users.len().saturating_sub(1);
            self.to_end = self.next.is_some();
            return self.fetch_below(END_PAGE);
        }
        None
    }

    fn append(&mut self, page: UserList) {
        let last_page_user = page.users.last().map(|u| u.name.clone());
        let was_empty = self.users.is_empty();
        let last = self.users.last().map(|u| u.name.clone());
        let start = self.start.clone();
        self.users.extend(page.users.into_iter().filter(|u| {
            last.as_deref()
                .or(start.as_deref())
                .is_none_or(|l| u.name.as_str() > l)
        }));
        self.next = next_cursor(page.has_more, page.next, last_page_user);
        if was_empty {
            self.selected = 0;
        }
    }

    /// A page read again above the loaded ones: its users up to where the
    /// window starts go first, and the window starts at its cursor.
    fn prepend(&mut self, after: Option<String>, page: UserList) {
        let Some(start) = self.start.take() else {
            return;
        };
        self.above.pop();
        let before: Vec<OnlineUser> = page
            .users
            .into_iter()
            .filter(|u| u.name <= start && after.as_deref().is_none_or(|a| u.name.as_str() > a))
            .collect();
        self.selected += before.len();
        self.users.splice(0..0, before);
        self.start = after;
    }

    /// The page of a watched window (`watch_users`' reply, the names after
    /// `after`): it replaces what is loaded in its stretch, so names that
    /// changed while not watched are right again. A whole list in login
    /// order keeps its order: who left goes, who came goes at the end.
    pub fn refresh(&mut self, after: Option<&str>, page: UserList) {
        if self.order == Order::Login {
            if after.is_none() && !page.has_more {
                self.users
                    .retain(|u| page.users.iter().any(|p| p.name == u.name));
                for user in page.users {
                    self.insert(user);
                }
                self.clamp();
            }
            return;
        }
        if let Some(start) = self.start.as_deref()
            && after.is_none_or(|a| a < start)
        {
            // A stretch that starts above the window: nothing to line it up with.
            return;
        }
        let end = page
            .has_more
            .then(|| page.users.last().map(|u| u.name.clone()));
        let end = end.flatten();
        let lo = after.map_or(0, |a| self.users.partition_point(|u| u.name.as_str() <= a));
        let hi = match &end {
            Some(e) => self.users.partition_point(|u| u.name <= *e),
            None => self.users.len(),
        };
        let last = self.users.last().map(|u| u.name.as_str());
        if lo == self.users.len() && self.next.is_some() && after != last {
            // A stretch that starts below what is loaded would leave a gap.
            return;
        }
        let selected = self.selected_user().map(|u| u.name.clone());
        let reaches_end = hi == self.users.len();
        self.users.splice(lo..hi, page.users);
        if end.is_none() {
            self.next = None;
        } else if reaches_end {
            self.next = end;
        }
        if let Some(i) = selected.and_then(|n| self.position(&n)) {
            self.selected = i;
        }
        self.clamp();
        self.trim();
    }

    /// Keep at most [`MAX_LOADED`] users: drop pages at the end farther from
    /// the selection (a window in login order is whole and is not trimmed).
    fn trim(&mut self) {
        if self.order == Order::Login {
            return;
        }
        while self.users.len() > MAX_LOADED {
            if self.selected >= self.users.len() / 2 {
                // Drop the top page; its cursor lists it again.
                let dropped: Vec<OnlineUser> = self.users.drain(..DROP).collect();
                self.above.push(self.start.take());
                self.start = dropped.last().map(|u| u.name.clone());
                self.selected -= DROP;
                if self
                    .loading
                    .as_ref()
                    .is_some_and(|f| f.place == Place::Above)
                {
                    self.loading = None;
                }
            } else {
                self.users.truncate(self.users.len() - DROP);
                self.next = self.users.last().map(|u| u.name.clone());
                if self
                    .loading
                    .as_ref()
                    .is_some_and(|f| f.place == Place::Below)
                {
                    self.loading = None;
                    self.to_end = false;
                }
            }
        }
    }
}

/// The cursor of the page after this one, when one follows: the server's
/// `next`, or else the last entry's name. An empty page ends the list, so a
/// confused server cannot keep the app asking for ever.
fn next_cursor(has_more: bool, next: Option<String>, last: Option<String>) -> Option<String> {
    if !has_more {
        return None;
    }
    last.as_ref()?;
    next.or(last)
}
