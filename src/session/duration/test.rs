use super::*;

fn d(s: &str) -> Result<SegmentDuration, DurationError> {
    SegmentDuration::parse(s)
}

#[test]
fn reads_the_ways_facilitators_write_time() {
    assert_eq!(d("20m"), Ok(SegmentDuration::from_mins(20)));
    assert_eq!(d("90s"), Ok(SegmentDuration::from_secs(90)));
    assert_eq!(d("1h30m"), Ok(SegmentDuration::from_mins(90)));
    assert_eq!(d("1h 30m"), Ok(SegmentDuration::from_mins(90)));
    assert_eq!(d(" 2h "), Ok(SegmentDuration::from_mins(120)));
    assert_eq!(
        d("1s500ms"),
        Ok(SegmentDuration::new(Duration::from_millis(1500)))
    );
    assert_eq!(d("0s"), Ok(SegmentDuration::ZERO));
}

#[test]
fn rejects_what_is_not_a_duration() {
    assert_eq!(d(""), Err(DurationError::Empty));
    assert!(matches!(d("-5m"), Err(DurationError::Negative(_))));
    assert!(matches!(d("20"), Err(DurationError::Syntax { .. })));
    assert!(matches!(d("20 minutes"), Err(DurationError::Syntax { .. })));
    assert!(matches!(d("1.5h"), Err(DurationError::Syntax { .. })));
    assert!(matches!(d("m"), Err(DurationError::Syntax { .. })));
    assert!(matches!(d("30m1h"), Err(DurationError::Order { .. })));
    assert!(matches!(d("5m5m"), Err(DurationError::Order { .. })));
    assert!(matches!(
        d("99999999999999999999h"),
        Err(DurationError::Overflow(_))
    ));
    assert!(matches!(
        d("9999999999999999h"),
        Err(DurationError::Overflow(_))
    ));
    assert!(matches!(d("20m\u{e9}"), Err(DurationError::Syntax { .. })));
}

#[test]
fn writes_the_canonical_compact_form() {
    for (input, canonical) in [
        ("20m", "20m"),
        ("90s", "1m30s"),
        ("1h 30m", "1h30m"),
        ("3600s", "1h"),
        ("1500ms", "1s500ms"),
        ("0m", "0s"),
    ] {
        assert_eq!(d(input).unwrap().to_string(), canonical, "{input}");
    }
}

proptest::proptest! {
    #[test]
    fn round_trips_through_text(ms in 0u64..400_000_000_000) {
        let duration = SegmentDuration::new(Duration::from_millis(ms));
        proptest::prop_assert_eq!(d(&duration.to_string()), Ok(duration));
    }

    #[test]
    fn never_panics(input in "\\PC{0,24}") {
        let _ = d(&input);
    }
}
