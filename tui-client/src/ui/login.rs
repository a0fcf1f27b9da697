//! The login form widget.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Widget};
use tui_textarea::TextArea;

use super::layout::{login_regions, login_status_width};
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

/// The form's status line, and how it is shown.
fn status(form: &LoginForm) -> (&str, Style) {
    match &form.status {
        FormStatus::Idle => (
            "New here? Fill in a name and password and choose Register.",
            Style::new().dim(),
        ),
        FormStatus::Busy(text) => (text, Style::new().fg(Color::Yellow)),
        FormStatus::Info(text) => (text, Style::new().fg(Color::Green)),
        FormStatus::Error { message, .. } => (message, Style::new().fg(Color::Red).bold()),
    }
}

/// The form's status wrapped to its width in `area`.
fn status_lines_of(form: &LoginForm, area: Rect) -> Vec<String> {
    let (text, _) = status(form);
    crate::text::wrap(text, usize::from(login_status_width(area)).max(1))
}

/// How many lines the form's status takes in `area`: the layout (drawing and mouse
/// hits alike) gives it that many, so a long warning is shown whole.
pub fn status_lines(form: &LoginForm, area: Rect) -> u16 {
    u16::try_from(status_lines_of(form, area).len()).unwrap_or(u16::MAX)
}

impl Widget for LoginView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let f = self.form;
        let r = login_regions(area, status_lines(f, area));
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
        let (_, style) = status(f);
        let lines: Vec<Line<'_>> = status_lines_of(f, area)
            .into_iter()
            .map(|l| Line::from(Span::styled(l, style)))
            .collect();
        Paragraph::new(lines).render(r.status, buf);
        Paragraph::new(Line::from(
            "Tab next field · Enter log in · Ctrl-R register · Esc quit".dim(),
        ))
        .render(r.keys, buf);
    }
}
