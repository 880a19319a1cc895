//! Terminal-safe text: what a message may quote from a file or a path.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every character that a terminal would act on instead of
/// print escaped: C0 and C1 controls (ESC, BEL, CR, LF, ...), DEL, and the
/// Unicode format characters that reorder or hide text (bidirectional
/// overrides and isolates, zero-width characters, the BOM). The result is
/// one line of printable text; everything else (accents, CJK) is kept.
///
/// ```
/// use oxla_npy::escape;
/// assert_eq!(escape("a\x1b[31mb\nc\u{202e}"), "a\\x1b[31mb\\nc\\u{202e}");
/// assert_eq!(escape("plain é"), "plain é");
/// ```
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) && (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200b}'..='\u{200f}' // zero-width characters, LRM, RLM
            | '\u{2028}'..='\u{202e}' // line/paragraph separators, embeddings, overrides
            | '\u{2060}'..='\u{2069}' // word joiner, invisible operators, isolates
            | '\u{feff}' // byte order mark
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_character_is_escaped() {
        for c in (0u32..0x110000)
            .filter_map(char::from_u32)
            .filter(|c| needs_escape(*c))
        {
            let s = c.to_string();
            let e = escape(&s);
            assert!(
                e.chars().all(|c| !needs_escape(c) && c.is_ascii()),
                "{c:?} -> {e:?}"
            );
        }
        assert_eq!(escape("\x07\x7f\u{85}"), "\\x07\\x7f\\x85");
    }
}
