#![doc = include_str!("../README.md")]
//!
//! ## In detail
//!
//! The Telegram update sequences, sans-IO (core.telegram.org/api/updates).
//!
//! Everything the server pushes carries its place: `seq` on `updates` and
//! `updatesCombined`, `pts` and `pts_count` on the updates of a message box
//! (the common one, or a channel's), `qts` on the secondary sequence. A
//! [`MessageBox`] checks each against the local state, applies in order
//! what fits, ignores what was applied already, holds what leaves a gap for
//! up to [`GAP_WAIT`] in case the missing updates arrive, and then asks for
//! the difference ([`Fetch`]): `updates.getDifference` for the common
//! state, `updates.getChannelDifference` for a channel. Time and I/O are
//! the caller's (`mtproto-client` runs it).
//!
//! ```
//! use std::time::Duration;
//! use mtproto_tl::api::{enums, types};
//! use mtproto_updates::{Fetch, MessageBox, UpdateState};
//!
//! let mut b = MessageBox::from_state(&UpdateState { pts: 131, ..Default::default() });
//! let delete = |pts, pts_count| enums::Updates::UpdateShort(types::UpdateShort {
//!     update: enums::Update::DeleteMessages(types::UpdateDeleteMessages {
//!         messages: vec![1], pts, pts_count,
//!     }),
//!     date: 0,
//! });
//! let t0 = Duration::ZERO;
//! assert_eq!(b.process(t0, delete(132, 1)).len(), 1); // 131 + 1 = 132: applied
//! assert!(b.process(t0, delete(132, 1)).is_empty());   // already applied
//! assert!(b.process(t0, delete(140, 5)).is_empty());   // 132 + 5 < 140: a gap, held
//! assert_eq!(b.poll_fetch(t0), None);                  // waiting up to 0.5 s
//! assert_eq!(
//!     b.poll_fetch(Duration::from_millis(500)),
//!     Some(Fetch::Difference { pts: 132, qts: 0, date: 0 })
//! );
//! ```

mod message_box;
mod sequence;
mod state;

pub use message_box::{Batch, Fetch, MessageBox, GAP_WAIT, MAX_CHANNELS, MAX_HELD, RETRY_WAIT};
pub use sequence::{check, check_seq, position, Check, Position, Sequence};
pub use state::UpdateState;
