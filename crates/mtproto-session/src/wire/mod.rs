//! The one wire layer both session roles (and tests) use.
//!
//! - [`MessageHeader`], [`seal`] and [`open`]: the internal header of an
//!   encrypted message (`salt`, `session_id`, `msg_id`, `seq_no`,
//!   `message_data_length`) and the step between a message and a packet.
//! - [`ContainerWriter`] and [`parse_container`]: `msg_container`, written
//!   in place with back-filled lengths, read with every bound checked.
//! - [`SeqNo`]: the message sequence number counter.
//! - [`BadMsgCode`]: the `error_code` of `bad_msg_notification`, by name.
//! - [`objects`]: the envelopes around a message body (`rpc_result`,
//!   `rpc_error`, `gzip_packed`) and the spec's limits.
//!
//! Constructor ids come from the generated types
//! (`mtproto_tl::mtproto::types::MsgsAck::CONSTRUCTOR_ID`); nothing here
//! restates one by hand.

mod codes;
mod container;
mod envelope;
pub mod objects;
mod seqno;

pub use codes::BadMsgCode;
pub use container::{
    parse_container, ContainerError, ContainerWriter, InnerMessage, MESSAGE_HEADER_LEN,
};
pub use envelope::{
    open, packet_start, seal, seal_message, MessageHeader, OpenedMessage, PACKET_BODY_OFFSET,
};
pub use seqno::SeqNo;
