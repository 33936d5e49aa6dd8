//! [`Role`]: what a session's stroke means — the deadline, the end, a warning — as
//! opposed to which instrument plays it. A pack may give a role its own instrument
//! (`[roles] overtime = "airhorn"`), so a team's pack can ring its own sound where it
//! matters while the colotomic cycle keeps its gongs.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A role a pack may remap, as written in `pack.toml`'s `[roles]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The opening phrase.
    Buka,
    /// Any gong that marks a segment's deadline: a `wait` segment's, and — unless
    /// `segment_end` or `session_end` names its own — the end of a segment or a session.
    Deadline,
    /// The gong suwukan that ends a segment at its deadline.
    SegmentEnd,
    /// The gong ageng that ends the session.
    SessionEnd,
    /// A warning before a deadline.
    Warning,
    /// A reminder that a `wait` segment is past its deadline.
    Overtime,
    /// The strokes that close a segment early when the facilitator moves on.
    Suwuk,
}

impl Role {
    /// Every role, for listings.
    pub const ALL: [Role; 7] = [
        Role::Buka,
        Role::Deadline,
        Role::SegmentEnd,
        Role::SessionEnd,
        Role::Warning,
        Role::Overtime,
        Role::Suwuk,
    ];

    /// The name `pack.toml` uses.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Role::Buka => "buka",
            Role::Deadline => "deadline",
            Role::SegmentEnd => "segment_end",
            Role::SessionEnd => "session_end",
            Role::Warning => "warning",
            Role::Overtime => "overtime",
            Role::Suwuk => "suwuk",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn names_are_what_serde_reads() {
        for role in Role::ALL {
            let text = format!("\"{}\"", role.name());
            let parsed: Role = serde_json::from_str(&text).unwrap();
            assert_eq!(parsed, role);
        }
    }
}
