//! `mtproto connect ... set-typing` and `mtproto serve`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Subcommand;
use mtproto_client::methods::{set_typing, MethodError, TypedError};
use mtproto_client::{Client, ClientConfig, SessionData};
use mtproto_crypto::rsa::{RsaPrivateKey, RsaPublicKey};
use mtproto_testserver::{Rule, ServerEvent, TestServer, TestServerConfig};
use mtproto_tl::api::{enums, types};
use mtproto_tl_dyn::json_string;
use mtproto_transport::TransportKind;

use crate::out::outln;
use crate::{failed, usage, CliResult};

/// Every SendMessageAction, by short name (`:ARG` where it takes one).
pub(crate) const ACTIONS_HELP: &str =
    "typing, cancel, record-video, upload-video:PROGRESS, record-audio, \
upload-audio:PROGRESS, upload-photo:PROGRESS, upload-document:PROGRESS, geo-location, \
choose-contact, game-play, record-round, upload-round:PROGRESS, speaking-in-group-call, \
history-import:PROGRESS, choose-sticker, emoji-interaction:EMOTICON:MSG_ID:JSON, \
emoji-interaction-seen:EMOTICON, text-draft:RANDOM_ID:TEXT, \
input-rich-message-draft:RANDOM_ID:MARKDOWN, rich-message-draft:RANDOM_ID";

/// What to do once connected.
#[derive(Subcommand, Debug)]
pub(crate) enum ConnectCommand {
    /// messages.setTyping: prints true/false or the decoded rpc_error.
    SetTyping {
        /// self, empty, user:ID:HASH, chat:ID or channel:ID:HASH.
        #[arg(long, value_name = "SPEC")]
        peer: String,
        /// One of: typing, cancel, record-video, upload-video:PROGRESS,
        /// record-audio, upload-audio:PROGRESS, upload-photo:PROGRESS,
        /// upload-document:PROGRESS, geo-location, choose-contact, game-play,
        /// record-round, upload-round:PROGRESS, speaking-in-group-call,
        /// history-import:PROGRESS, choose-sticker,
        /// emoji-interaction:EMOTICON:MSG_ID:JSON, emoji-interaction-seen:EMOTICON,
        /// text-draft:RANDOM_ID:TEXT, input-rich-message-draft:RANDOM_ID:MARKDOWN,
        /// rich-message-draft:RANDOM_ID.
        #[arg(long, value_name = "NAME")]
        action: String,
        /// Thread / forum topic.
        #[arg(long, value_name = "N")]
        top_msg_id: Option<i32>,
    },
}

/// `mtproto connect` options.
#[derive(clap::Args, Debug)]
pub(crate) struct ConnectArgs {
    /// Server address.
    #[arg(long, value_name = "HOST:PORT")]
    addr: String,
    /// abridged, intermediate, padded, full or obfuscated.
    #[arg(long, value_name = "KIND", default_value = "intermediate")]
    transport: String,
    /// DC id for the handshake.
    #[arg(long, value_name = "N", default_value_t = 2)]
    dc: i32,
    /// A trusted server RSA key (PEM file; public, or a private key whose
    /// public half is used).
    #[arg(long, value_name = "PEM")]
    rsa_key: Option<PathBuf>,
    /// Send initConnection with this api_id.
    #[arg(long, value_name = "N")]
    api_id: Option<i32>,
    /// Reuse the auth key saved here; create the file when missing.
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// Print JSON (the last line is the result).
    #[arg(long)]
    json: bool,
    /// Give up after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    timeout: u64,
    #[command(subcommand)]
    command: ConnectCommand,
}

fn parse_num<T: std::str::FromStr>(what: &str, s: &str) -> CliResult<T> {
    s.parse()
        .map_err(|_| usage(format!("{what}: {s:?} is not a number")))
}

/// Parses a peer spec.
pub(crate) fn parse_peer(spec: &str) -> CliResult<enums::InputPeer> {
    let parts: Vec<&str> = spec.split(':').collect();
    Ok(match parts.as_slice() {
        ["self"] => enums::InputPeer::InputPeerSelf,
        ["empty"] => enums::InputPeer::Empty,
        ["user", id, hash] => enums::InputPeer::User(types::InputPeerUser {
            user_id: parse_num("--peer user id", id)?,
            access_hash: parse_num("--peer access hash", hash)?,
        }),
        ["chat", id] => enums::InputPeer::Chat(types::InputPeerChat {
            chat_id: parse_num("--peer chat id", id)?,
        }),
        ["channel", id, hash] => enums::InputPeer::Channel(types::InputPeerChannel {
            channel_id: parse_num("--peer channel id", id)?,
            access_hash: parse_num("--peer access hash", hash)?,
        }),
        _ => {
            return Err(usage(format!(
                "unknown peer spec {spec:?} (self, empty, user:ID:HASH, chat:ID, channel:ID:HASH)"
            )))
        }
    })
}

/// Parses an action name.
pub(crate) fn parse_action(spec: &str) -> CliResult<enums::SendMessageAction> {
    use enums::SendMessageAction as A;
    let (name, arg) = match spec.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (spec, None),
    };
    let progress = || -> CliResult<i32> {
        parse_num(
            "--action progress",
            arg.ok_or_else(|| usage(format!("--action {name} needs :PROGRESS")))?,
        )
    };
    let no_arg = |a: A| -> CliResult<A> {
        match arg {
            None => Ok(a),
            Some(_) => Err(usage(format!("--action {name} takes no argument"))),
        }
    };
    Ok(match name {
        "typing" => no_arg(A::SendMessageTypingAction)?,
        "cancel" => no_arg(A::SendMessageCancelAction)?,
        "record-video" => no_arg(A::SendMessageRecordVideoAction)?,
        "record-audio" => no_arg(A::SendMessageRecordAudioAction)?,
        "geo-location" => no_arg(A::SendMessageGeoLocationAction)?,
        "choose-contact" => no_arg(A::SendMessageChooseContactAction)?,
        "game-play" => no_arg(A::SendMessageGamePlayAction)?,
        "record-round" => no_arg(A::SendMessageRecordRoundAction)?,
        "speaking-in-group-call" => no_arg(A::SpeakingInGroupCallAction)?,
        "choose-sticker" => no_arg(A::SendMessageChooseStickerAction)?,
        "upload-video" => A::SendMessageUploadVideoAction(types::SendMessageUploadVideoAction {
            progress: progress()?,
        }),
        "upload-audio" => A::SendMessageUploadAudioAction(types::SendMessageUploadAudioAction {
            progress: progress()?,
        }),
        "upload-photo" => A::SendMessageUploadPhotoAction(types::SendMessageUploadPhotoAction {
            progress: progress()?,
        }),
        "upload-document" => {
            A::SendMessageUploadDocumentAction(types::SendMessageUploadDocumentAction {
                progress: progress()?,
            })
        }
        "upload-round" => A::SendMessageUploadRoundAction(types::SendMessageUploadRoundAction {
            progress: progress()?,
        }),
        "history-import" => {
            A::SendMessageHistoryImportAction(types::SendMessageHistoryImportAction {
                progress: progress()?,
            })
        }
        "emoji-interaction-seen" => match arg {
            Some(e) if !e.is_empty() => {
                A::SendMessageEmojiInteractionSeen(types::SendMessageEmojiInteractionSeen {
                    emoticon: e.to_owned(),
                })
            }
            _ => return Err(usage("--action emoji-interaction-seen needs :EMOTICON")),
        },
        "emoji-interaction" => {
            let mut it = arg.unwrap_or_default().splitn(3, ':');
            let (Some(emoticon), Some(msg_id), Some(data)) = (it.next(), it.next(), it.next())
            else {
                return Err(usage(
                    "--action emoji-interaction needs :EMOTICON:MSG_ID:JSON",
                ));
            };
            A::SendMessageEmojiInteraction(types::SendMessageEmojiInteraction {
                emoticon: emoticon.to_owned(),
                msg_id: parse_num("--action msg_id", msg_id)?,
                interaction: enums::DataJson::DataJson(types::DataJson {
                    data: data.to_owned(),
                }),
            })
        }
        "text-draft" => {
            let (id, text) = arg
                .and_then(|a| a.split_once(':'))
                .ok_or_else(|| usage("--action text-draft needs :RANDOM_ID:TEXT"))?;
            A::SendMessageTextDraftAction(types::SendMessageTextDraftAction {
                random_id: parse_num("--action random_id", id)?,
                text: enums::TextWithEntities::TextWithEntities(types::TextWithEntities {
                    text: text.to_owned(),
                    entities: Vec::new(),
                }),
            })
        }
        "input-rich-message-draft" => {
            let (id, md) = arg.and_then(|a| a.split_once(':')).ok_or_else(|| {
                usage("--action input-rich-message-draft needs :RANDOM_ID:MARKDOWN")
            })?;
            A::InputSendMessageRichMessageDraftAction(
                types::InputSendMessageRichMessageDraftAction {
                    random_id: parse_num("--action random_id", id)?,
                    rich_message: enums::InputRichMessage::Markdown(
                        types::InputRichMessageMarkdown {
                            rtl: false,
                            noautolink: false,
                            markdown: md.to_owned(),
                            files: None,
                        },
                    ),
                },
            )
        }
        "rich-message-draft" => {
            let id = arg.ok_or_else(|| usage("--action rich-message-draft needs :RANDOM_ID"))?;
            A::SendMessageRichMessageDraftAction(types::SendMessageRichMessageDraftAction {
                random_id: parse_num("--action random_id", id)?,
                rich_message: enums::RichMessage::RichMessage(types::RichMessage {
                    rtl: false,
                    part: false,
                    blocks: Vec::new(),
                    photos: Vec::new(),
                    documents: Vec::new(),
                }),
            })
        }

        _ => {
            return Err(usage(format!(
                "unknown action {spec:?}; one of: {ACTIONS_HELP}"
            )))
        }
    })
}

fn read_rsa_key(path: &PathBuf) -> CliResult<RsaPublicKey> {
    let pem = std::fs::read_to_string(path)
        .map_err(|e| failed(format!("cannot read {}: {e}", path.display())))?;
    if let Ok(k) = RsaPublicKey::from_pem(&pem) {
        return Ok(k);
    }
    RsaPrivateKey::from_pkcs1_pem(&pem)
        .map(|k| k.public_key().clone())
        .map_err(|e| usage(format!("{}: not an RSA key: {e}", path.display())))
}

/// Runs `mtproto connect`.
pub(crate) fn connect(args: ConnectArgs) -> CliResult {
    let ConnectCommand::SetTyping {
        peer,
        action,
        top_msg_id,
    } = &args.command;
    let peer = parse_peer(peer)?;
    let action = parse_action(action)?;
    let kind: TransportKind = args
        .transport
        .parse()
        .map_err(|_| usage(format!("unknown transport {:?}", args.transport)))?;
    let addr: SocketAddr = std::net::ToSocketAddrs::to_socket_addrs(&args.addr)
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| usage(format!("--addr: cannot resolve {:?}", args.addr)))?;
    let mut cfg = ClientConfig::new(addr, kind);
    cfg.dc_id = args.dc;
    cfg.connect_timeout = Duration::from_secs(args.timeout);
    cfg = cfg.with_request_timeout(Duration::from_secs(args.timeout));
    if let Some(p) = &args.rsa_key {
        cfg = cfg.with_rsa_key(read_rsa_key(p)?);
    }
    if let Some(id) = args.api_id {
        cfg = cfg.with_api_id(id);
    }
    let mut save_to = None;
    if let Some(path) = &args.key_file {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let s = SessionData::from_hex(text.trim())
                    .map_err(|e| failed(format!("{}: bad key file: {e}", path.display())))?;
                cfg = cfg.with_session(s);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => save_to = Some(path.clone()),
            Err(e) => return Err(failed(format!("cannot read {}: {e}", path.display()))),
        }
    }
    let json = args.json;
    let secs = args.timeout;
    let top = *top_msg_id;
    let rt =
        tokio::runtime::Runtime::new().map_err(|e| failed(format!("cannot start tokio: {e}")))?;
    rt.block_on(async move {
        let work = async {
            let client = Client::connect(cfg)
                .await
                .map_err(|e| failed(format!("cannot connect to {addr}: {e}")))?;
            if let Some(path) = &save_to {
                write_key_file(path, client.session_data().to_hex().as_bytes())
                    .map_err(|e| failed(format!("cannot write {}: {e}", path.display())))?;
            }
            let r = set_typing(&client, peer, action, top).await;
            Ok::<_, crate::CliError>(r)
        };
        let r = tokio::time::timeout(Duration::from_secs(secs), work)
            .await
            .map_err(|_| failed(format!("timed out after {secs} s")))??;
        match r {
            Ok(b) => {
                if json {
                    outln!("{{\"result\": {b}}}")
                } else {
                    outln!("{b}")
                }
            }
            Err(MethodError::Rpc(e)) => {
                if json {
                    let mut m = String::new();
                    json_string(&mut m, &e.name());
                    outln!(
                        "{{\"rpc_error\": {{\"code\": {}, \"message\": {m}}}}}",
                        e.code()
                    )
                } else {
                    let d = e.description();
                    let d = if d.is_empty() {
                        String::new()
                    } else {
                        format!(": {d}")
                    };
                    outln!("rpc_error {} {}{d}", e.code(), e.name())
                }
            }
            Err(e) => Err(failed(format!("messages.setTyping: {e}"))),
        }
    })
}

/// Prints the rules `serve --violate` can break.
pub(crate) fn list_violations(json: bool) -> CliResult {
    for rule in Rule::ALL {
        if json {
            let (mut n, mut d, mut c) = (String::new(), String::new(), String::new());
            json_string(&mut n, rule.name());
            json_string(&mut d, rule.description());
            json_string(&mut c, rule.client_check());
            outln!("{{\"rule\": {n}, \"description\": {d}, \"client_check\": {c}}}")?;
        } else {
            outln!("{:<18} {}", rule.name(), rule.description())?;
        }
    }
    Ok(())
}

/// Runs `mtproto serve` until interrupted.
pub(crate) fn serve(
    port: u16,
    rsa_key: Option<PathBuf>,
    json: bool,
    violate: Option<&str>,
) -> CliResult {
    let mut cfg = TestServerConfig::with_test_key();
    let violate: Option<Rule> = violate.map(str::parse).transpose().map_err(usage)?;
    cfg.faults.violate = violate;
    if let Some(p) = rsa_key {
        let pem = std::fs::read_to_string(&p)
            .map_err(|e| failed(format!("cannot read {}: {e}", p.display())))?;
        let key = RsaPrivateKey::from_pkcs1_pem(&pem)
            .map_err(|e| usage(format!("{}: not an RSA private key: {e}", p.display())))?;
        cfg.rsa_key = Some(key);
    }
    cfg.bind = SocketAddr::from(([127, 0, 0, 1], port));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    cfg.events = Some(tx);
    let rt =
        tokio::runtime::Runtime::new().map_err(|e| failed(format!("cannot start tokio: {e}")))?;
    rt.block_on(async move {
        let server = TestServer::start(cfg)
            .await
            .map_err(|e| failed(format!("cannot listen on port {port}: {e}")))?;
        let fp = server.fingerprint() as u64;
        let mut result = if json {
            outln!(
                "{{\"event\": \"listening\", \"addr\": \"{}\", \"port\": {}, \"rsa_fingerprint\": \"{fp:016x}\"}}",
                server.addr(),
                server.addr().port()
            )
        } else {
            outln!("listening on {} (port {})", server.addr(), server.addr().port())
                .and_then(|()| outln!("RSA key fingerprint {fp:016x}"))
        };
        if let (Some(rule), Ok(())) = (violate, &result) {
            result = if json {
                let mut n = String::new();
                json_string(&mut n, rule.name());
                outln!("{{\"event\": \"violating\", \"rule\": {n}}}")
            } else {
                outln!("hostile: breaking {} ({})", rule.name(), rule.description())
            };
        }
        // Until interrupted, or until whoever reads the log closes it.
        while result.is_ok() {
            tokio::select! {
                ev = rx.recv() => match ev {
                    Some(ev) => result = log_event(json, &ev),
                    None => break,
                },
                _ = tokio::signal::ctrl_c() => break,
            }
        }
        server.shutdown().await;
        result
    })
}

fn log_event(json: bool, ev: &ServerEvent) -> CliResult {
    let line = match ev {
        ServerEvent::Request {
            peer,
            name,
            wrapped,
        } => {
            if json {
                let mut n = String::new();
                json_string(&mut n, name);
                format!("{{\"event\": \"request\", \"peer\": \"{peer}\", \"name\": {n}, \"wrapped\": {wrapped}}}")
            } else {
                format!(
                    "{peer}: request {name}{}",
                    if *wrapped { " (wrapped)" } else { "" }
                )
            }
        }
        other => {
            let text = format!("{other:?}");
            if json {
                let mut t = String::new();
                json_string(&mut t, &text);
                format!("{{\"event\": \"other\", \"detail\": {t}}}")
            } else {
                text
            }
        }
    };
    outln!("{line}")
}

/// Writes the auth-key file: the key is a secret, so the file is readable by
/// its owner only (mode 0600 on unix, set when the file is created, never
/// widened afterwards). It is written to a fresh temporary file in the same
/// folder and renamed over `path`, so a crash never leaves a half-written key.
fn write_key_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&tmp).and_then(|mut f| {
        f.write_all(contents)?;
        f.sync_all()
    });
    let renamed = written.and_then(|()| std::fs::rename(&tmp, path));
    if renamed.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    renamed
}
