//! The Python literals a `.npy` header is made of, read in one pass.
//!
//! NumPy reads a header with `ast.literal_eval`. This module reads the
//! subset of Python's literal syntax that such a header can hold: strings
//! and bytes (every prefix, quote style and escape, adjacent literals
//! concatenated), integers (decimal, hex, octal, binary, underscores, one
//! unary sign), floats, `True`/`False`/`None`, and tuples, lists, sets and
//! dicts of them, with comments and line continuations between tokens.
//! Complex numbers and expressions are refused (no header value can be
//! one).
//!
//! Architecture invariant: the parser never backtracks. Every step either
//! consumes a character or ends, so the work is at most proportional to
//! the header's length ([`Parsed::work`] counts it, and the tests bound
//! it), whatever the nesting; nesting deeper than [`MAX_DEPTH`] is refused
//! before it can exhaust the stack.

use std::fmt::Write as _;

/// Deepest nesting of brackets accepted (a header NumPy writes has 2).
pub const MAX_DEPTH: usize = 32;

/// A Python literal value.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// A `str`.
    Str(String),
    /// A `bytes`.
    Bytes(Vec<u8>),
    /// An `int`; `None` when it does not fit in an `i128`.
    Int(Option<i128>),
    /// A `float`, kept as written (no header value may be one).
    Float(String),
    /// `True` or `False`.
    Bool(bool),
    /// `None`.
    None,
    /// A `tuple`.
    Tuple(Vec<Literal>),
    /// A `list`.
    List(Vec<Literal>),
    /// A `set`.
    Set(Vec<Literal>),
    /// A `dict`, its items in source order (duplicate keys kept: the last
    /// one wins, as in Python).
    Dict(Vec<(Literal, Literal)>),
}

/// Python 2's `L` suffix on integers (`(3L, 4L)`): NumPy accepts it in
/// headers of format 1.0 and 2.0, which Python 2 wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Python 3 only (format 3.0).
    Python3,
    /// Python 3, plus an uppercase `L` after an integer (formats 1.0, 2.0).
    AllowLongSuffix,
}

/// A parse and the work it took.
#[derive(Debug)]
pub struct Parsed {
    /// The literal, or why the text is not one.
    pub result: Result<Literal, String>,
    /// Characters consumed plus values built: at most about twice the
    /// length of the text, by the invariant above.
    pub work: usize,
}

/// Parse `text` as one Python literal (surrounding whitespace and comments allowed).
///
/// ```
/// use oxla_npy::literal::{parse, Dialect, Literal};
/// let p = parse("{'shape': (3, 4), }", Dialect::Python3);
/// let Ok(Literal::Dict(items)) = p.result else { panic!() };
/// assert_eq!(items[0].1, Literal::Tuple(vec![Literal::Int(Some(3)), Literal::Int(Some(4))]));
/// ```
pub fn parse(text: &str, dialect: Dialect) -> Parsed {
    let mut p = Parser {
        chars: text.chars().collect(),
        pos: 0,
        work: 0,
        dialect,
    };
    let result = p.whole();
    Parsed {
        result,
        work: p.work,
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    work: usize,
    dialect: Dialect,
}

type Res<T> = Result<T, String>;

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        self.work += 1;
        Some(c)
    }

    fn error<T>(&self, what: &str) -> Res<T> {
        match self.peek() {
            Some(c) => Err(format!("{what} at character {} ({c:?})", self.pos)),
            None => Err(format!("{what} at the end of the header")),
        }
    }

    /// Whitespace, comments and backslash-newline continuations.
    fn skip_blank(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\n' | '\r' | '\x0c' => {
                    self.bump();
                }
                '#' => {
                    while !matches!(self.peek(), None | Some('\n' | '\r')) {
                        self.bump();
                    }
                }
                '\\' if matches!(self.peek_at(1), Some('\n' | '\r')) => {
                    self.bump();
                }
                _ => return,
            }
        }
    }

    fn whole(&mut self) -> Res<Literal> {
        self.skip_blank();
        let value = self.value(0)?;
        self.skip_blank();
        if self.peek().is_some() {
            return self.error("unexpected text after the literal");
        }
        Ok(value)
    }

    fn value(&mut self, depth: usize) -> Res<Literal> {
        // `depth` containers enclose this value; a container here would be one more
        if depth >= MAX_DEPTH && matches!(self.peek(), Some('{' | '(' | '[')) {
            return self.error(&format!("brackets nested more than {MAX_DEPTH} deep"));
        }
        self.work += 1;
        match self.peek() {
            Some('{') => self.braces(depth),
            Some('(') => self.parens(depth),
            Some('[') => {
                self.bump();
                Ok(Literal::List(self.items(']', depth)?.0))
            }
            Some('+' | '-') => self.signed_number(),
            Some(c) if c.is_ascii_digit() => self.number(false),
            Some('.') if self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) => self.number(false),
            Some(c) if c.is_alphabetic() || c == '_' || c == '\'' || c == '"' => self.word(),
            _ => self.error("expected a literal"),
        }
    }

    /// Values separated by commas up to `close` (a trailing comma allowed).
    /// Returns them and whether any comma was seen.
    fn items(&mut self, close: char, depth: usize) -> Res<(Vec<Literal>, bool)> {
        let mut out = Vec::new();
        let mut comma = false;
        loop {
            self.skip_blank();
            if self.peek() == Some(close) {
                self.bump();
                return Ok((out, comma));
            }
            out.push(self.value(depth + 1)?);
            self.skip_blank();
            match self.peek() {
                Some(',') => {
                    self.bump();
                    comma = true;
                }
                Some(c) if c == close => {}
                _ => return self.error(&format!("expected ',' or {close:?}")),
            }
        }
    }

    fn parens(&mut self, depth: usize) -> Res<Literal> {
        self.bump();
        let (mut items, comma) = self.items(')', depth)?;
        // `(x)` is x itself; `()` and `(x,)` are tuples.
        Ok(match (items.len(), comma) {
            (1, false) => items.remove(0),
            _ => Literal::Tuple(items),
        })
    }

    fn braces(&mut self, depth: usize) -> Res<Literal> {
        self.bump();
        self.skip_blank();
        if self.peek() == Some('}') {
            self.bump();
            return Ok(Literal::Dict(Vec::new()));
        }
        let first = self.value(depth + 1)?;
        self.skip_blank();
        if self.peek() != Some(':') {
            // a set: the first element is read, the rest are items
            let mut rest = match self.peek() {
                Some(',') => {
                    self.bump();
                    self.items('}', depth)?.0
                }
                Some('}') => {
                    self.bump();
                    Vec::new()
                }
                _ => return self.error("expected ',', ':' or '}'"),
            };
            rest.insert(0, first);
            return Ok(Literal::Set(rest));
        }
        let mut pairs = Vec::new();
        let mut key = first;
        loop {
            self.skip_blank();
            if self.peek() != Some(':') {
                return self.error("expected ':' after a dict key");
            }
            self.bump();
            self.skip_blank();
            let value = self.value(depth + 1)?;
            pairs.push((key, value));
            self.skip_blank();
            match self.peek() {
                Some('}') => {
                    self.bump();
                    return Ok(Literal::Dict(pairs));
                }
                Some(',') => {
                    self.bump();
                }
                _ => return self.error("expected ',' or '}' in a dict"),
            }
            self.skip_blank();
            if self.peek() == Some('}') {
                self.bump();
                return Ok(Literal::Dict(pairs));
            }
            key = self.value(depth + 1)?;
        }
    }

    /// A name (`True`, `False`, `None`) or a string with an optional prefix.
    fn word(&mut self) -> Res<Literal> {
        let start = self.pos;
        let mut name = String::new();
        while let Some(c) = self.peek().filter(|c| c.is_alphanumeric() || *c == '_') {
            name.push(c);
            self.bump();
            if name.len() > 16 {
                break;
            }
        }
        if matches!(self.peek(), Some('\'' | '"')) {
            return self.strings(&name, start);
        }
        match name.as_str() {
            "True" => Ok(Literal::Bool(true)),
            "False" => Ok(Literal::Bool(false)),
            "None" => Ok(Literal::None),
            _ => {
                self.pos = start;
                self.error("expected a literal, not a name")
            }
        }
    }

    /// One or more adjacent string literals, the first with prefix `prefix`.
    fn strings(&mut self, prefix: &str, start: usize) -> Res<Literal> {
        let mut kind = None;
        let mut text = String::new();
        let mut bytes = Vec::new();
        let mut prefix = prefix.to_owned();
        loop {
            let lower = prefix.to_ascii_lowercase();
            let (is_bytes, raw) = match lower.as_str() {
                "" | "u" => (false, false),
                "r" => (false, true),
                "b" => (true, false),
                "br" | "rb" => (true, true),
                _ => {
                    self.pos = start;
                    return self.error("unsupported string prefix");
                }
            };
            if kind.is_some_and(|k| k != is_bytes) {
                return self.error("cannot mix bytes and str literals");
            }
            kind = Some(is_bytes);
            self.string_body(raw, is_bytes, &mut text, &mut bytes)?;
            // adjacent literals concatenate: 'a' 'b' == 'ab'
            self.skip_blank();
            let here = self.pos;
            prefix.clear();
            while let Some(c) = self.peek().filter(|c| c.is_ascii_alphabetic()) {
                if prefix.len() == 2 {
                    break;
                }
                prefix.push(c);
                self.bump();
            }
            if !matches!(self.peek(), Some('\'' | '"')) {
                self.pos = here;
                break;
            }
        }
        Ok(if kind == Some(true) {
            Literal::Bytes(bytes)
        } else {
            Literal::Str(text)
        })
    }

    /// The quoted part of a string literal, appended to `text` (str) or `bytes`.
    fn string_body(
        &mut self,
        raw: bool,
        is_bytes: bool,
        text: &mut String,
        bytes: &mut Vec<u8>,
    ) -> Res<()> {
        let Some(quote) = self.bump() else {
            return self.error("expected a quote");
        };
        let triple = self.peek() == Some(quote) && self.peek_at(1) == Some(quote);
        if triple {
            self.bump();
            self.bump();
        }
        let push = |c: char, bytes_out: &mut Vec<u8>, text_out: &mut String| -> Res<()> {
            if is_bytes {
                let b = u8::try_from(u32::from(c))
                    .ok()
                    .filter(u8::is_ascii)
                    .ok_or_else(|| "bytes literals may hold only ASCII characters".to_owned())?;
                bytes_out.push(b);
            } else {
                text_out.push(c);
            }
            Ok(())
        };
        loop {
            let Some(c) = self.bump() else {
                return self.error("unterminated string");
            };
            if c == quote {
                if !triple {
                    return Ok(());
                }
                if self.peek() == Some(quote) && self.peek_at(1) == Some(quote) {
                    self.bump();
                    self.bump();
                    return Ok(());
                }
                push(c, bytes, text)?;
                continue;
            }
            if (c == '\n' || c == '\r') && !triple {
                return self.error("line break inside a string");
            }
            if c != '\\' {
                push(c, bytes, text)?;
                continue;
            }
            let Some(e) = self.bump() else {
                return self.error("unterminated string");
            };
            if raw {
                // a raw string keeps the backslash, and the quote it protects
                push('\\', bytes, text)?;
                push(e, bytes, text)?;
                continue;
            }
            match e {
                '\n' => {}
                '\r' => {
                    if self.peek() == Some('\n') {
                        self.bump();
                    }
                }
                '\\' | '\'' | '"' => push(e, bytes, text)?,
                'a' => push('\x07', bytes, text)?,
                'b' => push('\x08', bytes, text)?,
                'f' => push('\x0c', bytes, text)?,
                'n' => push('\n', bytes, text)?,
                'r' => push('\r', bytes, text)?,
                't' => push('\t', bytes, text)?,
                'v' => push('\x0b', bytes, text)?,
                '0'..='7' => {
                    let mut v = e.to_digit(8).unwrap_or(0);
                    for _ in 0..2 {
                        match self.peek().and_then(|d| d.to_digit(8)) {
                            Some(d) => {
                                v = v * 8 + d;
                                self.bump();
                            }
                            None => break,
                        }
                    }
                    if is_bytes {
                        bytes.push((v & 0xff) as u8);
                    } else {
                        text.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                    }
                }
                'x' => {
                    let v = self.hex_digits(2)?;
                    if is_bytes {
                        bytes.push(v as u8);
                    } else {
                        text.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                    }
                }
                'u' | 'U' if !is_bytes => {
                    let v = self.hex_digits(if e == 'u' { 4 } else { 8 })?;
                    match char::from_u32(v) {
                        Some(c) => text.push(c),
                        None => return self.error("escape is not a Unicode character"),
                    }
                }
                'N' if !is_bytes => {
                    return self.error("named Unicode escapes (\\N{...}) are not supported");
                }
                other => {
                    // Python keeps unknown escapes as written
                    push('\\', bytes, text)?;
                    push(other, bytes, text)?;
                }
            }
        }
    }

    fn hex_digits(&mut self, n: usize) -> Res<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            match self.peek().and_then(|d| d.to_digit(16)) {
                Some(d) => {
                    v = v * 16 + d;
                    self.bump();
                }
                None => return self.error("truncated \\x, \\u or \\U escape"),
            }
        }
        Ok(v)
    }

    /// One unary sign applied to a number (`literal_eval` allows only that).
    fn signed_number(&mut self) -> Res<Literal> {
        let negative = self.bump() == Some('-');
        self.skip_blank();
        match self.peek() {
            Some(c) if c.is_ascii_digit() || c == '.' => self.number(negative),
            _ => self.error("a sign must be followed by a number"),
        }
    }

    /// An integer or float literal (Python 3 grammar).
    fn number(&mut self, negative: bool) -> Res<Literal> {
        let mut text = String::new();
        if negative {
            text.push('-');
        }
        let radix = match (self.peek(), self.peek_at(1)) {
            (Some('0'), Some('x' | 'X')) => 16,
            (Some('0'), Some('o' | 'O')) => 8,
            (Some('0'), Some('b' | 'B')) => 2,
            _ => 10,
        };
        if radix != 10 {
            self.bump();
            self.bump();
            let digits = self.digits(radix, true)?;
            if digits.is_empty() {
                return self.error("a prefixed integer needs digits");
            }
            return self.finish_int(negative, &digits, radix);
        }
        let int_part = self.digits(10, false)?;
        let mut is_float = false;
        let mut float_text = int_part.clone();
        if self.peek() == Some('.') {
            is_float = true;
            self.bump();
            float_text.push('.');
            float_text.push_str(&self.digits(10, false)?);
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            is_float = true;
            self.bump();
            float_text.push('e');
            if let Some(s @ ('+' | '-')) = self.peek() {
                self.bump();
                float_text.push(s);
            }
            let exp = self.digits(10, false)?;
            if exp.is_empty() {
                return self.error("an exponent needs digits");
            }
            float_text.push_str(&exp);
        }
        if matches!(self.peek(), Some('j' | 'J')) {
            return self.error("complex numbers cannot appear in a .npy header");
        }
        if is_float {
            text.push_str(&float_text);
            return Ok(Literal::Float(text));
        }
        // decimal integers other than zero may not start with 0 ("02" is an error)
        if int_part.len() > 1 && int_part.starts_with('0') && int_part.chars().any(|c| c != '0') {
            return self.error("leading zeros in a decimal integer");
        }
        self.finish_int(negative, &int_part, 10)
    }

    fn finish_int(&mut self, negative: bool, digits: &str, radix: u32) -> Res<Literal> {
        if self.dialect == Dialect::AllowLongSuffix {
            self.skip_blank();
            if self.peek() == Some('L') {
                self.bump();
            }
        }
        if self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            return self.error("unexpected character in a number");
        }
        let mut value: Option<i128> = Some(0);
        for d in digits.chars() {
            let d = i128::from(d.to_digit(radix).unwrap_or(0));
            value = value
                .and_then(|v| v.checked_mul(i128::from(radix)))
                .and_then(|v| v.checked_add(d));
        }
        Ok(Literal::Int(value.map(|v| if negative { -v } else { v })))
    }

    /// Digits of `radix` with single underscores between them; with
    /// `after_prefix`, an underscore may also lead (`0x_ff`).
    fn digits(&mut self, radix: u32, after_prefix: bool) -> Res<String> {
        let mut out = String::new();
        let mut underscore_ok = after_prefix;
        loop {
            match self.peek() {
                Some('_') if underscore_ok => {
                    self.bump();
                    underscore_ok = false;
                    if !self.peek().is_some_and(|c| c.is_digit(radix)) {
                        return self.error("an underscore must be followed by a digit");
                    }
                }
                Some(c) if c.is_digit(radix) => {
                    out.push(c);
                    self.bump();
                    underscore_ok = true;
                }
                _ => return Ok(out),
            }
        }
    }
}

impl Literal {
    /// Python's `repr`, shortened to about `max` characters (for messages).
    pub fn repr(&self, max: usize) -> String {
        let mut out = String::new();
        self.write_repr(&mut out, max);
        if out.len() > max {
            let cut = (0..=max)
                .rev()
                .find(|&i| out.is_char_boundary(i))
                .unwrap_or(0);
            out.truncate(cut);
            out.push_str("...");
        }
        out
    }

    fn write_repr(&self, out: &mut String, max: usize) {
        if out.len() > max {
            return;
        }
        let seq = |out: &mut String, items: &[Literal], open: &str, close: &str| {
            out.push_str(open);
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                item.write_repr(out, max);
                if out.len() > max {
                    return;
                }
            }
            if open == "(" && items.len() == 1 {
                out.push(',');
            }
            out.push_str(close);
        };
        match self {
            Literal::Str(s) => {
                let _ = write!(out, "'{}'", s.escape_default());
            }
            Literal::Bytes(b) => {
                out.push_str("b'");
                for &c in b {
                    out.extend(std::ascii::escape_default(c).map(char::from));
                }
                out.push('\'');
            }
            Literal::Int(Some(v)) => {
                let _ = write!(out, "{v}");
            }
            Literal::Int(None) => out.push_str("<an integer too large for 128 bits>"),
            Literal::Float(s) => out.push_str(s),
            Literal::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
            Literal::None => out.push_str("None"),
            Literal::Tuple(items) => seq(out, items, "(", ")"),
            Literal::List(items) => seq(out, items, "[", "]"),
            Literal::Set(items) => seq(out, items, "{", "}"),
            Literal::Dict(pairs) => {
                out.push('{');
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    k.write_repr(out, max);
                    out.push_str(": ");
                    v.write_repr(out, max);
                    if out.len() > max {
                        return;
                    }
                }
                out.push('}');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(text: &str) -> Result<Literal, String> {
        parse(text, Dialect::Python3).result
    }

    fn int(v: i128) -> Literal {
        Literal::Int(Some(v))
    }

    #[test]
    fn numbers_follow_python() {
        for (text, want) in [
            ("0", int(0)),
            ("000", int(0)),
            ("1_000", int(1000)),
            ("0x_1F", int(31)),
            ("0o17", int(15)),
            ("0b101", int(5)),
            ("-7", int(-7)),
            ("+ 7", int(7)),
            ("(((2)))", int(2)),
        ] {
            assert_eq!(lit(text), Ok(want), "{text}");
        }
        assert_eq!(lit("2.5e3"), Ok(Literal::Float("2.5e3".into())));
        assert_eq!(
            lit("99999999999999999999999999999999999999999"),
            Ok(Literal::Int(None))
        );
        for bad in [
            "02", "--2", "1__0", "1_", "0x", "1e", "2j", "1+2j", "2L", "0xg",
        ] {
            assert!(lit(bad).is_err(), "{bad} parsed");
        }
        assert_eq!(
            parse("(2L, 3 L)", Dialect::AllowLongSuffix).result,
            Ok(Literal::Tuple(vec![int(2), int(3)]))
        );
    }

    #[test]
    fn strings_follow_python() {
        for (text, want) in [
            ("'<f8'", "<f8"),
            ("u'<f8'", "<f8"),
            ("\"<f8\"", "<f8"),
            ("'''<f8'''", "<f8"),
            ("'<' 'f8'", "<f8"),
            ("'\\x3cf8'", "<f8"),
            ("'\\074f8'", "<f8"),
            ("'\\u003cf8'", "<f8"),
            ("r'\\x'", "\\x"),
            ("'a\\qb'", "a\\qb"),
            ("'a\\\nb'", "ab"),
            ("'''a\nb'''", "a\nb"),
        ] {
            assert_eq!(lit(text), Ok(Literal::Str(want.into())), "{text}");
        }
        assert_eq!(lit("b'<f8'"), Ok(Literal::Bytes(b"<f8".to_vec())));
        for bad in [
            "'abc",
            "'a\nb'",
            "b'\u{e9}'",
            "'a' b'b'",
            "f'x'",
            "'\\N{DASH}'",
            "'\\x4'",
        ] {
            assert!(lit(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn containers_follow_python() {
        assert_eq!(lit("()"), Ok(Literal::Tuple(vec![])));
        assert_eq!(lit("(1,)"), Ok(Literal::Tuple(vec![int(1)])));
        assert_eq!(lit("[1, 2,]"), Ok(Literal::List(vec![int(1), int(2)])));
        assert_eq!(lit("{1, 2}"), Ok(Literal::Set(vec![int(1), int(2)])));
        assert_eq!(lit("{}"), Ok(Literal::Dict(vec![])));
        assert_eq!(
            lit("{'a': 1, # note\n 'a': 2, }"),
            Ok(Literal::Dict(vec![
                (Literal::Str("a".into()), int(1)),
                (Literal::Str("a".into()), int(2))
            ]))
        );
        for bad in [
            "(1 2)", "{1: }", "{'a' 1}", "[1,,2]", "(,)", "{**{}}", "x", "{} {}", "{}\0", "set()",
        ] {
            assert!(lit(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn nesting_is_bounded_and_linear() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(lit(&deep).unwrap_err().contains("nested"));
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(lit(&ok).is_ok());
        // the 128-byte shape of header that made the old parser exponential
        let evil = format!(
            "{{'descr': '<f8', 'x': {}{}}}",
            "({[".repeat(10),
            "]})".repeat(10)
        );
        let p = parse(&evil, Dialect::Python3);
        assert!(
            p.work <= 2 * evil.len() + 2,
            "work {} for {} chars",
            p.work,
            evil.len()
        );
    }

    #[test]
    fn repr_is_pythons_and_bounded() {
        let v = lit("{'a': (1,), 'b': [True, None, b'x\\n']}").unwrap();
        assert_eq!(v.repr(100), "{'a': (1,), 'b': [True, None, b'x\\n']}");
        assert!(v.repr(5).len() <= 5 + 3 + 8);
    }
}
