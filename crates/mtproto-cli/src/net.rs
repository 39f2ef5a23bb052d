//! `mtproto connect ... set-typing`, `mtproto call` and `mtproto serve`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Subcommand;
use mtproto_client::methods::{set_typing, MethodError, TypedError};
use mtproto_client::store::FileStore;
use mtproto_client::{
    Client, ClientConfig, ConnectError, InvocationError, PeerCache, PeerRef, SessionData,
};
use mtproto_crypto::rsa::{RsaPrivateKey, RsaPublicKey};
use mtproto_testserver::{Rule, ServerEvent, TestCluster, TestServer, TestServerConfig, MAX_DCS};
use mtproto_tl::api::{enums, types};
use mtproto_tl::support::Placeholder;
use mtproto_tl_dyn::{json_string, serde_json, DynSchema};
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
        /// The peer: @username, username, t.me/username, a Bot-API id
        /// (1001 user, -3001 basic group, -1000000002001 channel 2001),
        /// self, empty, user:ID:HASH, chat:ID, channel:ID:HASH, or tl:HEX
        /// (a serialized Update, Message, Peer or InputPeer).
        #[arg(long, value_name = "PEER", allow_hyphen_values = true)]
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

/// How to reach a server (shared by `connect` and `call`).
#[derive(clap::Args, Debug)]
pub(crate) struct ConnectOpts {
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
    /// Reuse the auth key (and the peer cache) saved here; create the file
    /// when missing. Line 1: the session, hex; line 2: the peer cache, hex.
    #[arg(long, value_name = "FILE", conflicts_with = "session")]
    key_file: Option<PathBuf>,
    /// Keep the session in this file (the versioned session file of
    /// `mtproto_store`: every DC's keys, salts, the peer cache, the update
    /// state); created when missing, saved on every change.
    #[arg(long, value_name = "FILE")]
    session: Option<PathBuf>,
    /// Print JSON (the last line is the result).
    #[arg(long)]
    json: bool,
    /// Give up after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    timeout: u64,
    /// Perfect forward secrecy: every request goes under a temporary key
    /// bound to the permanent one with auth.bindTempAuthKey (each
    /// connection makes a temporary key, so the server's RSA key is needed
    /// every time). Off by default in the CLI; on by default in the library.
    #[arg(long)]
    pfs: bool,
    /// With --pfs: how long each temporary key lives.
    #[arg(long, value_name = "SECS", default_value_t = 86_400, requires = "pfs")]
    temp_key_lifetime: u64,
}

/// `mtproto connect` options.
#[derive(clap::Args, Debug)]
pub(crate) struct ConnectArgs {
    #[command(flatten)]
    opts: ConnectOpts,
    #[command(subcommand)]
    command: ConnectCommand,
}

/// `mtproto call` options.
#[derive(clap::Args, Debug)]
pub(crate) struct CallArgs {
    #[command(flatten)]
    opts: ConnectOpts,
    /// Folder holding api.tl and mtproto.tl (default: the embedded tl-schema).
    #[arg(long, value_name = "DIR")]
    schema: Option<PathBuf>,
    /// The call as one JSON object, in the shape `mtproto decode --json`
    /// prints (`flags` may be left out), or `-` to read it from stdin.
    #[arg(value_name = "JSON|-")]
    input: String,
}

fn parse_num<T: std::str::FromStr>(what: &str, s: &str) -> CliResult<T> {
    s.parse()
        .map_err(|_| usage(format!("{what}: {s:?} is not a number")))
}

/// Parses `--peer`: every [`PeerRef`] form, and `tl:HEX`.
pub(crate) fn parse_peer(spec: &str) -> CliResult<PeerRef> {
    if let Some(h) = spec.strip_prefix("tl:") {
        let bytes = crate::parse_hex("--peer tl:", h)?;
        return PeerRef::from_tl(&bytes).map_err(|e| usage(format!("--peer: {e}")));
    }
    spec.parse()
        .map_err(|e: mtproto_client::PeerError| usage(format!("--peer: {e}")))
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
                // Layer 230 added flags (can_stop, keep_on_stop): unset.
                ..Placeholder::placeholder()
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
                    ..Placeholder::placeholder()
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
                ..Placeholder::placeholder()
            })
        }

        _ => {
            return Err(usage(format!(
                "unknown action {spec:?}; one of: {ACTIONS_HELP}"
            )))
        }
    })
}

pub(crate) fn read_rsa_key(path: &Path) -> CliResult<RsaPublicKey> {
    let pem = std::fs::read_to_string(path)
        .map_err(|e| failed(format!("cannot read {}: {e}", path.display())))?;
    if let Ok(k) = RsaPublicKey::from_pem(&pem) {
        return Ok(k);
    }
    RsaPrivateKey::from_pkcs1_pem(&pem)
        .map(|k| k.public_key().clone())
        .map_err(|e| usage(format!("{}: not an RSA key: {e}", path.display())))
}

/// The key file: the session on line 1, the peer cache on line 2.
struct KeyFile {
    path: PathBuf,
    /// The file did not exist: write the new session once connected.
    create: bool,
}

/// A client configuration from the options, and the key file.
fn client_config(o: &ConnectOpts) -> CliResult<(ClientConfig, Option<KeyFile>)> {
    let kind: TransportKind = o
        .transport
        .parse()
        .map_err(|_| usage(format!("unknown transport {:?}", o.transport)))?;
    let addr: SocketAddr = std::net::ToSocketAddrs::to_socket_addrs(&o.addr)
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| usage(format!("--addr: cannot resolve {:?}", o.addr)))?;
    let mut cfg = ClientConfig::new(addr, kind);
    cfg.dc_id = o.dc;
    cfg.connect_timeout = Duration::from_secs(o.timeout);
    cfg = cfg.with_request_timeout(Duration::from_secs(o.timeout));
    cfg.pfs = o
        .pfs
        .then(|| Duration::from_secs(o.temp_key_lifetime.clamp(1, i32::MAX as u64)));
    if let Some(p) = &o.rsa_key {
        cfg = cfg.with_rsa_key(read_rsa_key(p)?);
    }
    if let Some(id) = o.api_id {
        cfg = cfg.with_api_id(id);
    }
    if let Some(path) = &o.session {
        cfg = cfg.with_store(std::sync::Arc::new(FileStore::new(path)));
    }
    let Some(path) = &o.key_file else {
        return Ok((cfg, None));
    };
    let create = match std::fs::read_to_string(path) {
        Ok(text) => {
            let bad = |e: &dyn std::fmt::Display| {
                failed(format!("{}: bad key file: {e}", path.display()))
            };
            let mut lines = text.lines();
            let s = SessionData::from_hex(lines.next().unwrap_or_default().trim())
                .map_err(|e| bad(&e))?;
            cfg = cfg.with_session(s);
            if let Some(line) = lines.next().filter(|l| !l.trim().is_empty()) {
                let bytes = hex::decode(line.trim()).map_err(|e| bad(&e))?;
                cfg = cfg.with_peer_cache(PeerCache::from_bytes(&bytes).map_err(|e| bad(&e))?);
            }
            false
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => return Err(failed(format!("cannot read {}: {e}", path.display()))),
    };
    Ok((
        cfg,
        Some(KeyFile {
            path: path.clone(),
            create,
        }),
    ))
}

fn save_key_file(client: &Client, file: &KeyFile) -> CliResult {
    let text = format!(
        "{}\n{}\n",
        client.session_data().to_hex(),
        hex::encode(client.peer_cache().to_bytes())
    );
    // A secret: mode 0600, written atomically (mtproto_store::write_atomic).
    mtproto_client::store::write_atomic(&file.path, text.as_bytes())
        .map_err(|e| failed(format!("cannot write {}: {e}", file.path.display())))
}

/// Connects with `opts`, runs `work`, and saves the key file (on creation,
/// and afterwards with what the peer cache learned), all within
/// `--timeout`.
fn with_client<T>(
    opts: &ConnectOpts,
    work: impl AsyncFnOnce(&Client) -> CliResult<T>,
) -> CliResult<T> {
    run_client(opts, true, work)
}

/// [`with_client`] where `--timeout` bounds connecting only (`work` runs
/// as long as it wants: `mtproto updates`).
pub(crate) fn with_client_streaming<T>(
    opts: &ConnectOpts,
    work: impl AsyncFnOnce(&Client) -> CliResult<T>,
) -> CliResult<T> {
    run_client(opts, false, work)
}

fn run_client<T>(
    opts: &ConnectOpts,
    whole: bool,
    work: impl AsyncFnOnce(&Client) -> CliResult<T>,
) -> CliResult<T> {
    let (cfg, key_file) = client_config(opts)?;
    let limit = Duration::from_secs(opts.timeout);
    let secs = opts.timeout;
    let addr = cfg.addr;
    let rt =
        tokio::runtime::Runtime::new().map_err(|e| failed(format!("cannot start tokio: {e}")))?;
    let timed_out = move || failed(format!("timed out after {secs} s"));
    rt.block_on(async move {
        let started = tokio::time::Instant::now();
        let run = async {
            let connect = tokio::time::timeout(limit, Client::connect(cfg));
            let client = connect
                .await
                .map_err(|_| timed_out())?
                .map_err(|e| match e {
                    ConnectError::Store(e) => failed(format!("--session: {e}")),
                    e => failed(format!("cannot connect to {addr}: {e}")),
                })?;
            if let Some(f) = key_file.as_ref().filter(|f| f.create) {
                save_key_file(&client, f)?;
            }
            let r = if whole {
                let left = limit.saturating_sub(started.elapsed());
                tokio::time::timeout(left, work(&client))
                    .await
                    .map_err(|_| timed_out())?
            } else {
                work(&client).await
            };
            if let Some(f) = &key_file {
                save_key_file(&client, f)?;
            }
            client
                .save()
                .map_err(|e| failed(format!("--session: {e}")))?;
            r
        };
        run.await
    })
}

fn print_rpc_error(json: bool, code: i32, name: &str, description: &str) -> CliResult {
    if json {
        let mut m = String::new();
        json_string(&mut m, name);
        outln!("{{\"rpc_error\": {{\"code\": {code}, \"message\": {m}}}}}")
    } else {
        let d = if description.is_empty() {
            String::new()
        } else {
            format!(": {description}")
        };
        outln!("rpc_error {code} {name}{d}")
    }
}

/// `"dc": N, "migrated": [...], "pfs": {...} | null`: the DC that
/// answered, the migrations followed, and the temporary key the request
/// went under (`--json` output of `connect`).
fn route_json(client: &Client) -> String {
    let pfs = match client.pfs() {
        Some(p) => format!(
            "{{\"temp_auth_key_id\": \"{:016x}\", \"bound\": {}, \"expires_at\": {}}}",
            p.temp_auth_key_id, p.bound, p.expires_at
        ),
        None => "null".into(),
    };
    let moves: Vec<String> = client
        .migrations()
        .iter()
        .map(|m| {
            let mut e = String::new();
            json_string(&mut e, &m.error);
            format!("{{\"from\": {}, \"to\": {}, \"error\": {e}}}", m.from, m.to)
        })
        .collect();
    format!(
        "\"dc\": {}, \"migrated\": [{}], \"pfs\": {pfs}",
        client.last_dc(),
        moves.join(", ")
    )
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
    let json = args.opts.json;
    let top = *top_msg_id;
    with_client(&args.opts, async move |client| {
        match set_typing(client, peer, action, top).await {
            Ok(b) => {
                if json {
                    outln!("{{\"result\": {b}, {}}}", route_json(client))
                } else {
                    outln!("{b}")
                }
            }
            Err(MethodError::Rpc(e)) if json => {
                let mut m = String::new();
                json_string(&mut m, &e.name());
                outln!(
                    "{{\"rpc_error\": {{\"code\": {}, \"message\": {m}}}, {}}}",
                    e.code(),
                    route_json(client)
                )
            }
            Err(MethodError::Rpc(e)) => {
                print_rpc_error(false, e.code(), &e.name(), e.description())
            }
            Err(MethodError::Peer(e)) => Err(failed(format!("--peer: {e}"))),
            Err(e) => Err(failed(format!("messages.setTyping: {e}"))),
        }
    })
}

/// Runs `mtproto call`: any function of the schema, from JSON.
pub(crate) fn call(args: CallArgs) -> CliResult {
    let owned;
    let schema = match &args.schema {
        Some(dir) => {
            owned = crate::load_schema(dir)?;
            &owned
        }
        None => DynSchema::builtin(),
    };
    let text = if args.input == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| failed(format!("cannot read stdin: {e}")))?;
        s
    } else {
        args.input.clone()
    };
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| usage(format!("not JSON: {e}")))?;
    // Checked whole against the schema before anything is sent.
    let value = schema
        .function_from_json(&json)
        .map_err(|e| usage(format!("the call does not fit the schema: {e}")))?;
    let body = schema
        .encode_boxed(&value)
        .map_err(|e| usage(format!("cannot encode the call: {e}")))?;
    let result_type = schema.result_type(&value);
    let name = value.name().unwrap_or("?").to_owned();
    let json_out = args.opts.json;
    let timeout = Duration::from_secs(args.opts.timeout);
    with_client(&args.opts, async move |client| {
        match client.invoke_raw(body, timeout).await {
            Ok(bytes) => {
                let decoded = match &result_type {
                    Some(t) => schema.decode_bare(&t.to_string(), &bytes),
                    None => schema.decode_boxed(&bytes),
                }
                .map_err(|e| {
                    failed(format!(
                        "{name}: cannot decode the answer: {e} ({})",
                        hex::encode(&bytes)
                    ))
                })?;
                if json_out {
                    outln!("{{\"result\": {}}}", decoded.to_json())
                } else {
                    outln!("{}", decoded.to_json())
                }
            }
            Err(InvocationError::Rpc(e)) => {
                let message = e.message();
                let fits = |pattern: &str| match pattern.split_once("%d") {
                    Some((pre, post)) => {
                        mtproto_tl::rpc_error::number_between(&message, pre, post).is_some()
                    }
                    None => pattern == message,
                };
                let desc = mtproto_tl::api::errors::documented(&name)
                    .and_then(|d| d.iter().find(|(_, n, _)| fits(n)).map(|(_, _, d)| *d))
                    .unwrap_or_default();
                print_rpc_error(json_out, e.code, &message, desc)
            }
            Err(e) => Err(failed(format!("{name}: {e}"))),
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

/// What `mtproto serve` was asked for.
pub(crate) struct ServeOptions {
    /// The first port (0: a free one).
    pub port: u16,
    /// An RSA private key file; default: the fixed test key.
    pub rsa_key: Option<PathBuf>,
    /// Log as JSON lines.
    pub json: bool,
    /// The rule a hostile server breaks.
    pub violate: Option<String>,
    /// `--dcs N` and `--home-dc X`.
    pub cluster: Option<(i32, Option<i32>)>,
    /// No per-request log.
    pub quiet: bool,
    /// Where to write the public key.
    pub write_public_key: Option<PathBuf>,
    /// Worker threads (default: one per core; 1: a single-threaded runtime).
    pub threads: Option<usize>,
    /// Room for this many connections (load runs), instead of the default
    /// limits.
    pub max_connections: Option<usize>,
}

/// Runs `mtproto serve` until interrupted.
pub(crate) fn serve(opts: ServeOptions) -> CliResult {
    let ServeOptions {
        port,
        rsa_key,
        json,
        violate,
        cluster,
        quiet,
        write_public_key,
        threads,
        max_connections,
    } = opts;
    if threads == Some(0) {
        return Err(usage("--threads: at least 1"));
    }
    let mut cfg = TestServerConfig::with_test_key();
    let violate: Option<Rule> = violate
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(usage)?;
    cfg.faults.violate = violate;
    if let Some(n) = max_connections {
        cfg.limits = mtproto_testserver::Limits::for_load(n);
    }
    if let Some(p) = rsa_key {
        let pem = std::fs::read_to_string(&p)
            .map_err(|e| failed(format!("cannot read {}: {e}", p.display())))?;
        let key = RsaPrivateKey::from_pkcs1_pem(&pem)
            .map_err(|e| usage(format!("{}: not an RSA private key: {e}", p.display())))?;
        cfg.rsa_key = Some(key);
    }
    cfg.bind = SocketAddr::from(([127, 0, 0, 1], port));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // Quiet: the server gets no event sender, and `tx` stays alive below so
    // the log loop waits for the interrupt alone.
    if !quiet {
        cfg.events = Some(tx.clone());
    }
    let rt = match threads {
        Some(1) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        Some(n) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build(),
        None => tokio::runtime::Runtime::new(),
    }
    .map_err(|e| failed(format!("cannot start tokio: {e}")))?;
    rt.block_on(async move {
        let servers = match cluster {
            None => vec![TestServer::start(cfg)
                .await
                .map_err(|e| failed(format!("cannot listen on port {port}: {e}")))?],
            Some((n, home)) => {
                if !(1..=MAX_DCS).contains(&n) || home.is_some_and(|h| !(1..=n).contains(&h)) {
                    return Err(usage(format!(
                        "--dcs takes 1 to {MAX_DCS}, --home-dc one of them"
                    )));
                }
                TestCluster::start(cfg, n, home)
                    .await
                    .map_err(|e| failed(format!("cannot listen on ports from {port}: {e}")))?
                    .into_servers()
            }
        };
        let fp = servers.first().map_or(0, |s| s.fingerprint() as u64);
        let mut result = Ok(());
        if let (Some(path), Some(server)) = (&write_public_key, servers.first()) {
            result = std::fs::write(path, server.public_key().to_pkcs1_pem())
                .map_err(|e| failed(format!("cannot write {}: {e}", path.display())));
        }
        for server in &servers {
            if result.is_err() {
                break;
            }
            let (addr, p) = (server.addr(), server.addr().port());
            result = match (json, cluster.is_some()) {
                (true, false) => outln!(
                    "{{\"event\": \"listening\", \"addr\": \"{addr}\", \"port\": {p}, \"rsa_fingerprint\": \"{fp:016x}\"}}"
                ),
                (true, true) => outln!(
                    "{{\"event\": \"listening\", \"dc\": {}, \"addr\": \"{addr}\", \"port\": {p}, \"rsa_fingerprint\": \"{fp:016x}\"}}",
                    server.dc_id()
                ),
                (false, false) => outln!("listening on {addr} (port {p})"),
                (false, true) => outln!("DC {} listening on {addr} (port {p})", server.dc_id()),
            };
        }
        if !json && result.is_ok() {
            result = outln!("RSA key fingerprint {fp:016x}");
        }
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
        drop(tx);
        for server in servers {
            server.shutdown().await;
        }
        result
    })
}

fn log_event(json: bool, ev: &ServerEvent) -> CliResult {
    let line = match ev {
        ServerEvent::Request {
            peer,
            name,
            wrapped,
            ..
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
