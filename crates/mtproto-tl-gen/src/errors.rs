//! The documented errors of each method, read from the data file
//! `tl-schema/method_errors.tsv` (made by the `mtproto-method-errors` tool):
//! one line per (method, error), tab separated: the method's TL name, the
//! documented code, the error name (`%d` for a number it carries), and an
//! optional description. `#` lines are comments; the method `*` lists the
//! errors every method may return.

use std::collections::HashMap;

use crate::GenError;

/// One documented error of a method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DocError<'t> {
    /// The documented code.
    pub(crate) code: i32,
    /// The name, `%d` where a number goes.
    pub(crate) name: &'t str,
    /// A description, or empty.
    pub(crate) description: &'t str,
}

/// Method TL name -> its documented errors, in file order.
pub(crate) type ErrorTable<'t> = HashMap<&'t str, Vec<DocError<'t>>>;

/// Parses the data file.
pub(crate) fn parse(text: &str) -> Result<ErrorTable<'_>, GenError> {
    let mut table = ErrorTable::new();
    for (i, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |message: String| GenError::Schema {
            line: u32::try_from(i + 1).unwrap_or(u32::MAX),
            column: 1,
            message: format!("method errors: {message}"),
        };
        let mut cells = line.split('\t');
        let (Some(method), Some(code), Some(name)) = (cells.next(), cells.next(), cells.next())
        else {
            return Err(bad(format!("expected method, code, name: {line:?}")));
        };
        let code: i32 = code
            .parse()
            .map_err(|_| bad(format!("bad code {code:?}")))?;
        let plain = name.replacen("%d", "", 1);
        if plain.is_empty()
            || !plain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(bad(format!("bad error name {name:?}")));
        }
        let description = cells.next().unwrap_or_default();
        table.entry(method).or_default().push(DocError {
            code,
            name,
            description,
        });
    }
    Ok(table)
}

/// The variant name of an error name: PascalCase of its words (`%d`
/// dropped), a leading digit spelled out (`2FA_CONFIRM_WAIT_%d` ->
/// `TwoFaConfirmWait`).
pub(crate) fn variant(name: &str) -> String {
    const DIGITS: [&str; 10] = [
        "Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine",
    ];
    let words: Vec<String> = name
        .replace("%d", "")
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut out = String::new();
            let mut chars = w.chars();
            if let Some(first) = chars.next() {
                out.push(first);
                for c in chars {
                    out.push(c.to_ascii_lowercase());
                }
            }
            out
        })
        .collect();
    let mut out = words.concat();
    if let Some(d) = out.chars().next().and_then(|c| c.to_digit(10)) {
        let d = usize::try_from(d).unwrap_or(0);
        let mut rest = out[1..].chars();
        let next: String = rest
            .next()
            .map(|c| c.to_ascii_uppercase())
            .into_iter()
            .collect();
        out = format!("{}{next}{}", DIGITS[d], rest.as_str());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_names() {
        assert_eq!(variant("CHANNEL_PRIVATE"), "ChannelPrivate");
        assert_eq!(variant("FLOOD_WAIT_%d"), "FloodWait");
        assert_eq!(variant("FILE_PART_%d_MISSING"), "FilePartMissing");
        assert_eq!(variant("2FA_CONFIRM_WAIT_%d"), "TwoFaConfirmWait");
        assert_eq!(variant("SHA256_HASH_INVALID"), "Sha256HashInvalid");
    }

    #[test]
    fn data_file_lines() {
        let t = parse("# c\nm.a\t400\tX_Y\tdesc\nm.a\t420\tFLOOD_WAIT_%d\n").unwrap_or_default();
        assert_eq!(t["m.a"].len(), 2);
        assert_eq!(t["m.a"][0].description, "desc");
        assert!(parse("m.a\tx\tY\n").is_err());
        assert!(parse("m.a\t400\tbad name\n").is_err());
    }
}
