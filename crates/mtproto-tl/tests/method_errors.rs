//! The generated error enums against the data file they come from
//! (`tl-schema/method_errors.tsv`, itself checked against the official docs
//! by `mtproto-method-errors --check` in CI): every function's documented
//! errors, by name, with the code the server sends.
#![allow(clippy::unwrap_used)]

use mtproto_tl::api::errors::{self, messages::SetTypingError};
use mtproto_tl::{RpcError, TypedError};

/// (method, code, name) rows of the shipped data file.
fn rows() -> Vec<(String, i32, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/method_errors.tsv");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c[0].to_owned(), c[1].parse().unwrap(), c[2].to_owned())
        })
        .collect()
}

#[test]
fn every_function_has_exactly_the_documented_errors() {
    let rows = rows();
    // The functions of the built schema that the data file documents.
    let mut methods: Vec<&str> = rows
        .iter()
        .map(|r| r.0.as_str())
        .filter(|m| *m != "*")
        .collect();
    methods.dedup();
    let mut typed = 0;
    for m in methods {
        let Some(generated) = errors::documented(m) else {
            continue;
        };
        // Its own errors, then those any method may return (`*`).
        let mut want: Vec<(i32, &str)> = rows
            .iter()
            .filter(|r| r.0 == m)
            .map(|r| (r.1, r.2.as_str()))
            .collect();
        for r in rows.iter().filter(|r| r.0 == "*") {
            if !want.iter().any(|w| w.1 == r.2) {
                want.push((r.1, r.2.as_str()));
            }
        }
        let got: Vec<(i32, &str)> = generated.iter().map(|(c, n, _)| (*c, *n)).collect();
        assert_eq!(got, want, "{m}");
        typed += 1;
    }
    // messages.setTyping, help.getConfig, messages.deleteMessages and the
    // invoke* / initConnection wrappers, at least.
    assert!(typed >= 5, "{typed}");
    assert!(errors::documented("messages.setTyping").unwrap().len() >= 11);
    assert_eq!(errors::documented("no.suchMethod"), None);
}

#[test]
fn errors_match_by_name_and_keep_the_code_the_server_sent() {
    // The docs say 406 CHANNEL_PRIVATE, the reference page 400: the server
    // decides, and the variant keeps what it sent.
    let documented = SetTypingError::DOCUMENTED
        .iter()
        .find(|e| e.1 == "CHANNEL_PRIVATE")
        .unwrap();
    assert_eq!(documented.0, 406);
    let e = SetTypingError::from_rpc(RpcError::parse(400, "CHANNEL_PRIVATE"));
    assert_eq!(e, SetTypingError::ChannelPrivate { code: 400 });
    assert_eq!(e.code(), 400);
    assert_eq!(e.name(), "CHANNEL_PRIVATE");
    assert_eq!(
        e.description(),
        "You haven't joined this channel/supergroup"
    );
    assert_eq!(
        e.to_string(),
        "rpc error 400: CHANNEL_PRIVATE: You haven't joined this channel/supergroup"
    );
    // The reference page's 11 errors keep its descriptions; the docs add
    // more, typed too.
    let described = SetTypingError::DOCUMENTED
        .iter()
        .filter(|e| !e.2.is_empty())
        .count();
    assert_eq!(described, 11);
    let e = SetTypingError::from_rpc(RpcError::parse(400, "TEXTDRAFT_PEER_INVALID"));
    assert_eq!(e, SetTypingError::TextdraftPeerInvalid { code: 400 });
    // Errors any method may return carry their number.
    let e = SetTypingError::from_rpc(RpcError::parse(420, "FLOOD_WAIT_3"));
    assert_eq!(
        e,
        SetTypingError::FloodWait {
            code: 420,
            value: 3
        }
    );
    assert_eq!(e.to_string(), "rpc error 420: FLOOD_WAIT_3");
    assert_eq!(e.name(), "FLOOD_WAIT_%d");
    let e = errors::help::GetConfigError::from_rpc(RpcError::parse(303, "USER_MIGRATE_4"));
    assert_eq!(
        e,
        errors::help::GetConfigError::UserMigrate {
            code: 303,
            value: 4
        }
    );
    // Anything else, verbatim.
    let other = RpcError::parse(400, "YOU_BLOCKED_USER");
    assert_eq!(
        SetTypingError::from_rpc(other.clone()),
        SetTypingError::Other(other)
    );
    let odd = RpcError::parse(420, "FLOOD_WAIT_X");
    assert_eq!(
        SetTypingError::from_rpc(odd.clone()),
        SetTypingError::Other(odd)
    );
}

/// Errors with a number, on the full layer (the shipped schema's functions
/// document none).
#[cfg(mtproto_full_schema)]
#[test]
fn errors_with_a_number_carry_it() {
    use mtproto_tl::api::errors::account::DeleteAccountError;
    use mtproto_tl::api::errors::messages::SendMessageError;
    let e = SendMessageError::from_rpc(RpcError::parse(420, "SLOWMODE_WAIT_5"));
    assert_eq!(
        e,
        SendMessageError::SlowmodeWait {
            code: 420,
            value: 5
        }
    );
    assert_eq!(e.to_string(), "rpc error 420: SLOWMODE_WAIT_5");
    let e = DeleteAccountError::from_rpc(RpcError::parse(420, "2FA_CONFIRM_WAIT_604800"));
    assert_eq!(
        e,
        DeleteAccountError::TwoFaConfirmWait {
            code: 420,
            value: 604_800
        }
    );
    assert_eq!(e.name(), "2FA_CONFIRM_WAIT_%d");
}

#[cfg(not(mtproto_full_schema))]
#[test]
#[ignore = "needs the full schema: run with MTPROTO_TL_SCHEMA_DIR=<shared>/tl"]
fn errors_with_a_number_carry_it() {}
