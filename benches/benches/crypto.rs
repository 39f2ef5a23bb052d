//! Crypto benchmarks: mtproto-crypto vs grammers-crypto 0.11, in one run, plus
//! the hardware limit (chained AES-256 block encryptions over 1 MiB).
//!
//! Run: `cargo bench -p mtproto-benches --bench crypto -- --warm-up-time 1 --measurement-time 3`
//! Min-of-N interleaved harness instead of criterion: `MIN_OF_N=1 cargo bench -p mtproto-benches --bench crypto`
#![allow(missing_docs, clippy::unwrap_used)]

use aes::cipher::consts::U16;
use aes::cipher::{
    BlockCipherEncBackend, BlockCipherEncClosure, BlockCipherEncrypt, BlockSizeUser, KeyInit,
};
use criterion::{black_box, criterion_group, BenchmarkId, Criterion, Throughput};
use mtproto_crypto::packet::{self, AuthKey, Direction};
use mtproto_crypto::{dh, ige, pq};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

const MIB: usize = 1 << 20;
const KEY: [u8; 32] = [0x42; 32];
const IV: [u8; 32] = [0x17; 32];

/// Chained AES-256 inside one backend closure (AES rounds inlined, block in a
/// register): the strictest form of the hardware limit.
struct Chain(usize, [u8; 16]);
impl BlockSizeUser for Chain {
    type BlockSize = U16;
}
impl BlockCipherEncClosure for &mut Chain {
    fn call<B: BlockCipherEncBackend<BlockSize = U16>>(self, backend: &B) {
        let mut block = aes::Block::from(self.1);
        for _ in 0..self.0 {
            backend.encrypt_block((&mut block).into());
        }
        self.1 = block.into();
    }
}

fn bench_ige(c: &mut Criterion) {
    let mut g = c.benchmark_group("ige_1MiB");
    g.throughput(Throughput::Bytes(MIB as u64));
    let mut buf = vec![0x5au8; MIB];

    // Hardware limit: every block is the previous AES output (the IGE dependency chain).
    let cipher = aes::Aes256::new(&KEY.into());
    g.bench_function("limit_chained_aes256", |b| {
        b.iter(|| {
            let mut block = aes::Block::from([0u8; 16]);
            for _ in 0..MIB / 16 {
                cipher.encrypt_block(&mut block);
            }
            black_box(block)
        })
    });
    g.bench_function("limit_chained_aes256_backend", |b| {
        b.iter(|| {
            let mut chain = Chain(MIB / 16, [0u8; 16]);
            cipher.encrypt_with_backend(&mut chain);
            black_box(chain.1)
        })
    });
    g.bench_function("ours_encrypt", |b| {
        b.iter(|| ige::encrypt(black_box(&mut buf), &KEY, &IV).unwrap())
    });
    g.bench_function("ours_decrypt", |b| {
        b.iter(|| ige::decrypt(black_box(&mut buf), &KEY, &IV).unwrap())
    });
    g.bench_function("grammers_encrypt", |b| {
        b.iter(|| grammers_crypto::aes::ige_encrypt(black_box(&mut buf), &KEY, &IV))
    });
    g.bench_function("grammers_decrypt", |b| {
        b.iter(|| grammers_crypto::aes::ige_decrypt(black_box(&mut buf), &KEY, &IV))
    });
    g.finish();
}

/// A valid inner plaintext of `len` bytes (32-byte header with message_data_length).
fn inner_plaintext(len: usize) -> Vec<u8> {
    let mut p: Vec<u8> = (0..len).map(|i: usize| i.to_le_bytes()[0]).collect();
    p[28..32].copy_from_slice(&i32::try_from(len - 32).unwrap_or(i32::MAX).to_le_bytes());
    p
}

fn bench_packet(c: &mut Criterion) {
    let key_bytes: [u8; 256] = core::array::from_fn(|i| (i * 7 + 3).to_le_bytes()[0]);
    let ours_key = AuthKey::from_bytes(key_bytes);
    let gr_key = grammers_crypto::AuthKey::from_bytes(key_bytes);
    let mut g = c.benchmark_group("packet_encrypt_plus_decrypt");
    for len in [64usize, 64 * 1024] {
        let plain = inner_plaintext(len);
        // A server->client packet to decrypt (both libraries decrypt the same bytes).
        let mut server_packet = Vec::new();
        packet::encrypt_into(
            &ours_key,
            Direction::ServerToClient,
            &plain,
            &[9u8; 16],
            &mut server_packet,
        )
        .unwrap();
        g.throughput(Throughput::Bytes(len as u64));

        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut out = Vec::with_capacity(len + 64);
        let mut inbuf = server_packet.clone();
        g.bench_with_input(BenchmarkId::new("ours", len), &len, |b, _| {
            b.iter(|| {
                packet::encrypt_into_rng(
                    &ours_key,
                    Direction::ClientToServer,
                    &plain,
                    &mut rng,
                    &mut out,
                )
                .unwrap();
                inbuf.copy_from_slice(&server_packet);
                let m = packet::decrypt_in_place(&ours_key, Direction::ServerToClient, &mut inbuf)
                    .unwrap();
                black_box(m.body.len());
            })
        });

        let mut dq = grammers_crypto::DequeBuffer::with_capacity(len + 64, 32);
        let mut inbuf = server_packet.clone();
        g.bench_with_input(BenchmarkId::new("grammers", len), &len, |b, _| {
            b.iter(|| {
                dq.clear();
                dq.extend(plain.iter());
                grammers_crypto::encrypt_data_v2(&mut dq, &gr_key);
                inbuf.copy_from_slice(&server_packet);
                let pt = grammers_crypto::decrypt_data_v2(&mut inbuf, &gr_key).unwrap();
                black_box(pt.len());
            })
        });
    }
    g.finish();
}

/// The parts of one short packet's encryption, each alone (moved here from
/// scratch timing code that used to live in `mtproto-crypto/src/packet.rs`):
/// AES-256 key setup, the MTProto 2.0 KDF, SHA-256 of the 112-byte msg_key
/// input, and a 64-byte packet sealed and opened.
fn bench_packet_parts(c: &mut Criterion) {
    let key = AuthKey::from_bytes(core::array::from_fn(|i| (i * 7 + 3).to_le_bytes()[0]));
    let plain = inner_plaintext(64);
    let mut sealed = Vec::new();
    packet::encrypt_into(
        &key,
        Direction::ServerToClient,
        &plain,
        &[9; 16],
        &mut sealed,
    )
    .unwrap();
    let mut g = c.benchmark_group("packet_parts");
    g.bench_function("aes256_enc_key_setup", |b| {
        b.iter(|| black_box(aes::Aes256::new(black_box(&KEY).into())))
    });
    g.bench_function("kdf", |b| {
        b.iter(|| {
            black_box(packet::kdf(
                black_box(&key),
                black_box(&[3u8; 16]),
                Direction::ClientToServer,
            ))
        })
    });
    let m112 = [5u8; 112];
    g.bench_function("sha256_112_bytes", |b| {
        b.iter(|| black_box(mtproto_crypto::sha::sha256(&[black_box(&m112[..])])))
    });
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut out = Vec::with_capacity(256);
    g.bench_function("encrypt_into_rng_64_bytes", |b| {
        b.iter(|| {
            packet::encrypt_into_rng(&key, Direction::ClientToServer, &plain, &mut rng, &mut out)
                .unwrap();
            black_box(out.len())
        })
    });
    let mut buf = sealed.clone();
    g.bench_function("decrypt_in_place_64_bytes", |b| {
        b.iter(|| {
            buf.copy_from_slice(&sealed);
            black_box(
                packet::decrypt_in_place(&key, Direction::ServerToClient, &mut buf)
                    .unwrap()
                    .msg_id,
            )
        })
    });
    g.finish();
}

fn bench_pq(c: &mut Criterion) {
    let mut g = c.benchmark_group("pq");
    // 63-bit pq = 2900000017 * 3100000027
    let n63: u64 = 8990000131000000459;
    // samples-auth_key 2024 (62-bit)
    let n62: u64 = 0x256595edb7766797;
    for (name, n) in [("63bit", n63), ("62bit_official", n62)] {
        g.bench_with_input(BenchmarkId::new("ours", name), &n, |b, &n| {
            b.iter(|| pq::factorize(black_box(n)).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("grammers", name), &n, |b, &n| {
            b.iter(|| grammers_crypto::factorize(black_box(n)))
        });
    }
    g.finish();
}

/// The DH step's inputs: Telegram's prime, a secret `b` (and its bytes,
/// the same value), and a `g_a`.
fn modexp_inputs() -> ([u8; 256], dh::DhSecret, [u8; 256], [u8; 256]) {
    let p = dh::TELEGRAM_DH_PRIME;
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let b_secret = dh::DhSecret::generate(&mut rng);
    let mut b_bytes = [0u8; 256];
    rand::RngCore::fill_bytes(&mut ChaCha20Rng::seed_from_u64(5), &mut b_bytes);
    let g_a = dh::public_value(3, &dh::DhSecret::generate(&mut rng), &p).unwrap();
    (p, b_secret, b_bytes, g_a)
}

fn bench_modexp(c: &mut Criterion) {
    let mut g = c.benchmark_group("dh_modexp_2048");
    g.sample_size(20);
    let (p, b_secret, b_bytes, g_a) = modexp_inputs();
    g.bench_function("ours_ct_g_a_pow_b", |bch| {
        bch.iter(|| dh::pow_secret(black_box(&g_a), &b_secret, &p).unwrap())
    });
    let (pn, gan, bn) = (
        num_bigint::BigUint::from_bytes_be(&p),
        num_bigint::BigUint::from_bytes_be(&g_a),
        num_bigint::BigUint::from_bytes_be(&b_bytes),
    );
    g.bench_function("num_bigint_vartime_g_a_pow_b", |bch| {
        bch.iter(|| black_box(&gan).modpow(&bn, &pn))
    });
    g.finish();
}

criterion_group!(
    benches,
    bench_ige,
    bench_packet,
    bench_packet_parts,
    bench_pq,
    bench_modexp
);

/// Min-of-N interleaved harness (`MIN_OF_N=1 cargo bench ... --bench crypto`):
/// every round runs each contender once, round-robin, and keeps the fastest
/// batch per contender, which filters out the noise of a shared machine.
fn min_of_n() {
    use std::time::Instant;
    fn run(rounds: usize, batch: usize, ops: &mut [(&str, &mut dyn FnMut())]) -> Vec<f64> {
        let mut best = vec![f64::MAX; ops.len()];
        for _ in 0..rounds {
            for (i, (_, f)) in ops.iter_mut().enumerate() {
                let t = Instant::now();
                for _ in 0..batch {
                    f();
                }
                best[i] = best[i].min(t.elapsed().as_secs_f64() * 1e9 / batch as f64);
            }
        }
        for ((name, _), b) in ops.iter().zip(&best) {
            println!("  {name:32} {:>12.1} ns", b);
        }
        best
    }

    // MIN_OF_N=ige / packet / pq / modexp runs one section; any other value
    // runs all.
    let only = std::env::var("MIN_OF_N").unwrap_or_default();
    let want = |s: &str| !["ige", "packet", "pq", "modexp"].contains(&only.as_str()) || only == s;
    if want("ige") {
        ige_min_of_n(&run);
    }
    if want("packet") {
        packet_min_of_n(&run);
    }
    if want("pq") {
        pq_min_of_n(&run);
    }
    if want("modexp") {
        modexp_min_of_n(&run);
    }
}

/// 2048-bit modular exponentiation with a 2048-bit exponent (the DH step of
/// a handshake, `g_a^b mod dh_prime`): ours (constant time) against the
/// variable-time ones (num-bigint; OpenSSL's `BN_mod_exp` with the bench
/// crate's `openssl` feature) and crypto-bigint's constant-time one (what
/// we used before). Then RSA-2048 private decryption, ours (CRT, constant
/// time, result checked) against OpenSSL's raw RSA decryption (same key).
fn modexp_min_of_n(run: &Runner) {
    let (p, b_secret, b_bytes, g_a) = modexp_inputs();
    let (pn, gan, bn) = (
        num_bigint::BigUint::from_bytes_be(&p),
        num_bigint::BigUint::from_bytes_be(&g_a),
        num_bigint::BigUint::from_bytes_be(&b_bytes),
    );
    let want = gan.modpow(&bn, &pn);
    assert_eq!(
        num_bigint::BigUint::from_bytes_be(&dh::pow_secret(&g_a, &b_secret, &p).unwrap()),
        want
    );
    let cb = {
        use crypto_bigint::modular::runtime_mod::{DynResidue, DynResidueParams};
        use crypto_bigint::U2048;
        let params = DynResidueParams::new(&U2048::from_be_slice(&p));
        let (base, exp) = (U2048::from_be_slice(&g_a), U2048::from_be_slice(&b_bytes));
        move || black_box(DynResidue::new(&base, params).pow(&exp).retrieve())
    };
    let mut ops: Vec<Contender> = vec![
        (
            "ours_constant_time",
            Box::new(|| {
                black_box(dh::pow_secret(black_box(&g_a), &b_secret, &p).unwrap());
            }),
        ),
        (
            "num_bigint_variable_time",
            Box::new(|| {
                black_box(black_box(&gan).modpow(&bn, &pn));
            }),
        ),
        (
            "crypto_bigint_constant_time",
            Box::new(move || {
                black_box(cb());
            }),
        ),
    ];
    #[cfg(feature = "openssl")]
    {
        let mut ctx = openssl::bn::BigNumContext::new().unwrap();
        let (po, go, bo) = (
            openssl::bn::BigNum::from_slice(&p).unwrap(),
            openssl::bn::BigNum::from_slice(&g_a).unwrap(),
            openssl::bn::BigNum::from_slice(&b_bytes).unwrap(),
        );
        let mut r = openssl::bn::BigNum::new().unwrap();
        r.mod_exp(&go, &bo, &po, &mut ctx).unwrap();
        assert_eq!(r.to_vec(), want.to_bytes_be());
        ops.push((
            "openssl_variable_time",
            Box::new(move || {
                r.mod_exp(black_box(&go), &bo, &po, &mut ctx).unwrap();
            }),
        ));
    }
    println!("modexp_2048 (2048-bit exponent; min of 15):");
    let mut refs: Vec<(&str, &mut dyn FnMut())> = ops
        .iter_mut()
        .map(|(n, f)| (*n, &mut **f as &mut dyn FnMut()))
        .collect();
    let r = run(15, 3, &mut refs);
    let fastest_vartime = if r.len() > 3 { r[1].min(r[3]) } else { r[1] };
    println!(
        "  => ours / fastest variable-time = {:.2}x; crypto-bigint / ours = {:.2}x",
        r[0] / fastest_vartime,
        r[2] / r[0]
    );

    let key = mtproto_crypto::rsa::RsaPrivateKey::from_pkcs1_pem(
        mtproto_crypto::test_keys::TEST_RSA_PRIVATE_PEM,
    )
    .unwrap();
    let c = [0x42u8; 255];
    let mut rsa_ops: Vec<Contender> = vec![(
        "ours_rsa_decrypt_crt",
        Box::new(|| {
            black_box(key.decrypt_raw(black_box(&c)).unwrap());
        }),
    )];
    #[cfg(feature = "openssl")]
    {
        let k = openssl::rsa::Rsa::private_key_from_pem(
            mtproto_crypto::test_keys::TEST_RSA_PRIVATE_PEM.as_bytes(),
        )
        .unwrap();
        let mut full = [0u8; 256];
        full[1..].copy_from_slice(&c);
        let mut out = vec![0u8; 256];
        k.private_decrypt(&full, &mut out, openssl::rsa::Padding::NONE)
            .unwrap();
        assert_eq!(out, key.decrypt_raw(&c).unwrap());
        rsa_ops.push((
            "openssl_rsa_decrypt",
            Box::new(move || {
                k.private_decrypt(black_box(&full), &mut out, openssl::rsa::Padding::NONE)
                    .unwrap();
            }),
        ));
    }
    println!("rsa_2048_decrypt (min of 15):");
    let mut refs: Vec<(&str, &mut dyn FnMut())> = rsa_ops
        .iter_mut()
        .map(|(n, f)| (*n, &mut **f as &mut dyn FnMut()))
        .collect();
    let r = run(15, 10, &mut refs);
    if r.len() > 1 {
        println!("  => ours / openssl = {:.2}x", r[0] / r[1]);
    }
}

/// A named operation to time.
type Contender<'a> = (&'static str, Box<dyn FnMut() + 'a>);

type Runner = dyn Fn(usize, usize, &mut [(&str, &mut dyn FnMut())]) -> Vec<f64>;

fn ige_min_of_n(run: &Runner) {
    println!("ige_1MiB (min of 40):");
    let cipher = aes::Aes256::new(&KEY.into());
    let mut buf = vec![0x5au8; MIB];
    let buf = std::cell::RefCell::new(&mut buf);
    let r = run(
        40,
        1,
        &mut [
            ("limit_chained_aes256", &mut || {
                let mut block = aes::Block::from([0u8; 16]);
                for _ in 0..MIB / 16 {
                    cipher.encrypt_block(&mut block);
                }
                black_box(block);
            }),
            ("limit_chained_aes256_backend", &mut || {
                let mut chain = Chain(MIB / 16, [0u8; 16]);
                cipher.encrypt_with_backend(&mut chain);
                black_box(chain.1);
            }),
            ("ours_encrypt", &mut || {
                ige::encrypt(black_box(&mut buf.borrow_mut()), &KEY, &IV).unwrap()
            }),
            ("ours_decrypt", &mut || {
                ige::decrypt(black_box(&mut buf.borrow_mut()), &KEY, &IV).unwrap()
            }),
            ("grammers_encrypt", &mut || {
                grammers_crypto::aes::ige_encrypt(black_box(&mut buf.borrow_mut()), &KEY, &IV)
            }),
            ("grammers_decrypt", &mut || {
                grammers_crypto::aes::ige_decrypt(black_box(&mut buf.borrow_mut()), &KEY, &IV)
            }),
        ],
    );
    let limit = r[0].min(r[1]);
    println!(
        "  => ours/limit: encrypt {:.3}, decrypt {:.3} (limit = faster of the two)",
        limit / r[2],
        limit / r[3]
    );
}

fn packet_min_of_n(run: &Runner) {
    let key_bytes: [u8; 256] = core::array::from_fn(|i| (i * 7 + 3).to_le_bytes()[0]);
    let ours_key = AuthKey::from_bytes(key_bytes);
    let gr_key = grammers_crypto::AuthKey::from_bytes(key_bytes);
    for (len, batch) in [(64usize, 500), (64 * 1024, 4)] {
        let plain = inner_plaintext(len);
        let mut server_packet = Vec::new();
        packet::encrypt_into(
            &ours_key,
            Direction::ServerToClient,
            &plain,
            &[9u8; 16],
            &mut server_packet,
        )
        .unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let mut out = Vec::with_capacity(len + 64);
        let mut inbuf = server_packet.clone();
        let mut dq = grammers_crypto::DequeBuffer::with_capacity(len + 64, 32);
        let mut inbuf2 = server_packet.clone();
        println!("packet_encrypt_plus_decrypt/{len} (min of 40 batches of {batch}):");
        let r = run(
            40,
            batch,
            &mut [
                ("ours", &mut || {
                    packet::encrypt_into_rng(
                        &ours_key,
                        Direction::ClientToServer,
                        &plain,
                        &mut rng,
                        &mut out,
                    )
                    .unwrap();
                    inbuf.copy_from_slice(&server_packet);
                    let m =
                        packet::decrypt_in_place(&ours_key, Direction::ServerToClient, &mut inbuf)
                            .unwrap();
                    black_box(m.body.len());
                }),
                ("grammers", &mut || {
                    dq.clear();
                    dq.extend(plain.iter());
                    grammers_crypto::encrypt_data_v2(&mut dq, &gr_key);
                    inbuf2.copy_from_slice(&server_packet);
                    let pt = grammers_crypto::decrypt_data_v2(&mut inbuf2, &gr_key).unwrap();
                    black_box(pt.len());
                }),
            ],
        );
        println!("  => grammers/ours = {:.2}x", r[1] / r[0]);
    }
}

fn pq_min_of_n(run: &Runner) {
    use std::time::Instant;
    println!("pq fixed inputs (min of 20):");
    let (n63, n62) = (8990000131000000459u64, 0x256595edb7766797u64);
    run(
        20,
        1,
        &mut [
            ("ours/63bit", &mut || {
                black_box(pq::factorize(black_box(n63)).unwrap());
            }),
            ("grammers/63bit", &mut || {
                black_box(grammers_crypto::factorize(black_box(n63)));
            }),
            ("ours/62bit_official", &mut || {
                black_box(pq::factorize(black_box(n62)).unwrap());
            }),
            ("grammers/62bit_official", &mut || {
                black_box(grammers_crypto::factorize(black_box(n62)));
            }),
        ],
    );

    // 101 balanced 63-bit semiprimes (p, q ~ 2^31.5) from a seeded RNG.
    let mut rng = ChaCha20Rng::seed_from_u64(63);
    let mut prime = || loop {
        let x =
            rand::Rng::gen_range(&mut rng, (1u64 << 31) + (1 << 29)..(1u64 << 32) - (1 << 29)) | 1;
        if pq::is_prime_u64(x) {
            return x;
        }
    };
    let mut ns = Vec::new();
    while ns.len() < 101 {
        let (p, q) = (prime(), prime());
        let n = p as u128 * q as u128;
        if p != q && ((1u128 << 62)..(1u128 << 63)).contains(&n) {
            ns.push(u64::try_from(n).unwrap_or(u64::MAX));
        }
    }
    let median = |f: &dyn Fn(u64)| {
        let mut t: Vec<f64> = ns
            .iter()
            .map(|&n| {
                (0..3)
                    .map(|_| {
                        let s = Instant::now();
                        f(n);
                        s.elapsed().as_secs_f64() * 1e6
                    })
                    .fold(f64::MAX, f64::min)
            })
            .collect();
        t.sort_by(|a, b| a.partial_cmp(b).unwrap());
        (t[t.len() / 2], t[t.len() * 9 / 10], t[t.len() - 1])
    };
    let ours = median(&|n| {
        black_box(pq::factorize(n).unwrap());
    });
    let gr = median(&|n| {
        black_box(grammers_crypto::factorize(n));
    });
    println!(
        "pq over 101 random balanced 63-bit semiprimes (min of 3 each), median / p90 / max us:"
    );
    println!("  ours     {:.1} / {:.1} / {:.1}", ours.0, ours.1, ours.2);
    println!("  grammers {:.1} / {:.1} / {:.1}", gr.0, gr.1, gr.2);
}

fn main() {
    if std::env::var_os("MIN_OF_N").is_some() {
        min_of_n();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
