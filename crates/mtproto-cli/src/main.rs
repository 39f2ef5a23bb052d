//! `mtproto`: a command-line tool for MTProto 2.0.
//!
//! Exit codes: 0 success, 1 protocol or I/O error, 2 usage error (bad
//! arguments, malformed hex, bad peer spec or action). Errors are one line
//! on stderr. A reader that goes away (`mtproto demo | head -1`) ends the
//! command quietly with exit code 0; see [`out`](mod@out).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use mtproto_tl_dyn::{DynSchema, Value};
use out::{errln, out, outln};

mod bench;
mod demo;
mod histogram;
mod net;
mod out;
mod schema_cmd;
mod session_cmd;
mod updates_cmd;

/// An error that ends the command.
#[derive(Debug)]
pub enum CliError {
    /// Bad input from the user (exit code 2).
    Usage(String),
    /// Protocol or I/O failure (exit code 1).
    Failed(String),
    /// Whoever read stdout has closed it: stop without a message (exit code 0).
    OutputClosed,
}

/// Result of a command.
pub type CliResult<T = ()> = Result<T, CliError>;

fn usage(msg: impl Into<String>) -> CliError {
    CliError::Usage(msg.into())
}

fn failed(msg: impl Into<String>) -> CliError {
    CliError::Failed(msg.into())
}

#[derive(Parser, Debug)]
#[command(name = "mtproto", version, about = "MTProto 2.0 from the command line", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start an embedded test server, connect to it, show the handshake, and
    /// call messages.setTyping (true, then PEER_ID_INVALID).
    Demo {
        /// One JSON object per step.
        #[arg(long)]
        json: bool,
        /// Framing: abridged, intermediate, padded, full, obfuscated.
        #[arg(long, value_name = "KIND", default_value = "intermediate")]
        transport: String,
    },
    /// Decode a TL blob (boxed by default), or an encrypted MTProto 2.0 packet
    /// with --packet.
    Decode(DecodeArgs),
    /// Connect to any MTProto server (handshake, or --key-file reuse) and
    /// call a method.
    Connect(net::ConnectArgs),
    /// Call any function of the schema, given as JSON in the shape
    /// `mtproto decode --json` prints; prints the answer as JSON.
    Call(net::CallArgs),
    /// Run the test server standalone on loopback.
    Serve {
        /// Port (0 picks a free one).
        #[arg(long, value_name = "N", required_unless_present = "list_violations")]
        port: Option<u16>,
        /// RSA private key (PKCS#1 PEM); default: the fixed test key.
        #[arg(long, value_name = "PEM")]
        rsa_key: Option<PathBuf>,
        /// Log as JSON lines.
        #[arg(long)]
        json: bool,
        /// A hostile server: break RULE on every occurrence, to check that a
        /// client refuses it (see --list-violations).
        #[arg(long, value_name = "RULE")]
        violate: Option<String>,
        /// Print the rules --violate can break (name, what the server does,
        /// what the client must refuse) and exit.
        #[arg(long)]
        list_violations: bool,
        /// Run DCs 1..=N in one process on ports PORT..PORT+N-1 (one
        /// account database; each lists all in help.getConfig).
        #[arg(long, value_name = "N")]
        dcs: Option<i32>,
        /// The account's home DC: every other DC answers content requests
        /// with 303 USER_MIGRATE_X (needs --dcs).
        #[arg(long, value_name = "X", requires = "dcs")]
        home_dc: Option<i32>,
        /// Log nothing per connection or request (only the listening
        /// lines): for load runs, where the log would cost the server time.
        #[arg(long)]
        quiet: bool,
        /// Write the server's RSA public key (PKCS#1 PEM) to FILE, for
        /// clients that must be given it (Telethon, mtcute, `--rsa-key`).
        #[arg(long, value_name = "FILE")]
        write_public_key: Option<PathBuf>,
        /// Worker threads (default: one per core; 1 runs everything on one
        /// thread, with no wake-ups across threads).
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
        /// Room for N connections from one address, with no handshake rate
        /// limit (load runs such as `mtproto bench --connections N`).
        #[arg(long, value_name = "N")]
        max_connections: Option<usize>,
    },
    /// Check or show TL schemas.
    #[command(subcommand)]
    Schema(schema_cmd::SchemaCommand),
    /// Follow the update sequences and print every update as a JSON line,
    /// in order and each once, until interrupted or --count.
    Updates(updates_cmd::UpdatesArgs),
    /// Show a session file; import or export a Telethon StringSession.
    #[command(subcommand)]
    Session(session_cmd::SessionCommand),
    /// Load: K connections (K handshakes), then messages.setTyping calls
    /// with C in flight per connection, every answer checked; prints
    /// handshake latency, throughput and call latency (exit 1 if any call
    /// failed). Against an embedded test server unless --addr is given.
    Bench(bench::BenchArgs),
}

/// Which side sent a packet.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum From {
    /// Client to server (x = 0).
    Client,
    /// Server to client (x = 8).
    Server,
}

#[derive(clap::Args, Debug)]
struct DecodeArgs {
    /// Folder holding api.tl and mtproto.tl (default: the embedded tl-schema).
    #[arg(long, value_name = "DIR")]
    schema: Option<PathBuf>,
    /// Decode as this type instead of a boxed object: a bare constructor
    /// (inputPeerUser), a boxed type (InputPeer) or a builtin (`Vector<long>`).
    #[arg(long = "type", value_name = "NAME", conflicts_with_all = ["function", "packet"])]
    type_name: Option<String>,
    /// The blob is a request (function call).
    #[arg(long, conflicts_with = "packet")]
    function: bool,
    /// Print JSON instead of an indented tree.
    #[arg(long)]
    json: bool,
    /// Check that re-encoding the decoded value gives the same bytes
    /// (exit 1 if not).
    #[arg(long)]
    reencode: bool,
    /// The input is an encrypted MTProto 2.0 packet (needs --auth-key).
    #[arg(long, requires = "auth_key")]
    packet: bool,
    /// The 256-byte auth key, in hex.
    #[arg(long, value_name = "HEX")]
    auth_key: Option<String>,
    /// Who sent the packet.
    #[arg(long, value_enum, default_value = "server")]
    from: From,
    /// The bytes in hex, or `-` to read hex from stdin.
    #[arg(value_name = "HEX|-")]
    input: String,
}

/// Parses hex (whitespace and a `0x` prefix allowed).
pub fn parse_hex(what: &str, text: &str) -> CliResult<Vec<u8>> {
    let clean: String = text.split_whitespace().collect();
    let clean = clean.strip_prefix("0x").unwrap_or(&clean);
    if clean.is_empty() {
        return Err(usage(format!("{what}: empty hex string")));
    }
    hex::decode(clean).map_err(|e| usage(format!("{what}: malformed hex string ({e})")))
}

fn read_input(input: &str) -> CliResult<Vec<u8>> {
    if input == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| failed(format!("cannot read stdin: {e}")))?;
        parse_hex("input", &s)
    } else {
        parse_hex("input", input)
    }
}

/// Loads `DIR/api.tl` and `DIR/mtproto.tl`.
pub fn load_schema(dir: &Path) -> CliResult<DynSchema> {
    if !dir.is_dir() {
        return Err(failed(format!(
            "schema folder {} does not exist",
            dir.display()
        )));
    }
    let mut texts = Vec::new();
    let mut names = Vec::new();
    for file in ["api.tl", "mtproto.tl"] {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| failed(format!("cannot read {}: {e}", path.display())))?;
        texts.push(text);
        names.push(path);
    }
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    DynSchema::from_texts(&refs).map_err(|e| {
        let file = names
            .get(e.index)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "core".to_owned());
        failed(format!("{file}:{}", e.error))
    })
}

fn show(v: &Value, json: bool) -> CliResult {
    if json {
        outln!("{}", v.to_json())
    } else {
        out!("{}", v.to_tree())
    }
}

fn decode(args: DecodeArgs) -> CliResult {
    let bytes = read_input(&args.input)?;
    let owned;
    let schema = match &args.schema {
        Some(dir) => {
            owned = load_schema(dir)?;
            &owned
        }
        None => DynSchema::builtin(),
    };
    if args.packet {
        return decode_packet(&args, schema, bytes);
    }
    let value = match (&args.type_name, args.function) {
        (Some(t), _) => {
            if mtproto_tl_dyn::TypeRef::parse(t).is_none() {
                return Err(usage(format!("--type: malformed type name {t:?}")));
            }
            schema.decode_bare(t, &bytes)
        }
        (None, true) => schema.decode_function(&bytes),
        (None, false) => schema.decode_boxed(&bytes),
    }
    .map_err(|e| failed(format!("cannot decode: {e}")))?;
    show(&value, args.json)?;
    if args.reencode {
        let again = match &args.type_name {
            Some(t) => schema.encode_bare(t, &value),
            None => schema.encode_boxed(&value),
        }
        .map_err(|e| failed(format!("cannot re-encode: {e}")))?;
        check_reencode(&bytes, &again)?;
    }
    Ok(())
}

fn check_reencode(orig: &[u8], again: &[u8]) -> CliResult {
    if orig == again {
        errln!("re-encoded: identical ({} bytes)", orig.len());
        return Ok(());
    }
    let at = orig
        .iter()
        .zip(again)
        .position(|(a, b)| a != b)
        .unwrap_or(orig.len().min(again.len()));
    Err(failed(format!(
        "re-encoding differs at byte {at} ({} bytes in, {} bytes out)",
        orig.len(),
        again.len()
    )))
}

fn decode_packet(args: &DecodeArgs, schema: &DynSchema, mut packet: Vec<u8>) -> CliResult {
    use mtproto_crypto::packet::{decrypt_in_place, AuthKey, Direction};
    let key_hex = args.auth_key.as_deref().unwrap_or_default();
    let key = parse_hex("--auth-key", key_hex)?;
    let key = AuthKey::from_slice(&key).map_err(|e| usage(format!("--auth-key: {e}")))?;
    let dir = match args.from {
        From::Client => Direction::ClientToServer,
        From::Server => Direction::ServerToClient,
    };
    let msg = decrypt_in_place(&key, dir, &mut packet)
        .map_err(|e| failed(format!("cannot decrypt the packet: {e}")))?;
    let body = schema.decode_boxed(msg.body);
    if args.json {
        let body_json = match &body {
            Ok(v) => v.to_json(),
            Err(_) => mtproto_tl_dyn_hex_json(msg.body),
        };
        outln!(
            "{{\"auth_key_id\": \"{}\", \"salt\": {}, \"session_id\": {}, \"msg_id\": {}, \"seq_no\": {}, \"length\": {}, \"padding\": {}, \"body\": {}}}",
            hex::encode(key.id()),
            msg.salt,
            msg.session_id,
            msg.msg_id,
            msg.seq_no,
            msg.body.len(),
            msg.padding_len,
            body_json
        )?;
    } else {
        outln!("auth_key_id: {}", hex::encode(key.id()))?;
        outln!("msg_key: ok")?;
        outln!("salt: {}", msg.salt)?;
        outln!("session_id: {}", msg.session_id)?;
        outln!("msg_id: {}", msg.msg_id)?;
        outln!("seq_no: {}", msg.seq_no)?;
        outln!(
            "length: {} (+{} bytes of padding)",
            msg.body.len(),
            msg.padding_len
        )?;
        match &body {
            Ok(v) => out!("body: {}", v.to_tree())?,
            Err(_) => outln!("body: {}", hex::encode(msg.body))?,
        }
    }
    body.map(|_| ())
        .map_err(|e| failed(format!("cannot decode the message body: {e}")))
}

fn mtproto_tl_dyn_hex_json(b: &[u8]) -> String {
    format!("\"{}\"", hex::encode(b))
}

fn run(cli: Cli) -> CliResult {
    match cli.command {
        Command::Demo { json, transport } => demo::run(json, &transport),
        Command::Decode(args) => decode(args),
        Command::Connect(args) => net::connect(args),
        Command::Call(args) => net::call(args),
        Command::Serve {
            list_violations: true,
            json,
            ..
        } => net::list_violations(json),
        Command::Serve {
            port,
            rsa_key,
            json,
            violate,
            dcs,
            home_dc,
            quiet,
            write_public_key,
            threads,
            max_connections,
            ..
        } => net::serve(net::ServeOptions {
            port: port.unwrap_or(0),
            rsa_key,
            json,
            violate,
            cluster: dcs.map(|n| (n, home_dc)),
            quiet,
            write_public_key,
            threads,
            max_connections,
        }),
        Command::Schema(cmd) => schema_cmd::run(cmd),
        Command::Session(cmd) => session_cmd::run(cmd),
        Command::Bench(args) => bench::run(args),
        Command::Updates(args) => updates_cmd::run(args),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        // Like `yes | head`: a reader that stopped reading is not an error.
        Ok(()) | Err(CliError::OutputClosed) => ExitCode::SUCCESS,
        Err(CliError::Usage(msg)) => {
            errln!("error: {msg}");
            ExitCode::from(2)
        }
        Err(CliError::Failed(msg)) => {
            errln!("error: {msg}");
            ExitCode::from(1)
        }
    }
}
