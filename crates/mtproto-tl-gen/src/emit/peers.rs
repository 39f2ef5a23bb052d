//! `users_and_chats`: the `users` and `chats` any object carries at its top
//! level, for clients that keep a peer cache (access hashes) from every
//! result and update.

use super::Emitter;
use crate::model::Item;
use crate::writer::{wln, CodeWriter};

/// The field holding users, as written in the schema.
const USERS: &str = "users:Vector<User>";
/// The field holding chats.
const CHATS: &str = "chats:Vector<Chat>";

impl Emitter<'_, '_, '_> {
    /// `users_and_chats`, when the schema has `User` and `Chat` (the API
    /// schema; nothing is emitted for the MTProto one).
    pub(super) fn emit_users_and_chats(&self, w: &mut CodeWriter, ctors: &[Item<'_, '_>]) {
        let (Some(user), Some(chat)) = (
            self.m.enum_path.get("User").cloned(),
            self.m.enum_path.get("Chat").cloned(),
        ) else {
            return;
        };
        let mut arms: Vec<(u32, String, bool, bool)> = ctors
            .iter()
            .filter_map(|it| {
                let users = it.fields.iter().any(|f| f.tl == USERS);
                let chats = it.fields.iter().any(|f| f.tl == CHATS);
                let path = self.m.ctor_path.get(it.def.name)?;
                (users || chats).then(|| (it.def.id, path.clone(), users, chats))
            })
            .collect();
        arms.sort();
        w.line("/// The `users` and `chats` a boxed object carries at its top level: every");
        w.line("/// constructor with a `users:Vector<User>` or `chats:Vector<Chat>` field");
        w.line("/// (`updates`, `contacts.resolvedPeer`, `messages.chats`, ...), decoded;");
        w.line("/// `None` when the object's constructor has neither.");
        w.line("#[allow(clippy::type_complexity)]");
        w.block(
            format_args!(
                "pub fn users_and_chats(buf: &[u8]) -> Option<crate::Result<(Vec<{user}>, Vec<{chat}>)>> {{"
            ),
            |w| {
                w.line("let id = crate::Reader::new(buf).peek_u32().ok()?;");
                w.open("Some(match id {");
                for (id, path, users, chats) in arms {
                    let u = if users { "v.users" } else { "Vec::new()" };
                    let c = if chats { "v.chats" } else { "Vec::new()" };
                    wln!(
                        w,
                        "{id:#010x} => <{path} as crate::Deserialize>::from_bytes(buf).map(|v| ({u}, {c})),"
                    );
                }
                w.line("_ => return None,");
                w.close("})");
            },
        );
        w.blank();
    }
}
