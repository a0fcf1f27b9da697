//! The terms of the search index: the character n-grams (1 to 3 characters)
//! of a folded text, and the grams a search word needs.
//!
//! A search word matches a message whose folded text contains it anywhere
//! (`rock` in `bedrock`, `数据` in `我们的数据库`), in every script, with or
//! without spaces between words. So the index holds, for each message, every
//! run of one, two and three characters of its folded text that holds no white
//! space. A word of up to three characters is then one term, found exactly; a
//! longer word needs all its three-character runs, which every message holding
//! the word has; a message that has them all but not the word itself is left
//! out when the candidates are checked against their texts.

#[cfg(test)]
use std::collections::HashSet;

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// The name the index knows [`GramTokenizer`] by.
pub const TOKENIZER: &str = "chatroom_grams";

/// The index's tokenizer: the grams of an already folded text, as
/// [`of_text`] gives them (repeats included: the index keeps each once per
/// message), straight from the text without a string per gram.
#[derive(Clone, Default)]
pub struct GramTokenizer {
    token: Token,
    bounds: Vec<usize>,
}

/// The grams of one text.
pub struct GramStream<'a> {
    text: &'a str,
    bounds: &'a [usize],
    token: &'a mut Token,
    start: usize,
    len: usize,
}

impl Tokenizer for GramTokenizer {
    type TokenStream<'a> = GramStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> GramStream<'a> {
        self.token.reset();
        self.bounds.clear();
        self.bounds.extend(
            text.char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(text.len())),
        );
        GramStream {
            text,
            bounds: &self.bounds,
            token: &mut self.token,
            start: 0,
            len: 0,
        }
    }
}

impl TokenStream for GramStream<'_> {
    fn advance(&mut self) -> bool {
        let chars = self.bounds.len() - 1;
        loop {
            self.len += 1;
            if self.len > MAX_GRAM || self.start + self.len > chars {
                self.start += 1;
                self.len = 1;
                if self.start >= chars {
                    return false;
                }
            }
            let (from, to) = (self.bounds[self.start], self.bounds[self.start + self.len]);
            let gram = &self.text[from..to];
            if gram.chars().any(char::is_whitespace) {
                // Longer grams from here hold the same white space.
                self.len = MAX_GRAM;
                continue;
            }
            self.token.offset_from = from;
            self.token.offset_to = to;
            self.token.position = self.start;
            self.token.text.clear();
            self.token.text.push_str(gram);
            return true;
        }
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

/// Longest gram.
pub const MAX_GRAM: usize = 3;

/// The distinct grams of a folded text: every run of 1 to [`MAX_GRAM`]
/// characters without white space (what [`GramTokenizer`] gives, as a set).
#[cfg(test)]
pub fn of_text(folded: &str) -> HashSet<&str> {
    let bounds: Vec<usize> = folded
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(folded.len()))
        .collect();
    let chars = bounds.len() - 1;
    let mut grams = HashSet::with_capacity(chars * MAX_GRAM);
    for start in 0..chars {
        for len in 1..=MAX_GRAM {
            let end = start + len;
            if end > chars {
                break;
            }
            let gram = &folded[bounds[start]..bounds[end]];
            if gram.chars().any(char::is_whitespace) {
                break;
            }
            grams.insert(gram);
        }
    }
    grams
}

/// The grams a message must hold to contain the folded `word`: the word
/// itself when it is at most [`MAX_GRAM`] characters, else each of its
/// three-character runs. `None` when the word holds white space (folding can
/// make some: the index has no grams across it), so the index cannot narrow it.
pub fn of_word(folded: &str) -> Option<Vec<String>> {
    if folded.is_empty() || folded.chars().any(char::is_whitespace) {
        return None;
    }
    let chars: Vec<char> = folded.chars().collect();
    if chars.len() <= MAX_GRAM {
        return Some(vec![folded.to_owned()]);
    }
    let mut grams: Vec<String> = chars
        .windows(MAX_GRAM)
        .map(|w| w.iter().collect())
        .collect();
    grams.sort_unstable();
    grams.dedup();
    Some(grams)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_gives_its_runs_of_one_to_three_characters_without_spaces() {
        let mut grams: Vec<&str> = of_text("ab cd").into_iter().collect();
        grams.sort_unstable();
        assert_eq!(grams, ["a", "ab", "b", "c", "cd", "d"]);
        let grams = of_text("我们的数据库");
        for g in ["数", "数据", "数据库", "我们的"] {
            assert!(grams.contains(g), "{g}");
        }
        assert!(!grams.contains("们的数据"));
        assert!(of_text("").is_empty());
    }

    /// The tokenizer gives exactly the grams of [`of_text`].
    #[test]
    fn the_tokenizer_gives_the_grams_of_the_text() {
        for text in [
            "ab cd",
            "我们的数据库",
            "the rocket, 50%_off!  x",
            "",
            " ",
            "a",
        ] {
            let mut t = GramTokenizer::default();
            let mut stream = t.token_stream(text);
            let mut got = HashSet::new();
            while stream.advance() {
                got.insert(stream.token().text.clone());
            }
            let want: HashSet<String> = of_text(text).into_iter().map(str::to_owned).collect();
            assert_eq!(got, want, "{text:?}");
        }
    }

    #[test]
    fn a_word_needs_itself_or_its_three_character_runs() {
        assert_eq!(of_word("数据"), Some(vec!["数据".to_owned()]));
        assert_eq!(of_word("50%"), Some(vec!["50%".to_owned()]));
        assert_eq!(
            of_word("rocket"),
            Some(
                vec!["cke", "ket", "ock", "roc"]
                    .into_iter()
                    .map(String::from)
                    .collect()
            )
        );
        assert_eq!(of_word("a b"), None);
        assert_eq!(of_word(""), None);
    }

    /// Every word a text contains finds its grams in the text's grams.
    #[test]
    fn every_substring_of_a_text_is_found_through_its_grams() {
        let text = "the rocket launch at noon, 50%_off! 我们的数据库";
        let grams = of_text(text);
        let chars: Vec<char> = text.chars().collect();
        for start in 0..chars.len() {
            for end in start + 1..=chars.len() {
                let word: String = chars[start..end].iter().collect();
                if let Some(needed) = of_word(&word) {
                    for g in needed {
                        assert!(grams.contains(g.as_str()), "{word:?} needs {g:?}");
                    }
                }
            }
        }
    }
}
