//! `sweep.csv`: the run-indexed columns of `sweep.h5` as text, one row
//! per run, the header row the column names. Strings holding a comma,
//! a quote or a line break are quoted (RFC 4180); a missing float is an
//! empty field, which `pandas.read_csv` reads as NaN.

/// A column: its name and its cells, already text.
pub(super) type Column = (String, Vec<String>);

/// A float cell: empty for NaN, else the shortest text that reads back
/// as the same value.
pub(super) fn float(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        x.to_string()
    }
}

/// `s` as one CSV field.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.trim() != s {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The table of `cols` (all the same length), header first.
pub(super) fn table(cols: &[Column]) -> String {
    let rows = cols.first().map_or(0, |c| c.1.len());
    let mut out = String::new();
    let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
        let cells: Vec<String> = cells.map(field).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    };
    line(&mut out, &mut cols.iter().map(|c| c.0.as_str()));
    for r in 0..rows {
        line(
            &mut out,
            &mut cols.iter().map(|c| c.1.get(r).map_or("", String::as_str)),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_needs_it_and_leaves_nan_empty() {
        let cols = vec![
            ("run".to_string(), vec!["a".into(), "b".into()]),
            (
                "status".to_string(),
                vec!["complete".into(), "unreadable: x, \"y\"".into()],
            ),
            ("lr".to_string(), vec![float(0.001), float(f64::NAN)]),
        ];
        assert_eq!(
            table(&cols),
            "run,status,lr\na,complete,0.001\nb,\"unreadable: x, \"\"y\"\"\",\n"
        );
        assert_eq!(float(1e-300).parse::<f64>().unwrap(), 1e-300);
    }
}
