//! `mtproto schema check` and `mtproto schema show`.

use std::path::PathBuf;

use clap::Subcommand;
use mtproto_tl_dyn::DynSchema;

use crate::out::outln;
use crate::{failed, load_schema, usage, CliResult};

/// Schema subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum SchemaCommand {
    /// Parse TL files; print counts of types, constructors and functions,
    /// duplicate ids and CRC32 mismatches. Exits 1 on a parse error.
    Check {
        /// The .tl files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Print one definition and its id (by name, or by id as 0x58943ee2).
    Show {
        /// Full name (messages.setTyping) or id.
        name: String,
        /// Folder holding api.tl and mtproto.tl (default: the embedded tl-schema).
        #[arg(long, value_name = "DIR")]
        schema: Option<PathBuf>,
    },
}

/// Runs a schema subcommand.
pub(crate) fn run(cmd: SchemaCommand) -> CliResult {
    match cmd {
        SchemaCommand::Check { files } => check(&files),
        SchemaCommand::Show { name, schema } => show(&name, schema),
    }
}

fn check(files: &[PathBuf]) -> CliResult {
    for path in files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| failed(format!("cannot read {}: {e}", path.display())))?;
        let s = mtproto_tl_parser::parse(&text)
            .map_err(|e| failed(format!("{}:{e}", path.display())))?;
        let dups = s.duplicate_ids();
        let crcs = s.crc_mismatches();
        let layer = s
            .layer()
            .map(|l| format!("layer {l}"))
            .unwrap_or_else(|| "no layer".to_owned());
        outln!(
            "{}: {layer}, {} types, {} constructors, {} functions, {} duplicate ids, {} CRC32 mismatches",
            path.display(),
            s.types().len(),
            s.constructors().count(),
            s.functions().count(),
            dups.len(),
            crcs.len()
        )?;
        for d in &dups {
            outln!(
                "  duplicate id {:#010x}: {} (line {}) and {} (line {})",
                d.id,
                d.first.name,
                d.first.line,
                d.duplicate.name,
                d.duplicate.line
            )?;
        }
        for m in &crcs {
            outln!(
                "  CRC32 mismatch: {} (line {}) is written #{:08x}, computed #{:08x}",
                m.definition.name,
                m.definition.line,
                m.written,
                m.computed
            )?;
        }
    }
    Ok(())
}

fn show(name: &str, schema: Option<PathBuf>) -> CliResult {
    let owned;
    let s = match &schema {
        Some(dir) => {
            owned = load_schema(dir)?;
            &owned
        }
        None => DynSchema::builtin(),
    };
    let by_id = name
        .strip_prefix("0x")
        .or_else(|| name.strip_prefix('#'))
        .and_then(|h| u32::from_str_radix(h, 16).ok());
    let def = match by_id {
        Some(id) => s.by_id(id),
        None => {
            if name.is_empty() {
                return Err(usage("empty name"));
            }
            s.get(name)
        }
    }
    .ok_or_else(|| failed(format!("no definition named {name} in the schema")))?;
    outln!("{};", def.source)?;
    let kind = if def.is_function {
        format!("function returning {}", def.result)
    } else {
        format!("constructor of {}", def.result)
    };
    outln!("id: {:#010x} ({kind})", def.id)?;
    if def.is_function {
        // The documented errors, typed for the method (from
        // tl-schema/method_errors.tsv; by name, so they apply to any layer).
        match mtproto_tl::api::errors::documented(&def.name) {
            Some(errors) => {
                outln!("errors: {}", errors.len())?;
                for (code, name, _) in errors {
                    outln!("{code} {name}")?;
                }
            }
            None => outln!("errors: not typed (not a function of the built-in schema)")?,
        }
    }
    Ok(())
}
