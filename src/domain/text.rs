//! Free text from outside (an email as typed, a provider's error description, a
//! tenant id in a query) made safe to record: a log line or an audit entry must never
//! be forged by what a visitor typed. Characters that move the cursor, end a line or
//! reorder text on a terminal are replaced with visible escapes; everything else is
//! kept as it was.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` could forge a line, a terminal sequence or the order of text: Unicode
/// category Cc (C0 incl. `\t \n \r \x1b`, DEL, the C1 range), the line and paragraph
/// separators U+2028/U+2029, and the bidirectional embeddings, overrides and isolates
/// U+202A–U+202E, U+2066–U+2069.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every [unsafe](is_unsafe) character written as a visible escape
/// (`\n`, `\r`, `\t`, else `\u{…}`); a backslash is kept as it is. Borrowed when
/// nothing needed escaping, which is nearly always.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`neutralise`] into an owned string.
pub fn neutralised(text: &str) -> String {
    neutralise(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        for text in ["ann@contoso.com", "Müller – café ☕", "a\\nb", ""] {
            assert!(matches!(neutralise(text), Cow::Borrowed(t) if t == text));
        }
    }

    #[test]
    fn every_forging_character_becomes_a_visible_escape() {
        let table = [
            ("a\nb", "a\\nb"),
            ("a\r\nb", "a\\r\\nb"),
            ("a\tb", "a\\tb"),
            ("\x1b[31mred", "\\u{1b}[31mred"),
            ("del\x7f", "del\\u{7f}"),
            ("nul\0", "nul\\u{0}"),
            ("c1\u{85}\u{9b}", "c1\\u{85}\\u{9b}"),
            ("ls\u{2028}ps\u{2029}", "ls\\u{2028}ps\\u{2029}"),
            ("\u{202e}txt.exe", "\\u{202e}txt.exe"),
            ("\u{202a}\u{2066}\u{2069}", "\\u{202a}\\u{2066}\\u{2069}"),
        ];
        for (raw, shown) in table {
            assert_eq!(neutralise(raw), shown, "{raw:?}");
        }
    }

    #[test]
    fn nothing_unsafe_survives() {
        let every: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        let safe = neutralise(&every);
        assert!(!safe.chars().any(is_unsafe));
        assert_eq!(neutralise(&safe), safe, "escaping is stable");
    }
}
