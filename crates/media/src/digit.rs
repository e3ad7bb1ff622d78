//! DTMF digits: one table shared by every path (RFC 4733 events, SIP INFO, in-band tones) and by
//! the recorder's stop tones and the API's `toneInfo`.

/// A DTMF digit, or a hook flash (RFC 4733 §3.2 event codes 0–16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Digit {
    D0,
    D1,
    D2,
    D3,
    D4,
    D5,
    D6,
    D7,
    D8,
    D9,
    Star,
    Pound,
    A,
    B,
    C,
    D,
    Flash,
}

const ALL: [Digit; 17] = [
    Digit::D0,
    Digit::D1,
    Digit::D2,
    Digit::D3,
    Digit::D4,
    Digit::D5,
    Digit::D6,
    Digit::D7,
    Digit::D8,
    Digit::D9,
    Digit::Star,
    Digit::Pound,
    Digit::A,
    Digit::B,
    Digit::C,
    Digit::D,
    Digit::Flash,
];

/// (character, Graph `tone` name), in RFC 4733 event-code order.
const NAMES: [(char, &str); 17] = [
    ('0', "tone0"),
    ('1', "tone1"),
    ('2', "tone2"),
    ('3', "tone3"),
    ('4', "tone4"),
    ('5', "tone5"),
    ('6', "tone6"),
    ('7', "tone7"),
    ('8', "tone8"),
    ('9', "tone9"),
    ('*', "star"),
    ('#', "pound"),
    ('A', "a"),
    ('B', "b"),
    ('C', "c"),
    ('D', "d"),
    ('!', "flash"),
];

impl Digit {
    /// RFC 4733 §3.2 event code.
    pub fn event_code(self) -> u8 {
        self as u8
    }

    pub fn from_event_code(code: u8) -> Option<Digit> {
        ALL.get(usize::from(code)).copied()
    }

    /// `0-9 * # A-D` (case-insensitive) and `!` for flash, as in SIP INFO `Signal=` bodies.
    pub fn from_char(c: char) -> Option<Digit> {
        let c = c.to_ascii_uppercase();
        NAMES
            .iter()
            .position(|(ch, _)| *ch == c)
            .and_then(|i| ALL.get(i).copied())
    }

    pub fn as_char(self) -> char {
        NAMES[self as usize].0
    }

    /// The Graph `tone` enum value (`tone0`..`tone9`, `star`, `pound`, `a`..`d`, `flash`).
    pub fn graph_name(self) -> &'static str {
        NAMES[self as usize].1
    }

    /// Parses a Graph tone name case-insensitively, or a single digit character.
    pub fn from_graph_name(name: &str) -> Option<Digit> {
        let mut chars = name.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            return Digit::from_char(c).filter(|d| *d != Digit::Flash);
        }
        NAMES
            .iter()
            .position(|(_, n)| n.eq_ignore_ascii_case(name))
            .and_then(|i| ALL.get(i).copied())
    }
}

impl std::fmt::Display for Digit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.as_char())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Test code: a failed unwrap is the failure report; no network input reaches it.
mod tests {
    use super::*;

    #[test]
    fn tables_line_up() {
        for (i, d) in ALL.iter().enumerate() {
            assert_eq!(d.event_code() as usize, i);
            assert_eq!(Digit::from_event_code(i as u8), Some(*d));
            assert_eq!(Digit::from_char(d.as_char()), Some(*d));
            assert_eq!(Digit::from_graph_name(d.graph_name()), Some(*d));
        }
        assert_eq!(Digit::from_event_code(17), None);
        assert_eq!(Digit::from_graph_name("POUND"), Some(Digit::Pound));
        assert_eq!(Digit::from_graph_name("#"), Some(Digit::Pound));
        assert_eq!(Digit::from_graph_name("e"), None);
    }
}
