use super::*;

#[test]
fn every_row_of_every_glyph_is_as_tall_and_as_wide_as_the_clock_says() {
    for text in ["+0123456789:", "0", ":", "+59:59", "1:02:03"] {
        let rows = big_clock(text);
        assert_eq!(rows.len(), HEIGHT, "{text}");
        for row in &rows {
            assert_eq!(row.chars().count(), width(text), "{text}: {row:?}");
        }
    }
}

#[test]
fn digits_are_drawn_in_two_cell_pixels_with_a_gap_between_glyphs() {
    assert_eq!(
        big_clock("+1:0"),
        [
            "          ██        ██████",
            "  ██    ████    ██  ██  ██",
            "██████    ██        ██  ██",
            "  ██      ██    ██  ██  ██",
            "        ██████      ██████",
        ]
    );
    // Four digits of six columns, a colon of two, four gaps of two.
    assert_eq!(width("12:34"), 34);
    assert_eq!(width(""), 0);
    assert_eq!(big_clock(""), ["", "", "", "", ""]);
}

#[test]
fn a_character_without_a_glyph_keeps_a_blank_digit_s_place() {
    assert_eq!(width("1?2"), width("102"));
    let middle = 6 + GAP..2 * (6 + GAP) - GAP;
    for row in big_clock("1?2") {
        let blank: String = row.chars().skip(middle.start).take(middle.len()).collect();
        assert_eq!(blank, " ".repeat(6), "{row:?}");
    }
}

#[test]
fn the_clock_needs_a_margin_and_a_blank_row_below() {
    assert!(fits(34, 36, 6));
    assert!(!fits(34, 35, 6), "no margin");
    assert!(!fits(34, 80, 5), "no blank row");
    assert!(!fits(34, 20, 40), "too narrow");
}
