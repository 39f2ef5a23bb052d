//! Standalone test server:
//! `mtproto-testserver [ADDR] [--pem FILE | --test-key] [--clock-skew SECS]`.
//! Prints the bound address, the RSA key fingerprint and the public key
//! (PKCS#1 PEM), then logs events.
//!
//! `--clock-skew SECS` runs the sessions' clock SECS seconds ahead (negative:
//! behind), so clients get `bad_msg_notification` 16/17 and must correct
//! their time offset.

use mtproto_testserver::{TestServer, TestServerConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut cfg = TestServerConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--pem" {
            let path = args.next().ok_or("--pem needs a file")?;
            let pem = std::fs::read_to_string(path)?;
            cfg.rsa_key = Some(mtproto_crypto::rsa::RsaPrivateKey::from_pkcs1_pem(&pem)?);
        } else if a == "--clock-skew" {
            let secs = args.next().ok_or("--clock-skew needs seconds")?;
            cfg.faults.clock_skew_secs = secs.parse()?;
        } else if a == "--test-key" {
            cfg.rsa_key = TestServerConfig::with_test_key().rsa_key;
        } else {
            cfg.bind = a.parse()?;
        }
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    cfg.events = Some(tx);
    let server = TestServer::start(cfg).await?;
    println!("listening on {}", server.addr());
    println!("rsa fingerprint {:016x}", server.fingerprint() as u64);
    println!("{}", server.public_key().to_pkcs1_pem());
    while let Some(ev) = rx.recv().await {
        println!("{ev:?}");
    }
    Ok(())
}
