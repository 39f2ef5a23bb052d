//! Standalone test server: `mtproto-testserver [ADDR] [--pem FILE]`.
//! Prints the bound address and the RSA key fingerprint, then logs events.

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
