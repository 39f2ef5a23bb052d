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

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rpc error {}: {}", self.code, self.message())
    }
}

impl std::error::Error for RpcError {}

#[cfg(test)]
mod tests {
    use super::RpcError;

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
