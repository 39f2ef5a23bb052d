//! TL schema parser (in progress).
