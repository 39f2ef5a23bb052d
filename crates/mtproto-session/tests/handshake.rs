//! Auth-key handshake: replays of real transcripts (exact bytes), client ↔
//! server in memory, and negative tests for every check.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "handshake_data/vectors.rs"]
mod vectors;

use mtproto_crypto::dh as cdh;
use mtproto_crypto::rsa::{telegram_production_key, telegram_test_key, RsaPrivateKey};
use mtproto_session::handshake::{
    client, decode_plain, encode_plain, server, ClientHandshake, ClientStep, DhError,
    EnvelopeError, ErrorKind, FixedMsgIds, HandshakeConfig, HandshakeError, PqInnerVariant,
    RsaScheme, ServerHandshake, ServerStep, Step,
};
use mtproto_session::Timestamp;
use mtproto_tl::mtproto::{enums, functions, types};
use mtproto_tl::{Deserialize, Serialize};
use rand::{CryptoRng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use vectors::{grammers as gv, official_2024 as o24, official_2025 as o25};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// An RNG that hands out recorded bytes in order and panics when they run
/// out, so any change in the documented draw order fails the replay.
struct ReplayRng {
    bytes: Vec<u8>,
    pos: usize,
}

impl ReplayRng {
    fn new(parts: &[&[u8]]) -> Self {
        Self {
            bytes: parts.concat(),
            pos: 0,
        }
    }
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }
}

impl RngCore for ReplayRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        let end = self.pos + dest.len();
        assert!(end <= self.bytes.len(), "replay RNG exhausted");
        dest.copy_from_slice(&self.bytes[self.pos..end]);
        self.pos = end;
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}
impl CryptoRng for ReplayRng {}

fn kind(r: Result<impl Sized, HandshakeError>) -> ErrorKind {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.kind,
    }
}

fn test_server_key() -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs1_pem(vectors::TEST_RSA_PRIVATE_PEM).unwrap()
}

// ---------------------------------------------------------------------------
// grammers test-DC capture: every client message and the result, byte for byte
// ---------------------------------------------------------------------------

fn grammers_rng() -> ReplayRng {
    ReplayRng::new(&[
        &h(gv::STEP1_RANDOM),
        &h(gv::STEP2_RANDOM),
        &h(gv::STEP3_RANDOM),
    ])
}

fn grammers_config() -> HandshakeConfig {
    HandshakeConfig::without_dc(vec![telegram_test_key().unwrap()])
}

fn grammers_step2() -> (client::AwaitingServerDhParams, ReplayRng) {
    let mut rng = grammers_rng();
    let (s1, _) = client::start(grammers_config(), &mut rng);
    let (s2, _) = s1
        .handle_res_pq(&h(gv::STEP1_RESPONSE_RESPQ), &mut rng)
        .unwrap();
    (s2, rng)
}

fn grammers_now() -> Timestamp {
    Timestamp::from_secs(gv::STEP3_NOW)
}

fn grammers_step3() -> (client::AwaitingDhGen, ReplayRng) {
    let (s2, mut rng) = grammers_step2();
    let (s3, _) = s2
        .handle_server_dh_params(
            &h(gv::STEP2_RESPONSE_SERVER_DH_PARAMS_OK),
            &mut rng,
            grammers_now(),
        )
        .unwrap();
    (s3, rng)
}

#[test]
fn grammers_flow_replays_byte_for_byte() {
    let mut rng = grammers_rng();
    let (s1, body) = client::start(grammers_config(), &mut rng);
    assert_eq!(hex::encode(&body), gv::STEP1_REQUEST_REQ_PQ_MULTI);
    let (s2, body) = s1
        .handle_res_pq(&h(gv::STEP1_RESPONSE_RESPQ), &mut rng)
        .unwrap();
    // The whole req_DH_params, encrypted_data included (RSA_PAD with the recorded temp_key).
    assert_eq!(hex::encode(&body), gv::STEP2_REQUEST_REQ_DH_PARAMS);
    let (s3, body) = s2
        .handle_server_dh_params(
            &h(gv::STEP2_RESPONSE_SERVER_DH_PARAMS_OK),
            &mut rng,
            grammers_now(),
        )
        .unwrap();
    assert_eq!(hex::encode(&body), gv::STEP3_REQUEST_SET_CLIENT_DH_PARAMS);
    let out = match s3
        .handle_dh_gen(&h(gv::STEP3_RESPONSE_DH_GEN_OK), &mut rng)
        .unwrap()
    {
        client::DhGenResult::Done(o) => o,
        client::DhGenResult::Retry(..) => panic!("unexpected retry"),
    };
    assert_eq!(hex::encode(out.auth_key.as_bytes()), gv::AUTH_KEY_EXPECTED);
    assert_eq!(hex::encode(out.auth_key.id()), gv::AUTH_KEY_ID);
    assert_eq!(out.server_salt, gv::FIRST_SALT);
    assert_eq!(i64::from(out.time_offset), gv::TIME_OFFSET);
    assert_eq!(out.expires_in, None);
    assert_eq!(out.rsa_fingerprint, -5_595_554_452_916_591_101);
    // Exactly the recorded 16 + 256 + 272 bytes were drawn.
    assert_eq!(rng.remaining(), 0);
}

#[test]
fn grammers_time_offset_follows_now() {
    let (s2, mut rng) = grammers_step2();
    let (s3, _) = s2
        .handle_server_dh_params(
            &h(gv::STEP2_RESPONSE_SERVER_DH_PARAMS_OK),
            &mut rng,
            Timestamp::from_secs(gv::STEP3_NOW - 100),
        )
        .unwrap();
    let client::DhGenResult::Done(out) = s3
        .handle_dh_gen(&h(gv::STEP3_RESPONSE_DH_GEN_OK), &mut rng)
        .unwrap()
    else {
        panic!("retry")
    };
    assert_eq!(out.time_offset, 100);
}

// ---------------------------------------------------------------------------
// Official samples (core.telegram.org/mtproto/samples-auth_key)
// ---------------------------------------------------------------------------

/// The RNG stream for an official sample: nonce, new_nonce, RSA_PAD block
/// (page padding, unused filler, an arbitrary temp_key since the page omits
/// it), b, the page's client_DH padding (then 4 unused bytes).
fn official_rng(nonce: &str, new_nonce: &str, pad: &str, b: &str, dh_pad: &str) -> ReplayRng {
    let pad = h(pad);
    let mut block = pad.clone();
    block.resize(192, 0);
    block.extend_from_slice(&[0x42; 32]);
    let mut dh_pad = h(dh_pad);
    dh_pad.resize(16, 0);
    ReplayRng::new(&[&h(nonce), &h(new_nonce), &block, &h(b), &dh_pad])
}

fn msg_id_of(msg: &str) -> i64 {
    decode_plain(&h(msg)).unwrap().msg_id
}

#[test]
fn official_2025_replays_through_driver() {
    let mut rng = official_rng(
        o25::NONCE,
        o25::NEW_NONCE,
        o25::RSA_PAD_RANDOM_PADDING_BYTES,
        o25::B,
        o25::CLIENT_DH_PADDING,
    );
    let ids = FixedMsgIds::new([
        msg_id_of(o25::MSG_REQ_PQ_MULTI),
        msg_id_of(o25::MSG_REQ_DH_PARAMS),
        msg_id_of(o25::MSG_SET_CLIENT_DH_PARAMS),
    ]);
    let config = HandshakeConfig::new(vec![telegram_production_key().unwrap()], 2);
    let mut hs = ClientHandshake::with_msg_ids(config, ids);
    let now = Timestamp::from_secs(o25::SERVER_TIME as u64);

    let first = hs.start(&mut rng, now).unwrap();
    assert_eq!(hex::encode(&first), o25::MSG_REQ_PQ_MULTI);

    let ClientStep::Send(req_dh) = hs.feed(&h(o25::MSG_RESPQ), &mut rng, now).unwrap() else {
        panic!("expected req_DH_params")
    };
    // Everything but the 256-byte encrypted_data at the end (the page omits
    // the RSA_PAD temp_key, so those bytes cannot be recomputed).
    let want = h(o25::MSG_REQ_DH_PARAMS);
    assert_eq!(req_dh.len(), want.len());
    assert_eq!(
        hex::encode(&req_dh[..want.len() - 256]),
        hex::encode(&want[..want.len() - 256])
    );

    let ClientStep::Send(set_dh) = hs
        .feed(&h(o25::MSG_SERVER_DH_PARAMS_OK), &mut rng, now)
        .unwrap()
    else {
        panic!("expected set_client_DH_params")
    };
    assert_eq!(hex::encode(&set_dh), o25::MSG_SET_CLIENT_DH_PARAMS);

    let ClientStep::Done(out) = hs.feed(&h(o25::MSG_DH_GEN_OK), &mut rng, now).unwrap() else {
        panic!("expected the outcome")
    };
    assert!(hs.is_finished());
    assert_eq!(hex::encode(out.auth_key.as_bytes()), o25::AUTH_KEY);
    assert_eq!(hex::encode(out.auth_key.id()), o25::AUTH_KEY_ID);
    assert_eq!(out.server_salt, o25::SERVER_SALT);
    assert_eq!(
        hex::encode(out.server_salt.to_le_bytes()),
        o25::SERVER_SALT_BYTES
    );
    assert_eq!(out.time_offset, 0);
    assert_eq!(out.rsa_fingerprint, -3_414_540_481_677_951_611);
}

#[test]
fn official_2024_replays_through_typed_states() {
    // The 2024 page's server envelopes carry wrong message_length fields
    // (page_anomalies), so the bodies are fed directly.
    let body = |m: &str| h(m)[20..].to_vec();
    let mut rng = official_rng(
        o24::NONCE,
        o24::NEW_NONCE,
        o24::RSA_PAD_RANDOM_PADDING_BYTES,
        o24::B,
        o24::CLIENT_DH_PADDING,
    );
    let config = HandshakeConfig::new(vec![telegram_production_key().unwrap()], 2);
    let (s1, b1) = client::start(config, &mut rng);
    assert_eq!(b1, body(o24::MSG_REQ_PQ_MULTI));
    let (s2, b2) = s1.handle_res_pq(&body(o24::MSG_RESPQ), &mut rng).unwrap();
    let want = body(o24::MSG_REQ_DH_PARAMS);
    assert_eq!(b2.len(), want.len());
    assert_eq!(b2[..want.len() - 256], want[..want.len() - 256]);
    let now = Timestamp::from_secs(o24::SERVER_TIME as u64 + 5);
    let (s3, b3) = s2
        .handle_server_dh_params(&body(o24::MSG_SERVER_DH_PARAMS_OK), &mut rng, now)
        .unwrap();
    assert_eq!(
        hex::encode(b3),
        hex::encode(body(o24::MSG_SET_CLIENT_DH_PARAMS))
    );
    let client::DhGenResult::Done(out) = s3
        .handle_dh_gen(&body(o24::MSG_DH_GEN_OK), &mut rng)
        .unwrap()
    else {
        panic!("retry")
    };
    assert_eq!(hex::encode(out.auth_key.as_bytes()), o24::AUTH_KEY);
    assert_eq!(hex::encode(out.auth_key.id()), o24::AUTH_KEY_ID);
    assert_eq!(out.server_salt, o24::SERVER_SALT);
    assert_eq!(out.time_offset, -5);
}

#[test]
fn official_2024_envelope_length_anomaly_is_rejected() {
    // resPQ says message_length 168 but carries 80 bytes.
    assert_eq!(
        decode_plain(&h(o24::MSG_RESPQ)).unwrap_err(),
        EnvelopeError::LengthMismatch {
            declared: 168,
            actual: 80
        }
    );
    let mut rng = official_rng(
        o24::NONCE,
        o24::NEW_NONCE,
        o24::RSA_PAD_RANDOM_PADDING_BYTES,
        o24::B,
        o24::CLIENT_DH_PADDING,
    );
    let mut hs = ClientHandshake::new(HandshakeConfig::new(
        vec![telegram_production_key().unwrap()],
        2,
    ));
    let now = Timestamp::from_secs(o24::SERVER_TIME as u64);
    hs.start(&mut rng, now).unwrap();
    let e = hs.feed(&h(o24::MSG_RESPQ), &mut rng, now).unwrap_err();
    assert_eq!(e.step, Step::ResPq);
    assert!(matches!(
        e.kind,
        ErrorKind::Envelope(EnvelopeError::LengthMismatch { .. })
    ));
}

/// The official 2025 exchange with our own RSA key offered instead of
/// Telegram's: the server decrypts `encrypted_data` and finds the page's
/// `p_q_inner_data_dc` and RSA_PAD padding byte for byte.
#[test]
fn official_2025_inner_data_is_exact_under_rsa_pad() {
    let key = test_server_key();
    let mut rng = official_rng(
        o25::NONCE,
        o25::NEW_NONCE,
        o25::RSA_PAD_RANDOM_PADDING_BYTES,
        o25::B,
        o25::CLIENT_DH_PADDING,
    );
    let config = HandshakeConfig::new(vec![key.public_key().clone()], 2);
    let (s1, _) = client::start(config, &mut rng);
    let mut res = types::ResPq::from_bytes(&h(o25::MSG_RESPQ)[20..]).unwrap();
    res.server_public_key_fingerprints = vec![7, key.public_key().fingerprint()];
    let (_, body) = s1.handle_res_pq(&res.to_bytes(), &mut rng).unwrap();
    let req = functions::ReqDhParams::from_bytes(&body).unwrap();
    assert_eq!(req.public_key_fingerprint, key.public_key().fingerprint());
    let plain = key.rsa_pad_decrypt(&req.encrypted_data).unwrap();
    assert_eq!(
        hex::encode(&plain.data_with_padding[..100]),
        o25::P_Q_INNER_DATA_DC
    );
    assert_eq!(
        hex::encode(&plain.data_with_padding[100..]),
        o25::RSA_PAD_RANDOM_PADDING_BYTES
    );
}

// ---------------------------------------------------------------------------
// Unencrypted envelope
// ---------------------------------------------------------------------------

#[test]
fn plain_envelope_roundtrip_and_checks() {
    let m = h(o25::MSG_RESPQ);
    let msg = decode_plain(&m).unwrap();
    assert_eq!(msg.msg_id, 0x6777_e5eb_d2fb_2801);
    assert_eq!(encode_plain(msg.msg_id, msg.body), m);
    assert_eq!(
        decode_plain(&m[..19]).unwrap_err(),
        EnvelopeError::TooShort { len: 19 }
    );
    let mut bad = m.clone();
    bad[3] = 1;
    assert_eq!(
        decode_plain(&bad).unwrap_err(),
        EnvelopeError::NonZeroAuthKeyId
    );
    assert_eq!(
        decode_plain(&m[..m.len() - 4]).unwrap_err(),
        EnvelopeError::LengthMismatch {
            declared: 80,
            actual: 76
        }
    );
    let mut neg = m.clone();
    neg[16..20].copy_from_slice(&(-4i32).to_le_bytes());
    assert!(matches!(
        decode_plain(&neg).unwrap_err(),
        EnvelopeError::LengthMismatch { declared: -4, .. }
    ));
}

// ---------------------------------------------------------------------------
// Client negative tests (mutating the grammers server answers)
// ---------------------------------------------------------------------------

fn grammers_res_pq() -> types::ResPq {
    types::ResPq::from_bytes(&h(gv::STEP1_RESPONSE_RESPQ)).unwrap()
}

fn res_pq_error(res: &[u8], config: HandshakeConfig) -> HandshakeError {
    let mut rng = grammers_rng();
    let (s1, _) = client::start(config, &mut rng);
    match s1.handle_res_pq(res, &mut rng) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

#[test]
fn client_rejects_res_pq_with_wrong_nonce() {
    let mut res = grammers_res_pq();
    res.nonce[0] ^= 1;
    let e = res_pq_error(&res.to_bytes(), grammers_config());
    assert_eq!(
        e,
        HandshakeError::new(Step::ResPq, ErrorKind::NonceMismatch)
    );
}

#[test]
fn client_rejects_unknown_fingerprints() {
    let e = res_pq_error(
        &h(gv::STEP1_RESPONSE_RESPQ),
        HandshakeConfig::without_dc(vec![telegram_production_key().unwrap()]),
    );
    let ErrorKind::NoKnownFingerprint { offered } = &e.kind else {
        panic!("{e}")
    };
    assert_eq!(offered, &grammers_res_pq().server_public_key_fingerprints);
    assert!(e.to_string().contains("b25898df208d2603"));
}

#[test]
fn client_rejects_bad_pq() {
    for pq in [vec![0x7f, 0xff, 0xff, 0xff], vec![], vec![1; 9], vec![1]] {
        let mut res = grammers_res_pq();
        res.pq = pq;
        let e = res_pq_error(&res.to_bytes(), grammers_config());
        assert_eq!(e.kind, ErrorKind::BadPq);
    }
}

#[test]
fn client_refuses_pq_that_is_not_two_distinct_odd_primes() {
    // The grammers pq is 1152574733 * 1583590529; keep one of its primes.
    let (p, q) = (1_152_574_733u64, 1_583_590_529u64);
    for (pq, want_p, want_q) in [(p * p, p, p), (2 * q, 2, q), (q * q, q, q), (2 * 3, 2, 3)] {
        let mut res = grammers_res_pq();
        res.pq = mtproto_crypto::pq::to_be_bytes_trimmed(pq);
        let e = res_pq_error(&res.to_bytes(), grammers_config());
        assert_eq!(
            e,
            HandshakeError::new(
                Step::ResPq,
                ErrorKind::PqNotDistinctOddPrimes {
                    p: want_p,
                    q: want_q
                }
            ),
            "pq = {pq}"
        );
        assert_eq!(
            e.to_string(),
            format!(
                "handshake failed at client resPQ: pq = {want_p} * {want_q} is not the \
                 product of two different odd primes"
            )
        );
    }
}

#[test]
fn client_rejects_truncated_garbage_and_wrong_constructor_at_res_pq() {
    let full = h(gv::STEP1_RESPONSE_RESPQ);
    for cut in [0, 3, 4, 20, 36, full.len() - 1] {
        let e = res_pq_error(&full[..cut], grammers_config());
        assert!(matches!(e.kind, ErrorKind::Decode(_)), "cut {cut}: {e}");
    }
    let e = res_pq_error(&h(gv::STEP3_RESPONSE_DH_GEN_OK), grammers_config());
    assert_eq!(e.kind, ErrorKind::UnexpectedConstructor { id: 0x3bcb_f734 });
    let mut trailing = full.clone();
    trailing.extend_from_slice(&[0; 4]);
    assert!(matches!(
        res_pq_error(&trailing, grammers_config()).kind,
        ErrorKind::Decode(_)
    ));
}

fn grammers_server_dh_ok() -> types::ServerDhParamsOk {
    types::ServerDhParamsOk::from_bytes(&h(gv::STEP2_RESPONSE_SERVER_DH_PARAMS_OK)).unwrap()
}

/// The generic TL runtime inflates `gzip_packed` wherever an object is
/// expected; unencrypted handshake messages never carry it, so the handshake
/// refuses it: at the top as an unexpected constructor, nested (here as the
/// fingerprint vector) as a decode error.
#[test]
fn client_rejects_gzip_packed_in_handshake_answers() {
    fn gzip_packed(inner: &[u8]) -> Vec<u8> {
        let mut out = 0x3072_cfa1u32.to_le_bytes().to_vec();
        mtproto_tl::write_tl_bytes(&mtproto_tl::deflate(inner), &mut out);
        out
    }
    let res = h(gv::STEP1_RESPONSE_RESPQ);
    let e = res_pq_error(&gzip_packed(&res), grammers_config());
    assert_eq!(e.kind, ErrorKind::UnexpectedConstructor { id: 0x3072_cfa1 });
    // resPQ with its Vector<long> (id, count 3, three fingerprints: the last
    // 32 bytes) replaced by a gzip_packed of it.
    let (head, vector) = res.split_at(res.len() - 32);
    assert_eq!(vector[..8], [0x15, 0xc4, 0xb5, 0x1c, 3, 0, 0, 0]);
    let mut nested = head.to_vec();
    nested.extend_from_slice(&gzip_packed(vector));
    let e = res_pq_error(&nested, grammers_config());
    assert!(matches!(e.kind, ErrorKind::Decode(_)), "{e}");
}

/// Re-encrypts the grammers server_DH_inner_data after `mutate`.
fn grammers_answer(mutate: impl FnOnce(&mut types::ServerDhInnerData)) -> Vec<u8> {
    let types::ServerDhParamsOk {
        nonce,
        server_nonce,
        encrypted_answer,
    } = grammers_server_dh_ok();
    let new_nonce: [u8; 32] = h(gv::NEW_NONCE).try_into().unwrap();
    let tmp = cdh::tmp_aes_key_iv(&server_nonce, &new_nonce);
    let data = cdh::decrypt_answer_with_hash(&encrypted_answer, &tmp).unwrap();
    let mut inner = types::ServerDhInnerData::from_bytes(&data).unwrap();
    mutate(&mut inner);
    let bytes = inner.to_bytes();
    let n = (16 - (20 + bytes.len()) % 16) % 16;
    let enc = cdh::encrypt_with_hash(&bytes, &vec![0; n], &tmp).unwrap();
    types::ServerDhParamsOk {
        nonce,
        server_nonce,
        encrypted_answer: enc,
    }
    .to_bytes()
}

fn server_dh_error(body: &[u8]) -> ErrorKind {
    let (s2, mut rng) = grammers_step2();
    kind(s2.handle_server_dh_params(body, &mut rng, grammers_now()))
}

#[test]
fn client_reencrypted_unmodified_answer_is_accepted() {
    // Sanity for the mutation helper: no mutation, the exchange still works.
    let (s2, mut rng) = grammers_step2();
    let (_, body) = s2
        .handle_server_dh_params(&grammers_answer(|_| {}), &mut rng, grammers_now())
        .unwrap();
    let set = functions::SetClientDhParams::from_bytes(&body).unwrap();
    assert_eq!(
        hex::encode(set.to_bytes()),
        gv::STEP3_REQUEST_SET_CLIENT_DH_PARAMS
    );
}

#[test]
fn client_rejects_server_dh_params_nonces() {
    let ok = h(gv::STEP2_RESPONSE_SERVER_DH_PARAMS_OK);
    let mut m = ok.clone();
    m[4] ^= 1;
    assert_eq!(server_dh_error(&m), ErrorKind::NonceMismatch);
    let mut m = ok.clone();
    m[20] ^= 1;
    assert_eq!(server_dh_error(&m), ErrorKind::ServerNonceMismatch);
    // Nonces inside the encrypted answer.
    assert_eq!(
        server_dh_error(&grammers_answer(|a| a.nonce[15] ^= 1)),
        ErrorKind::NonceMismatch
    );
    assert_eq!(
        server_dh_error(&grammers_answer(|a| a.server_nonce[0] ^= 1)),
        ErrorKind::ServerNonceMismatch
    );
}

#[test]
fn client_rejects_bad_answer_hash_and_length() {
    let mut m = h(gv::STEP2_RESPONSE_SERVER_DH_PARAMS_OK);
    let last = m.len() - 1;
    m[last] ^= 0x80; // last ciphertext block: garbles the padding/tail
    assert_eq!(server_dh_error(&m), ErrorKind::BadAnswerHash);
    let mut m = h(gv::STEP2_RESPONSE_SERVER_DH_PARAMS_OK);
    m[100] ^= 1;
    assert_eq!(server_dh_error(&m), ErrorKind::BadAnswerHash);
    let types::ServerDhParamsOk {
        nonce,
        server_nonce,
        encrypted_answer,
    } = grammers_server_dh_ok();
    for len in [0, 17, 16] {
        let short = types::ServerDhParamsOk {
            nonce,
            server_nonce,
            encrypted_answer: encrypted_answer[..len].to_vec(),
        };
        assert_eq!(
            server_dh_error(&short.to_bytes()),
            ErrorKind::EncryptedLength { len }
        );
    }
}

#[test]
fn client_reports_server_dh_params_fail() {
    let res = grammers_res_pq();
    let new_nonce = h(gv::NEW_NONCE);
    let sha = mtproto_crypto::sha::sha1(&[&new_nonce]);
    let mut hash = [0u8; 16];
    hash.copy_from_slice(&sha[4..]);
    let fail = types::ServerDhParamsFail {
        nonce: res.nonce,
        server_nonce: res.server_nonce,
        new_nonce_hash: hash,
    };
    assert_eq!(
        server_dh_error(&fail.to_bytes()),
        ErrorKind::ServerDhParamsFail {
            new_nonce_hash_ok: true
        }
    );
    hash[0] ^= 1;
    let forged = types::ServerDhParamsFail {
        nonce: res.nonce,
        server_nonce: res.server_nonce,
        new_nonce_hash: hash,
    };
    assert_eq!(
        server_dh_error(&forged.to_bytes()),
        ErrorKind::ServerDhParamsFail {
            new_nonce_hash_ok: false
        }
    );
}

#[test]
fn client_rejects_every_dh_rule() {
    // g outside 2..=7.
    assert_eq!(
        server_dh_error(&grammers_answer(|a| a.g = 9)),
        ErrorKind::Dh(DhError::GOutOfRange { g: 9 })
    );
    // g = 2 needs p mod 8 = 7; Telegram's prime is 3 mod 8.
    assert_eq!(
        server_dh_error(&grammers_answer(|a| a.g = 2)),
        ErrorKind::Dh(DhError::GNotQuadraticResidue { g: 2 })
    );
    // dh_prime not 2048 bits (g = 4 has no residue condition, so the size check decides).
    assert_eq!(
        server_dh_error(&grammers_answer(|a| {
            a.g = 4;
            a.dh_prime.remove(0);
        })),
        ErrorKind::Dh(DhError::PrimeWrongSize)
    );
    // dh_prime not a (safe) prime: Telegram's prime + 6 keeps p mod 3 = 2 but is composite.
    let e = server_dh_error(&grammers_answer(|a| {
        let last = a.dh_prime.len() - 1;
        a.dh_prime[last] = a.dh_prime[last].wrapping_add(6);
    }));
    assert!(
        matches!(
            e,
            ErrorKind::Dh(DhError::PrimeNotPrime | DhError::PrimeNotSafe)
        ),
        "{e}"
    );
    // g_a out of (1, p-1) and out of the 2^{2048-64} margin.
    assert_eq!(
        server_dh_error(&grammers_answer(|a| a.g_a = vec![1])),
        ErrorKind::Dh(DhError::GaOutOfRange)
    );
    assert_eq!(
        server_dh_error(&grammers_answer(|a| a.g_a = vec![2])),
        ErrorKind::Dh(DhError::GaUnsafe)
    );
    assert_eq!(
        server_dh_error(&grammers_answer(|a| {
            let mut p = a.dh_prime.clone();
            let last = p.len() - 1;
            p[last] -= 1; // p - 1
            a.g_a = p;
        })),
        ErrorKind::Dh(DhError::GaOutOfRange)
    );
}

/// Which `Set_client_DH_params_answer` a test builds.
#[derive(Clone, Copy)]
enum DhGenKind {
    Ok,
    Retry,
    Fail,
}

/// The fields all three `dh_gen_*` constructors share.
struct DhGenAnswer {
    nonce: [u8; 16],
    server_nonce: [u8; 16],
    new_nonce_hash: [u8; 16],
}

fn dh_gen_answer(kind: DhGenKind, number: u8, tweak: impl FnOnce(&mut DhGenAnswer)) -> Vec<u8> {
    let res = grammers_res_pq();
    let key = mtproto_crypto::AuthKey::from_slice(&h(gv::AUTH_KEY_EXPECTED)).unwrap();
    let new_nonce: [u8; 32] = h(gv::NEW_NONCE).try_into().unwrap();
    let mut a = DhGenAnswer {
        nonce: res.nonce,
        server_nonce: res.server_nonce,
        new_nonce_hash: key.new_nonce_hash(&new_nonce, number),
    };
    tweak(&mut a);
    let DhGenAnswer {
        nonce,
        server_nonce,
        new_nonce_hash,
    } = a;
    let answer: enums::SetClientDhParamsAnswer = match kind {
        DhGenKind::Ok => types::DhGenOk {
            nonce,
            server_nonce,
            new_nonce_hash1: new_nonce_hash,
        }
        .into(),
        DhGenKind::Retry => types::DhGenRetry {
            nonce,
            server_nonce,
            new_nonce_hash2: new_nonce_hash,
        }
        .into(),
        DhGenKind::Fail => types::DhGenFail {
            nonce,
            server_nonce,
            new_nonce_hash3: new_nonce_hash,
        }
        .into(),
    };
    answer.to_bytes()
}

#[test]
fn client_checks_dh_gen_answers() {
    let (s3, rng) = grammers_step3();
    let run = |body: Vec<u8>| {
        let mut r = ReplayRng {
            bytes: rng.bytes.clone(),
            pos: rng.pos,
        };
        kind(s3.clone().handle_dh_gen(&body, &mut r))
    };
    assert_eq!(
        run(dh_gen_answer(DhGenKind::Ok, 1, |a| a.nonce[3] ^= 1)),
        ErrorKind::NonceMismatch
    );
    assert_eq!(
        run(dh_gen_answer(DhGenKind::Ok, 1, |a| a.server_nonce[3] ^= 1)),
        ErrorKind::ServerNonceMismatch
    );
    // dh_gen_ok carrying new_nonce_hash2 (a retry relabelled as ok).
    assert_eq!(
        run(dh_gen_answer(DhGenKind::Ok, 2, |_| {})),
        ErrorKind::NewNonceHashMismatch
    );
    assert_eq!(
        run(dh_gen_answer(DhGenKind::Ok, 1, |a| a.new_nonce_hash[15] ^= 1)),
        ErrorKind::NewNonceHashMismatch
    );
    assert_eq!(
        run(dh_gen_answer(DhGenKind::Fail, 3, |_| {})),
        ErrorKind::DhGenFail
    );
    assert_eq!(
        run(dh_gen_answer(DhGenKind::Fail, 1, |_| {})),
        ErrorKind::NewNonceHashMismatch
    );
    assert_eq!(
        run(h(gv::STEP1_RESPONSE_RESPQ)),
        ErrorKind::UnexpectedConstructor { id: 0x0516_2463 }
    );
    assert!(matches!(
        run(h(gv::STEP3_RESPONSE_DH_GEN_OK)[..40].to_vec()),
        ErrorKind::Decode(_)
    ));
}

#[test]
fn client_dh_gen_retry_uses_aux_hash_and_is_bounded() {
    let (s3, _) = grammers_step3();
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let retry = dh_gen_answer(DhGenKind::Retry, 2, |_| {});
    let client::DhGenResult::Retry(s4, body) = s3.handle_dh_gen(&retry, &mut rng).unwrap() else {
        panic!("expected a retry")
    };
    assert_eq!(s4.retries(), 1);
    // The new set_client_DH_params carries retry_id = auth_key_aux_hash of the
    // previous key ("equal to auth_key_aux_hash from the previous failed attempt").
    let set = functions::SetClientDhParams::from_bytes(&body).unwrap();
    let new_nonce: [u8; 32] = h(gv::NEW_NONCE).try_into().unwrap();
    let tmp = cdh::tmp_aes_key_iv(&set.server_nonce, &new_nonce);
    let data = cdh::decrypt_answer_with_hash(&set.encrypted_data, &tmp).unwrap();
    let inner = types::ClientDhInnerData::from_bytes(&data).unwrap();
    assert_eq!(
        hex::encode(inner.retry_id.to_le_bytes()),
        "d78e45cf63b32cf6"
    );

    // With max_retries = 0 the first retry is refused.
    let mut rng = grammers_rng();
    let mut config = grammers_config();
    config.max_retries = 0;
    let (s1, _) = client::start(config, &mut rng);
    let (s2, _) = s1
        .handle_res_pq(&h(gv::STEP1_RESPONSE_RESPQ), &mut rng)
        .unwrap();
    let (s3, _) = s2
        .handle_server_dh_params(
            &h(gv::STEP2_RESPONSE_SERVER_DH_PARAMS_OK),
            &mut rng,
            grammers_now(),
        )
        .unwrap();
    assert_eq!(
        kind(s3.handle_dh_gen(&retry, &mut rng)),
        ErrorKind::RetriesExhausted { retries: 0 }
    );
}

#[test]
fn driver_rejects_out_of_order_calls() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let now = Timestamp::from_secs(1_700_000_000);
    let mut hs = ClientHandshake::new(grammers_config());
    let e = hs.feed(&h(o25::MSG_RESPQ), &mut rng, now).unwrap_err();
    assert_eq!(e.kind, ErrorKind::OutOfOrder);
    hs.start(&mut rng, now).unwrap();
    assert_eq!(
        hs.start(&mut rng, now).unwrap_err().kind,
        ErrorKind::OutOfOrder
    );
    // A failed step ends the handshake.
    assert!(hs.feed(&[0; 3], &mut rng, now).is_err());
    assert!(hs.is_finished());
    assert_eq!(
        hs.feed(&h(o25::MSG_RESPQ), &mut rng, now).unwrap_err().kind,
        ErrorKind::OutOfOrder
    );
}

// ---------------------------------------------------------------------------
// Client ↔ server in memory
// ---------------------------------------------------------------------------

fn run_pair(
    inner: PqInnerVariant,
    seed: u64,
    mut key_exists: impl FnMut(&mtproto_crypto::AuthKey) -> bool,
) -> Result<
    (
        mtproto_session::handshake::HandshakeOutcome,
        server::ServerOutcome,
    ),
    HandshakeError,
> {
    let key = test_server_key();
    let mut config = HandshakeConfig::without_dc(vec![
        telegram_production_key().unwrap(),
        key.public_key().clone(),
    ]);
    config.inner = inner;
    let mut crng = ChaCha20Rng::seed_from_u64(seed);
    let mut srng = ChaCha20Rng::seed_from_u64(seed ^ 0xffff);
    let now = Timestamp::from_secs(1_735_910_891);
    let mut client = ClientHandshake::new(config);
    let mut srv = ServerHandshake::new(server::ServerConfig::new(vec![key]));
    let mut to_server = client.start(&mut crng, now)?;
    loop {
        match srv.feed(&to_server, &mut srng, now, &mut key_exists)? {
            ServerStep::Send(m) => match client.feed(&m, &mut crng, now)? {
                ClientStep::Send(next) => to_server = next,
                ClientStep::Done(_) => panic!("client done before the server"),
            },
            ServerStep::Done { reply, outcome } => {
                assert_eq!(srv.rsa_scheme(), Some(RsaScheme::RsaPad));
                match client.feed(&reply, &mut crng, now)? {
                    ClientStep::Done(c) => return Ok((c, outcome)),
                    ClientStep::Send(_) => panic!("client wants more"),
                }
            }
        }
    }
}

#[test]
fn client_and_server_agree_for_every_inner_variant() {
    for (i, inner) in [
        PqInnerVariant::Plain,
        PqInnerVariant::Dc { dc: -10_002 },
        PqInnerVariant::Temp { expires_in: 3600 },
        PqInnerVariant::TempDc {
            dc: 2,
            expires_in: 86_400,
        },
    ]
    .into_iter()
    .enumerate()
    {
        let (c, s) = run_pair(inner, i as u64, |_| false).unwrap();
        assert_eq!(c.auth_key, s.auth_key);
        assert_eq!(c.server_salt, s.server_salt);
        assert_eq!(c.time_offset, 0);
        assert_eq!(s.inner, inner);
        assert_eq!(c.expires_in, inner.expires_in());
        assert_eq!(s.rsa_scheme, RsaScheme::RsaPad);
        assert_eq!(c.rsa_fingerprint, s.rsa_fingerprint);
    }
}

#[test]
fn server_retry_on_key_collision_then_ok() {
    let mut first = true;
    let mut seen = Vec::new();
    let (c, s) = run_pair(PqInnerVariant::Dc { dc: 1 }, 77, |k| {
        seen.push(k.id());
        std::mem::replace(&mut first, false)
    })
    .unwrap();
    assert_eq!(c.auth_key, s.auth_key);
    assert_eq!(seen.len(), 2);
    assert_ne!(seen[0], seen[1]);
}

/// The client driver and a server driver in memory, with `key_exists`
/// answering for every key; returns the client's error and the server.
fn run_pair_until_client_error(
    seed: u64,
    key_exists: impl FnMut(&mtproto_crypto::AuthKey) -> bool + Copy,
) -> (HandshakeError, ServerHandshake, Vec<Vec<u8>>) {
    let key = test_server_key();
    let config = HandshakeConfig::new(vec![key.public_key().clone()], 2);
    let mut crng = ChaCha20Rng::seed_from_u64(seed);
    let mut srng = ChaCha20Rng::seed_from_u64(seed ^ 0xffff);
    let now = Timestamp::from_secs(1_735_910_891);
    let mut client = ClientHandshake::new(config);
    let mut srv = ServerHandshake::new(server::ServerConfig::new(vec![key]));
    let mut to_server = client.start(&mut crng, now).unwrap();
    let mut answers = Vec::new();
    loop {
        let ServerStep::Send(m) = srv.feed(&to_server, &mut srng, now, key_exists).unwrap() else {
            panic!("the server finished")
        };
        answers.push(decode_plain(&m).unwrap().body.to_vec());
        match client.feed(&m, &mut crng, now) {
            Ok(ClientStep::Send(next)) => to_server = next,
            Ok(ClientStep::Done(_)) => panic!("client done"),
            Err(e) => return (e, srv, answers),
        }
    }
}

/// auth_key.html, item 9: "dh_gen_fail#a69dae02 nonce:int128
/// server_nonce:int128 new_nonce_hash3:int128". When every key collides the
/// server answers dh_gen_retry SERVER_MAX_RETRIES times (the client, with the
/// same default bound, accepts all of them), then dh_gen_fail, which the
/// client reports as a typed DhGenFail after checking new_nonce_hash3.
#[test]
fn server_sends_dh_gen_fail_when_collisions_exhaust_retries() {
    let (e, srv, answers) = run_pair_until_client_error(78, |_| true);
    assert_eq!(
        e,
        HandshakeError::new(Step::DhGenAnswer, ErrorKind::DhGenFail)
    );
    assert!(srv.is_finished());
    assert_eq!(
        srv.failure(),
        Some(&HandshakeError::new(
            Step::ServerSetClientDhParams,
            ErrorKind::RetriesExhausted {
                retries: server::SERVER_MAX_RETRIES
            }
        ))
    );
    // resPQ, server_DH_params_ok, 5 x dh_gen_retry, dh_gen_fail.
    let ids: Vec<u32> = answers
        .iter()
        .map(|a| u32::from_le_bytes(a[..4].try_into().unwrap()))
        .collect();
    let mut want = vec![0x0516_2463, 0xd0e8_075c];
    want.extend([0x46dc_1fb9; server::SERVER_MAX_RETRIES as usize]);
    want.push(0xa69d_ae02);
    assert_eq!(ids, want);

    // The typed layer: the compatible method returns only the error.
    let (at, key) = server_at_req_dh(31);
    let new_nonce = [4; 32];
    let req = req_dh(&at, &key, false, &inner_data(&at, new_nonce));
    let (st, _) = at
        .state
        .handle_req_dh_params(
            &req.to_bytes(),
            &mut ChaCha20Rng::seed_from_u64(2),
            Timestamp::from_secs(1),
        )
        .unwrap();
    let tmp = cdh::tmp_aes_key_iv(&at.res.server_nonce, &new_nonce);
    let b = cdh::DhSecret::from_bytes([6; 256]);
    let g_b = cdh::public_value(3, &b, &cdh::TELEGRAM_DH_PRIME).unwrap();
    let set = |retry_id: i64| {
        let inner = types::ClientDhInnerData {
            nonce: at.nonce,
            server_nonce: at.res.server_nonce,
            retry_id,
            g_b: g_b.to_vec(),
        }
        .to_bytes();
        let n = (16 - (20 + inner.len()) % 16) % 16;
        functions::SetClientDhParams {
            nonce: at.nonce,
            server_nonce: at.res.server_nonce,
            encrypted_data: cdh::encrypt_with_hash(&inner, &vec![0; n], &tmp).unwrap(),
        }
        .to_bytes()
    };
    let mut state = st;
    let mut retry_id = 0;
    for _ in 0..server::SERVER_MAX_RETRIES {
        let mut aux = [0u8; 8];
        let server::SetClientDhAnswer::Retry(next, reply) = state
            .answer_set_client_dh_params(&set(retry_id), |k| {
                aux = k.aux_hash();
                true
            })
            .unwrap()
        else {
            panic!("expected dh_gen_retry")
        };
        types::DhGenRetry::from_bytes(&reply).unwrap();
        // Same g_b and a each time: the same colliding key, whose aux hash
        // is the next retry_id.
        retry_id = i64::from_le_bytes(aux);
        state = next;
    }
    let mut fail_key = None;
    let server::SetClientDhAnswer::Fail(reply, error) = state
        .clone()
        .answer_set_client_dh_params(&set(retry_id), |k| {
            fail_key = Some(k.clone());
            true
        })
        .unwrap()
    else {
        panic!("expected dh_gen_fail")
    };
    assert_eq!(
        error.kind,
        ErrorKind::RetriesExhausted {
            retries: server::SERVER_MAX_RETRIES
        }
    );
    let fail = types::DhGenFail::from_bytes(&reply).unwrap();
    assert_eq!(
        (fail.nonce, fail.server_nonce),
        (at.nonce, at.res.server_nonce)
    );
    assert_eq!(
        fail.new_nonce_hash3,
        fail_key.unwrap().new_nonce_hash(&new_nonce, 3)
    );
    // The error names no secret: only the step and the count.
    assert_eq!(
        error.to_string(),
        "handshake failed at server set_client_DH_params: dh_gen_retry after 5 retries"
    );
    assert_eq!(
        kind(state.handle_set_client_dh_params(&set(retry_id), |_| true)),
        ErrorKind::RetriesExhausted {
            retries: server::SERVER_MAX_RETRIES
        }
    );
}

#[test]
fn server_answers_req_pq_with_fresh_31_bit_primes() {
    let key = test_server_key();
    for seed in 0..20 {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let s = server::AwaitingReqPq::new(server::ServerConfig::new(vec![key.clone()]));
        let multi = seed % 2 == 0;
        let nonce = [seed.to_le_bytes()[0]; 16];
        let req = if multi {
            functions::ReqPqMulti { nonce }.to_bytes()
        } else {
            functions::ReqPq { nonce }.to_bytes()
        };
        let (st, body) = s.handle_req_pq(&req, &mut rng).unwrap();
        let res = types::ResPq::from_bytes(&body).unwrap();
        assert_eq!(res.nonce, [seed.to_le_bytes()[0]; 16]);
        assert_eq!(
            res.server_public_key_fingerprints,
            vec![key.public_key().fingerprint()]
        );
        let (pq, p, q) = st.pq();
        assert!(p < q && p * q == pq);
        assert!((1 << 30..1 << 32).contains(&p) && (1 << 30..1 << 32).contains(&q));
        assert!(mtproto_crypto::pq::is_prime_u64(p) && mtproto_crypto::pq::is_prime_u64(q));
        assert_eq!(
            mtproto_crypto::pq::factorize_be(&res.pq).unwrap(),
            (
                mtproto_crypto::pq::to_be_bytes_trimmed(p),
                mtproto_crypto::pq::to_be_bytes_trimmed(q)
            )
        );
    }
}

// ---------------------------------------------------------------------------
// Server role: Telethon-style legacy RSA and negative tests
// ---------------------------------------------------------------------------

struct ServerAtReqDh {
    state: server::AwaitingReqDhParams,
    res: types::ResPq,
    nonce: [u8; 16],
    p: Vec<u8>,
    q: Vec<u8>,
}

fn server_at_req_dh(seed: u64) -> (ServerAtReqDh, RsaPrivateKey) {
    let key = test_server_key();
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let nonce = [0x5a; 16];
    let s = server::AwaitingReqPq::new(server::ServerConfig::new(vec![key.clone()]));
    // Telethon 1.x still sends req_pq in some paths; accept both.
    let (state, body) = s
        .handle_req_pq(&functions::ReqPq { nonce }.to_bytes(), &mut rng)
        .unwrap();
    let res = types::ResPq::from_bytes(&body).unwrap();
    let (p, q) = mtproto_crypto::pq::factorize_be(&res.pq).unwrap();
    (
        ServerAtReqDh {
            state,
            res,
            nonce,
            p,
            q,
        },
        key,
    )
}

fn inner_data(at: &ServerAtReqDh, new_nonce: [u8; 32]) -> types::PQInnerData {
    types::PQInnerData {
        pq: at.res.pq.clone(),
        p: at.p.clone(),
        q: at.q.clone(),
        nonce: at.nonce,
        server_nonce: at.res.server_nonce,
        new_nonce,
    }
}

fn req_dh(
    at: &ServerAtReqDh,
    key: &RsaPrivateKey,
    legacy: bool,
    inner: &types::PQInnerData,
) -> functions::ReqDhParams {
    let data = inner.to_bytes();
    let encrypted = if legacy {
        key.public_key()
            .legacy_encrypt_with(&data, &vec![0x11; 235 - data.len()])
            .unwrap()
    } else {
        key.public_key()
            .rsa_pad_encrypt_with(
                &data,
                &vec![0x22; 192 - data.len()],
                &[0x33; 32],
                mtproto_crypto::rsa::increment_temp_key,
            )
            .unwrap()
    };
    functions::ReqDhParams {
        nonce: at.nonce,
        server_nonce: at.res.server_nonce,
        p: at.p.clone(),
        q: at.q.clone(),
        public_key_fingerprint: key.public_key().fingerprint(),
        encrypted_data: encrypted.to_vec(),
    }
}

fn req_dh_error(req: &functions::ReqDhParams, seed: u64) -> ErrorKind {
    let (at, _) = server_at_req_dh(seed);
    let mut rng = ChaCha20Rng::seed_from_u64(seed + 100);
    kind(
        at.state
            .handle_req_dh_params(&req.to_bytes(), &mut rng, Timestamp::from_secs(1)),
    )
}

/// Emulates Telethon 1.45 (req_pq, p_q_inner_data without dc, legacy RSA,
/// retry_id 0) against the server role, and checks every value it would check.
#[test]
fn server_accepts_telethon_legacy_rsa() {
    let (at, key) = server_at_req_dh(5);
    let new_nonce = [0x77; 32];
    let req = req_dh(&at, &key, true, &inner_data(&at, new_nonce));
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let now = Timestamp::from_secs(1_700_000_123);
    let (st, body) = at
        .state
        .clone()
        .handle_req_dh_params(&req.to_bytes(), &mut rng, now)
        .unwrap();
    assert_eq!(st.rsa_scheme(), RsaScheme::LegacySha1);
    assert_eq!(st.inner_variant(), PqInnerVariant::Plain);
    let enums::ServerDhParams::Ok(types::ServerDhParamsOk {
        nonce,
        server_nonce,
        encrypted_answer,
    }) = enums::ServerDhParams::from_bytes(&body).unwrap()
    else {
        panic!("expected server_DH_params_ok")
    };
    assert_eq!((nonce, server_nonce), (at.nonce, at.res.server_nonce));
    let tmp = cdh::tmp_aes_key_iv(&server_nonce, &new_nonce);
    let data = cdh::decrypt_answer_with_hash(&encrypted_answer, &tmp).unwrap();
    let ans = types::ServerDhInnerData::from_bytes(&data).unwrap();
    assert_eq!(ans.g, 3);
    assert_eq!(ans.dh_prime, cdh::TELEGRAM_DH_PRIME.to_vec());
    assert_eq!(ans.server_time, 1_700_000_123);
    cdh::check_g_a(&ans.g_a, &ans.dh_prime).unwrap();

    // Client side by hand, as Telethon does it.
    let b = cdh::DhSecret::from_bytes([0x99; 256]);
    let g_b = cdh::public_value(3, &b, &ans.dh_prime).unwrap();
    let client_key = cdh::compute_auth_key(&ans.g_a, &b, &ans.dh_prime).unwrap();
    let inner = types::ClientDhInnerData {
        nonce,
        server_nonce,
        retry_id: 0,
        g_b: g_b.to_vec(),
    }
    .to_bytes();
    let n = (16 - (20 + inner.len()) % 16) % 16;
    let set = functions::SetClientDhParams {
        nonce,
        server_nonce,
        encrypted_data: cdh::encrypt_with_hash(&inner, &vec![0; n], &tmp).unwrap(),
    };
    let server::SetClientDhResult::Done(reply, outcome) = st
        .handle_set_client_dh_params(&set.to_bytes(), |_| false)
        .unwrap()
    else {
        panic!("expected dh_gen_ok")
    };
    assert_eq!(outcome.auth_key, client_key);
    assert_eq!(outcome.rsa_scheme, RsaScheme::LegacySha1);
    assert_eq!(
        outcome.server_salt,
        cdh::server_salt(&new_nonce, &server_nonce)
    );
    let ok = types::DhGenOk::from_bytes(&reply).unwrap();
    assert_eq!(ok.new_nonce_hash1, client_key.new_nonce_hash(&new_nonce, 1));
}

#[test]
fn server_rejects_bad_req_dh_params() {
    let (at, key) = server_at_req_dh(11);
    let good_inner = inner_data(&at, [1; 32]);
    let good = req_dh(&at, &key, false, &good_inner);
    assert!(at
        .state
        .clone()
        .handle_req_dh_params(
            &good.to_bytes(),
            &mut ChaCha20Rng::seed_from_u64(1),
            Timestamp::from_secs(1)
        )
        .is_ok());

    let mut r = good.clone();
    r.nonce[0] ^= 1;
    assert_eq!(req_dh_error(&r, 11), ErrorKind::NonceMismatch);
    let mut r = good.clone();
    r.server_nonce[0] ^= 1;
    assert_eq!(req_dh_error(&r, 11), ErrorKind::ServerNonceMismatch);
    // p and q swapped (p < q is required), or not the factors we sent.
    let mut r = good.clone();
    std::mem::swap(&mut r.p, &mut r.q);
    assert_eq!(req_dh_error(&r, 11), ErrorKind::BadProofOfWork);
    let mut r = good.clone();
    r.p = vec![1];
    assert_eq!(req_dh_error(&r, 11), ErrorKind::BadProofOfWork);
    let mut r = good.clone();
    r.public_key_fingerprint ^= 1;
    assert_eq!(
        req_dh_error(&r, 11),
        ErrorKind::UnknownFingerprint {
            fingerprint: good.public_key_fingerprint ^ 1
        }
    );
    let mut r = good.clone();
    r.encrypted_data[200] ^= 1;
    assert_eq!(req_dh_error(&r, 11), ErrorKind::RsaDecryptFailed);
    let mut r = good.clone();
    r.encrypted_data.truncate(255);
    assert_eq!(req_dh_error(&r, 11), ErrorKind::RsaDecryptFailed);
    // Valid RSA_PAD, but the inner data names other nonces / another pq.
    let mut inner = good_inner.clone();
    inner.new_nonce = [2; 32];
    inner.nonce[1] ^= 1;
    assert_eq!(
        req_dh_error(&req_dh(&at, &key, false, &inner), 11),
        ErrorKind::NonceMismatch
    );
    let mut inner = good_inner.clone();
    inner.server_nonce[1] ^= 1;
    assert_eq!(
        req_dh_error(&req_dh(&at, &key, true, &inner), 11),
        ErrorKind::ServerNonceMismatch
    );
    let mut inner = good_inner.clone();
    inner.pq = vec![0x0f];
    assert_eq!(
        req_dh_error(&req_dh(&at, &key, false, &inner), 11),
        ErrorKind::BadProofOfWork
    );
    // Legacy refused when disabled.
    let legacy = req_dh(&at, &key, true, &good_inner);
    let mut cfg = server::ServerConfig::new(vec![key.clone()]);
    cfg.allow_legacy_rsa = false;
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let (st, _) = server::AwaitingReqPq::new(cfg)
        .handle_req_pq(&functions::ReqPq { nonce: at.nonce }.to_bytes(), &mut rng)
        .unwrap();
    assert_eq!(
        kind(st.handle_req_dh_params(&legacy.to_bytes(), &mut rng, Timestamp::from_secs(1))),
        ErrorKind::RsaDecryptFailed
    );
    // Truncated, garbage, wrong constructor.
    let bytes = good.to_bytes();
    for cut in [0, 5, 40, bytes.len() - 1] {
        let (at, _) = server_at_req_dh(11);
        let e = kind(at.state.handle_req_dh_params(
            &bytes[..cut],
            &mut ChaCha20Rng::seed_from_u64(0),
            Timestamp::from_secs(1),
        ));
        assert!(matches!(e, ErrorKind::Decode(_)), "{e}");
    }
    let (at, _) = server_at_req_dh(11);
    assert_eq!(
        kind(at.state.handle_req_dh_params(
            &h(gv::STEP1_REQUEST_REQ_PQ_MULTI),
            &mut ChaCha20Rng::seed_from_u64(0),
            Timestamp::from_secs(1),
        )),
        ErrorKind::UnexpectedConstructor { id: 0xbe7e_8ef1 }
    );
}

#[test]
fn server_rejects_bad_set_client_dh_params() {
    let (at, key) = server_at_req_dh(21);
    let new_nonce = [3; 32];
    let req = req_dh(&at, &key, false, &inner_data(&at, new_nonce));
    let (st, _) = at
        .state
        .handle_req_dh_params(
            &req.to_bytes(),
            &mut ChaCha20Rng::seed_from_u64(2),
            Timestamp::from_secs(1),
        )
        .unwrap();
    let tmp = cdh::tmp_aes_key_iv(&at.res.server_nonce, &new_nonce);
    let set = |g_b: Vec<u8>, retry_id: i64, nonce: [u8; 16], outer_nonce: [u8; 16]| {
        let inner = types::ClientDhInnerData {
            nonce,
            server_nonce: at.res.server_nonce,
            retry_id,
            g_b,
        }
        .to_bytes();
        let n = (16 - (20 + inner.len()) % 16) % 16;
        functions::SetClientDhParams {
            nonce: outer_nonce,
            server_nonce: at.res.server_nonce,
            encrypted_data: cdh::encrypt_with_hash(&inner, &vec![0; n], &tmp).unwrap(),
        }
        .to_bytes()
    };
    let g_b = cdh::public_value(
        3,
        &cdh::DhSecret::from_bytes([5; 256]),
        &cdh::TELEGRAM_DH_PRIME,
    )
    .unwrap()
    .to_vec();
    let n = at.nonce;
    let mut other = n;
    other[0] ^= 1;
    let run = |body: Vec<u8>| kind(st.clone().handle_set_client_dh_params(&body, |_| false));
    assert_eq!(
        run(set(vec![1], 0, n, n)),
        ErrorKind::Dh(DhError::GbOutOfRange)
    );
    assert_eq!(run(set(vec![2], 0, n, n)), ErrorKind::Dh(DhError::GbUnsafe));
    assert_eq!(run(set(g_b.clone(), 7, n, n)), ErrorKind::BadRetryId);
    assert_eq!(run(set(g_b.clone(), 0, other, n)), ErrorKind::NonceMismatch);
    assert_eq!(run(set(g_b.clone(), 0, n, other)), ErrorKind::NonceMismatch);
    let mut bad_hash = set(g_b.clone(), 0, n, n);
    let last = bad_hash.len() - 1;
    bad_hash[last] ^= 1;
    assert_eq!(run(bad_hash), ErrorKind::BadAnswerHash);
    assert!(matches!(
        run(set(g_b.clone(), 0, n, n)[..30].to_vec()),
        ErrorKind::Decode(_)
    ));
    // And the good one goes through.
    assert!(st
        .clone()
        .handle_set_client_dh_params(&set(g_b, 0, n, n), |_| false)
        .is_ok());
}

#[test]
fn server_driver_rejects_garbage_envelopes() {
    let mut srv = ServerHandshake::new(server::ServerConfig::new(vec![test_server_key()]));
    let mut rng = ChaCha20Rng::seed_from_u64(0);
    let now = Timestamp::from_secs(1);
    let e = srv.feed(&[1; 40], &mut rng, now, |_| false).unwrap_err();
    assert_eq!(e.step, Step::ServerReqPq);
    assert_eq!(e.kind, ErrorKind::Envelope(EnvelopeError::NonZeroAuthKeyId));
    assert!(srv.is_finished());
    assert_eq!(
        srv.feed(&h(o25::MSG_REQ_PQ_MULTI), &mut rng, now, |_| false)
            .unwrap_err()
            .kind,
        ErrorKind::OutOfOrder
    );
    // req_pq through the driver.
    let mut srv = ServerHandshake::new(server::ServerConfig::new(vec![test_server_key()]));
    let ServerStep::Send(m) = srv
        .feed(&h(o25::MSG_REQ_PQ_MULTI), &mut rng, now, |_| false)
        .unwrap()
    else {
        panic!()
    };
    let msg = decode_plain(&m).unwrap();
    assert_eq!(msg.msg_id % 4, 1);
    assert_eq!(
        types::ResPq::from_bytes(msg.body).unwrap().nonce.to_vec(),
        h(o25::NONCE)
    );
}

// ---------------------------------------------------------------------------
// Lost answers: the server re-sends its remembered answer
// ---------------------------------------------------------------------------

fn with_msg_id(msg: &[u8], msg_id: i64) -> Vec<u8> {
    encode_plain(msg_id, decode_plain(msg).unwrap().body)
}

/// auth_key.html, "Error Handling (Lost Queries and Responses)": a repeated,
/// byte-identical request gets the same answer again (fresh msg_id, no
/// randomness drawn, no key lookup), at every step including after
/// dh_gen_retry and after dh_gen_ok; the client completes with the re-sent
/// answers.
#[test]
fn server_resends_remembered_answer_to_repeated_requests() {
    let key = test_server_key();
    let config = HandshakeConfig::new(vec![key.public_key().clone()], 2);
    let mut crng = ChaCha20Rng::seed_from_u64(41);
    let mut srng = ChaCha20Rng::seed_from_u64(42);
    let now = Timestamp::from_secs(1_735_910_891);
    let mut client = ClientHandshake::new(config);
    let mut srv = ServerHandshake::new(server::ServerConfig::new(vec![key]));
    let mut lookups = 0;
    let mut first_lookup = true;
    let mut exists = |_: &mtproto_crypto::AuthKey| {
        lookups += 1;
        std::mem::replace(&mut first_lookup, false)
    };

    let mut to_server = client.start(&mut crng, now).unwrap();
    let mut bodies = Vec::new();
    let outcome = loop {
        let event = srv.feed(&to_server, &mut srng, now, &mut exists).unwrap();
        let pos = srng.get_word_pos();
        // The client lost that answer and repeats its request (new msg_id,
        // same body).
        let repeat = with_msg_id(&to_server, decode_plain(&to_server).unwrap().msg_id + 4);
        let ServerStep::Send(again) = srv.feed(&repeat, &mut srng, now, &mut exists).unwrap()
        else {
            panic!("a repeat re-sends, it does not finish again")
        };
        assert_eq!(srng.get_word_pos(), pos, "a repeat draws no randomness");
        let (first, done) = match event {
            ServerStep::Send(m) => (m, None),
            ServerStep::Done { reply, outcome } => (reply, Some(outcome)),
        };
        let (m1, m2) = (decode_plain(&first).unwrap(), decode_plain(&again).unwrap());
        assert_eq!(m2.body, m1.body, "the same answer");
        assert!(m2.msg_id > m1.msg_id && m2.msg_id % 4 == 1);
        bodies.push(m1.body.to_vec());
        // The client gets only the re-sent copy.
        match client.feed(&again, &mut crng, now).unwrap() {
            ClientStep::Send(next) => to_server = next,
            ClientStep::Done(c) => break (c, done.unwrap()),
        }
    };
    assert_eq!(outcome.0.auth_key, outcome.1.auth_key);
    assert!(srv.is_finished());
    // resPQ, server_DH_params_ok, dh_gen_retry, dh_gen_ok; the repeat of the
    // collided set_client_DH_params did not ask about the key again.
    let ids: Vec<u32> = bodies
        .iter()
        .map(|b| u32::from_le_bytes(b[..4].try_into().unwrap()))
        .collect();
    assert_eq!(ids, [0x0516_2463, 0xd0e8_075c, 0x46dc_1fb9, 0x3bcb_f734]);
    assert_eq!(lookups, 2);
}

/// "exactly the same request and not just similar": a request that differs
/// in one byte is processed (and here rejected), not answered from memory;
/// an error forgets the remembered answer.
#[test]
fn server_answers_only_identical_repeats() {
    let mut srv = ServerHandshake::new(server::ServerConfig::new(vec![test_server_key()]));
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let now = Timestamp::from_secs(1);
    let req = h(o25::MSG_REQ_PQ_MULTI);
    let ServerStep::Send(res) = srv.feed(&req, &mut rng, now, |_| false).unwrap() else {
        panic!()
    };
    let mut similar = req.clone();
    let last = similar.len() - 1;
    similar[last] ^= 1; // another nonce
    assert_eq!(
        srv.feed(&similar, &mut rng, now, |_| false).unwrap_err(),
        HandshakeError::new(
            Step::ServerReqDhParams,
            ErrorKind::UnexpectedConstructor { id: 0xbe7e_8ef1 }
        )
    );
    // The handshake ended: the exact repeat is no longer answered either.
    assert!(srv.is_finished());
    assert_eq!(
        srv.feed(&req, &mut rng, now, |_| false).unwrap_err().kind,
        ErrorKind::OutOfOrder
    );
    assert_eq!(
        u32::from_le_bytes(decode_plain(&res).unwrap().body[..4].try_into().unwrap()),
        0x0516_2463
    );
}

/// "The server remembers the response for up to 10 minutes after having
/// received the query in 1)": a repeat 600 s after req_pq is answered, one
/// 601 s after is processed as a new request (here: out of place).
#[test]
fn server_forgets_answers_after_ten_minutes() {
    let req = h(o25::MSG_REQ_PQ_MULTI);
    let t0 = 1_700_000_000;
    for (later, remembered) in [(600, true), (601, false)] {
        let mut srv = ServerHandshake::new(server::ServerConfig::new(vec![test_server_key()]));
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let first = srv
            .feed(&req, &mut rng, Timestamp::from_secs(t0), |_| false)
            .unwrap();
        let again = srv.feed(&req, &mut rng, Timestamp::from_secs(t0 + later), |_| false);
        if remembered {
            let (ServerStep::Send(a), ServerStep::Send(b)) = (first, again.unwrap()) else {
                panic!("expected resPQ twice")
            };
            assert_eq!(
                decode_plain(&a).unwrap().body,
                decode_plain(&b).unwrap().body
            );
        } else {
            assert_eq!(
                again.unwrap_err().kind,
                ErrorKind::UnexpectedConstructor { id: 0xbe7e_8ef1 }
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Server msg_id parity seen by the client
// ---------------------------------------------------------------------------

/// description.html: "server message identifiers modulo 4 yield 1 if the
/// message is a response to a client message, and 3 otherwise." Each of the
/// three official 2025 server answers with msg_id 0, 2 or 3 mod 4 is a typed
/// BadServerMsgId at its step; with 1 mod 4 (as recorded) the flow completes.
#[test]
fn client_rejects_server_msg_id_with_wrong_parity() {
    let answers = [
        (o25::MSG_RESPQ, Step::ResPq),
        (o25::MSG_SERVER_DH_PARAMS_OK, Step::ServerDhParams),
        (o25::MSG_DH_GEN_OK, Step::DhGenAnswer),
    ];
    for (i, (bad_msg, step)) in answers.iter().enumerate() {
        for low in [0i64, 2, 3] {
            let mut rng = official_rng(
                o25::NONCE,
                o25::NEW_NONCE,
                o25::RSA_PAD_RANDOM_PADDING_BYTES,
                o25::B,
                o25::CLIENT_DH_PADDING,
            );
            let config = HandshakeConfig::new(vec![telegram_production_key().unwrap()], 2);
            let mut hs = ClientHandshake::new(config);
            let now = Timestamp::from_secs(o25::SERVER_TIME as u64);
            hs.start(&mut rng, now).unwrap();
            for (good, _) in &answers[..i] {
                assert_eq!(msg_id_of(good) % 4, 1);
                hs.feed(&h(good), &mut rng, now).unwrap();
            }
            let msg_id = (msg_id_of(bad_msg) & !3) | low;
            let e = hs
                .feed(&with_msg_id(&h(bad_msg), msg_id), &mut rng, now)
                .unwrap_err();
            assert_eq!(
                e,
                HandshakeError::new(*step, ErrorKind::BadServerMsgId { msg_id })
            );
            assert!(hs.is_finished());
            assert!(
                e.to_string().contains(&format!("{low} mod 4, not 1")),
                "{e}"
            );
        }
    }
}
