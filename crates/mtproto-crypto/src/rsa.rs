//! rsa (in progress).
