//! Widths of text on the terminal and word wrap: the one place where the
//! client turns strings into columns.
//!
//! Text is measured by extended grapheme clusters, each as wide as
//! unicode-width 0.2 says, because that is exactly what ratatui 0.29's
//! `Buffer` does when it draws (`Buffer::set_stringn` and `Span::render`
//! place one cluster at a time and advance by `UnicodeWidthStr::width` of the
//! cluster). Agreeing with the buffer matters more than agreeing with any one
//! terminal: if we measured differently, wrapped lines would overflow or be
//! cut. Where terminals disagree with unicode-width (emoji with VS16 such as
//! "❤\u{FE0F}", ZWJ sequences, flags and keycaps are 2 columns here but 1, or
//! one per component, on some terminals) the terminal may misdraw the rest of
//! that row; that is the same for every ratatui application.
//!
//! Two deliberate differences from measuring a whole string at once with
//! `UnicodeWidthStr::width`: a cluster holding a control character is 0
//! columns (the buffer skips it; unicode-width would count 1), and widths are
//! summed per cluster, so Arabic "لا" is 2 columns as drawn (unicode-width
//! gives the whole string 1, which ratatui's own `Line::width` then gets
//! wrong).

use std::borrow::Cow;

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Tabs in wrapped text advance to the next multiple of this column.
pub const TAB_STOP: usize = 4;

/// What stands in for text cut off by [`truncate`], and for a cluster too wide
/// to fit a line at all in [`wrap`].
pub const ELLIPSIS: &str = "…";

/// The display width of one extended grapheme cluster, as ratatui's buffer
/// draws it; every column computation in the client builds on this.
///
/// Full-width and CJK characters, emoji (also with VS16, ZWJ sequences,
/// flags, keycaps) are 2; combining marks add nothing to their cluster;
/// clusters with a control character are 0 (callers expand tabs).
pub fn grapheme_width(g: &str) -> usize {
    if g.chars().any(char::is_control) {
        0
    } else {
        UnicodeWidthStr::width(g)
    }
}

/// The display width of a string: the sum of its clusters' widths.
pub fn str_width(s: &str) -> usize {
    s.graphemes(true).map(grapheme_width).sum()
}

/// Word-wrap `text` to lines at most `width` columns wide, so messages can be
/// laid out before they are drawn; see [`wrap_with_first`].
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    wrap_with_first(text, width, width)
}

/// Word-wrap `text` with a first line of `first_width` columns and the rest
/// `width` wide, for text that starts after a prefix ("12:00 bob: ").
///
/// Breaks at spaces (dropped at the break), or between wide (CJK) characters
/// where there are no spaces; a word longer than a line starts a new line and
/// is broken between clusters. `\n` starts a new line, `\t` becomes spaces up
/// to the next multiple of [`TAB_STOP`]. Never splits a cluster and never
/// returns a line wider than its limit: a cluster wider than `width` is shown
/// as [`ELLIPSIS`]. Always returns at least one line; with `width` 0 every
/// line is empty.
pub fn wrap_with_first(text: &str, first_width: usize, width: usize) -> Vec<String> {
    let mut out = Wrapper {
        lines: Vec::new(),
        line: String::new(),
        used: 0,
        has_content: false,
        first_width,
        width,
    };
    for paragraph in text.split(['\n', '\u{2028}', '\u{2029}']) {
        let paragraph = paragraph.strip_suffix('\r').unwrap_or(paragraph);
        if width == 0 {
            out.flush();
            continue;
        }
        for (i, atom) in atoms(paragraph).iter().enumerate() {
            out.push_atom(atom, i == 0);
        }
        out.flush();
    }
    out.lines
}

/// Cut `s` to at most `width` columns, ending in [`ELLIPSIS`] when anything
/// was cut, for labels that must stay on one line (names, titles).
pub fn truncate(s: &str, width: usize) -> String {
    if str_width(s) <= width {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for g in s.graphemes(true) {
        let w = grapheme_width(g);
        if used + w + 1 > width {
            break;
        }
        out.push_str(g);
        used += w;
    }
    if width > 0 {
        out.push_str(ELLIPSIS);
    }
    out
}

/// The byte index of the cluster drawn at column `col` (its start, when `col`
/// falls on the right half of a wide cluster), or `s.len()` past the end; maps
/// a mouse click or a cursor column back into the text.
pub fn byte_index_at_column(s: &str, col: usize) -> usize {
    let mut x = 0;
    for (i, g) in s.grapheme_indices(true) {
        let w = grapheme_width(g);
        if w > 0 && col < x + w {
            return i;
        }
        x += w;
    }
    s.len()
}

/// The column where the cluster at byte index `idx` starts: the width of the
/// clusters before it, for placing a cursor.
pub fn column_at_byte_index(s: &str, idx: usize) -> usize {
    s.grapheme_indices(true)
        .take_while(|(i, _)| *i < idx)
        .map(|(_, g)| grapheme_width(g))
        .sum()
}

/// `text` made inert for display: every control character except `\n` and
/// `\t`, and every bidi embedding, override or isolate, becomes U+FFFD, so
/// untrusted text can never drive the terminal or reorder what is shown.
pub fn sanitize_text(text: &str) -> Cow<'_, str> {
    replace_if(text, |c| {
        (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c)
    })
}

/// Like [`sanitize_text`] for one-line labels (names): newlines and tabs are
/// replaced too.
pub fn sanitize_line(text: &str) -> Cow<'_, str> {
    replace_if(text, |c| c.is_control() || is_bidi_control(c))
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn replace_if(text: &str, bad: impl Fn(char) -> bool) -> Cow<'_, str> {
    if text.chars().any(&bad) {
        Cow::Owned(
            text.chars()
                .map(|c| if bad(c) { '\u{FFFD}' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

/// A piece of a paragraph that is never broken unless it is longer than a
/// line: the spaces before it (`glue`, dropped at a line break) and its
/// clusters with their widths.
#[derive(Default)]
struct Atom<'a> {
    glue: usize,
    clusters: Vec<(&'a str, usize)>,
    width: usize,
}

/// Split a paragraph into atoms: words between spaces, and single wide
/// clusters (CJK has no spaces but may break between characters).
fn atoms(paragraph: &str) -> Vec<Atom<'_>> {
    let mut atoms = Vec::new();
    let mut current = Atom::default();
    let mut col = 0;
    let mut prev: Option<&str> = None;
    for g in paragraph.graphemes(true) {
        let spaces = match g {
            "\t" => TAB_STOP - col % TAB_STOP,
            " " => 1,
            "\u{3000}" => 2,
            _ => 0,
        };
        if spaces > 0 {
            if !current.clusters.is_empty() {
                atoms.push(std::mem::take(&mut current));
            }
            current.glue += spaces;
            col += spaces;
            prev = None;
            continue;
        }
        if prev.is_some_and(|p| may_break_between(p, g)) {
            atoms.push(std::mem::take(&mut current));
        }
        let w = grapheme_width(g);
        current.clusters.push((g, w));
        current.width += w;
        col += w;
        prev = Some(g);
    }
    atoms.push(current);
    atoms
}

/// Whether a line may break between two clusters with no space between them:
/// next to a wide character, except before closing and after opening
/// punctuation.
fn may_break_between(a: &str, b: &str) -> bool {
    const NO_BREAK_BEFORE: &str = "、。，．・：；！？）］｝」』】〕〉》〗〙〛ー々ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ…‥.,:;!?)]}%'\"";
    const NO_BREAK_AFTER: &str = "（［｛「『【〔〈《〖〘〚([{";
    let wide = |g: &str| grapheme_width(g) == 2;
    (wide(a) || wide(b))
        && !b
            .chars()
            .next()
            .is_some_and(|c| NO_BREAK_BEFORE.contains(c))
        && !a.chars().next().is_some_and(|c| NO_BREAK_AFTER.contains(c))
}

/// Greedy line filling for [`wrap_with_first`].
struct Wrapper {
    lines: Vec<String>,
    line: String,
    used: usize,
    /// Something was put on the line.
    has_content: bool,
    first_width: usize,
    width: usize,
}

impl Wrapper {
    fn limit(&self) -> usize {
        if self.lines.is_empty() {
            self.first_width
        } else {
            self.width
        }
    }

    fn flush(&mut self) {
        self.lines.push(std::mem::take(&mut self.line));
        self.used = 0;
        self.has_content = false;
    }

    /// Make room for an atom that does not fit after what the line holds;
    /// an empty first line narrower than the rest is left empty.
    fn start_fresh_line(&mut self) {
        if self.has_content || self.limit() < self.width {
            self.flush();
        }
    }

    fn push_atom(&mut self, atom: &Atom<'_>, starts_paragraph: bool) {
        if atom.clusters.is_empty() {
            // Only spaces: a blank paragraph, or spaces at its end.
            return;
        }
        // Spaces are kept between words and as the paragraph's indent, and
        // dropped where the line breaks.
        let glue = if starts_paragraph || self.has_content {
            atom.glue
        } else {
            0
        };
        if self.used + glue + atom.width <= self.limit() {
            self.push_spaces(glue);
            self.push_clusters(atom);
            return;
        }
        self.start_fresh_line();
        if atom.width <= self.limit() {
            self.push_clusters(atom);
            return;
        }
        // Longer than a line: break between clusters.
        for &(g, w) in &atom.clusters {
            let (g, w) = if w > self.width {
                (ELLIPSIS, 1)
            } else {
                (g, w)
            };
            if self.used + w > self.limit() {
                self.flush();
            }
            self.line.push_str(g);
            self.used += w;
            self.has_content = true;
        }
    }

    fn push_spaces(&mut self, n: usize) {
        self.line.extend(std::iter::repeat_n(' ', n));
        self.used += n;
    }

    fn push_clusters(&mut self, atom: &Atom<'_>) {
        for (g, _) in &atom.clusters {
            self.line.push_str(g);
        }
        self.used += atom.width;
        self.has_content = true;
    }
}

#[cfg(test)]
mod tests {
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    use ratatui::text::Line;
    use ratatui::widgets::Widget;

    use super::*;

    /// One sample of every kind of cluster the client must measure.
    const SAMPLES: &[(&str, usize)] = &[
        ("a", 1),
        ("Zürich", 6),
        ("e\u{301}", 1),
        ("中文", 4),
        ("ひらがなカタカナ", 16),
        ("ｶﾀｶﾅ", 4),
        ("한국어", 6),
        ("\u{1112}\u{1161}\u{11AB}", 2),
        ("😀", 2),
        ("👍🏽", 2),
        ("❤", 1),
        ("❤\u{FE0F}", 2),
        ("☺\u{FE0F}", 2),
        ("👩\u{200D}👩\u{200D}👧", 2),
        ("🏳\u{FE0F}\u{200D}🌈", 2),
        ("🇫🇷", 2),
        ("1\u{FE0F}\u{20E3}", 2),
        ("a\u{200B}b", 2),
        ("لا", 2),
        ("x中😀e\u{301}🇫🇷y", 9),
    ];

    #[test]
    fn clusters_have_the_widths_ratatui_draws() {
        for &(s, want) in SAMPLES {
            assert_eq!(str_width(s), want, "{s:?}");
        }
        assert_eq!(grapheme_width("\u{7}"), 0);
        assert_eq!(grapheme_width("\t"), 0);
        assert_eq!(grapheme_width("\r\n"), 0);
        assert_eq!(grapheme_width("\u{1b}"), 0);
        assert_eq!(grapheme_width("\u{9b}"), 0);
        assert_eq!(grapheme_width(""), 0);
    }

    /// Draw `s` then a sentinel and return the sentinel's column.
    fn drawn_width(s: &str, via_span: bool) -> usize {
        let mut buf = Buffer::empty(Rect::new(0, 0, 60, 1));
        if via_span {
            Line::raw(format!("{s}|")).render(buf.area, &mut buf);
        } else {
            buf.set_string(0, 0, format!("{s}|"), ratatui::style::Style::new());
        }
        (0..60)
            .find(|&x| buf[(x, 0)].symbol() == "|")
            .map(usize::from)
            .expect("sentinel drawn")
    }

    #[test]
    fn str_width_is_the_columns_the_buffer_uses() {
        for &(s, _) in SAMPLES {
            assert_eq!(drawn_width(s, false), str_width(s), "set_string {s:?}");
            assert_eq!(drawn_width(s, true), str_width(s), "Line::render {s:?}");
        }
        // The buffer skips clusters with control characters, as we count them.
        assert_eq!(
            drawn_width("a\u{7}b\u{1b}", false),
            str_width("a\u{7}b\u{1b}")
        );
    }

    #[test]
    fn wraps_at_spaces() {
        assert_eq!(wrap("the quick brown fox", 10), ["the quick", "brown fox"]);
        assert_eq!(wrap("a  b   c", 20), ["a  b   c"]);
        assert_eq!(wrap("aaa   bbb", 4), ["aaa", "bbb"]);
        assert_eq!(wrap("trailing   ", 20), ["trailing"]);
        assert_eq!(wrap("  indented text", 20), ["  indented text"]);
        assert_eq!(wrap("  indented", 8), ["indented"]);
        assert_eq!(wrap("", 10), [""]);
        assert_eq!(wrap("   ", 10), [""]);
    }

    #[test]
    fn hard_breaks_words_longer_than_a_line() {
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("hi abcdefghij", 4), ["hi", "abcd", "efgh", "ij"]);
        let url = "see https://example.com/a/very/long/path ok";
        assert_eq!(
            wrap(url, 12),
            ["see", "https://exam", "ple.com/a/ve", "ry/long/path", "ok"]
        );
    }

    #[test]
    fn honours_newlines_and_expands_tabs() {
        assert_eq!(wrap("a\n\nb", 10), ["a", "", "b"]);
        assert_eq!(wrap("a\n", 10), ["a", ""]);
        assert_eq!(wrap("a\r\nb", 10), ["a", "b"]);
        assert_eq!(wrap("a\tb", 20), ["a   b"]);
        assert_eq!(wrap("abcd\te", 20), ["abcd    e"]);
        assert_eq!(wrap("\tx", 20), ["    x"]);
        assert_eq!(wrap("中\tx", 20), ["中  x"]);
    }

    #[test]
    fn cjk_without_spaces_wraps_between_characters() {
        assert_eq!(wrap("你好世界你好", 5), ["你好", "世界", "你好"]);
        assert_eq!(
            wrap("こんにちは。さようなら", 10),
            ["こんにち", "は。さよう", "なら"]
        );
        assert_eq!(wrap("「引用」です", 6), ["「引", "用」で", "す"]);
        assert_eq!(wrap("한국어 문장입니다", 8), ["한국어", "문장입니", "다"]);
        assert_eq!(wrap("mixed中文text", 7), ["mixed中", "文text"]);
    }

    #[test]
    fn wide_clusters_never_straddle_the_edge() {
        assert_eq!(wrap("a中", 2), ["a", "中"]);
        assert_eq!(wrap("ab😀", 3), ["ab", "😀"]);
        let family = "👩\u{200D}👩\u{200D}👧";
        assert_eq!(wrap(&family.repeat(2), 3), [family, family]);
        assert_eq!(wrap("🇫🇷🇫🇷🇫🇷", 5), ["🇫🇷🇫🇷", "🇫🇷"]);
        let e = "e\u{301}";
        assert_eq!(wrap(&e.repeat(3), 2), [e.repeat(2), e.to_owned()]);
    }

    #[test]
    fn tiny_widths_terminate_and_stay_inside() {
        assert_eq!(wrap("abc", 0), [""]);
        assert_eq!(wrap("a\nb", 0), ["", ""]);
        assert_eq!(wrap("ab c", 1), ["a", "b", "c"]);
        assert_eq!(wrap("中a", 1), [ELLIPSIS, "a"]);
    }

    #[test]
    fn first_line_may_be_narrower() {
        assert_eq!(wrap_with_first("hello world", 5, 20), ["hello", "world"]);
        assert_eq!(wrap_with_first("hello", 0, 20), ["", "hello"]);
        assert_eq!(wrap_with_first("hi there", 2, 20), ["hi", "there"]);
        assert_eq!(wrap_with_first("abcdefgh", 3, 5), ["", "abcde", "fgh"]);
        assert_eq!(wrap_with_first("中", 1, 4), ["", "中"]);
    }

    fn visible_clusters(s: &str) -> Vec<String> {
        s.graphemes(true)
            .filter(|g| !matches!(*g, " " | "\t" | "\n"))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn no_line_is_ever_wider_than_the_width_and_nothing_is_lost() {
        let mut texts: Vec<String> = SAMPLES.iter().map(|(s, _)| (*s).to_owned()).collect();
        texts.push(
            SAMPLES
                .iter()
                .map(|(s, _)| *s)
                .collect::<Vec<_>>()
                .join(" "),
        );
        texts.push(SAMPLES.iter().map(|(s, _)| *s).collect::<String>());
        texts.push(
            "Lorem ipsum dolor sit amet,\tconsectetur\n\nadipiscing elit 中文字符 😀😀😀 a".into(),
        );
        for text in &texts {
            for width in 0..=40 {
                for first in [0, 1, width / 2, width] {
                    let lines = wrap_with_first(text, first, width);
                    assert!(!lines.is_empty());
                    for (i, line) in lines.iter().enumerate() {
                        let limit = if i == 0 { first } else { width };
                        assert!(
                            str_width(line) <= limit,
                            "{text:?} {first}/{width}: {line:?}"
                        );
                    }
                    if width >= 2 {
                        let got = visible_clusters(&lines.concat());
                        assert_eq!(got, visible_clusters(text), "{text:?} at {first}/{width}");
                    }
                }
            }
        }
    }

    #[test]
    fn truncate_adds_an_ellipsis_only_when_cutting() {
        assert_eq!(truncate("hello", 5), "hello");
        assert_eq!(truncate("hello world", 8), "hello w…");
        assert_eq!(truncate("中文字符", 5), "中文…");
        assert_eq!(truncate("a中文", 3), "a…");
        assert_eq!(truncate("hello", 1), "…");
        assert_eq!(truncate("hello", 0), "");
        for width in 0..12 {
            assert!(str_width(&truncate("x中😀e\u{301}🇫🇷y", width)) <= width);
        }
    }

    #[test]
    fn columns_map_to_byte_indices_and_back() {
        let s = "a中b";
        let idx: Vec<usize> = (0..6).map(|c| byte_index_at_column(s, c)).collect();
        assert_eq!(idx, [0, 1, 1, 4, 5, 5]);
        let cols: Vec<usize> = [0, 1, 4, 5]
            .iter()
            .map(|&i| column_at_byte_index(s, i))
            .collect();
        assert_eq!(cols, [0, 1, 3, 4]);
        assert_eq!(column_at_byte_index("e\u{301}x", 3), 1);
    }

    #[test]
    fn sanitizing_makes_controls_inert() {
        assert_eq!(
            sanitize_text("\u{1b}[31mred\u{7}"),
            "\u{FFFD}[31mred\u{FFFD}"
        );
        assert_eq!(sanitize_text("a\n\tb"), "a\n\tb");
        assert_eq!(sanitize_text("x\u{9b}y\r"), "x\u{FFFD}y\u{FFFD}");
        assert_eq!(sanitize_text("abc\u{202E}cba"), "abc\u{FFFD}cba");
        assert!(matches!(sanitize_text("plain 中文"), Cow::Borrowed(_)));
        assert_eq!(sanitize_line("a\nb\tc"), "a\u{FFFD}b\u{FFFD}c");
    }
}
