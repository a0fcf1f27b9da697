//! The login form widget.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Widget, Wrap};
use tui_textarea::TextArea;

use super::layout::login_regions;
use crate::app::{FormStatus, LoginField, LoginForm};

/// Draws a [`LoginForm`] centred in the area it is given.
pub struct LoginView<'a> {
    /// The form to draw.
    pub form: &'a LoginForm,
}

fn field(buf: &mut Buffer, rect: Rect, title: &str, text: &TextArea<'_>, focused: bool) {
    let block = Block::bordered()
        .title(format!(" {title} "))
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(if focused {
            Style::new().fg(Color::Cyan)
        } else {
            Style::new().dim()
        });
    let inner = block.inner(rect);
    block.render(rect, buf);
    text.render(inner, buf);
}

fn button(buf: &mut Buffer, rect: Rect, label: &str, focused: bool) {
    let style = if focused {
        Style::new()
            .fg(Color::Black)
            .bg(Color::Cyan)
            .add_modifier(Modifier::BOLD)
    } else {
        Style::new().fg(Color::Cyan)
    };
    let block = Block::bordered()
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Rounded
        })
        .border_style(Style::new().fg(Color::Cyan));
    let inner = block.inner(rect);
    block.render(rect, buf);
    Paragraph::new(Line::from(label).style(style))
        .alignment(Alignment::Center)
        .render(inner, buf);
}

impl Widget for LoginView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let r = login_regions(area);
        let f = self.form;
        Block::bordered()
            .border_type(BorderType::Rounded)
            .title(Line::from(" chatroom · log in ").bold())
            .render(r.form, buf);
        field(
            buf,
            r.server,
            "Server",
            &f.server,
            f.focus == LoginField::Server,
        );
        field(
            buf,
            r.user,
            "User name",
            &f.user,
            f.focus == LoginField::User,
        );
        field(
            buf,
            r.password,
            "Password",
            &f.password,
            f.focus == LoginField::Password,
        );
        button(buf, r.login, "Login", f.focus == LoginField::Login);
        button(buf, r.register, "Register", f.focus == LoginField::Register);
        let status = match &f.status {
            FormStatus::Idle => {
                Line::from("New here? Fill in a name and password and choose Register.".dim())
            }
            FormStatus::Busy(text) => Line::from(Span::from(text.as_str()).fg(Color::Yellow)),
            FormStatus::Info(text) => Line::from(Span::from(text.as_str()).fg(Color::Green)),
            FormStatus::Error { message, .. } => {
                Line::from(Span::from(message.as_str()).fg(Color::Red).bold())
            }
        };
        Paragraph::new(status)
            .wrap(Wrap { trim: true })
            .render(r.status, buf);
        Paragraph::new(Line::from(
            "Tab next field · Enter log in · Ctrl-R register · Esc quit".dim(),
        ))
        .render(r.keys, buf);
    }
}
