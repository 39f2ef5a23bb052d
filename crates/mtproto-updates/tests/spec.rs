//! The rules of core.telegram.org/api/updates, one test each, with the
//! page's own examples where it gives them.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use mtproto_tl::api::{enums, types};
use mtproto_tl::support::Placeholder;
use mtproto_updates::{check, Batch, Check, Fetch, MessageBox, UpdateState, GAP_WAIT, MAX_HELD};

const T0: Duration = Duration::ZERO;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn state(pts: i32, seq: i32) -> UpdateState {
    UpdateState {
        pts,
        qts: 0,
        date: 1,
        seq,
        channels: Vec::new(),
    }
}

fn message(id: i32, peer: enums::Peer) -> enums::Message {
    let mut m = types::Message::placeholder();
    m.id = id;
    m.peer_id = peer;
    m.message = format!("message {id}");
    enums::Message::Message(m)
}

fn user_peer() -> enums::Peer {
    enums::Peer::User(types::PeerUser { user_id: 7 })
}

fn channel_peer(id: i64) -> enums::Peer {
    enums::Peer::Channel(types::PeerChannel { channel_id: id })
}

/// updateNewMessage with pts/pts_count, as updateShort.
fn new_message(pts: i32, count: i32) -> enums::Updates {
    enums::Updates::UpdateShort(types::UpdateShort {
        update: enums::Update::NewMessage(types::UpdateNewMessage {
            message: message(pts, user_peer()),
            pts,
            pts_count: count,
        }),
        date: 5,
    })
}

fn channel_message(channel: i64, pts: i32, count: i32) -> enums::Updates {
    enums::Updates::UpdateShort(types::UpdateShort {
        update: enums::Update::NewChannelMessage(types::UpdateNewChannelMessage {
            message: message(pts, channel_peer(channel)),
            pts,
            pts_count: count,
        }),
        date: 5,
    })
}

/// `updates` with one update outside every pts sequence (a typing event),
/// at `seq`.
fn seq_updates(seq: i32) -> enums::Updates {
    enums::Updates::Updates(types::Updates {
        updates: vec![typing(seq)],
        users: Vec::new(),
        chats: Vec::new(),
        date: 100 + seq,
        seq,
    })
}

fn typing(n: i32) -> enums::Update {
    enums::Update::UserTyping(types::UpdateUserTyping {
        user_id: i64::from(n),
        top_msg_id: None,
        action: enums::SendMessageAction::SendMessageTypingAction,
    })
}

/// The pts (or message id, for messages from a difference, which carry
/// none) of each update delivered, in order.
fn order(batches: &[Batch]) -> Vec<i32> {
    batches
        .iter()
        .flat_map(|b| &b.updates)
        .map(|u| match u {
            enums::Update::NewMessage(m) if m.pts_count > 0 => m.pts,
            enums::Update::NewMessage(m) => msg_id(&m.message),
            enums::Update::NewChannelMessage(m) if m.pts_count > 0 => m.pts,
            enums::Update::NewChannelMessage(m) => msg_id(&m.message),
            enums::Update::UserTyping(t) => i32::try_from(t.user_id).unwrap(),
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

fn msg_id(m: &enums::Message) -> i32 {
    match m {
        enums::Message::Message(m) => m.id,
        _ => panic!("not a message"),
    }
}

#[test]
fn the_pts_rule_with_the_pages_example() {
    // "local_pts = 131 ... updateNewChannelMessage ... pts = 132 and
    // pts_count=1": applied; the same again: skipped; "pts = 140 and
    // pts_count=5": 137 < 140, a gap.
    assert_eq!(check(131, 132, 1), Check::Apply);
    assert_eq!(check(132, 132, 1), Check::AlreadyApplied);
    assert_eq!(check(132, 140, 5), Check::Gap);
    // Hostile counts never overflow.
    assert_eq!(check(i32::MAX, i32::MIN, i32::MAX), Check::AlreadyApplied);
    assert_eq!(check(i32::MIN, i32::MAX, i32::MIN), Check::Gap);

    let mut b = MessageBox::from_state(&UpdateState {
        channels: vec![(123_456_789, 131)],
        ..state(1, 1)
    });
    assert_eq!(
        order(&b.process(T0, channel_message(123_456_789, 132, 1))),
        [132]
    );
    assert!(b
        .process(T0, channel_message(123_456_789, 132, 1))
        .is_empty());
    assert!(b
        .process(T0, channel_message(123_456_789, 140, 5))
        .is_empty());
    assert_eq!(b.held(), 1);
    assert_eq!(b.state().channels, vec![(123_456_789, 132)]);
}

#[test]
fn a_gap_filled_within_half_a_second_needs_no_fetch() {
    let mut b = MessageBox::from_state(&state(10, 0));
    assert!(b.process(T0, new_message(12, 1)).is_empty());
    assert!(b.process(ms(100), new_message(13, 1)).is_empty());
    assert_eq!(b.next_deadline(), Some(GAP_WAIT));
    // 11 arrives: 11, then the held 12 and 13, in order.
    assert_eq!(order(&b.process(ms(200), new_message(11, 1))), [11, 12, 13]);
    assert_eq!(b.held(), 0);
    assert_eq!(b.next_deadline(), None);
    assert_eq!(b.poll_fetch(ms(600)), None);
    assert_eq!(b.state().pts, 13);
}

#[test]
fn an_unfilled_gap_asks_for_the_difference_after_half_a_second() {
    let mut b = MessageBox::from_state(&state(10, 0));
    assert!(b.process(T0, new_message(12, 1)).is_empty());
    assert_eq!(b.poll_fetch(ms(499)), None);
    let fetch = b.poll_fetch(ms(500)).unwrap();
    assert_eq!(
        fetch,
        Fetch::Difference {
            pts: 10,
            qts: 0,
            date: 1
        }
    );
    // One fetch at a time; updates arriving meanwhile wait.
    assert_eq!(b.poll_fetch(ms(600)), None);
    assert!(b.process(ms(600), new_message(13, 1)).is_empty());
    // A slice first: its intermediate state, and the query repeated.
    let slice = enums::updates::Difference::Slice(types::updates::DifferenceSlice {
        new_messages: vec![message(11, user_peer())],
        new_encrypted_messages: Vec::new(),
        other_updates: Vec::new(),
        chats: Vec::new(),
        users: Vec::new(),
        intermediate_state: updates_state(11, 0),
    });
    assert_eq!(order(&b.apply_difference(ms(700), slice)), [11]);
    assert_eq!(
        b.poll_fetch(ms(700)),
        Some(Fetch::Difference {
            pts: 11,
            qts: 0,
            date: 9
        })
    );
    let rest = enums::updates::Difference::Difference(types::updates::Difference {
        new_messages: vec![message(12, user_peer())],
        new_encrypted_messages: Vec::new(),
        other_updates: Vec::new(),
        chats: Vec::new(),
        users: Vec::new(),
        state: updates_state(12, 0),
    });
    // 12 from the difference; the held 12 is a duplicate, the held 13
    // follows.
    assert_eq!(order(&b.apply_difference(ms(800), rest)), [12, 13]);
    assert_eq!(b.state().pts, 13);
    assert_eq!(b.held(), 0);
}

fn updates_state(pts: i32, seq: i32) -> enums::updates::State {
    enums::updates::State::State(types::updates::State {
        pts,
        qts: 0,
        date: 9,
        seq,
        unread_count: 0,
    })
}

#[test]
fn the_seq_rule() {
    let mut b = MessageBox::from_state(&state(1, 5));
    // local_seq + 1 == seq_start: applied, seq and date taken.
    assert_eq!(order(&b.process(T0, seq_updates(6))), [6]);
    assert_eq!((b.state().seq, b.state().date), (6, 106));
    // local_seq + 1 > seq_start: already applied.
    assert!(b.process(T0, seq_updates(6)).is_empty());
    // local_seq + 1 < seq_start: a gap, held until 7 comes.
    assert!(b.process(T0, seq_updates(8)).is_empty());
    assert_eq!(order(&b.process(ms(10), seq_updates(7))), [7, 8]);
    assert_eq!(b.state().seq, 8);
    // seq_start == 0: "updates that aren't ordered", applied at once, seq
    // kept.
    let unordered = enums::Updates::Combined(types::UpdatesCombined {
        updates: vec![typing(42)],
        users: Vec::new(),
        chats: Vec::new(),
        date: 500,
        seq_start: 0,
        seq: 0,
    });
    assert_eq!(order(&b.process(ms(20), unordered)), [42]);
    assert_eq!(b.state().seq, 8);
    // updatesCombined: seq_start checked, seq taken.
    let combined = enums::Updates::Combined(types::UpdatesCombined {
        updates: vec![typing(9), typing(10)],
        users: Vec::new(),
        chats: Vec::new(),
        date: 600,
        seq_start: 9,
        seq: 10,
    });
    assert_eq!(order(&b.process(ms(30), combined)), [9, 10]);
    assert_eq!(b.state().seq, 10);
    // A seq gap never filled: getDifference.
    assert!(b.process(ms(40), seq_updates(20)).is_empty());
    assert!(matches!(
        b.poll_fetch(ms(540)),
        Some(Fetch::Difference { .. })
    ));
    let empty =
        enums::updates::Difference::Empty(types::updates::DifferenceEmpty { date: 700, seq: 19 });
    // The difference says seq 19: the held 20 now applies.
    assert_eq!(order(&b.apply_difference(ms(600), empty)), [20]);
    assert_eq!(b.state().seq, 20);
}

#[test]
fn channels_keep_their_own_sequence() {
    let mut b = MessageBox::from_state(&state(1, 0));
    // A channel never seen: taken as it comes.
    assert_eq!(order(&b.process(T0, channel_message(5, 50, 1))), [50]);
    // The common box is not concerned by a channel's gap.
    assert!(b.process(T0, channel_message(5, 53, 1)).is_empty());
    assert_eq!(order(&b.process(T0, new_message(2, 1))), [2]);
    let f = b.poll_fetch(GAP_WAIT).unwrap();
    assert_eq!(
        f,
        Fetch::ChannelDifference {
            channel_id: 5,
            pts: 50
        }
    );
    // Not final: asked again at once.
    let part =
        enums::updates::ChannelDifference::ChannelDifference(types::updates::ChannelDifference {
            final_: false,
            pts: 51,
            timeout: None,
            new_messages: vec![message(51, channel_peer(5))],
            other_updates: Vec::new(),
            chats: Vec::new(),
            users: Vec::new(),
        });
    assert_eq!(order(&b.apply_channel_difference(ms(600), 5, part)), [51]);
    assert_eq!(
        b.poll_fetch(ms(600)),
        Some(Fetch::ChannelDifference {
            channel_id: 5,
            pts: 51
        })
    );
    let last = enums::updates::ChannelDifference::Empty(types::updates::ChannelDifferenceEmpty {
        final_: true,
        pts: 52,
        timeout: None,
    });
    // Final: the held 53 follows 52.
    assert_eq!(order(&b.apply_channel_difference(ms(700), 5, last)), [53]);
    assert_eq!(b.state().channels, vec![(5, 53)]);
}

#[test]
fn too_long_no_state_failures_and_resync() {
    let mut b = MessageBox::new();
    // Without a state, updates are applied as they come ...
    assert_eq!(order(&b.process(T0, new_message(77, 1))), [77]);
    // ... and updatesTooLong asks for the state first.
    assert!(b.process(T0, enums::Updates::TooLong).is_empty());
    assert_eq!(b.poll_fetch(T0), Some(Fetch::State));
    b.set_state(&updates_state(100, 3));
    assert!(b.has_state());
    b.resync();
    let f = b.poll_fetch(T0).unwrap();
    assert!(matches!(f, Fetch::Difference { pts: 100, .. }));
    // A failed fetch is tried again a second later.
    b.fetch_failed(f, T0);
    assert_eq!(b.poll_fetch(ms(999)), None);
    assert!(b.poll_fetch(ms(1000)).is_some());
}

#[test]
fn short_forms_are_checked_and_expanded() {
    let mut b = MessageBox::from_state(&state(10, 0));
    b.set_self(1001);
    let short = enums::Updates::UpdateShortMessage(types::UpdateShortMessage {
        out: true,
        mentioned: false,
        media_unread: false,
        silent: false,
        id: 99,
        user_id: 1002,
        message: "hi".into(),
        pts: 11,
        pts_count: 1,
        date: 3,
        fwd_from: None,
        via_bot_id: None,
        reply_to: None,
        entities: None,
        ttl_period: None,
    });
    let out = b.process(T0, short);
    let enums::Update::NewMessage(u) = &out[0].updates[0] else {
        panic!()
    };
    let enums::Message::Message(m) = &u.message else {
        panic!()
    };
    assert_eq!((m.id, m.out, m.message.as_str()), (99, true, "hi"));
    assert_eq!(
        m.peer_id,
        enums::Peer::User(types::PeerUser { user_id: 1002 })
    );
    assert_eq!(
        m.from_id,
        Some(enums::Peer::User(types::PeerUser { user_id: 1001 }))
    );
    // updateShortSentMessage moves pts and applies nothing.
    let sent = enums::Updates::UpdateShortSentMessage(types::UpdateShortSentMessage {
        out: true,
        id: 100,
        pts: 12,
        pts_count: 1,
        date: 4,
        media: None,
        entities: None,
        ttl_period: None,
    });
    assert!(b.process(T0, sent).is_empty());
    assert_eq!(b.state().pts, 12);
    let chat = enums::Updates::UpdateShortChatMessage(types::UpdateShortChatMessage {
        out: false,
        mentioned: false,
        media_unread: false,
        silent: false,
        id: 101,
        from_id: 1003,
        chat_id: 3001,
        message: "in the group".into(),
        pts: 13,
        pts_count: 1,
        date: 5,
        fwd_from: None,
        via_bot_id: None,
        reply_to: None,
        entities: None,
        ttl_period: None,
    });
    let out = b.process(T0, chat);
    let enums::Update::NewMessage(u) = &out[0].updates[0] else {
        panic!()
    };
    let enums::Message::Message(m) = &u.message else {
        panic!()
    };
    assert_eq!(
        m.peer_id,
        enums::Peer::Chat(types::PeerChat { chat_id: 3001 })
    );
}

#[test]
fn what_is_held_is_bounded() {
    let mut b = MessageBox::from_state(&state(0, 0));
    for i in 0..MAX_HELD {
        let pts = 10 + i32::try_from(i).unwrap();
        assert!(b.process(T0, new_message(pts, 1)).is_empty());
    }
    assert_eq!(b.held(), MAX_HELD);
    // One more: dropped (the difference brings them) and fetched at once.
    assert!(b.process(T0, new_message(5000, 1)).is_empty());
    assert_eq!(b.held(), 0);
    assert!(matches!(b.poll_fetch(T0), Some(Fetch::Difference { .. })));
}
