//! The time left drawn in large block digits, readable from across a room: a 3×5 pixel
//! font whose pixels are two cells wide (`██`), so a pixel is about square on a terminal
//! whose cells are twice as tall as they are wide.

/// Rows of every glyph, so of the whole clock.
pub const HEIGHT: usize = 5;

/// Columns between two glyphs.
const GAP: usize = 2;

/// Columns of one pixel.
const PIXEL: &str = "██";

/// A character's glyph: [`HEIGHT`] rows of pixels, `#` lit, all rows as wide.
fn glyph(c: char) -> [&'static str; HEIGHT] {
    match c {
        '0' => ["###", "# #", "# #", "# #", "###"],
        '1' => [" # ", "## ", " # ", " # ", "###"],
        '2' => ["###", "  #", "###", "#  ", "###"],
        '3' => ["###", "  #", " ##", "  #", "###"],
        '4' => ["# #", "# #", "###", "  #", "  #"],
        '5' => ["###", "#  ", "###", "  #", "###"],
        '6' => ["###", "#  ", "###", "# #", "###"],
        '7' => ["###", "  #", "  #", "  #", "  #"],
        '8' => ["###", "# #", "###", "# #", "###"],
        '9' => ["###", "# #", "###", "  #", "###"],
        ':' => [" ", "#", " ", "#", " "],
        '+' => ["   ", " # ", "###", " # ", "   "],
        // Anything else (the clock shows only the above) keeps a digit's place, blank, so
        // the clock's width never depends on what it could not draw.
        _ => ["   "; HEIGHT],
    }
}

/// `text` in large digits: [`HEIGHT`] rows, all [`width`] columns wide.
#[must_use]
pub fn big_clock(text: &str) -> Vec<String> {
    (0..HEIGHT)
        .map(|row| {
            let cells: Vec<String> = text
                .chars()
                .map(|c| {
                    glyph(c)[row]
                        .chars()
                        .map(|p| if p == '#' { PIXEL } else { "  " })
                        .collect()
                })
                .collect();
            cells.join(&" ".repeat(GAP))
        })
        .collect()
}

/// The columns [`big_clock`] takes for `text`.
#[must_use]
pub fn width(text: &str) -> usize {
    let glyphs: usize = text
        .chars()
        .map(|c| glyph(c)[0].chars().count() * PIXEL.chars().count())
        .sum();
    glyphs + GAP * text.chars().count().saturating_sub(1)
}

/// Whether a clock `clock_width` columns wide fits a terminal `columns` wide with
/// `spare_rows` rows left over by the rest of the view: it needs a blank row below it, and
/// a column of margin on each side so it never touches the window's edge.
#[must_use]
pub fn fits(clock_width: usize, columns: usize, spare_rows: usize) -> bool {
    clock_width + 2 <= columns && spare_rows > HEIGHT
}

#[cfg(test)]
mod test;
