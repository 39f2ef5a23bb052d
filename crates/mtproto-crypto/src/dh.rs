//! dh (in progress).
