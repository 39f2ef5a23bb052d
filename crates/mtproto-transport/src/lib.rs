//! MTProto transport (in progress).
