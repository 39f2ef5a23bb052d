//! Fuzz targets for the auth-key handshake, client (`handshake_client`) and
//! server (`handshake_server`) side, starting from any step of a valid run.

use std::sync::OnceLock;

use mtproto_crypto::dh::{encrypt_with_hash_rng, tmp_aes_key_iv};
use mtproto_crypto::packet::AesKeyIv;
use mtproto_crypto::rsa::{tl_bytes, RsaPrivateKey};
use mtproto_session::handshake::client::{self, DhGenResult};
use mtproto_session::handshake::server::{self, ServerConfig, SetClientDhResult};
use mtproto_session::handshake::{
    AuthKey, ClientHandshake, ClientStep, FixedMsgIds, HandshakeConfig, ServerHandshake, ServerStep,
};
use mtproto_session::Timestamp;
use rand::{CryptoRng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

mod seeds;

pub use seeds::handshake_seeds;

/// A test-only RSA key (the one of the session crate's handshake tests).
pub const FUZZ_RSA_PRIVATE_PEM: &str = "\
-----BEGIN RSA PRIVATE KEY-----\n\
MIIEogIBAAKCAQEArm+yT6o7Qvw+rKlQMhCFpDERCHN6rtjzdVxxiToxZ7UmG8Jz\n\
H8+py9QTf4nxxiViQu1vVdcTwrklZuW4ZO3BN/lo13+8SnMc9VrFdSp/9gCngvqg\n\
BiftD/ANxtuQonQQrviEBlmcC2oFlDt2dPJm5Q67FKR+ZZiyBEBIWAuSzJfyY3c9\n\
1T9xCQEkfShnMxfIR36sQqt/8SKvexYnhAIHN+HJwVuUy6rr7x7PRUmA2JkkzsUg\n\
pBbgXnNnu7hso01A8zldAOweX51KOAs2igeupw24DsRjMa609t58pey6o1ZQJd16\n\
2Si7M39plp33CUJwEUakOQ9ENdD7BQv0cK85rwIDAQABAoIBABq0+0X7OEuPN0FU\n\
QvUHVo7G/Gag153BlbTYTIHIKRxJveXuJZYvQz3z4HBcfGnr+1ln5O3tmhbsJe/V\n\
KCA7zqN1SjoEUp3LdhmSpjzEHwdZHkyNdsa6gi84f8N8hm54+rzvS7d1LNEKkIQb\n\
fo11N4/Ga5pDfR6s/ERuWyUv0HAGat4bpa4IB6bNy5ERtS2zeFtnu1zBfHamLpAG\n\
CuEqH9csW1GeRr/ox9r0Jr2tMAIeDQearVpKcOrEVPFPkfpude+124P7UL10SGdg\n\
v16j4TCLr6hxTOWqwDQu9SnoYPIsQ7tYVKH7JmCJgLwfwRZeHwTNNs1BIQc+D+Hl\n\
dqdI5kECgYEA1Qo1SZ6WWBA90ZyRiW2/BNjNAZu6ik747qfADrGNCRnRWyq5TZl1\n\
xSQkYRoTX1UXBwMgU4TNzLXxdlNR/11KhVxHuTFgHWe6xd4qJ93jrNzpGCs4RnnF\n\
mmRBs5ABQ70jrazrNUz6wFILDxxcPLTvLGTPAdIddmFHX+XhAn4ofp8CgYEA0Zym\n\
iFoHgTKXEwVl3+DITk3htsiy+3Jv1S4Lx4GN60Frp6L+Hc8TOZPRg871FIUJnRB8\n\
ajVIfBQkRAdiuFVbw7/fV1N68UiVKhgGivAGanw0B4U50sGdVS2nAeg2Mk41v+y5\n\
U595Igan6KWd5t9XdtRqRoredTANH6N/BdQgOvECgYA7YVQHCCAJvcUtVsGuF5vl\n\
ovRJXXm6MVbrVnCO5+hSwBJ9ocPyoDKWV4OYWSdLLDF17+YjwWGHjLMX8xNo5Tzv\n\
PRB0yxFqQM5rdogzgoKCXTTPWsSdyDVO2mEBxsLDecWnFAqfWayOzI9uj84Z0ajU\n\
q+iTLlit9WFqlm2IP1fUKwKBgECOVlu4HoeT5SNejjmdKRO0uMdqmHUIkZi+TbJs\n\
HCFQTK+ca1cS54DcHbLSknh3YLaW1TqAnopYSbMJ80WCRHjNJyPl+f9Fs2r7a0hv\n\
FArHpd6LEXvvVV1eagkUU1y66aLqbUlr3Aq2sg/csfzg3DckxHZlXo4I9oHAAOby\n\
pdqBAoGAIrQN0Pqk6sraeO57cvMzV5lx+InpXGtLYTgCsN6Ry/2rbwwYu/7IEgAA\n\
vp3K1JjHYAPY9m6q4xe70ftKT/srix7ikHsmLc0Is/Sts6Vc7AeCZ4mI6G5unwV+\n\
jK0whB9UskVFrKDTgKYzHGZpStSAim4LAzlCn9uwvHYfSwYfM/A=\n\
-----END RSA PRIVATE KEY-----\n\
";

/// Local time used by the handshake targets.
const NOW: u64 = 1_700_000_000;

/// An RNG that records everything it hands out (to learn the client's
/// `nonce` and `new_nonce`).
struct Recorder(ChaCha20Rng, Vec<u8>);

impl RngCore for Recorder {
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
        self.0.fill_bytes(d);
        self.1.extend_from_slice(d);
    }
    fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(d);
        Ok(())
    }
}
impl CryptoRng for Recorder {}

/// One valid handshake between our client and our server, with every
/// intermediate state kept so targets can start at any step.
struct Fixture {
    key: RsaPrivateKey,
    c1: client::AwaitingResPq,
    c2: client::AwaitingServerDhParams,
    c3: client::AwaitingDhGen,
    s0: server::AwaitingReqPq,
    s1: server::AwaitingReqDhParams,
    s2: server::AwaitingSetClientDhParams,
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    new_nonce: [u8; 32],
    tmp: AesKeyIv,
    auth_key: AuthKey,
    /// The bodies exchanged: req_pq_multi, resPQ, req_DH_params,
    /// server_DH_params_ok, set_client_DH_params, dh_gen_ok.
    bodies: [Vec<u8>; 6],
}

fn client_config(key: &RsaPrivateKey) -> HandshakeConfig {
    HandshakeConfig::new(vec![key.public_key().clone()], 2)
}

fn fixture() -> Option<&'static Fixture> {
    static F: OnceLock<Option<Fixture>> = OnceLock::new();
    F.get_or_init(build_fixture).as_ref()
}

fn build_fixture() -> Option<Fixture> {
    let key = RsaPrivateKey::from_pkcs1_pem(FUZZ_RSA_PRIVATE_PEM).ok()?;
    let now = Timestamp::from_secs(NOW);
    let mut crng = Recorder(ChaCha20Rng::seed_from_u64(11), Vec::new());
    let mut srng = ChaCha20Rng::seed_from_u64(12);
    let s0 = server::AwaitingReqPq::new(ServerConfig::new(vec![key.clone()]));
    let (c1, b1) = client::start(client_config(&key), &mut crng);
    let (s1, r1) = s0.clone().handle_req_pq(&b1, &mut srng).ok()?;
    let (c2, b2) = c1.clone().handle_res_pq(&r1, &mut crng).ok()?;
    let (s2, r2) = s1.clone().handle_req_dh_params(&b2, &mut srng, now).ok()?;
    let (c3, b3) = c2
        .clone()
        .handle_server_dh_params(&r2, &mut crng, now)
        .ok()?;
    let SetClientDhResult::Done(r3, _) = s2
        .clone()
        .handle_set_client_dh_params(&b3, |_| false)
        .ok()?
    else {
        return None;
    };
    let DhGenResult::Done(outcome) = c3.clone().handle_dh_gen(&r3, &mut crng).ok()? else {
        return None;
    };
    let nonce: [u8; 16] = crng.1.get(..16)?.try_into().ok()?;
    let new_nonce: [u8; 32] = crng.1.get(16..48)?.try_into().ok()?;
    let server_nonce: [u8; 16] = r1.get(20..36)?.try_into().ok()?;
    Some(Fixture {
        tmp: tmp_aes_key_iv(&server_nonce, &new_nonce),
        auth_key: outcome.auth_key,
        key,
        c1,
        c2,
        c3,
        s0,
        s1,
        s2,
        nonce,
        server_nonce,
        new_nonce,
        bodies: [b1, r1, b2, r2, b3, r3],
    })
}

/// Overwrites the `nonce` (bytes 4..20) and `server_nonce` (20..36) fields
/// after a constructor id with the right ones, where the input is long
/// enough, so mutations get past the nonce checks.
fn fix_nonces(f: &Fixture, body: &[u8], server_nonce: bool) -> Vec<u8> {
    let mut b = body.to_vec();
    if let Some(n) = b.get_mut(4..20) {
        n.copy_from_slice(&f.nonce);
    }
    if server_nonce {
        if let Some(n) = b.get_mut(20..36) {
            n.copy_from_slice(&f.server_nonce);
        }
    }
    b
}

/// Splits `data` into messages, each prefixed by a 2-byte little-endian length.
fn messages(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while rest.len() >= 2 && out.len() < 8 {
        let n = usize::from(u16::from_le_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        out.push(&rest[2..2 + n]);
        rest = &rest[2 + n..];
    }
    out
}

/// The client handshake against arbitrary server answers. Byte 0 picks:
/// 0 the `ClientHandshake` driver fed length-prefixed whole messages;
/// 1 `resPQ` body, 2 `server_DH_params` body, 4 `dh_gen_*` body (nonces
/// and the `new_nonce_hash` fixed up), each at the right step after valid
/// earlier steps; 3 the plaintext `server_DH_inner_data`, encrypted with the
/// right temporary key so it gets past the SHA1 check.
pub fn handshake_client(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let Some(f) = fixture() else {
        panic!("handshake fixture failed");
    };
    let now = Timestamp::from_secs(NOW);
    let mut rng = ChaCha20Rng::seed_from_u64(u64::from(sel));
    match sel % 5 {
        0 => {
            let mut hs = ClientHandshake::with_msg_ids(client_config(&f.key), FixedMsgIds::new([]));
            if hs.start(&mut rng, now).is_err() {
                return;
            }
            for m in messages(rest) {
                match hs.feed(m, &mut rng, now) {
                    Ok(ClientStep::Send(_)) => {}
                    Ok(ClientStep::Done(_)) | Err(_) => break,
                }
            }
        }
        1 => {
            let _ =
                f.c1.clone()
                    .handle_res_pq(&fix_nonces(f, rest, false), &mut rng);
        }
        2 => {
            let _ =
                f.c2.clone()
                    .handle_server_dh_params(&fix_nonces(f, rest, true), &mut rng, now);
        }
        3 => {
            let inner = fix_nonces(f, rest, true);
            let Ok(enc) = encrypt_with_hash_rng(&inner, &f.tmp, &mut rng) else {
                return;
            };
            let mut body = 0xd0e8_075c_u32.to_le_bytes().to_vec();
            body.extend_from_slice(&f.nonce);
            body.extend_from_slice(&f.server_nonce);
            tl_bytes(&enc, &mut body);
            if let Ok((c3, _)) = f.c2.clone().handle_server_dh_params(&body, &mut rng, now) {
                // Accepted: the last step must then also not panic.
                let last = f.bodies[5].clone();
                let _ = c3.handle_dh_gen(&last, &mut rng);
            }
        }
        _ => {
            let mut b = fix_nonces(f, rest, true);
            let number = match b.get(..4) {
                Some([0x34, 0xf7, 0xcb, 0x3b]) => 1,
                Some([0xb9, 0x1f, 0xdc, 0x46]) => 2,
                Some([0x02, 0xae, 0x9d, 0xa6]) => 3,
                _ => 0,
            };
            if number > 0 {
                if let Some(h) = b.get_mut(36..52) {
                    h.copy_from_slice(&f.auth_key.new_nonce_hash(&f.new_nonce, number));
                }
            }
            let mut state = f.c3.clone();
            // Follow retries a few times, feeding the same answer.
            for _ in 0..3 {
                match state.handle_dh_gen(&b, &mut rng) {
                    Ok(DhGenResult::Retry(next, _)) => state = next,
                    Ok(DhGenResult::Done(_)) | Err(_) => break,
                }
            }
        }
    }
}

/// The server handshake against arbitrary client requests. Byte 0 picks:
/// 0 the `ServerHandshake` driver fed length-prefixed whole messages;
/// 1 `req_pq_multi` body; 2 `req_DH_params` body; 3 `set_client_DH_params`
/// body (nonces fixed up); 4 the plaintext `p_q_inner_data*`, RSA_PAD
/// encrypted for the server's key; 5 the plaintext `client_DH_inner_data`,
/// encrypted with the right temporary key.
pub fn handshake_server(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let Some(f) = fixture() else {
        panic!("handshake fixture failed");
    };
    let now = Timestamp::from_secs(NOW);
    let mut rng = ChaCha20Rng::seed_from_u64(u64::from(sel));
    match sel % 6 {
        0 => {
            let mut hs = ServerHandshake::with_msg_ids(
                ServerConfig::new(vec![f.key.clone()]),
                FixedMsgIds::new([]),
            );
            for m in messages(rest) {
                match hs.feed(m, &mut rng, now, |_| false) {
                    Ok(ServerStep::Send(_)) => {}
                    Ok(ServerStep::Done { .. }) | Err(_) => break,
                }
            }
        }
        1 => {
            let _ = f.s0.clone().handle_req_pq(rest, &mut rng);
        }
        2 => {
            let _ =
                f.s1.clone()
                    .handle_req_dh_params(&fix_nonces(f, rest, true), &mut rng, now);
        }
        3 => {
            let _ =
                f.s2.clone()
                    .handle_set_client_dh_params(&fix_nonces(f, rest, true), |_| false);
        }
        4 => {
            let Ok(enc) = f.key.public_key().rsa_pad_encrypt(rest, &mut rng) else {
                return;
            };
            let (_, p, q) = f.s1.pq();
            let mut body = 0xd712_e4be_u32.to_le_bytes().to_vec();
            body.extend_from_slice(&f.nonce);
            body.extend_from_slice(&f.server_nonce);
            tl_bytes(&mtproto_crypto::pq::to_be_bytes_trimmed(p), &mut body);
            tl_bytes(&mtproto_crypto::pq::to_be_bytes_trimmed(q), &mut body);
            body.extend_from_slice(&f.key.public_key().fingerprint().to_le_bytes());
            tl_bytes(&enc, &mut body);
            let _ = f.s1.clone().handle_req_dh_params(&body, &mut rng, now);
        }
        _ => {
            let inner = fix_nonces(f, rest, true);
            let Ok(enc) = encrypt_with_hash_rng(&inner, &f.tmp, &mut rng) else {
                return;
            };
            let mut body = 0xf504_5f1f_u32.to_le_bytes().to_vec();
            body.extend_from_slice(&f.nonce);
            body.extend_from_slice(&f.server_nonce);
            tl_bytes(&enc, &mut body);
            let mut state = f.s2.clone();
            let mut taken = 0;
            for _ in 0..3 {
                match state.handle_set_client_dh_params(&body, |_| {
                    taken += 1;
                    taken < 2
                }) {
                    Ok(SetClientDhResult::Retry(next, _)) => state = next,
                    Ok(SetClientDhResult::Done(..)) | Err(_) => break,
                }
            }
        }
    }
}
