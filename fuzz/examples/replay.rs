//! Runs one target on input files: `cargo run --example replay -- <target> <file>...`
//! (reproduces a libFuzzer finding without libFuzzer).
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some((_, f)) = mtproto_fuzz::targets::TARGETS
        .iter()
        .find(|(n, _)| Some(n) == args.get(1).map(|s| s.as_str()).as_ref())
    else {
        eprintln!(
            "usage: replay <target> <file>...; targets: {:?}",
            mtproto_fuzz::targets::TARGETS
                .iter()
                .map(|t| t.0)
                .collect::<Vec<_>>()
        );
        std::process::exit(2);
    };
    for path in &args[2..] {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        f(&data);
        println!("{path}: ok");
    }
}
