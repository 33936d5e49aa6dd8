//! [`Notice`]: one thing a notification target hears about, with everything its message
//! needs, so that turning it into a message ([`super::format`]) is a pure function.

/// A session event as targets hear about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// The session's id.
    pub session: String,
    /// The plan's name, as its author wrote it.
    pub plan: String,
    /// When it happened: RFC 3339 UTC with milliseconds.
    pub at: String,
    /// What happened.
    pub what: What,
}

/// A plan segment, as messages name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRef {
    /// Its place in the plan, from 1.
    pub number: usize,
    /// Segments in the plan.
    pub of: usize,
    /// Its title, as the plan's author wrote it.
    pub title: String,
}

/// What happened. Each kind is one of [`crate::config::hooks::NOTIFY_EVENTS`].
#[derive(Debug, Clone, PartialEq)]
pub enum What {
    /// The session began (its buka).
    Started {
        /// Who started it.
        by: String,
        /// Segments in the plan.
        segments: usize,
        /// Its planned length in real seconds (the buka included), when known.
        planned_seconds: Option<f64>,
    },
    /// A segment began.
    Segment {
        /// Which.
        segment: SegmentRef,
        /// How long it lasts, in real seconds.
        seconds: f64,
    },
    /// A warning stroke: the deadline is near.
    Warning {
        /// The segment.
        segment: SegmentRef,
        /// Real seconds left until its deadline.
        left_seconds: f64,
    },
    /// A segment reached its deadline.
    Deadline {
        /// The segment.
        segment: SegmentRef,
    },
    /// A `wait` segment passed its deadline and holds until the facilitator moves on.
    Overtime {
        /// The segment.
        segment: SegmentRef,
    },
    /// The session ended.
    Finished {
        /// Real seconds from its start to its end.
        elapsed_seconds: f64,
        /// Its planned length in real seconds (the buka included), when known.
        planned_seconds: Option<f64>,
        /// Who stopped it, if it did not run to its end.
        stopped_by: Option<String>,
    },
    /// A new turn of a segment's rotation: whose it is, and who comes next.
    Turn {
        /// The segment.
        segment: SegmentRef,
        /// Whose turn it is.
        person: String,
        /// Who comes next (none on the last turn).
        next: Option<String>,
    },
    /// A segment's wheel landed (told as it lands, so chat does not give the pick away
    /// before the room hears it).
    Spin {
        /// The segment.
        segment: SegmentRef,
        /// The entry it landed on.
        entry: String,
        /// Who spun it.
        by: String,
    },
    /// The session goes on after a pause, or after the server was down.
    Resumed {
        /// Who resumed it (`server` after a restart).
        by: String,
        /// How long the server was down, after a restart.
        down_seconds: Option<f64>,
    },
}

impl What {
    /// The event's name: what targets choose in `events`, and `X-Gongan-Event`.
    #[must_use]
    pub fn event(&self) -> &'static str {
        match self {
            What::Started { .. } => "started",
            What::Segment { .. } => "segment",
            What::Warning { .. } => "warning",
            What::Deadline { .. } => "deadline",
            What::Overtime { .. } => "overtime",
            What::Finished { .. } => "finished",
            What::Turn { .. } => "turn",
            What::Spin { .. } => "spin",
            What::Resumed { .. } => "resumed",
        }
    }
}

impl Notice {
    /// A sample of `event` (one of [`crate::config::hooks::NOTIFY_EVENTS`]), as
    /// `gongan hooks test` sends it; `None` for an unknown event name.
    #[must_use]
    pub fn sample(event: &str, by: &str, at: String) -> Option<Notice> {
        let segment = SegmentRef {
            number: 2,
            of: 5,
            title: "Investigate".to_owned(),
        };
        let what = match event {
            "started" => What::Started {
                by: by.to_owned(),
                segments: 5,
                planned_seconds: Some(3604.0),
            },
            "segment" => What::Segment {
                segment,
                seconds: 1200.0,
            },
            "warning" => What::Warning {
                segment,
                left_seconds: 120.0,
            },
            "deadline" => What::Deadline {
                segment: segment.clone(),
            },
            "turn" => What::Turn {
                segment,
                person: "Ana".to_owned(),
                next: Some("Budi".to_owned()),
            },
            "spin" => What::Spin {
                segment,
                entry: "Expired certificate".to_owned(),
                by: by.to_owned(),
            },
            "overtime" => What::Overtime { segment },
            "finished" => What::Finished {
                elapsed_seconds: 3720.0,
                planned_seconds: Some(3604.0),
                stopped_by: None,
            },
            "resumed" => What::Resumed {
                by: by.to_owned(),
                down_seconds: None,
            },
            _ => return None,
        };
        Some(Notice {
            session: "sample".to_owned(),
            plan: "Sample session (gongan hooks test)".to_owned(),
            at,
            what,
        })
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::config::hooks::NOTIFY_EVENTS;

    #[test]
    fn there_is_a_sample_of_every_event_and_it_names_itself() {
        for event in NOTIFY_EVENTS {
            let notice = Notice::sample(event, "cli", "2026-11-22T09:30:00.000Z".into()).unwrap();
            assert_eq!(notice.what.event(), event);
        }
        assert_eq!(Notice::sample("gong", "cli", String::new()), None);
    }
}
