//! MTProto session (in progress).
