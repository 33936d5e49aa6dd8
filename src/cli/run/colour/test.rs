use std::ffi::OsStr;

use super::*;

#[test]
fn colour_only_on_a_terminal_that_can_show_it_when_nobody_said_no() {
    let term = Some("xterm-256color");
    assert!(use_colour(true, None, term));
    assert!(!use_colour(false, None, term), "a pipe or a file");
    assert!(!use_colour(true, Some(OsStr::new("1")), term));
    assert!(
        !use_colour(true, Some(OsStr::new("false")), term),
        "any value says no"
    );
    assert!(
        use_colour(true, Some(OsStr::new("")), term),
        "an empty NO_COLOR is unset"
    );
    assert!(!use_colour(true, None, Some("dumb")));
    assert!(use_colour(true, None, None), "no TERM (Windows consoles)");
}

#[test]
fn the_clock_turns_at_a_warning_or_the_last_minute_and_red_past_the_deadline() {
    assert_eq!(Tone::of(State::Running, 300.0, None), Tone::OnTime);
    assert_eq!(Tone::of(State::Running, 60.4, None), Tone::Closing);
    assert_eq!(Tone::of(State::Running, 60.6, None), Tone::OnTime);
    assert_eq!(Tone::of(State::Running, 300.0, Some(300.0)), Tone::Closing);
    assert_eq!(Tone::of(State::Running, 301.0, Some(300.0)), Tone::OnTime);
    // A warning shorter than a minute does not shorten the last minute.
    assert_eq!(Tone::of(State::Running, 45.0, Some(30.0)), Tone::Closing);
    assert_eq!(Tone::of(State::Overtime, 0.0, Some(60.0)), Tone::Over);
    assert_eq!(Tone::of(State::Paused, 10.0, None), Tone::Paused);
    assert_eq!(Tone::of(State::Buka, 10.0, None), Tone::Plain);
    assert_eq!(Tone::of(State::Finished, 0.0, None), Tone::Plain);
}

#[test]
fn each_tone_but_plain_text_has_a_colour_of_its_own() {
    let colours: Vec<Color> = [Tone::OnTime, Tone::Closing, Tone::Over, Tone::Paused]
        .into_iter()
        .filter_map(Tone::colour)
        .collect();
    assert_eq!(colours.len(), 4);
    for (i, colour) in colours.iter().enumerate() {
        assert!(!colours[i + 1..].contains(colour), "{colour:?} twice");
    }
    assert_eq!(Tone::Plain.colour(), None);
}
