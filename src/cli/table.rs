//! Plain-text tables for the terminal: columns padded to their widest cell.

/// `header` and `rows` as left-aligned columns two spaces apart, one line each.
pub fn table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let header = header.map(str::to_owned);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn columns_line_up_on_the_widest_cell() {
        let rows = [
            ["a".to_owned(), "long cell".to_owned()],
            ["wider".to_owned(), String::new()],
        ];
        assert_eq!(
            table(["X", "Y"], &rows),
            "X      Y\na      long cell\nwider\n"
        );
    }
}
