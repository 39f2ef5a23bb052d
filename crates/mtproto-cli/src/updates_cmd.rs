//! `mtproto updates`: follow the update sequences and print every update
//! as a JSON line.

use mtproto_tl::Serialize;
use mtproto_tl_dyn::{json_string, DynSchema};

use crate::net::{with_client_streaming, ConnectOpts};
use crate::out::outln;
use crate::CliResult;

/// `mtproto updates` options.
#[derive(clap::Args, Debug)]
pub(crate) struct UpdatesArgs {
    #[command(flatten)]
    opts: ConnectOpts,
    /// Stop after this many updates (default: until interrupted).
    #[arg(long, value_name = "N")]
    count: Option<u64>,
}

/// Connects (within `--timeout`), then prints `{"update": ...}` per update,
/// in order and each once (gaps filled with `updates.getDifference`), until
/// interrupted or `--count` updates were printed.
pub(crate) fn run(args: UpdatesArgs) -> CliResult {
    let count = args.count;
    with_client_streaming(&args.opts, async move |client| {
        let mut updates = client.updates();
        let schema = DynSchema::builtin();
        let mut printed = 0u64;
        while count.is_none_or(|n| printed < n) {
            let batch = tokio::select! {
                b = updates.recv() => match b {
                    Some(b) => b,
                    None => return Ok(()),
                },
                _ = tokio::signal::ctrl_c() => return Ok(()),
            };
            for u in batch.updates {
                if count.is_some_and(|n| printed >= n) {
                    break;
                }
                let json = match schema.decode_boxed(&u.to_bytes()) {
                    Ok(v) => v.to_json(),
                    Err(e) => {
                        let mut s = String::from("{\"undecodable\": ");
                        json_string(&mut s, &e.to_string());
                        s.push('}');
                        s
                    }
                };
                outln!("{{\"update\": {json}}}")?;
                printed += 1;
            }
        }
        Ok(())
    })
}
