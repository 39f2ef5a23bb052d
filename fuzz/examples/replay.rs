//! Runs one target on input files: `cargo run --example replay -- <target> <file>...`
//! (reproduces a libFuzzer finding without libFuzzer), under the same
//! amplification accounting; prints the peak heap bytes each input held.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some((name, f, bound)) = mtproto_fuzz::targets::TARGETS
        .iter()
        .find(|(n, _, _)| Some(n) == args.get(1).map(|s| s.as_str()).as_ref())
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
        let ((), peak) = mtproto_fuzz::targets::alloc_bound::measure(|| f(&data));
        let allowed = mtproto_fuzz::targets::alloc_bound::allowed(data.len(), *bound);
        println!("{path}: ok, peak {peak} bytes held (allowed {allowed})");
        mtproto_fuzz::targets::run_checked(name, &data);
    }
}
