//! The README, the help overlay and `chatroom --help` say the same as the
//! client does: every slash command the client knows is in the help overlay
//! and the README, every flag of `--help` is in the README's flags table with
//! its environment variable, and the smallest screen the client accepts is
//! the one both documents name.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use chatroom_tui::app::compose::COMMANDS;
use chatroom_tui::ui::help::KEYS;
use chatroom_tui::ui::layout::{MIN_HEIGHT, MIN_WIDTH};

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap()
}

/// The README's section about the terminal client, up to the next `## `.
fn client_section(readme: &str) -> &str {
    let start = readme.find("## The terminal client").unwrap();
    let rest = &readme[start + 3..];
    let end = rest.find("\n## ").map_or(rest.len(), |i| i);
    &rest[..end]
}

fn help_output() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_chatroom"))
        .arg("--help")
        .env_clear()
        .output()
        .unwrap();
    assert!(out.status.success(), "chatroom --help failed");
    String::from_utf8(out.stdout).unwrap()
}

/// Every `--long-flag` in `text`.
fn long_flags(text: &str) -> Vec<String> {
    let mut flags: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(str::to_owned)
        .collect();
    flags.sort();
    flags.dedup();
    flags
}

#[test]
fn every_slash_command_is_in_the_help_overlay_and_the_readme() {
    let readme = readme();
    let section = client_section(&readme);
    let help: String = KEYS.iter().map(|(k, v)| format!("{k} {v}\n")).collect();
    let mentioned = |text: &str, command: &str| {
        text.match_indices(command).any(|(i, _)| {
            let after = text[i + command.len()..].chars().next();
            !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
        })
    };
    let missing_help: Vec<&str> = COMMANDS
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| !mentioned(&help, c))
        .collect();
    let missing_readme: Vec<&str> = COMMANDS
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| !mentioned(section, c))
        .collect();
    assert!(
        missing_help.is_empty(),
        "missing from the help overlay: {missing_help:?}"
    );
    assert!(
        missing_readme.is_empty(),
        "missing from the README: {missing_readme:?}"
    );
}

#[test]
fn every_flag_of_help_is_in_the_readme_with_its_environment_variable() {
    let help = help_output();
    let readme = readme();
    let section = client_section(&readme);
    let table: Vec<&str> = section.lines().filter(|l| l.starts_with("| `--")).collect();
    let mut shown = long_flags(&help);
    shown.retain(|f| f != "--help" && f != "--version");
    assert!(
        shown.len() >= 8,
        "too few flags read from --help: {shown:?}"
    );
    for flag in &shown {
        let row = table
            .iter()
            .find(|row| row.starts_with(&format!("| `{flag}")))
            .unwrap_or_else(|| panic!("{flag} of --help is not in the README's flags table"));
        // clap prints the variable as "[env: NAME=]" in the flag's text,
        // which may wrap onto the lines below it.
        let lines: Vec<&str> = help.lines().collect();
        let at = lines
            .iter()
            .position(|l| {
                let l = l.trim_start();
                l.strip_prefix(flag.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
            })
            .unwrap();
        let mut block = lines[at].to_owned();
        for l in &lines[at + 1..] {
            if l.trim_start().starts_with('-') || l.trim().is_empty() {
                break;
            }
            block.push(' ');
            block.push_str(l.trim());
        }
        if let Some(at) = block.find("[env: ") {
            let var = &block[at + 6..];
            let var = &var[..var.find(['=', ']']).unwrap()];
            assert!(row.contains(var), "{flag}: the README's row lacks {var}");
        }
    }
    let documented = long_flags(&table.join("\n"));
    for flag in documented {
        let in_row = table
            .iter()
            .any(|row| row.starts_with(&format!("| `{flag}")));
        if in_row {
            assert!(
                shown.contains(&flag),
                "the README documents {flag}, which --help does not have"
            );
        }
    }
}

#[test]
fn the_smallest_screen_is_the_same_in_code_readme_and_help() {
    let size = format!("{MIN_WIDTH}×{MIN_HEIGHT}");
    let readme = readme();
    assert!(
        client_section(&readme).contains(&size),
        "the README does not name the smallest screen, {size}"
    );
    let help = help_output();
    assert!(
        help.contains(&format!("{MIN_WIDTH}x{MIN_HEIGHT}")),
        "--help does not name the smallest screen, {size}:\n{help}"
    );
    assert!(
        help.contains("F1"),
        "--help does not say where the keys are listed"
    );
}
