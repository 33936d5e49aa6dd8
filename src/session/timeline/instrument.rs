//! What the timeline strikes: an [`Instrument`], why ([`StrokeKind`]), and when
//! ([`Stroke`]).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::audio::Frame;
use crate::pack::Role;
use crate::session::duration::SegmentDuration;

/// A sound of the pack's colotomic section, by its pack name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Instrument {
    /// `gong`: the gong ageng, which opens (buka) and closes the session.
    Gong,
    /// `suwukan`: the smaller gong that closes each segment.
    Suwukan,
    /// `kempul`.
    Kempul,
    /// `kenong`, variants 1–6 (pitch).
    Kenong,
    /// `ketuk`.
    Ketuk,
    /// `kempyang`.
    Kempyang,
    /// `bonang`, variants 1–4 (pitch), as the default pack has them.
    Bonang,
    /// `saron`, variants 1–7 (pitch).
    Saron,
}

impl Instrument {
    /// The instrument's name in a sound pack.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Instrument::Gong => "gong",
            Instrument::Suwukan => "suwukan",
            Instrument::Kempul => "kempul",
            Instrument::Kenong => "kenong",
            Instrument::Ketuk => "ketuk",
            Instrument::Kempyang => "kempyang",
            Instrument::Bonang => "bonang",
            Instrument::Saron => "saron",
        }
    }

    /// The highest variant the timeline uses (variants count from 1), or 0 for an
    /// instrument it strikes without a variant.
    #[must_use]
    pub const fn max_variant(self) -> u8 {
        match self {
            Instrument::Kenong => 6,
            Instrument::Bonang => 4,
            Instrument::Saron => 7,
            _ => 0,
        }
    }

    /// The default level of this instrument in the colotomic mix, before the pack's own
    /// gain: the big gongs loudest, the fillers (ketuk, kempyang) well below.
    pub(super) const fn gain_db(self) -> f32 {
        match self {
            Instrument::Gong => 0.0,
            Instrument::Suwukan => -1.0,
            Instrument::Kempul => -3.0,
            Instrument::Kenong => -2.0,
            Instrument::Ketuk => -6.0,
            Instrument::Kempyang => -9.0,
            Instrument::Bonang | Instrument::Saron => -4.0,
        }
    }
}

impl fmt::Display for Instrument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a stroke is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StrokeKind {
    /// Part of the opening phrase (including the gong that lands on segment 0's start).
    Buka,
    /// A colotomic stroke on beat `beat` of `of` of the segment's form. Beat 0 is the
    /// opening stroke of a [`Form::Bell`](crate::session::Form::Bell). On the last beat,
    /// this is the kenong; the gong itself is a [`StrokeKind::SegmentEnd`] or
    /// [`StrokeKind::SessionEnd`], except in a `wait` segment, where the deadline gong
    /// does not end the segment and is a `Beat` too.
    Beat {
        /// Which beat, from 1 (0 for a bell's opening stroke).
        beat: u16,
        /// Beats in the form.
        of: u16,
    },
    /// A warning `lead` before the deadline.
    Warning {
        /// How long before the deadline.
        lead: SegmentDuration,
    },
    /// A reminder that a `wait` segment is past its deadline.
    Overtime,
    /// The gong suwukan on the deadline of a segment that ends there.
    SegmentEnd,
    /// The gong ageng: the session's end (last deadline, `next` from the last segment, or
    /// `stop`).
    SessionEnd,
    /// The strokes that close a segment early when the facilitator moves on.
    Suwuk,
    /// A stroke of a wheel's spin: the bonang run as entries pass the pointer, and the
    /// gong it lands with.
    Spin {
        /// Whether the wheel stops on this stroke (on the picked entry).
        landing: bool,
    },
}

impl Stroke {
    /// The roles this stroke plays, the most specific first: a pack that remaps one of
    /// them plays it with its own instrument (see [`Role`]). A colotomic beat has none,
    /// except a `wait` segment's deadline gong.
    #[must_use]
    pub fn roles(&self) -> &'static [Role] {
        match self.kind {
            StrokeKind::Buka => &[Role::Buka],
            StrokeKind::Warning { .. } => &[Role::Warning],
            StrokeKind::Overtime => &[Role::Overtime],
            StrokeKind::SegmentEnd => &[Role::SegmentEnd, Role::Deadline],
            StrokeKind::SessionEnd => &[Role::SessionEnd, Role::Deadline],
            StrokeKind::Suwuk => &[Role::Suwuk],
            StrokeKind::Beat { beat, of }
                if beat == of
                    && matches!(self.instrument, Instrument::Gong | Instrument::Suwukan) =>
            {
                &[Role::Deadline]
            }
            StrokeKind::Beat { .. } | StrokeKind::Spin { .. } => &[],
        }
    }
}

/// One stroke at an exact frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stroke {
    /// When, session-relative.
    pub frame: Frame,
    /// What to strike.
    pub instrument: Instrument,
    /// Which pitch, from 1, for pitched instruments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<u8>,
    /// Level relative to the pack's normalised level.
    pub gain_db: f32,
    /// The plan segment it belongs to (0 for the buka).
    pub segment: usize,
    /// The index in [`Timeline::runs`](super::Timeline::runs) of the segment run it belongs
    /// to (0 for the buka).
    pub run: usize,
    /// Why it is there.
    pub kind: StrokeKind,
}
