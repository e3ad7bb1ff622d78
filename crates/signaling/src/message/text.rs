//! Low-level scanning shared by the header grammars (RFC 3261 §25.1).

/// RFC 3261 §25.1 `token` characters, as a table: header names and parameters are scanned a
/// byte at a time on the hot path.
const TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
            );
        i += 1;
    }
    t
};

pub(crate) const fn is_token_byte(b: u8) -> bool {
    // Any u8 indexes a 256-entry table.
    TOKEN[b as usize]
}

pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_byte)
}

/// RFC 3261 §25.1 `callid = word [ "@" word ]`, a `word` being token characters plus
/// `( ) < > : \ " / [ ] ? { }`.
pub(crate) fn is_call_id(s: &str) -> bool {
    let word = |w: &str| {
        !w.is_empty()
            && w.bytes()
                .all(|b| is_token_byte(b) || b"()<>:\\\"/[]?{}".contains(&b))
    };
    match s.split_once('@') {
        Some((a, b)) => word(a) && word(b),
        None => word(s),
    }
}

/// Position of the first `needle` in `hay`. On x86-64 the SSE2 searcher, which every such
/// CPU has, is called directly: SIP lines and values are short, and `memchr::memchr`'s
/// per-call CPU-feature dispatch was a large part of each search.
#[inline]
pub(crate) fn find_byte(needle: u8, hay: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(one) = memchr::arch::x86_64::sse2::memchr::One::new(needle) {
        return one.find(hay);
    }
    memchr::memchr(needle, hay)
}

/// As `find_byte`, for the first of two bytes.
#[inline]
pub(crate) fn find_either(a: u8, b: u8, hay: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(two) = memchr::arch::x86_64::sse2::memchr::Two::new(a, b) {
        return two.find(hay);
    }
    memchr::memchr2(a, b, hay)
}

/// `s` around the first `b` (ASCII): a byte scan, cheaper than `str::split_once` on the short
/// pieces of URIs and parameters.
pub(crate) fn split_byte(s: &str, b: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|c| c == b)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// RFC 3261 §25.1 `LWS` after unfolding: spaces and tabs.
pub(crate) fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `s` without leading and trailing LWS, comparing bytes: SP and HT never occur inside a
/// multi-byte character, so no decoding is needed.
pub(crate) fn trim_ws(s: &str) -> &str {
    let b = s.as_bytes();
    let start = b.iter().position(|&c| !is_ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|&c| !is_ws(c)).map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or("")
}

/// Splits a comma-joined header value (RFC 3261 §7.3.1) at commas outside quoted strings and
/// angle brackets; a quoted-pair (`\x`) never ends a quoted string.
pub(crate) fn split_commas(value: &str) -> CommaSplit<'_> {
    CommaSplit { rest: Some(value) }
}

pub(crate) struct CommaSplit<'a> {
    rest: Option<&'a str>,
}

impl<'a> Iterator for CommaSplit<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest?;
        let bytes = s.as_bytes();
        // Most values hold one element: a SIMD search settles that.
        if find_byte(b',', bytes).is_none() {
            self.rest = None;
            return Some(trim_ws(s));
        }
        let mut in_quote = false;
        let mut in_angle = false;
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'\\' if in_quote => i += 1,
                b'"' => in_quote = !in_quote,
                b'<' if !in_quote => in_angle = true,
                b'>' if !in_quote => in_angle = false,
                b',' if !in_quote && !in_angle => {
                    self.rest = s.get(i + 1..);
                    return s.get(..i).map(trim_ws);
                }
                _ => {}
            }
            i += 1;
        }
        self.rest = None;
        Some(trim_ws(s))
    }
}

/// A cursor over a header value, skipping LWS between grammar elements as RFC 3261 §25.1
/// allows around separators (`SEMI`, `EQUAL`, `SLASH`, `COLON`, `LAQUOT`, `RAQUOT`).
pub(crate) struct Cursor<'a> {
    pub(crate) s: &'a str,
    pub(crate) pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }
    pub(crate) fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }
    pub(crate) fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
    }
    /// Consumes `b` (after optional LWS) if it is next.
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        self.skip_ws();
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    /// Consumes bytes while `f` holds; returns them (possibly empty).
    pub(crate) fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        let rest = self.s.as_bytes().get(start..).unwrap_or_default();
        self.pos = start + rest.iter().position(|&b| !f(b)).unwrap_or(rest.len());
        // Only ASCII bytes are matched by the callers' predicates, so `pos` stays on a char
        // boundary; `get` keeps it panic-free regardless.
        self.s.get(start..self.pos).unwrap_or("")
    }
    /// Consumes bytes up to the first `b` or the end; returns them (possibly empty).
    pub(crate) fn take_until(&mut self, b: u8) -> &'a str {
        let start = self.pos;
        let rest = self.s.as_bytes().get(start..).unwrap_or_default();
        self.pos = start + find_byte(b, rest).unwrap_or(rest.len());
        // `b` is ASCII at every call, so `pos` stays on a char boundary; `get` keeps it
        // panic-free regardless.
        self.s.get(start..self.pos).unwrap_or("")
    }
    pub(crate) fn token(&mut self) -> Option<&'a str> {
        self.skip_ws();
        let t = self.take_while(is_token_byte);
        (!t.is_empty()).then_some(t)
    }
    /// A quoted string including its quotes, as written (RFC 3261 §25.1 `quoted-string`).
    pub(crate) fn quoted(&mut self) -> Option<&'a str> {
        self.skip_ws();
        let bytes = self.s.as_bytes();
        if bytes.get(self.pos) != Some(&b'"') {
            return None;
        }
        let start = self.pos;
        let mut i = self.pos + 1;
        loop {
            let rest = bytes.get(i..)?;
            i += find_either(b'"', b'\\', rest)?;
            if bytes.get(i) == Some(&b'"') {
                self.pos = i + 1;
                return self.s.get(start..self.pos);
            }
            // A quoted-pair: the escaped byte never ends the string.
            i += 2;
        }
    }
}

/// The content of a quoted string with quoted-pairs undone; `q` includes the quotes.
pub(crate) fn unquote(q: &str) -> String {
    let inner = q
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(q);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes `s` as a quoted string, escaping `"` and `\` (RFC 3261 §25.1 `quoted-pair`).
pub(crate) fn write_quoted(f: &mut impl std::fmt::Write, s: &str) -> std::fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        if c == '"' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

/// A decimal number of at most `u64` range, digits only. Leading zeros are legal ("0068",
/// RFC 4475 §3.1.1.1).
pub(crate) fn parse_decimal(s: impl AsRef<[u8]>) -> Option<u64> {
    let s = s.as_ref();
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u64, |n, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn call_ids_are_words_with_an_optional_host() {
        assert!(is_call_id("3f2a-11ee@host.example"));
        assert!(is_call_id("b84b4c76e66710"));
        assert!(!is_call_id("") && !is_call_id("a b") && !is_call_id("a@") && !is_call_id("a@b@c"));
    }

    #[test]
    fn commas_inside_quotes_and_angles_do_not_split() {
        let v = r#""a, \"b" <sip:x@y;p=1,2>;q=1 , <sip:z@w>"#;
        let parts: Vec<_> = split_commas(v).collect();
        assert_eq!(parts, vec![r#""a, \"b" <sip:x@y;p=1,2>;q=1"#, "<sip:z@w>"]);
    }

    #[test]
    fn decimal_accepts_leading_zeros_and_rejects_signs() {
        assert_eq!(parse_decimal("0068"), Some(68));
        assert_eq!(parse_decimal("00000000000000000000000000001"), Some(1));
        assert_eq!(parse_decimal("-1"), None);
        assert_eq!(parse_decimal(""), None);
        assert_eq!(parse_decimal("99999999999999999999"), None);
    }

    #[test]
    fn unquote_undoes_quoted_pairs() {
        assert_eq!(unquote(r#""J Rosenberg \\\"""#), r#"J Rosenberg \""#);
    }
}
