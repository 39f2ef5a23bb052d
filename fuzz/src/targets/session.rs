//! Fuzz target for the encrypted session (`session_incoming`).

/// The encrypted session, both roles, fixed auth key: raw packets and the
/// input as validly encrypted plaintext (`mtproto_session::fuzz::session_incoming`).
pub fn session_incoming(data: &[u8]) {
    mtproto_session::fuzz::session_incoming(data);
}
