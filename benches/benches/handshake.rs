//! Where a handshake's time goes: our client and our server (the sans-IO
//! handshake state machines, in memory, no transport, no sockets) run N
//! complete exchanges; each step is timed on its own, and the table gives
//! the median and the minimum per step, in the order they run.
//!
//!   cargo bench -p mtproto-benches --bench handshake        (HANDSHAKES=N, default 100)
//!
//! The steps: the client's req_pq_multi; the server's resPQ; the client's
//! req_DH_params (pq factorized, RSA_PAD encryption); the server's
//! server_DH_params_ok (RSA decryption by CRT, `g_a = g^a`); the client's
//! set_client_DH_params (the DH checks, `g_b = g^b`, `auth_key = g_a^b`);
//! the server's dh_gen_ok (`auth_key = g_b^a`); the client's last step.

use std::time::{Duration, Instant};

use mtproto_crypto::rsa::RsaPrivateKey;
use mtproto_session::handshake::{
    server, ClientHandshake, ClientStep, HandshakeConfig, ServerHandshake, ServerStep,
};
use mtproto_session::Timestamp;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const STEPS: [&str; 7] = [
    "client: req_pq_multi",
    "server: resPQ",
    "client: req_DH_params (pq, RSA_PAD)",
    "server: server_DH_params (RSA CRT, g^a)",
    "client: set_client_DH_params (checks, g^b, g_a^b)",
    "server: dh_gen_ok (g_b^a)",
    "client: done",
];

/// No key collides with a stored one.
fn no_key_exists(_: &mtproto_crypto::AuthKey) -> bool {
    false
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n: usize = std::env::var("HANDSHAKES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let key = RsaPrivateKey::from_pkcs1_pem(mtproto_crypto::test_keys::TEST_RSA_PRIVATE_PEM)
        .expect("the test key");
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(n); STEPS.len()];
    let mut totals = Vec::with_capacity(n);
    let now = Timestamp::from_secs(1_735_910_891);
    for i in 0..n {
        let mut crng = ChaCha20Rng::seed_from_u64(i as u64);
        let mut srng = ChaCha20Rng::seed_from_u64(!(i as u64));
        let config = HandshakeConfig::new(vec![key.public_key().clone()], 2);
        let mut client = ClientHandshake::new(config);
        let mut srv = ServerHandshake::new(server::ServerConfig::new(vec![key.clone()]));
        let started = Instant::now();
        let mut step = 0;
        let mut t = Instant::now();
        let mut to_server = client.start(&mut crng, now).expect("start");
        times[step].push(t.elapsed());
        loop {
            step += 1;
            t = Instant::now();
            let answer = srv
                .feed(&to_server, &mut srng, now, &mut no_key_exists)
                .expect("server step");
            times[step].push(t.elapsed());
            step += 1;
            t = Instant::now();
            match answer {
                ServerStep::Send(m) => match client.feed(&m, &mut crng, now).expect("client") {
                    ClientStep::Send(next) => {
                        times[step].push(t.elapsed());
                        to_server = next;
                    }
                    ClientStep::Done(_) => panic!("client done before the server"),
                },
                ServerStep::Done { reply, .. } => {
                    match client.feed(&reply, &mut crng, now).expect("client") {
                        ClientStep::Done(_) => {
                            times[step].push(t.elapsed());
                            break;
                        }
                        ClientStep::Send(_) => panic!("client wants more"),
                    }
                }
            }
        }
        totals.push(started.elapsed());
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    println!("handshake breakdown ({n} in-memory handshakes, our client and server, one thread)");
    println!("| step | median ms | min ms |");
    println!("|---|---|---|");
    for (name, v) in STEPS.iter().zip(times.iter_mut()) {
        let min = v.iter().min().copied().unwrap_or_default();
        println!("| {name} | {:.3} | {:.3} |", ms(median(v)), ms(min));
    }
    let min = totals.iter().min().copied().unwrap_or_default();
    println!(
        "| **total** | **{:.3}** | {:.3} |",
        ms(median(&mut totals)),
        ms(min)
    );
}
