//! forgectl's tables: each listing's columns, and rows padded to their widest cell, so every
//! command shows forged's answers the same way.

use crate::types::shown::escaped;
use crate::types::timestamp::Timestamp;
use crate::wire::KeyInfo;

/// A listing row that knows its table's header.
pub trait Row {
    /// The column names, in order.
    const HEADER: &'static [&'static str];

    /// Returns the row's cells, one per column.
    fn cells(&self) -> Vec<String>;
}

impl Row for KeyInfo {
    const HEADER: &'static [&'static str] = &[
        "USER",
        "ID",
        "TYPE",
        "FINGERPRINT",
        "TITLE",
        "CREATED",
        "LAST-USED",
        "EXPIRES",
    ];

    fn cells(&self) -> Vec<String> {
        let or_never =
            |at: Option<Timestamp>| at.map_or_else(|| "never".to_owned(), |at| at.to_string());
        let title = if self.title.is_empty() {
            "-".to_owned()
        } else {
            self.title.clone()
        };
        vec![
            self.user.to_string(),
            self.id.to_string(),
            self.algorithm.clone(),
            self.fingerprint.to_string(),
            title,
            self.created.to_string(),
            or_never(self.last_used),
            or_never(self.expires),
        ]
    }
}

/// Returns the lines of a table: `header`, then `rows`, each column padded to its widest cell
/// and separated by two spaces, without trailing spaces.
///
/// Every cell is escaped ([`escaped`]): cells hold what forged returns, and much of that came
/// from users (key titles, ref names), so none may move the cursor or reorder a line (#11).
pub fn render(header: &[&str], rows: &[Vec<String>]) -> Vec<String> {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| escaped(cell)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    std::iter::once(line(header.to_vec()))
        .chain(
            rows.iter()
                .map(|row| line(row.iter().map(String::as_str).collect())),
        )
        .collect()
}

/// Returns the lines of a table of `rows`, under their type's header.
pub fn of<R: Row>(rows: &[R]) -> Vec<String> {
    let cells: Vec<Vec<String>> = rows.iter().map(Row::cells).collect();
    render(R::HEADER, &cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_11_cells_from_users_cannot_move_the_cursor_or_reorder_the_line() {
        let rows = vec![vec![
            "laptop\u{202e}pot".to_owned(),
            "refs/heads/x\u{1b}[2J\nfake".to_owned(),
        ]];
        assert_eq!(
            render(&["TITLE", "REF"], &rows)[1],
            "laptop\\u{202e}pot  refs/heads/x\\u{1b}[2J\\nfake"
        );
    }

    #[test]
    fn columns_are_padded_to_the_widest_cell_and_lines_not_trailed() {
        let rows = vec![
            vec!["alice".to_owned(), "1".to_owned()],
            vec!["bo".to_owned(), "".to_owned()],
        ];
        assert_eq!(
            render(&["NAME", "ID"], &rows),
            vec!["NAME   ID", "alice  1", "bo"]
        );
    }
}
