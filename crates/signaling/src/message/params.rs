//! Header parameters after a value: `*( SEMI generic-param )` (RFC 3261 §25.1).

use super::text::{is_token_byte, Cursor};

use crate::error::ParseErrorKind;

/// Bytes of a parameter value written without quotes: `token / host` (IPv6 references
/// included), as a table since every parameter value is scanned a byte at a time.
const GEN_VALUE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = is_token_byte(i as u8) || matches!(i as u8, b':' | b'[' | b']');
        i += 1;
    }
    t
};

fn is_gen_value_byte(b: u8) -> bool {
    // Any u8 indexes a 256-entry table.
    GEN_VALUE[usize::from(b)]
}

/// Parses `;name[=value]` pairs up to the end of the cursor, LWS allowed around `;` and `=`,
/// handing each to `each`: callers copy them or, when only checking, do not. Quoted values
/// keep their quotes so they serialize back unchanged.
pub(crate) fn scan_params<'a>(
    c: &mut Cursor<'a>,
    mut each: impl FnMut(&'a str, Option<&'a str>) -> Result<(), ParseErrorKind>,
) -> Result<(), ParseErrorKind> {
    loop {
        c.skip_ws();
        if c.at_end() {
            return Ok(());
        }
        if !c.eat(b';') {
            return Err(ParseErrorKind::Syntax);
        }
        let name = c.token().ok_or(ParseErrorKind::Param)?;
        let value = if c.eat(b'=') {
            c.skip_ws();
            let v = match c.peek() {
                Some(b'"') => c.quoted().ok_or(ParseErrorKind::Quote)?,
                _ => c.take_while(is_gen_value_byte),
            };
            if v.is_empty() {
                return Err(ParseErrorKind::Param);
            }
            Some(v)
        } else {
            None
        };
        each(name, value)?;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;
    use crate::message::Param;

    fn parse_params(c: &mut Cursor<'_>) -> Result<Vec<Param>, ParseErrorKind> {
        let mut params = Vec::new();
        scan_params(c, |name, value| {
            params.push(Param::new(name, value.map(str::to_owned)));
            Ok(())
        })?;
        Ok(params)
    }

    #[test]
    fn params_allow_lws_and_quoted_values() {
        let mut c = Cursor::new(
            r#" ; newparam =  newvalue ;  secondparam ; q = 0.33;+sip.instance="<urn:uuid:1>""#,
        );
        let p = parse_params(&mut c).unwrap();
        assert_eq!(p.len(), 4);
        assert_eq!(p[0], Param::new("newparam", Some("newvalue".into())));
        assert_eq!(p[1], Param::new("secondparam", None));
        assert_eq!(p[2].value.as_deref(), Some("0.33"));
        assert_eq!(p[3].value.as_deref(), Some(r#""<urn:uuid:1>""#));
    }

    #[test]
    fn empty_params_are_rejected() {
        assert!(parse_params(&mut Cursor::new(";;")).is_err());
        assert!(parse_params(&mut Cursor::new(";a=")).is_err());
        assert!(parse_params(&mut Cursor::new("junk")).is_err());
    }
}
