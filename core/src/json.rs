//! A strict JSON reader for the three small objects core reads on every token: the JOSE
//! header, the claims ([`crate::ClaimsRef`]) and the loose claims of `inspect`.
//!
//! serde_json's derive did the same job in about a fifth of the package's verify time;
//! this reader visits each member once, matches its name as bytes, and borrows strings
//! from the text where they have no escapes. It accepts exactly the JSON of RFC 8259 that
//! serde_json accepts for these objects (property tests in `json/tests.rs` hold it
//! to that, with serde_json as the oracle), with one deliberate difference: the top level
//! must be an object, where serde would also take the members as an array in field order.
//!
//! What it is not: a general JSON parser. Values of members nobody asked about are checked
//! and skipped ([`Reader::skip`]), never built.
//!
//! Nesting is bounded: at most [`MAX_DEPTH`] lists and objects open at once, the top-level
//! object included, which is serde_json's limit for every value it builds (its
//! `RecursionLimitExceeded` at the 128th). serde_json skips an ignored value to any depth,
//! so jsonwebtoken refuses a deep header member or `aud` but takes a deep unknown claim;
//! the reader refuses all three alike (ARCHITECTURE.md, "Stricter than jsonwebtoken").

use std::borrow::Cow;
use std::fmt;

/// Where and why a text is not what was asked for. Boxed, so that the reader's results
/// stay small: in wasm, every byte of a returned value goes through memory.
#[derive(Debug)]
pub(crate) struct Fault(Box<FaultAt>);

#[derive(Debug)]
struct FaultAt {
    what: Cow<'static, str>,
    /// The byte offset in the text, when the fault has a place.
    at: Option<usize>,
}

impl Fault {
    #[cold]
    fn new(what: impl Into<Cow<'static, str>>, at: Option<usize>) -> Fault {
        Fault(Box::new(FaultAt {
            what: what.into(),
            at,
        }))
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.at {
            Some(at) => write!(f, "{} at byte {at}", self.0.what),
            None => f.write_str(&self.0.what),
        }
    }
}

pub(crate) type Result<T> = std::result::Result<T, Fault>;

/// The most lists and objects a text may have open at once, the top level included:
/// serde_json's recursion limit (it refuses the 128th).
pub(crate) const MAX_DEPTH: usize = 127;

/// A cursor over one JSON text.
pub(crate) struct Reader<'a> {
    text: &'a str,
    at: usize,
    /// The objects [`Reader::object`] has open around the cursor.
    depth: usize,
}

impl<'a> Reader<'a> {
    pub fn new(text: &'a str) -> Self {
        Reader {
            text,
            at: 0,
            depth: 0,
        }
    }

    /// Refuses to open one more list or object when `open` are already open inside the
    /// value being read (on top of the reader's own [`Reader::object`]s).
    #[inline]
    fn nest(&self, open: usize) -> Result<()> {
        if self.depth + open < MAX_DEPTH {
            Ok(())
        } else {
            Err(self.fault(format!("more than {MAX_DEPTH} lists and objects nested")))
        }
    }

    #[inline]
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// A fault at the cursor.
    #[cold]
    pub fn fault(&self, what: impl Into<Cow<'static, str>>) -> Fault {
        Fault::new(what, Some(self.at))
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.at).copied()
    }

    #[inline]
    fn white(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    #[inline]
    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// Reads an object, calling `member` with each member's name and the reader placed at
    /// its value, which `member` must read (or [`Reader::skip`]).
    pub fn object(
        &mut self,
        mut member: impl FnMut(&mut Self, Cow<'a, str>) -> Result<()>,
    ) -> Result<()> {
        self.white();
        if self.peek() != Some(b'{') {
            return Err(self.fault("expected a JSON object"));
        }
        self.nest(0)?;
        self.at += 1;
        self.depth += 1;
        self.white();
        if self.eat(b'}') {
            self.depth -= 1;
            return Ok(());
        }
        loop {
            self.white();
            if !self.eat(b'"') {
                return Err(self.fault("expected a member name"));
            }
            let name = self.string_body(true)?;
            self.white();
            if !self.eat(b':') {
                return Err(self.fault("expected ':'"));
            }
            self.white();
            member(self, name)?;
            self.white();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => return Err(self.fault("expected ',' or '}'")),
            }
        }
    }

    /// Only white space is left.
    pub fn end(&mut self) -> Result<()> {
        self.white();
        if self.at == self.text.len() {
            Ok(())
        } else {
            Err(self.fault("trailing characters"))
        }
    }

    /// Reads `null` if it is next.
    #[inline]
    pub fn null(&mut self) -> bool {
        self.white();
        if self.bytes()[self.at..].starts_with(b"null") {
            self.at += 4;
            true
        } else {
            false
        }
    }

    /// `None` for `null`, or else what `read` reads.
    #[inline]
    pub fn or_null<T>(&mut self, read: impl FnOnce(&mut Self) -> Result<T>) -> Result<Option<T>> {
        if self.null() {
            Ok(None)
        } else {
            read(self).map(Some)
        }
    }

    /// Reads a string, borrowed unless it has escapes; `None` if the value is not one.
    #[inline]
    pub fn string(&mut self) -> Result<Option<Cow<'a, str>>> {
        self.white();
        if self.eat(b'"') {
            self.string_body(true).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Reads an integer that fits an `i64`; `None` if the value is not a number.
    /// A number with a fraction or an exponent, or out of range, is a fault.
    #[inline]
    pub fn integer(&mut self) -> Result<Option<i64>> {
        self.white();
        let start = self.at;
        let negative = self.eat(b'-');
        let digits = self.at;
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ if negative => return Err(self.fault("invalid number")),
            _ => return Ok(None),
        }
        // Up to 19 digits cannot overflow a u64 (wasm has no cheap overflow-checked
        // multiply); more never fit an i64.
        let digits = &self.bytes()[digits..self.at];
        let fits = digits.len() <= 19;
        let value = digits.iter().fold(0u64, |value, &digit| {
            value.wrapping_mul(10).wrapping_add(u64::from(digit - b'0'))
        });
        match self.peek() {
            Some(b'0'..=b'9') => return Err(self.fault("invalid number")),
            Some(b'.' | b'e' | b'E') => {
                self.at = start;
                return Err(self.fault("expected a whole number, found a fraction"));
            }
            _ => {}
        }
        if negative && value == 0 {
            // serde_json reads -0 as the float -0.0, not an integer.
            self.at = start;
            return Err(self.fault("expected a whole number, found -0"));
        }
        let value = if negative {
            0i64.checked_sub_unsigned(value).filter(|_| fits)
        } else {
            i64::try_from(value).ok().filter(|_| fits)
        };
        value
            .map(Some)
            .ok_or_else(|| Fault::new("integer out of range", Some(start)))
    }

    /// Reads member `name`'s value, which must be a string.
    #[inline]
    pub fn text(&mut self, name: &str) -> Result<Cow<'a, str>> {
        self.string()?
            .ok_or_else(|| self.fault(format!("`{name}` must be a string")))
    }

    /// Reads member `name`'s value, which must be an integer that fits an `i64`.
    #[inline]
    pub fn whole(&mut self, name: &str) -> Result<i64> {
        self.integer()?
            .ok_or_else(|| self.fault(format!("`{name}` must be an integer")))
    }

    /// Reads member `name`'s value, which must be a list of strings.
    pub fn strings(&mut self, name: &str) -> Result<Vec<String>> {
        self.white();
        if self.peek() != Some(b'[') {
            return Err(self.fault(format!("`{name}` must be a list of strings")));
        }
        self.nest(0)?;
        self.at += 1;
        let mut list = Vec::new();
        self.white();
        if self.eat(b']') {
            return Ok(list);
        }
        loop {
            list.push(self.text(name)?.into_owned());
            self.white();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(list);
                }
                _ => return Err(self.fault("expected ',' or ']'")),
            }
        }
    }

    /// Checks and skips any one value, returning its text.
    pub fn skip(&mut self) -> Result<&'a str> {
        self.white();
        let start = self.at;
        // The open lists (true) and objects (false), innermost last. Nesting is checked
        // without recursion, and bounded by `MAX_DEPTH` as serde_json bounds it.
        let mut open: Vec<bool> = Vec::new();
        loop {
            // A value.
            self.white();
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    self.string_body(false)?;
                }
                Some(b'[') => {
                    self.nest(open.len())?;
                    self.at += 1;
                    self.white();
                    if !self.eat(b']') {
                        open.push(true);
                        continue;
                    }
                }
                Some(b'{') => {
                    self.nest(open.len())?;
                    self.at += 1;
                    self.white();
                    if !self.eat(b'}') {
                        open.push(false);
                        self.member_name()?;
                        continue;
                    }
                }
                Some(b'-' | b'0'..=b'9') => self.number()?,
                Some(b't') => self.word(b"true")?,
                Some(b'f') => self.word(b"false")?,
                Some(b'n') => self.word(b"null")?,
                _ => return Err(self.fault("expected a value")),
            }
            // After a value: close what ends here, or go on to the next element or member.
            loop {
                let Some(&list) = open.last() else {
                    return Ok(&self.text[start..self.at]);
                };
                self.white();
                match self.peek() {
                    Some(b',') => {
                        self.at += 1;
                        if !list {
                            self.white();
                            self.member_name()?;
                        }
                        break;
                    }
                    Some(b']') if list => {
                        self.at += 1;
                        open.pop();
                    }
                    Some(b'}') if !list => {
                        self.at += 1;
                        open.pop();
                    }
                    _ if list => return Err(self.fault("expected ',' or ']'")),
                    _ => return Err(self.fault("expected ',' or '}'")),
                }
            }
        }
    }

    /// A member name and its colon, inside a skipped object.
    fn member_name(&mut self) -> Result<()> {
        self.white();
        if !self.eat(b'"') {
            return Err(self.fault("expected a member name"));
        }
        self.string_body(false)?;
        self.white();
        if !self.eat(b':') {
            return Err(self.fault("expected ':'"));
        }
        Ok(())
    }

    fn word(&mut self, word: &[u8]) -> Result<()> {
        if self.bytes()[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(())
        } else {
            Err(self.fault("expected a value"))
        }
    }

    /// Any JSON number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Result<()> {
        self.eat(b'-');
        match self.peek() {
            Some(b'0') => {
                self.at += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.fault("invalid number"));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.fault("invalid number")),
        }
        if self.eat(b'.') {
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.fault("invalid number"));
            }
            self.digits();
        }
        if self.eat(b'e') || self.eat(b'E') {
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.fault("invalid number"));
            }
            self.digits();
        }
        Ok(())
    }

    #[inline]
    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
    }

    /// The rest of a string whose opening quote has been read. With `strict`, escapes
    /// must make real characters (no lone surrogates), as for a string that is kept; a
    /// skipped string only needs well-formed escapes, as serde_json has it.
    #[inline]
    fn string_body(&mut self, strict: bool) -> Result<Cow<'a, str>> {
        let start = self.at;
        // The common case: no escape before the closing quote.
        let end = plain_run(self.bytes(), start);
        if self.bytes().get(end) == Some(&b'"') {
            self.at = end + 1;
            // The quote is ASCII, so both ends fall on character boundaries.
            return Ok(Cow::Borrowed(&self.text[start..end]));
        }
        self.at = end;
        self.escaped_string(start, strict)
    }

    /// The rest of a string from its first escape (or fault) at the cursor on.
    #[inline(never)]
    fn escaped_string(&mut self, start: usize, strict: bool) -> Result<Cow<'a, str>> {
        let bytes = self.bytes();
        let i = self.at;
        match bytes.get(i) {
            Some(b'\\') => {}
            Some(_) => return Err(self.fault("control character in a string")),
            None => return Err(self.fault("unterminated string")),
        }
        let mut owned = String::with_capacity(i - start + 16);
        owned.push_str(&self.text[start..i]);
        self.at = i;
        loop {
            let run = self.at;
            self.at = plain_run(bytes, run);
            owned.push_str(&self.text[run..self.at]);
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(Cow::Owned(owned));
                }
                Some(b'\\') => {
                    self.at += 1;
                    self.escape(strict, &mut owned)?;
                }
                Some(_) => return Err(self.fault("control character in a string")),
                None => return Err(self.fault("unterminated string")),
            }
        }
    }

    /// One escape, after its backslash.
    fn escape(&mut self, strict: bool, out: &mut String) -> Result<()> {
        let Some(code) = self.peek() else {
            return Err(self.fault("unterminated string"));
        };
        self.at += 1;
        let c = match code {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4()?;
                if !strict {
                    return Ok(());
                }
                match unit {
                    0xd800..=0xdbff => {
                        if !self.bytes()[self.at..].starts_with(b"\\u") {
                            return Err(self.fault("lone leading surrogate in an escape"));
                        }
                        self.at += 2;
                        let low = self.hex4()?;
                        if !(0xdc00..=0xdfff).contains(&low) {
                            return Err(self.fault("lone leading surrogate in an escape"));
                        }
                        let c = 0x10000
                            + ((u32::from(unit) - 0xd800) << 10)
                            + (u32::from(low) - 0xdc00);
                        char::from_u32(c).ok_or_else(|| self.fault("invalid escape"))?
                    }
                    0xdc00..=0xdfff => {
                        return Err(self.fault("lone trailing surrogate in an escape"));
                    }
                    _ => char::from_u32(u32::from(unit))
                        .ok_or_else(|| self.fault("invalid escape"))?,
                }
            }
            _ => {
                self.at -= 1;
                return Err(self.fault("invalid escape"));
            }
        };
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u16> {
        let digits = self
            .bytes()
            .get(self.at..self.at + 4)
            .ok_or_else(|| self.fault("unterminated escape"))?;
        let mut unit = 0u16;
        for &digit in digits {
            let value = match digit {
                b'0'..=b'9' => digit - b'0',
                b'a'..=b'f' => digit - b'a' + 10,
                b'A'..=b'F' => digit - b'A' + 10,
                _ => return Err(self.fault("invalid escape")),
            };
            unit = unit << 4 | u16::from(value);
        }
        self.at += 4;
        Ok(unit)
    }
}

/// Where the run of plain string bytes from `i` ends: at the first quote, backslash or
/// control character, or at the end. Eight bytes at a time: in a word, a byte that is
/// one of those sets its high bit in `found`. Borrows can set bits only above a byte
/// that really is one, so the lowest bit set is exact.
#[inline]
pub(crate) fn plain_run(bytes: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        let control = word.wrapping_sub(ONES * 0x20);
        let quote = (word ^ (ONES * u64::from(b'"'))).wrapping_sub(ONES);
        let backslash = (word ^ (ONES * u64::from(b'\\'))).wrapping_sub(ONES);
        // Bytes from 0x80 (UTF-8 beyond ASCII) are never special: `!word` clears them.
        let found = (control | quote | backslash) & !word & HIGHS;
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < bytes.len() && !SPECIAL[usize::from(bytes[i])] {
        i += 1;
    }
    i
}

/// The bytes that end a plain run in a string: the quote, the backslash and the control
/// characters, which JSON does not allow raw.
const SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = true;
        i += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Fills a member's slot once: a second member of the same name is a fault, as serde's
/// derive has it.
#[inline]
pub(crate) fn once<T>(slot: &mut Option<T>, name: &str, value: T) -> Result<()> {
    if slot.is_some() {
        return Err(Fault::new(format!("duplicate field `{name}`"), None));
    }
    *slot = Some(value);
    Ok(())
}

/// A required member's value.
#[inline]
pub(crate) fn required<T>(slot: Option<T>, name: &str) -> std::result::Result<T, Fault> {
    slot.ok_or_else(|| Fault::new(format!("missing field `{name}`"), None))
}

#[cfg(test)]
mod tests;
