//! Search-text rules: what a "word" of `search.text` and of `history.text` is, and
//! how many of them a server takes.
//!
//! A word is a run of characters between white space (Unicode's `White_Space`, as
//! Rust's `split_whitespace` has it). A text holds at most [`MAX_SEARCH_WORDS`] words
//! of at most [`MAX_SEARCH_WORD_CHARS`] characters each; more is refused, never cut,
//! since a word left out would widen the search without the client knowing.

use unicode_normalization::UnicodeNormalization;

/// Most words one search text may hold.
pub const MAX_SEARCH_WORDS: usize = 8;
/// Longest word of a search text, in characters (Unicode scalar values).
pub const MAX_SEARCH_WORD_CHARS: usize = 64;

/// Why a search text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchTextError {
    /// More than [`MAX_SEARCH_WORDS`] words.
    #[error("the search text has {0} words; at most {MAX_SEARCH_WORDS} are allowed")]
    TooManyWords(usize),
    /// A word longer than [`MAX_SEARCH_WORD_CHARS`] characters.
    #[error(
        "word {position} of the search text has {chars} characters; a search word has at most {MAX_SEARCH_WORD_CHARS}"
    )]
    WordTooLong {
        /// Which word (1 for the first).
        position: usize,
        /// How many characters it has.
        chars: usize,
    },
}

/// The words of a search text (none for an empty or blank one), or why there are
/// too many or one is too long.
pub fn search_words(text: &str) -> Result<Vec<&str>, SearchTextError> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() > MAX_SEARCH_WORDS {
        return Err(SearchTextError::TooManyWords(words.len()));
    }
    for (i, word) in words.iter().enumerate() {
        let chars = word.chars().count();
        if chars > MAX_SEARCH_WORD_CHARS {
            return Err(SearchTextError::WordTooLong {
                position: i + 1,
                chars,
            });
        }
    }
    Ok(words)
}

/// A text or a word as search compares it: case and width folded as for names
/// (NFKC, then lower case with final sigma as `σ`), so `ROCKET`, `rocket` and
/// the full-width `ＲＯＣＫＥＴ` are one, in every script. A message matches a
/// word when its folded text contains the folded word.
pub fn fold(text: &str) -> String {
    if text.is_ascii() {
        // Every ASCII character is its own NFKC form and lowers to ASCII: the
        // same result without the normalizer, which is most of an index's
        // cost per message in chats written in ASCII.
        return text.to_ascii_lowercase();
    }
    text.nfkc().flat_map(super::names::fold_case).collect()
}

/// Whether `folded_text` (see [`fold`]) holds every one of `folded_words`.
pub fn holds_all(folded_text: &str, folded_words: &[String]) -> bool {
    folded_words
        .iter()
        .all(|w| folded_text.contains(w.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_joins_case_and_width_in_every_script() {
        assert_eq!(fold("ROCKET"), "rocket");
        assert_eq!(fold("ＲＯＣＫＥＴ"), "rocket");
        assert_eq!(fold("École"), "école");
        assert_eq!(fold("ΝΙΚΟΣ"), fold("νικος"));
        assert_eq!(fold("ﾃﾞｰﾀ"), "データ");
        assert_eq!(fold("我们的数据库"), "我们的数据库");
        assert!(holds_all(&fold("我们的数据库"), &[fold("数据")]));
        assert!(holds_all(
            &fold("50% OFF_now"),
            &[fold("50%"), fold("off_")]
        ));
        assert!(!holds_all(&fold("500 off"), &[fold("50%")]));
    }

    #[test]
    fn ascii_folds_as_the_general_path_folds_it() {
        let all: String = (0u8..=127).map(char::from).collect();
        let general: String = all
            .nfkc()
            .flat_map(crate::rules::names::fold_case)
            .collect();
        assert_eq!(fold(&all), general);
        assert_eq!(fold("Hello, WORLD_42!"), "hello, world_42!");
    }

    #[test]
    fn words_are_split_at_any_white_space() {
        assert_eq!(
            search_words(" rocket\tlaunch\u{3000}50%\nnoon ").unwrap(),
            ["rocket", "launch", "50%", "noon"]
        );
        assert!(search_words("").unwrap().is_empty());
        assert!(search_words(" \t ").unwrap().is_empty());
    }

    #[test]
    fn eight_words_of_64_characters_pass_and_more_is_refused() {
        let word = "ß".repeat(MAX_SEARCH_WORD_CHARS);
        let eight = [word.as_str(); MAX_SEARCH_WORDS].join(" ");
        assert_eq!(search_words(&eight).unwrap().len(), MAX_SEARCH_WORDS);
        let nine = format!("{eight} x");
        assert_eq!(
            search_words(&nine),
            Err(SearchTextError::TooManyWords(MAX_SEARCH_WORDS + 1))
        );
        let long = format!("a {word}ß");
        assert_eq!(
            search_words(&long),
            Err(SearchTextError::WordTooLong {
                position: 2,
                chars: MAX_SEARCH_WORD_CHARS + 1
            })
        );
        assert_eq!(
            SearchTextError::TooManyWords(9).to_string(),
            "the search text has 9 words; at most 8 are allowed"
        );
    }
}
