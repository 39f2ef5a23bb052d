//! No input makes either handshake role panic: random bytes and mutations of
//! real messages are fed at every step; each must give Ok or a typed error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "handshake_data/vectors.rs"]
mod vectors;

use mtproto_crypto::rsa::{telegram_test_key, RsaPrivateKey};
use mtproto_session::handshake::{client, encode_plain, server, HandshakeConfig, ServerHandshake};
use mtproto_session::Timestamp;
use mtproto_tl::mtproto::functions;
use mtproto_tl::Serialize;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use vectors::grammers as gv;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// Random bytes, a truncation, a bit flip, a splice or an extension of `seed`.
fn mutate(rng: &mut ChaCha20Rng, seed: &[u8]) -> Vec<u8> {
    let mut m = seed.to_vec();
    match rng.gen_range(0..6) {
        0 => {
            let n = rng.gen_range(0..600);
            m = vec![0; n];
            rng.fill_bytes(&mut m);
        }
        1 => m.truncate(rng.gen_range(0..=m.len())),
        2 if !m.is_empty() => {
            for _ in 0..rng.gen_range(1..4) {
                let i = rng.gen_range(0..m.len());
                m[i] ^= 1 << rng.gen_range(0..8);
            }
        }
        3 if m.len() > 8 => {
            // Overwrite a length-looking byte with an extreme value.
            let i = rng.gen_range(0..m.len());
            m[i] = [0, 0xfe, 0xff, 0x7f][rng.gen_range(0..4)];
        }
        4 => {
            let extra = rng.gen_range(1..64);
            m.extend((0..extra).map(|_| rng.gen::<u8>()));
        }
        _ => {
            let i = rng.gen_range(0..=m.len());
            m.insert(i, rng.gen());
        }
    }
    m
}

fn config() -> HandshakeConfig {
    HandshakeConfig::without_dc(vec![telegram_test_key().unwrap()])
}

#[test]
fn client_never_panics() {
    let mut rng = ChaCha20Rng::seed_from_u64(0xc11e);
    let now = Timestamp::from_secs(gv::STEP3_NOW);
    // Step 1 state with the recorded nonce so mutations of the real resPQ go deep.
    let mut seeded = vectors_rng();
    let (s1, _) = client::start(config(), &mut seeded);
    let (s2, _) = s1
        .clone()
        .handle_res_pq(&h(gv::STEP1_RESPONSE_RESPQ), &mut seeded)
        .unwrap();
    let (s3, _) = s2
        .clone()
        .handle_server_dh_params(&h(gv::STEP2_RESPONSE_SERVER_DH_PARAMS_OK), &mut seeded, now)
        .unwrap();
    let res_pq = h(gv::STEP1_RESPONSE_RESPQ);
    let dh_ok = h(gv::STEP2_RESPONSE_SERVER_DH_PARAMS_OK);
    let gen_ok = h(gv::STEP3_RESPONSE_DH_GEN_OK);
    for _ in 0..300 {
        let m = mutate(&mut rng, &res_pq);
        let _ = s1.clone().handle_res_pq(&m, &mut rng);
    }
    for _ in 0..150 {
        let m = mutate(&mut rng, &dh_ok);
        let _ = s2.clone().handle_server_dh_params(&m, &mut rng, now);
    }
    for _ in 0..300 {
        let m = mutate(&mut rng, &gen_ok);
        let _ = s3.clone().handle_dh_gen(&m, &mut rng);
    }
}

fn vectors_rng() -> impl rand::RngCore + rand::CryptoRng {
    // The recorded client randomness, then an endless ChaCha stream.
    struct Chain(Vec<u8>, usize, ChaCha20Rng);
    impl RngCore for Chain {
        fn next_u32(&mut self) -> u32 {
            let mut b = [0; 4];
            self.fill_bytes(&mut b);
            u32::from_le_bytes(b)
        }
        fn next_u64(&mut self) -> u64 {
            let mut b = [0; 8];
            self.fill_bytes(&mut b);
            u64::from_le_bytes(b)
        }
        fn fill_bytes(&mut self, d: &mut [u8]) {
            for x in d {
                *x = match self.0.get(self.1) {
                    Some(b) => *b,
                    None => self.2.gen(),
                };
                self.1 += 1;
            }
        }
        fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), rand::Error> {
            self.fill_bytes(d);
            Ok(())
        }
    }
    impl rand::CryptoRng for Chain {}
    Chain(
        [
            h(gv::STEP1_RANDOM),
            h(gv::STEP2_RANDOM),
            h(gv::STEP3_RANDOM),
        ]
        .concat(),
        0,
        ChaCha20Rng::seed_from_u64(5),
    )
}

#[test]
fn server_never_panics() {
    let key = RsaPrivateKey::from_pkcs1_pem(vectors::TEST_RSA_PRIVATE_PEM).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(0x5e7);
    let now = Timestamp::from_secs(1_700_000_000);
    let s0 = server::AwaitingReqPq::new(server::ServerConfig::new(vec![key.clone()]));
    let req_pq = functions::ReqPqMulti { nonce: [9; 16] }.to_bytes();
    for _ in 0..300 {
        let m = mutate(&mut rng, &req_pq);
        let _ = s0.clone().handle_req_pq(&m, &mut rng);
    }
    // A real client drives the server to each state; mutate its messages.
    let mut crng = ChaCha20Rng::seed_from_u64(3);
    let (c1, b1) = client::start(
        HandshakeConfig::without_dc(vec![key.public_key().clone()]),
        &mut crng,
    );
    let (s1, r1) = s0.handle_req_pq(&b1, &mut rng).unwrap();
    let (c2, b2) = c1.handle_res_pq(&r1, &mut crng).unwrap();
    for _ in 0..60 {
        let m = mutate(&mut rng, &b2);
        let _ = s1.clone().handle_req_dh_params(&m, &mut rng, now);
    }
    let (s2, r2) = s1.handle_req_dh_params(&b2, &mut rng, now).unwrap();
    let (_c3, b3) = c2.handle_server_dh_params(&r2, &mut crng, now).unwrap();
    for _ in 0..150 {
        let m = mutate(&mut rng, &b3);
        let _ = s2.clone().handle_set_client_dh_params(&m, |_| false);
    }
    // The driver with random envelopes.
    for _ in 0..200 {
        let mut srv = ServerHandshake::new(server::ServerConfig::new(vec![key.clone()]));
        let m = mutate(&mut rng, &encode_plain(4, &req_pq));
        let _ = srv.feed(&m, &mut rng, now, |_| false);
    }
    // The driver after it answered (the remembered-answer path): mutations
    // of the repeated request, then whatever follows.
    for _ in 0..200 {
        let mut srv = ServerHandshake::new(server::ServerConfig::new(vec![key.clone()]));
        let first = encode_plain(4, &req_pq);
        srv.feed(&first, &mut rng, now, |_| false).unwrap();
        for _ in 0..3 {
            let m = mutate(&mut rng, &first);
            let _ = srv.feed(&m, &mut rng, now, |_| false);
        }
    }
}
