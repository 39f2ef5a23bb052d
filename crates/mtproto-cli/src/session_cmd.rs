//! `mtproto session`: look into a session file, and move sessions between
//! us and Telethon.

use std::path::PathBuf;

use clap::Subcommand;
use mtproto_client::store::{FileStore, SessionStore, StoredSession};
use mtproto_tl_dyn::json_string;

use crate::out::outln;
use crate::{failed, usage, CliResult};

/// Session file subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum SessionCommand {
    /// What a session file holds (DCs, key ids, update state, peers known);
    /// never a key.
    Show {
        /// The session file.
        file: PathBuf,
        /// One JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Write a session file from a Telethon StringSession (`-`: stdin).
    ImportTelethon {
        /// The StringSession string, or `-`.
        string: String,
        /// The session file to create.
        file: PathBuf,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Print the home DC of a session file as a Telethon StringSession.
    ExportTelethon {
        /// The session file.
        file: PathBuf,
    },
}

/// Runs a session subcommand.
pub(crate) fn run(cmd: SessionCommand) -> CliResult {
    match cmd {
        SessionCommand::Show { file, json } => show(&load(&file)?, json),
        SessionCommand::ImportTelethon {
            string,
            file,
            force,
        } => {
            let text = if string == "-" {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                    .map_err(|e| failed(format!("cannot read stdin: {e}")))?;
                s
            } else {
                string
            };
            let session = StoredSession::from_telethon(&text).map_err(|e| usage(e.to_string()))?;
            if file.exists() && !force {
                return Err(usage(format!(
                    "{} exists (--force replaces it)",
                    file.display()
                )));
            }
            FileStore::new(&file)
                .save(&session)
                .map_err(|e| failed(format!("{}: {e}", file.display())))?;
            show(&session, false)
        }
        SessionCommand::ExportTelethon { file } => {
            let s = load(&file)?;
            let text = s
                .to_telethon()
                .ok_or_else(|| failed("the home DC has no key or address"))?
                .map_err(|e| failed(e.to_string()))?;
            outln!("{text}")
        }
    }
}

fn load(file: &PathBuf) -> CliResult<StoredSession> {
    FileStore::new(file)
        .load()
        .map_err(|e| failed(format!("{}: {e}", file.display())))?
        .ok_or_else(|| failed(format!("{}: no such session file", file.display())))
}

fn show(s: &StoredSession, json: bool) -> CliResult {
    let key_id = |d: &mtproto_client::store::StoredDc| {
        d.auth_key.as_ref().map(|k| format!("{:016x}", k.id_u64()))
    };
    let u = &s.updates;
    if json {
        let dcs: Vec<String> = s
            .dcs
            .iter()
            .map(|d| {
                let addr = d.addr.map(|a| a.to_string());
                let mut a = String::new();
                match &addr {
                    Some(x) => json_string(&mut a, x),
                    None => a.push_str("null"),
                }
                let k = key_id(d).map_or("null".to_owned(), |k| format!("\"{k}\""));
                format!(
                    "{{\"id\": {}, \"addr\": {a}, \"auth_key_id\": {k}, \"time_offset\": {}}}",
                    d.id, d.time_offset
                )
            })
            .collect();
        outln!(
            "{{\"home_dc\": {}, \"dcs\": [{}], \"updates\": {{\"pts\": {}, \"qts\": {}, \"date\": {}, \"seq\": {}, \"channels\": {}}}, \"peers\": {}}}",
            s.home_dc,
            dcs.join(", "),
            u.pts,
            u.qts,
            u.date,
            u.seq,
            u.channels.len(),
            s.peers.len()
        )
    } else {
        outln!("home DC: {}", s.home_dc)?;
        for d in &s.dcs {
            outln!(
                "DC {}: {}, auth key {}, time offset {} s",
                d.id,
                d.addr
                    .map_or("address unknown".to_owned(), |a| a.to_string()),
                key_id(d).map_or("none".to_owned(), |k| format!("id {k}")),
                d.time_offset
            )?;
        }
        outln!(
            "updates: pts {}, qts {}, date {}, seq {}, {} channels",
            u.pts,
            u.qts,
            u.date,
            u.seq,
            u.channels.len()
        )?;
        outln!("peers known: {}", s.peers.len())
    }
}
