//! The slash commands of groups, direct messages and search: `/create`,
//! `/join`, `/leave`, `/groups`, `/members`, `/approve`, `/reject`,
//! `/remove`, `/msg` and `/search`. Each checks its arguments here (a clear
//! usage line when they are wrong) and becomes one request; what the
//! server answers is in `groups.rs`.

use chatroom_shared::message::Target;
use chatroom_shared::rules::search::{MAX_SEARCH_WORD_CHARS, MAX_SEARCH_WORDS};
use chatroom_shared::rules::{name_key, search_words, validate_name};

use super::search::SearchView;
use super::{Action, App};
use crate::net::{GroupRequest, ListRequest, NetCommand};

/// `/create`'s usage line.
const CREATE_USAGE: &str = "/create [--private] [--full-history] NAME [comment]: make a group \
                            (private: joining needs your approval; full history: new members \
                            read what came before they joined).";

/// A group or user name as typed: "#team", "@bob" or plain.
fn bare(name: &str) -> &str {
    name.trim().trim_start_matches(['#', '@'])
}

/// The first word and the rest of `args`, both trimmed.
fn split_first(args: &str) -> (&str, &str) {
    let args = args.trim();
    match args.split_once(char::is_whitespace) {
        Some((first, rest)) => (first, rest.trim()),
        None => (args, ""),
    }
}

impl App {
    /// A group, direct-message or search command; `None` when `name` is
    /// none of them.
    pub(super) fn talk_command(&mut self, name: &str, args: &str) -> Option<Vec<Action>> {
        let args = args.trim();
        Some(match name {
            "/create" => self.create_command(args),
            "/join" => match bare(args) {
                "" => self.usage("/join NAME: join a public group, or ask to join a private one."),
                group => self.send_group(GroupRequest::Join(group.to_owned())),
            },
            "/leave" => match self.group_or_shown(args, "/leave [NAME]") {
                Ok(group) => self.send_group(GroupRequest::Leave(group)),
                Err(actions) => actions,
            },
            "/groups" => {
                let groups = ListRequest::Groups { after: None };
                let actions = self.send_when_online(NetCommand::List(groups));
                if let Some(chat) = self.chat_view().filter(|_| !actions.is_empty()) {
                    chat.convs.list_asked = true;
                }
                actions
            }
            "/members" => match self.group_or_shown(args, "/members [NAME]") {
                Ok(group) => {
                    let members = ListRequest::Members { group, after: None };
                    self.send_when_online(NetCommand::List(members))
                }
                Err(actions) => actions,
            },
            "/approve" | "/reject" => self.decide_command(name, bare(args)),
            "/remove" => self.remove_command(bare(args)),
            "/msg" => self.msg_command(args),
            "/search" if args.is_empty() => {
                self.usage("/search WORDS: find messages with every word, in every conversation.")
            }
            "/search" => {
                if let Err(e) = search_words(args) {
                    let text = format!(
                        "Search takes at most {MAX_SEARCH_WORDS} words of at most \
                         {MAX_SEARCH_WORD_CHARS} characters: {e}."
                    );
                    return Some(self.usage(&text));
                }
                let actions = self.send_group(GroupRequest::Search {
                    text: args.to_owned(),
                    before: None,
                });
                if let Some(chat) = self.chat_view().filter(|_| !actions.is_empty()) {
                    chat.search = Some(SearchView::new(args));
                }
                actions
            }
            _ => return None,
        })
    }

    /// `/create [--private] [--full-history] NAME [comment]`.
    fn create_command(&mut self, args: &str) -> Vec<Action> {
        let (mut private, mut full_history, mut args) = (false, false, args.trim());
        loop {
            let (first, rest) = split_first(args);
            match first {
                "--private" | "-p" => private = true,
                "--full-history" => full_history = true,
                _ => break,
            }
            args = rest;
        }
        let (name, comment) = split_first(args);
        let name = bare(name);
        if name.is_empty() || name.starts_with('-') {
            return self.usage(CREATE_USAGE);
        }
        let name = match validate_name(name) {
            Ok(name) => name,
            Err(e) => {
                let text = format!("Not a group name: {e}. {CREATE_USAGE}");
                return self.usage(&text);
            }
        };
        self.send_group(GroupRequest::Create {
            name,
            private,
            comment: (!comment.is_empty()).then(|| comment.to_owned()),
            full_history,
        })
    }

    /// The group named in `args`, else the one on screen; a usage notice
    /// (as the error) when there is neither.
    fn group_or_shown(&mut self, args: &str, usage: &str) -> Result<String, Vec<Action>> {
        let named = bare(args);
        if !named.is_empty() {
            return Ok(named.to_owned());
        }
        match self.chat().map(|c| c.convs.shown().target.clone()) {
            Some(Target::Group { group }) => Ok(group),
            _ => {
                let text = format!("{usage}: switch to the group first, or name it.");
                Err(self.usage(&text))
            }
        }
    }

    /// `/approve NAME`, `/reject NAME`: in the group on screen, or the one
    /// group NAME asks to join.
    fn decide_command(&mut self, command: &str, user: &str) -> Vec<Action> {
        let approve = command == "/approve";
        if user.is_empty() {
            let text = format!("{command} NAME: decide a request to join the group on screen.");
            return self.usage(&text);
        }
        let Some(chat) = self.chat() else {
            return Vec::new();
        };
        let shown = match &chat.convs.shown().target {
            Target::Group { group } => Some(group.clone()),
            _ => None,
        };
        let asked: Vec<String> = chat
            .convs
            .requests
            .iter()
            .filter(|r| r.user == user)
            .map(|r| r.group.clone())
            .collect();
        let group = match (shown, asked.as_slice()) {
            (Some(shown), _) => shown,
            (None, [only]) => only.clone(),
            (None, []) => {
                let text = format!("{user} has not asked to join any of your groups.");
                return self.usage(&text);
            }
            (None, _) => {
                let text = format!(
                    "{user} asks to join {} of your groups: switch to the one you mean.",
                    asked.len()
                );
                return self.usage(&text);
            }
        };
        self.decide(&group, user, approve)
    }

    /// `/remove NAME`: in the group on screen.
    fn remove_command(&mut self, user: &str) -> Vec<Action> {
        if user.is_empty() {
            return self.usage("/remove NAME: remove a member from the group on screen.");
        }
        match self.group_or_shown("", "/remove NAME") {
            Ok(group) => self.send_group(GroupRequest::Remove {
                group,
                user: user.to_owned(),
            }),
            Err(actions) => actions,
        }
    }

    /// `/msg NAME [text]`: show the conversation with NAME, and send the
    /// text to them.
    fn msg_command(&mut self, args: &str) -> Vec<Action> {
        let (user, text) = split_first(args);
        let user = bare(user);
        if user.is_empty() {
            return self.usage("/msg NAME text: a direct message (delivered later if offline).");
        }
        let user = self.known_spelling(user);
        let mut actions = self.show_conversation(Target::User { user });
        if !text.is_empty() {
            let client_id = self.new_client_id();
            actions.extend(self.send_to_shown(client_id, text.to_owned()));
        }
        actions
    }
}

impl App {
    /// `typed` as the name of someone online or of a conversation, when it
    /// is theirs but spelled differently ("Bob" for "bob"), so one person
    /// keeps one conversation.
    fn known_spelling(&self, typed: &str) -> String {
        let key = name_key(typed);
        let Some(chat) = self.chat() else {
            return typed.to_owned();
        };
        let online = chat.online.names();
        let talked = chat.convs.all().iter().filter_map(|c| match &c.target {
            Target::User { user } => Some(user.as_str()),
            _ => None,
        });
        talked
            .chain(online)
            .find(|n| name_key(n) == key)
            .unwrap_or(typed)
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_marks_and_arguments_split_once() {
        assert_eq!(bare(" #team "), "team");
        assert_eq!(bare("@bob"), "bob");
        assert_eq!(split_first("  bob  hi there "), ("bob", "hi there"));
        assert_eq!(split_first("bob"), ("bob", ""));
        assert_eq!(split_first(""), ("", ""));
    }
}
