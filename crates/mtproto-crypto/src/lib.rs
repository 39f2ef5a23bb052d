//! MTProto crypto (in progress).
