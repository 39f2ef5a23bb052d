//! The encrypted session (in progress).
