//! `rpc_error`, the one type every crate uses for it.

use core::fmt;

/// An `rpc_error#2144ca19 error_code:int error_message:string` from the
/// server, with its message split into a name and an optional number.
///
/// Telegram puts a variable number at the end of some error messages
/// (`FLOOD_WAIT_17`, `FILE_MIGRATE_2`); [`RpcError::parse`] splits a trailing
/// `_<digits>` off, so `FLOOD_WAIT_17` has `name == "FLOOD_WAIT"` and
/// `value == Some(17)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RpcError {
    /// `error_code` (400, 403, 406, 420, 500, ...).
    pub code: i32,
    /// The message without a trailing number (`FLOOD_WAIT`).
    pub name: String,
    /// The trailing number, if the message ended in `_<digits>` (`17`).
    pub value: Option<u32>,
}

impl RpcError {
    /// Parses `error_code` and `error_message` as received.
    pub fn parse(code: i32, message: &str) -> Self {
        if let Some((head, tail)) = message.rsplit_once('_') {
            // Only a canonical number (no leading zero) is split off, so
            // `message()` gives back exactly what was received.
            let canonical = tail == "0" || !tail.starts_with('0');
            if !head.is_empty()
                && !tail.is_empty()
                && canonical
                && tail.bytes().all(|b| b.is_ascii_digit())
            {
                if let Ok(v) = tail.parse::<u32>() {
                    return Self {
                        code,
                        name: head.to_owned(),
                        value: Some(v),
                    };
                }
            }
        }
        Self {
            code,
            name: message.to_owned(),
            value: None,
        }
    }

    /// The message as the server sent it (`FLOOD_WAIT_17`).
    pub fn message(&self) -> String {
        match self.value {
            Some(v) => format!("{}_{v}", self.name),
            None => self.name.clone(),
        }
    }

    /// Whether this is `name` (ignoring the value).
    pub fn is(&self, name: &str) -> bool {
        self.name == name
    }

    /// Seconds to wait, for `FLOOD_WAIT_N` / `FLOOD_PREMIUM_WAIT_N` / `SLOWMODE_WAIT_N`.
    pub fn flood_wait_secs(&self) -> Option<u32> {
        match self.name.as_str() {
            "FLOOD_WAIT" | "FLOOD_PREMIUM_WAIT" | "SLOWMODE_WAIT" => self.value,
            _ => None,
        }
    }
}

/// The number in `message` between `prefix` and `suffix` (the `%d` of a
/// documented error name such as `FILE_PART_%d_MISSING`), if `message` is
/// exactly that with a canonical decimal number in place of `%d`.
pub fn number_between(message: &str, prefix: &str, suffix: &str) -> Option<u32> {
    let digits = message.strip_prefix(prefix)?.strip_suffix(suffix)?;
    let canonical = digits == "0" || !digits.starts_with('0');
    if digits.is_empty() || !canonical || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A TL function (every one the generator emits) whose documented errors
/// are typed: [`Method::Error`] has one variant per error its documentation
/// lists (those carrying a number, like `FLOOD_WAIT_%d`, hold it) and
/// `Other` for anything else.
pub trait Method: crate::RemoteCall {
    /// The method's errors.
    type Error: TypedError;
}

/// The typed errors of one method (generated).
///
/// Errors are matched by **name**: the documented code is only
/// documentation, [`code`](TypedError::code) is the code the server sent.
pub trait TypedError: Sized + fmt::Debug + fmt::Display {
    /// Every documented error: (documented code, name, description). In the
    /// name, `%d` stands for the number the error carries; the description
    /// is empty unless a reference page gives one.
    const DOCUMENTED: &'static [(i32, &'static str, &'static str)];

    /// The typed form of an `rpc_error` the server sent.
    fn from_rpc(error: RpcError) -> Self;

    /// The code the server sent.
    fn code(&self) -> i32;

    /// The documented name (`FLOOD_WAIT_%d`), or for `Other` the message as
    /// received.
    fn name(&self) -> String;

    /// The documented description (empty if none is known).
    fn description(&self) -> &'static str;
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rpc error {}: {}", self.code, self.message())
    }
}

impl std::error::Error for RpcError {}

#[cfg(test)]
mod tests {
    use super::{number_between, RpcError};

    #[test]
    fn numbers_inside_names() {
        assert_eq!(number_between("FLOOD_WAIT_17", "FLOOD_WAIT_", ""), Some(17));
        assert_eq!(
            number_between("FILE_PART_3_MISSING", "FILE_PART_", "_MISSING"),
            Some(3)
        );
        assert_eq!(
            number_between("FILE_PART__MISSING", "FILE_PART_", "_MISSING"),
            None
        );
        assert_eq!(number_between("FLOOD_WAIT_07", "FLOOD_WAIT_", ""), None);
        assert_eq!(number_between("FLOOD_WAIT_X", "FLOOD_WAIT_", ""), None);
        assert_eq!(
            number_between("FLOOD_WAIT_99999999999", "FLOOD_WAIT_", ""),
            None
        );
    }

    #[test]
    fn trailing_number_is_split_and_restored() {
        let e = RpcError::parse(420, "FLOOD_WAIT_17");
        assert_eq!((e.name.as_str(), e.value), ("FLOOD_WAIT", Some(17)));
        assert_eq!(e.message(), "FLOOD_WAIT_17");
        assert_eq!(e.flood_wait_secs(), Some(17));
        let e = RpcError::parse(400, "PEER_ID_INVALID");
        assert_eq!((e.name.as_str(), e.value), ("PEER_ID_INVALID", None));
        // Not canonical: kept verbatim.
        let e = RpcError::parse(420, "FLOOD_WAIT_007");
        assert_eq!((e.name.as_str(), e.value), ("FLOOD_WAIT_007", None));
        assert_eq!(e.message(), "FLOOD_WAIT_007");
        assert_eq!(RpcError::parse(400, "X_0").message(), "X_0");
        assert_eq!(RpcError::parse(400, "_5").message(), "_5");
    }
}
