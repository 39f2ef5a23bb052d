//! TL code generator (in progress).
