//! From a [`PeerRef`] to the `InputPeer` a request needs.

use mtproto_tl::api::{enums, types};

use crate::cache::PeerCache;
use crate::error::PeerError;
use crate::peer_ref::{peer_from_bot_api_id, PeerRef};

/// What [`PeerCache::resolve`] found.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolved {
    /// The `InputPeer` to send.
    Ready(enums::InputPeer),
    /// A username the cache has not seen: ask the server.
    AskServer(String),
}

/// The peer a message is in (its chat).
fn message_chat(m: &enums::Message) -> Option<&enums::Peer> {
    match m {
        enums::Message::Message(m) => Some(&m.peer_id),
        enums::Message::Service(m) => Some(&m.peer_id),
        enums::Message::Empty(m) => m.peer_id.as_ref(),
    }
}

/// The message's sender: `from_id`, or the chat itself in a private chat
/// (where Telegram may leave `from_id` out).
fn message_sender(m: &enums::Message) -> Option<(&enums::Peer, i32)> {
    match m {
        enums::Message::Message(x) => Some((x.from_id.as_ref().unwrap_or(&x.peer_id), x.id)),
        enums::Message::Service(x) => Some((x.from_id.as_ref().unwrap_or(&x.peer_id), x.id)),
        enums::Message::Empty(_) => None,
    }
}

/// What an update concerns: its message, or a peer.
enum Concern<'a> {
    Message(&'a enums::Message),
    Peer(enums::Peer),
    /// A user acting in a chat (`updateChatUserTyping`, ...): the chat and
    /// the user.
    UserIn(enums::Peer, enums::Peer),
}

fn update_concern(u: &enums::Update) -> Result<Concern<'_>, PeerError> {
    let no_peer = |what| PeerError::NoPeer {
        form: "Update",
        what,
    };
    match u {
        enums::Update::NewMessage(x) => Ok(Concern::Message(&x.message)),
        enums::Update::NewChannelMessage(x) => Ok(Concern::Message(&x.message)),
        enums::Update::UserTyping(x) => Ok(Concern::Peer(enums::Peer::User(types::PeerUser {
            user_id: x.user_id,
        }))),
        enums::Update::ChatUserTyping(x) => Ok(Concern::UserIn(
            enums::Peer::Chat(types::PeerChat { chat_id: x.chat_id }),
            x.from_id.clone(),
        )),
        enums::Update::ChannelUserTyping(x) => Ok(Concern::UserIn(
            enums::Peer::Channel(types::PeerChannel {
                channel_id: x.channel_id,
            }),
            x.from_id.clone(),
        )),
        enums::Update::MessageId(_) => Err(no_peer("updateMessageID")),
        enums::Update::DeleteMessages(_) => Err(no_peer("updateDeleteMessages")),
        // The full layer's other updates (the default schema has only the
        // ones above).
        #[allow(unreachable_patterns)]
        _ => Err(no_peer("this update")),
    }
}

fn not_cached(form: &'static str, peer: &enums::Peer) -> PeerError {
    let (kind, id) = match peer {
        enums::Peer::User(u) => ("user", u.user_id),
        enums::Peer::Chat(c) => ("chat", c.chat_id),
        enums::Peer::Channel(c) => ("channel", c.channel_id),
    };
    PeerError::NotCached { form, kind, id }
}

impl PeerCache {
    fn known(&self, form: &'static str, peer: &enums::Peer) -> Result<enums::InputPeer, PeerError> {
        self.input_peer(peer).ok_or_else(|| not_cached(form, peer))
    }

    /// The sender of message `msg_id` in `chat`: from the cache, else
    /// `inputPeerUserFromMessage` (how Telegram names a user seen only in
    /// a message).
    fn sender(
        &self,
        form: &'static str,
        chat: &enums::Peer,
        sender: &enums::Peer,
        msg_id: i32,
    ) -> Result<enums::InputPeer, PeerError> {
        if let Some(p) = self.input_peer(sender) {
            return Ok(p);
        }
        let enums::Peer::User(u) = sender else {
            return Err(not_cached(form, sender));
        };
        let chat = self.known(form, chat)?;
        Ok(enums::InputPeer::UserFromMessage(
            types::InputPeerUserFromMessage {
                peer: Box::new(chat),
                msg_id,
                user_id: u.user_id,
            },
        ))
    }

    /// Resolves a peer without the network: everything but a username not
    /// seen before, for which it answers [`Resolved::AskServer`] (call
    /// `contacts.resolveUsername`, [`absorb`](Self::absorb) the answer,
    /// then take its `peer` to [`input_peer`](Self::input_peer)). With
    /// `want_user`, a message or update gives its sender.
    pub fn resolve(&self, peer: &PeerRef, want_user: bool) -> Result<Resolved, PeerError> {
        Ok(match self.resolve_offline(peer, want_user)? {
            Some(p) => Resolved::Ready(p),
            None => Resolved::AskServer(match peer {
                PeerRef::Username(n) => n.clone(),
                _ => String::new(),
            }),
        })
    }

    fn resolve_offline(
        &self,
        peer: &PeerRef,
        want_user: bool,
    ) -> Result<Option<enums::InputPeer>, PeerError> {
        let form = peer.form();
        let chat_or_sender = |m: &enums::Message| -> Result<enums::InputPeer, PeerError> {
            let chat = message_chat(m).ok_or(PeerError::NoPeer {
                form,
                what: "messageEmpty",
            })?;
            if !want_user {
                return self.known(form, chat);
            }
            let (sender, id) = message_sender(m).ok_or(PeerError::NoPeer {
                form,
                what: "messageEmpty",
            })?;
            self.sender(form, chat, sender, id)
        };
        Ok(Some(match peer {
            PeerRef::Input(p) => p.clone(),
            PeerRef::Username(name) => match self.username(name) {
                Some(p) => self.known(form, &p)?,
                None => return Ok(None),
            },
            PeerRef::BotApiId(id) => self.known(form, &peer_from_bot_api_id(*id)?)?,
            PeerRef::Peer(p) => self.known(form, p)?,
            PeerRef::Message(m) => chat_or_sender(m)?,
            PeerRef::Update(u) => match update_concern(u)? {
                Concern::Message(m) => chat_or_sender(m)?,
                Concern::Peer(p) => self.known(form, &p)?,
                Concern::UserIn(_, user) if want_user => self.known(form, &user)?,
                Concern::UserIn(chat, _) => self.known(form, &chat)?,
            },
        }))
    }
}
