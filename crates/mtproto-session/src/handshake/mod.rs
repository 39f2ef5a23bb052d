//! The auth-key handshake: client and server roles (in progress).
