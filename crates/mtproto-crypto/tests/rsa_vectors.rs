//! RSA vectors from /work/shared/vectors/rsa_keys.json (restated here).
#![allow(clippy::unwrap_used)]

use mtproto_crypto::rsa::{self, keys, RsaError, RsaPrivateKey, RsaPublicKey};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// (pem, fingerprint wire hex, fingerprint i64, n hex)
const KEYS: &[(&str, &str, i64, &str)] = &[
    (keys::PRODUCTION_KEY_PEM, "85fd64de851d9dd0", -3414540481677951611, "e8bb3305c0b52c6cf2afdf7637313489e63e05268e5badb601af417786472e5f93b85438968e20e6729a301c0afc121bf7151f834436f7fda680847a66bf64accec78ee21c0b316f0edafe2f41908da7bd1f4a5107638eeb67040ace472a14f90d9f7c2b7def99688ba3073adb5750bb02964902a359fe745d8170e36876d4fd8a5d41b2a76cbff9a13267eb9580b2d06d10357448d20d9da2191cb5d8c93982961cdfdeda629e37f1fb09a0722027696032fe61ed663db7a37f6f263d370f69db53a0dc0a1748bdaaff6209d5645485e6e001d1953255757e4b8e42813347b11da6ab500fd0ace7e6dfa3736199ccaf9397ed0745a427dcfa6cd67bcb1acff3"),
    (keys::TEST_KEY_PEM, "03268d20df9858b2", -5595554452916591101, "c8c11d635691fac091dd9489aedced2932aa8a0bcefef05fa800892d9b52ed03200865c9e97211cb2ee6c7ae96d3fb0e15aeffd66019b44a08a240cfdd2868a85e1f54d6fa5deaa041f6941ddf302690d61dc476385c2fa655142353cb4e4b59f6e5b6584db76fe8b1370263246c010c93d011014113ebdf987d093f9d37c2be48352d69a1683f8f6e6c2167983c761e3ab169fde5daaa12123fa1beab621e4da5935e9c198f82f35eae583a99386d8110ea6bd1abb0f568759f62694419ea5f69847c43462abef858b4cb5edc84e7b9226cd7bd7e183aa974a712c079dde85b9dc063b8a5c08e8f859c0ee5dcd824c7807f20153361a7f63cfd2a433a1be7f5"),
    (keys::TDLIB_UNIT_TEST_KEY_PEM, "029f4ba16d109296", -7596991558377038078, "af8bf8c313035c868c3a1f1b6b217f372a18769732b27e446e34c83990b4464833b118f748696ee76412cfecac3b8d5d4008e914b8313d52683a5c57a2468eabcdbb21f5b46c60a6d1da13e61c6d79dbbd50240a6c4f239433a4fa458c5c73d91492964602a04eef61701df2dd593e2457cba6addde59078f01e1b730ad1427ce4c791a158e157c7bdd98233bdddea10d9bfe50f25f12b8078212fa16618f37b33d94c8e6ea5345bb39963940a6c75db07aca93a8c9363f1882cfe9b3c7ba72df368cb5db9e7742f6cf078c4bc3bc13c7f483e3bf92549661cc045679bc54087dba68d2ed3ed4f9fa6e4122e68eff89fa3256fda90194d1c29a53cf412e5c3f1"),
    (keys::TELETHON_1_KEY_PEM, "a5b7f709355fc30b", 847625836280919973, "aeec36c8ffc109cb099624685b97815415657bd76d8c9c3e398103d7ad16c9bba6f525ed0412d7ae2c2de2b44e77d72cbf4b7438709a4e646a05c43427c7f184debf72947519680e651500890c6832796dd11f772c25ff8f576755afe055b0a3752c696eb7d8da0d8be1faf38c9bdd97ce0a77d3916230c4032167100edd0f9e7a3a9b602d04367b689536af0d64b613ccba7962939d3b57682beb6dae5b608130b2e52aca78ba023cf6ce806b1dc49c72cf928a7199d22e3d7ac84e47bc9427d0236945d10dbd15177bab413fbf0edfda09f014c7a7da088dde9759702ca760af2b8e4e97cc055c617bd74c3d97008635b98dc4d621b4891da9fb0473047927"),
    (keys::TELETHON_2_KEY_PEM, "429552b5a85fae15", 1562291298945373506, "bdf2c77d81f6afd47bd30f29ac76e55adfe70e487e5e48297e5a9055c9c07d2b93b4ed3994d3eca5098bf18d978d54f8b7c713eb10247607e69af9ef44f38e28f8b439f257a11572945cc0406fe3f37bb92b79112db69eedf2dc71584a661638ea5becb9e23585074b80d57d9f5710dd30d2da940e0ada2f1b878397dc1a72b5ce2531b6f7dd158e09c828d03450ca0ff8a174deacebcaa22dde84ef66ad370f259d18af806638012da0ca4a70baa83d9c158f3552bc9158e69bf332a45809e1c36905a5caa12348dd57941a482131be7b2355a5f4635374f3bd3ddf5ff925bf4809ee27c1e67d9120c5fe08a9de458b1b4a3c5d0a428437f2beca81f4e2d5ff"),
    (keys::TELETHON_3_KEY_PEM, "4ff9d73ce198aeae", -5859577972006586033, "b3f762b739be98f343eb1921cf0148cfa27ff7af02b6471213fed9daa0098976e667750324f1abcea4c31e43b7d11f1579133f2b3d9fe27474e462058884e5e1b123be9cbbc6a443b2925c08520e7325e6f1a6d50e117eb61ea49d2534c8bb4d2ae4153fabe832b9edf4c5755fdd8b19940b81d1d96cf433d19e6a22968a85dc80f0312f596bd2530c1cfb28b5fe019ac9bc25cd9c2a5d8a0f3a1c0c79bcca524d315b5e21b5c26b46babe3d75d06d1cd33329ec782a0f22891ed1db42a1d6c0dea431428bc4d7aabdcf3e0eb6fda4e23eb7733e7727e9a1915580796c55188d2596d2665ad1182ba7abf15aaa5a8b779ea996317a20ae044b820bff35b6e8a1"),
    (keys::TELETHON_4_KEY_PEM, "987d0535221b185a", 6491968696586960280, "be6a71558ee577ff03023cfa17aab4e6c86383cff8a7ad38edb9fafe6f323f2d5106cbc8cafb83b869cffd1ccf121cd743d509e589e68765c96601e813dc5b9dfc4be415c7a6526132d0035ca33d6d6075d4f535122a1cdfe017041f1088d1419f65c8e5490ee613e16dbf662698c0f54870f0475fa893fc41eb55b08ff1ac211bc045ded31be27d12c96d8d3cfc6a7ae8aa50bf2ee0f30ed507cc2581e3dec56de94f5dc0a7abee0be990b893f2887bd2c6310a1e0a9e3e38bd34fded2541508dc102a9c9b4c95effd9dd2dfe96c29be647d6c69d66ca500843cfaed6e440196f1dbe0e2e22163c61ca48c79116fa77216726749a976a1c4b0944b5121e8c01"),
    (keys::TELETHON_OLD_1_KEY_PEM, "216be86c022bb4c3", -4344800451088585951, "c150023e2f70db7985ded064759cfecf0af328e69a41daf4d6f01b538135a6f91f8f8b2a0ec9ba9720ce352efcf6c5680ffc424bd634864902de0b4bd6d49f4e580230e3ae97d95c8b19442b3c0a10d8f5633fecedd6926a7f6dab0ddb7d457f9ea81b8465fcd6fffeed114011df91c059caedaf97625f6c96ecc74725556934ef781d866b34f011fce4d835a090196e9a5f0e4449af7eb697ddb9076494ca5f81104a305b6dd27665722c46b60e5df680fb16b210607ef217652e60236c255f6a28315f4083a96791d7214bf64c1df4fd0db1944fb26a2a57031b32eee64ad15a8ba68885cde74a5bfc920f6abf59ba5c75506373e7130f9042da922179251f"),
    (keys::TELETHON_OLD_2_KEY_PEM, "9b721cb11d6a999a", -7306692244673891685, "c6aeda78b02a251db4b6441031f467fa871faed32526c436524b1fb3b5dca28efb8c089dd1b46d92c895993d87108254951c5f001a0f055f3063dcd14d431a300eb9e29517e359a1c9537e5e87ab1b116faecf5d17546ebc21db234d9d336a693efcb2b6fbcca1e7d1a0be414dca408a11609b9c4269a920b09fed1f9a1597be02761430f09e4bc48fcafbe289054c99dba51b6b5eb7d9c3a2ab4e490545b4676bd620e93804bcac93bf94f73f92c729ca899477ff17625ef14a934d51dc11d5f8650a3364586b3a52fcff2fedec8a8406cac4e751705a472e55707e3c8cd5594342b119c6c3293532d85dbe9271ed54a2fd18b4dc79c04a30951107d5639397"),
    (keys::TELETHON_OLD_3_KEY_PEM, "78eacd706f2a5bb0", -5738946642031285640, "b1066749655935f0a5936f517034c943bea7f3365a8931ae52c8bcb14856f004b83d26cf2839be0f22607470d67481771c1ce5ec31de16b20bbaa4ecd2f7d2ecf6b6356f27501c226984263edc046b89fb6d3981546b01d7bd34fedcfcc1058e2d494bda732ff813e50e1c6ae249890b225f82b22b1e55fcb063dc3c0e18e91c28d0c4aa627dec8353eee6038a95a4fd1ca984eb09f94aeb7a2220635a8ceb450ea7e61d915cdb4eecedaa083aa3801daf071855ec1fb38516cb6c2996d2d60c0ecbcfa57e4cf1fb0ed39b2f37e94ab4202ecf595e167b3ca62669a6da520859fb6d6c6203dfdfc79c75ec3ee97da8774b2da903e3435f2cd294670a75a526c1"),
    (keys::TELETHON_OLD_4_KEY_PEM, "e33360c7b625e071", 8205599988028290019, "c2a8c55b4a62e2b78a19b91cf692bcdc4ba7c23fe4d06f194e2a0c30f6d9996f7d1a2bcc89bc1ac4333d44359a6c433252d1a8402d9970378b5912b75bc8cc3fa76710a025bcb9032df0b87d7607cc53b928712a174ea2a80a8176623588119d42ffce40205c6d72160860d8d80b22a8b8651907cf388effbef29cd7cf2b4eb8a872052da1351cfe7fec214ce48304ea472bd66329d60115b3420d08f6894b0410b6ab9450249967617670c932f7cbdb5d6fbcce1e492c595f483109999b2661fcdeec31b196429b7834c7211a93c6789d9ee601c18c39e521fda9d7264e61e518add6f0712d2d5228204b851e13c4f322e5c5431c3b7f31089668486aadc59f"),
];

// grammers rsa.rs test_rsa_encryption (test-DC key, n given there in decimal = this hex)
const G_N_HEX: &str = "c8c11d635691fac091dd9489aedced2932aa8a0bcefef05fa800892d9b52ed03200865c9e97211cb2ee6c7ae96d3fb0e15aeffd66019b44a08a240cfdd2868a85e1f54d6fa5deaa041f6941ddf302690d61dc476385c2fa655142353cb4e4b59f6e5b6584db76fe8b1370263246c010c93d011014113ebdf987d093f9d37c2be48352d69a1683f8f6e6c2167983c761e3ab169fde5daaa12123fa1beab621e4da5935e9c198f82f35eae583a99386d8110ea6bd1abb0f568759f62694419ea5f69847c43462abef858b4cb5edc84e7b9226cd7bd7e183aa974a712c079dde85b9dc063b8a5c08e8f859c0ee5dcd824c7807f20153361a7f63cfd2a433a1be7f5";
const G_DATA: &str = "955ff5a9081a8e635f5743de9b00000004453dc27100000004622f1fcb000000f7a81627bbf511fa4afef71e94a0937474586c1add9198dda81a5df8393871c8293623c5fb968894af1be7dfe9c7be813f9307789242fd0cb0c16a5cb39a8d3e";
const G_RANDOM224: &str = "12270000635593b03fee033d0672f9afddf9124de9e77df6251806cba93482e4c9e6e06e7d44e4c4baae821aff91af44789689faaee9bdfc7b2df8c08709afe57396c4638ceaa0dc30114f82447e81d3b53edc423b32660c43a5b8ad057b64500000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000007dada0920c4973913229e0f881aec7b9db0c392d34f52fb0995ea493ecb4c09d";
const G_TEMP_KEY_USED: &str = "7dada0920c4973913229e0f881aec7b9db0c392d34f52fb0995ea493ecb4c09e";
const G_KAE: &str = "0514f9015b18df9f3ef5568cb186572374f2c7563ef919c47333df7590d34a9e192a19e640bbce19ac9f475771e59bae795dc19d6f17f005ae7cd1faf7f4944c81a4e8f18109da6189c65f67df98a9d970b2af8de7df47ef332c3304e9925c847d6eaae4127c961c20d99b309dce40af4b93b49a15011a172f1544d5ddb5419d2a4c5a2b097d92c0bf4ba39bf44cc5168b5aeb58de00d0cf960b7c6bf4e0bc0a36ad9b54d61db081cc7d422234602e10b89e461875b3b61281956250151ffc2ec85eb6c8623a4168e34d6a40fe8e9c86e5a9f580439b9293b8f39f4e2cc337a6abb5c7dcd23aa2ee730d4f0187a528f2f9eef2b292cc80739d1e39f6429a3c9f";
const G_ENCRYPTED: &str = "b610642a828b4a61fe32931815cae318d311660580f1e0df768f3140f4d37dfcfcac0c2870318de4ff2d2e0e9669bcfdc0bad06cadb1b59d9726b427368a9c7b4fc0d5e7b2e99fc571968705c03acf5341fd7021bef653fa77b3776ae430e366fc46d232459ebe128b08d80e049ae579a48b56ca93b520709468587c81af96666046e9ea85091d729e921e8d8a36f57b27644052dae7387c7f4131701d59cda75251dac66c94276280ef950d3c44c21e5a2454f7da7a6818cf23ae9c490b72b2170d7cbc24f8a93db739d76f2d241c78b80123faaff3e664f074d6375d794dbf2800a0b5bb48d54eceafedfb355bfbebd287d9023264e3b53627888250787a9e";
// gotd TestRSAPad: 144 x 'a', zero randomness, production key
const Z_KAE: &str = "6bc8bc94a5a9e72636e041f2013bae31c15f7eaf353f1dd67a2068c51d08e28cdc95c078a2408989ad48a2149284208708c374848c228233c2b34f332bd2e9d38b70c515a6663d38cdb8e6532b26649148bdd067ce2f998151b709d4635aa93e3fea359a5a1d018b9f0fb0ee466b08d321292b350e315ba278d92fdb9690a078fdb6f82688d85c89948c6ef3b614b635b2affe4581ca17a744fce47c67f1d56fb885eccd7f23c2b782269c5074b00fff3a109e58e2ad8161a95da9bc505b602665e76f4ce4821bcb0536a5054227a75be08400b1f2b8cc4d5034a98ba6186810c9c0410b191fafa25f426647290ee7372854d1dc840f8512c98fc10b85c024a7";
const Z_ENCRYPTED: &str = "bf68719e836806b040cd261ecaf66eb3c4ba19f3bbea3031b2e6cf29167bab647201d101b291dc5b716a42e789a38d947fe59e9bcce8f30ef46a946743ea8b6babbce7fc0afc46b802aa453e83471d82a4dfad83f971f350b4b4fb474cd1c48fdf427e4b5fecce9ec3178ae7dac3985856fdefa21d6fdc5e0e0fd8a57bc4f51580d637d372be8d87c9aa3fde8e6f8287bcb3be846aadcdd59465375479e248f62ed438f9804fbe36d41ca906243a5f740f3937949aa149ba8a8b8e68b3f3e1e3cd3f946387520e21eee55845e1f015a919a22f6a72bfaecd2cae946c91983b41f9ffabe97963bbde8f30eaf5fd3c5b8cecab8711bd269e441b6084f385726ff0";
// grammers flow step 2
const F_DATA: &str = "ec5ac9830819546f942a11278d0000000444b2e50d000000045e63ac810000004e44b426241e8b839153122d44585ac665ba0b393e1094329eda2c42d6283303b9dce68b05ef760fa7edfefeff45aaa8afbac11dc3d333bc3132fd16ab816d63";
const F_PADDING: &str = "ed93c5bef9d0452add8164a2d5df5804277ee5a06fd4523372707ddbd8106d03766d76fb8bec672bdcddcd225f7766b83663b32a0fda1055175c5582edd10430937666be4fd15510ba5f19aa645973b6e4e9270efac25b58741635fe84dd0af0";
const F_TEMP_KEY: &str = "e892f82282d03ed07eb5ceac6644247bb137241166fe194756dfcffd68c6c345";
const F_KAE: &str = "8987fc5f0bd647b60b01b521738dd2871441feccde59a607c24a6b58193415cd80298811905c1e945d156e0c9442f78c85f36238056421502f6f24f780dd38eb72e32e05d442a21b388769cd9812f319a6ed64982ec56dcc8d7a348275215b5656c499d49ad80907e7f65b3f0f5813584756c6253d9be1f3c110e7121673613c5ee7c2dd4ebc08ca4accafa4209dfc68d15af609e2ef727798ecc2d42034121b57c8cc841d849ff019313debc767760ce4626a35d307615184e38ef2778316cfceec06a53a1f253accf0cf0a52482244e4a0a384dd426e6d8f372b36c4227851746e4f6e0c402eaca21c52e8edd031cd7e86f43beaaad699e429dce36f521f9a";
const F_ENCRYPTED: &str = "7ec37ca8a84aa1b26d21bc8ac28b261ffa57b44e29f0d6722261e9b436059cc80ae9768a3ae4fbefe46cfbb76b88a1f80a1ebd95ae5d17bf655ed1015755e04c483a01cf4094a0830864054a71a0ac8a5ec34d6b24a69bf66c9654b32a8c65b0302718351b28f72a9a49610d5259b6edb6da37acc5fedc47d1a09c58df2c7eccbfaf54dfe123ebc253d9069f74e8be128051e5d280b3c9a5e8d3c6da344cb7374a6d410d4e088cc0eda3d8b1108ba4f4a85d79fbd2758000723780bc5459f59fd1cea1b511b77cc1411781d3feb57b14a97726cf3d2146cf43e648a69ff9cb5d48a31f543bd5bc3a023cf382d86d36bbfbbcb5e4a136acee25fd8e3e597e714d";
// tdlib TEST(Mtproto, RSA): textbook RSA of the first 256 bytes of its own PEM text
const RAW_CIPHERTEXT: &str = "45586017d0c547a329597e47070bcb026724294f357f76dc6f9d9b5589542254f942ee08456ca3f5b2bc835d87adc8ad9c16fc68b4b6609d5e72873f1b3c541723999766d709a5194b6de8976150540dde730e3317d0547e5667717e9a77297c76deda464c0ae9222a624d9d40d448d054344e45d783d6b5225cb68c4b0165a11cdc9702851987fbec3920a271f50a098d2bf9fc603d2d311ca9355abc438e52f3cf9109f01c3000b14826ef9ceb86193cd00f408e5105c280bbaf817aaa2004379d493114868d14322ce2ecaf5fbda9fd91c00188cb60ebde459bbc05b8c1d7a4c072dff8f448942ec5d54d627199149ae2510e1b60a928ed09166370f43f2e";
const RAW_SHA256_B64: &str = "U2nJEtB2AgpHrm3HB0yhpTQgb0wbesi9Pv/W1v/vULU=";

#[test]
fn builtin_key_fingerprints() {
    for &(pem, fp_hex, fp_i64, n_hex) in KEYS {
        let k = RsaPublicKey::from_pem(pem).unwrap();
        assert_eq!(hex::encode(k.fingerprint_bytes()), fp_hex);
        assert_eq!(k.fingerprint(), fp_i64);
        assert_eq!(hex::encode(k.n_be()), n_hex);
        assert_eq!(k.e_be(), &[1, 0, 1]);
        assert_eq!(
            rsa::fingerprint_bytes(&h(n_hex), &[1, 0, 1]),
            k.fingerprint_bytes()
        );
        // PKCS#1 re-encoding is byte-identical to the source PEM
        assert_eq!(k.to_pkcs1_pem(), pem);
    }
    assert_eq!(
        rsa::telegram_production_key().unwrap().fingerprint(),
        -3414540481677951611
    );
    assert_eq!(
        rsa::telegram_test_key().unwrap().fingerprint(),
        -5595554452916591101
    );
    assert_eq!(rsa::builtin_keys().len(), 10);
    assert!(rsa::find_builtin_key(847625836280919973).is_some());
    assert!(rsa::find_builtin_key(-7596991558377038078).is_none()); // tdlib unit-test key is not built in
    assert!(format!("{:?}", rsa::telegram_test_key().unwrap()).contains("-5595554452916591101"));
}

#[test]
fn spki_pem_loads_same_key() {
    let pk = RsaPublicKey::from_pem(keys::PRODUCTION_KEY_PEM).unwrap();
    // SubjectPublicKeyInfo = SEQ { SEQ { rsaEncryption, NULL }, BIT STRING { 0, RSAPublicKey } }
    let b64: String = keys::PRODUCTION_KEY_PEM
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let pkcs1 = base64_decode(&b64);
    let mut spki = h("30820122300d06092a864886f70d01010105000382010f00");
    spki.extend_from_slice(&pkcs1);
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64_encode(&spki)
    );
    let k = RsaPublicKey::from_pem(&pem).unwrap();
    assert_eq!(k, pk);
    assert!(RsaPublicKey::from_pem("nothing here").is_err());
    assert!(
        RsaPublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
            .is_err()
    );
}

// tiny base64 helpers for building test inputs (independent of the crate's)
fn base64_decode(s: &str) -> Vec<u8> {
    let alpha = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = vec![];
    for c in s.bytes().filter(|&c| c != b'=') {
        bits = bits << 6 | u32::try_from(alpha.iter().position(|&a| a == c).unwrap()).unwrap();
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push(((bits >> n) & 0xff) as u8);
        }
    }
    out
}
fn base64_encode(d: &[u8]) -> String {
    let alpha = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in d.chunks(3) {
        let v = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            s.push(if i <= c.len() {
                alpha[(v >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    s
}

#[test]
fn rsa_pad_grammers_unit_needs_second_temp_key() {
    let key = rsa::telegram_test_key().unwrap();
    assert_eq!(hex::encode(key.n_be()), G_N_HEX);
    let data = h(G_DATA);
    let random = h(G_RANDOM224);
    let padding = &random[..192 - data.len()];
    let temp_key: [u8; 32] = random[192..224].try_into().unwrap();
    let mut retries = 0;
    let enc = key
        .rsa_pad_encrypt_with(&data, padding, &temp_key, |k| {
            retries += 1;
            rsa::increment_temp_key(k);
            assert_eq!(hex::encode(*k), G_TEMP_KEY_USED);
        })
        .unwrap();
    assert_eq!(
        retries, 1,
        "the first temp_key must be rejected (key_aes_encrypted >= n)"
    );
    assert_eq!(hex::encode(enc), G_ENCRYPTED);
    assert_eq!(
        hex::encode(key.encrypt_raw(&h(G_KAE)).unwrap()),
        G_ENCRYPTED
    );
}

#[test]
fn rsa_pad_gotd_zero_randomness() {
    let key = rsa::telegram_production_key().unwrap();
    let enc = key
        .rsa_pad_encrypt_with(&[b'a'; 144], &[0; 48], &[0; 32], |_| {
            panic!("no retry expected")
        })
        .unwrap();
    assert_eq!(hex::encode(enc), Z_ENCRYPTED);
    assert_eq!(
        hex::encode(key.encrypt_raw(&h(Z_KAE)).unwrap()),
        Z_ENCRYPTED
    );
}

#[test]
fn rsa_pad_grammers_flow_step2() {
    let key = rsa::telegram_test_key().unwrap();
    let temp_key: [u8; 32] = h(F_TEMP_KEY).try_into().unwrap();
    let enc = key
        .rsa_pad_encrypt_with(&h(F_DATA), &h(F_PADDING), &temp_key, |_| {
            panic!("no retry expected")
        })
        .unwrap();
    assert_eq!(hex::encode(enc), F_ENCRYPTED);
    assert_eq!(
        hex::encode(key.encrypt_raw(&h(F_KAE)).unwrap()),
        F_ENCRYPTED
    );
}

#[test]
fn rsa_pad_argument_errors() {
    let key = rsa::telegram_production_key().unwrap();
    assert_eq!(
        key.rsa_pad_encrypt_with(&[0; 145], &[], &[0; 32], |_| {}),
        Err(RsaError::DataTooLong { len: 145 })
    );
    assert_eq!(
        key.rsa_pad_encrypt_with(&[0; 100], &[0; 91], &[0; 32], |_| {}),
        Err(RsaError::BadPaddingLength { len: 91 })
    );
    // a key_aes_encrypted that never drops below n: a retry rule that never changes temp_key
    let key_t = rsa::telegram_test_key().unwrap();
    let data = h(G_DATA);
    let random = h(G_RANDOM224);
    let temp_key: [u8; 32] = random[192..224].try_into().unwrap();
    assert_eq!(
        key_t.rsa_pad_encrypt_with(&data, &random[..96], &temp_key, |_| {}),
        Err(RsaError::TooManyAttempts)
    );
    assert_eq!(
        key.encrypt_raw(&[0xff; 256]),
        Err(RsaError::InputOutOfRange)
    );
}

#[test]
fn raw_rsa_tdlib_vector() {
    let key = RsaPublicKey::from_pem(keys::TDLIB_UNIT_TEST_KEY_PEM).unwrap();
    let m = &keys::TDLIB_UNIT_TEST_KEY_PEM.as_bytes()[..256];
    let c = key.encrypt_raw(m).unwrap();
    assert_eq!(hex::encode(&c), RAW_CIPHERTEXT);
    assert_eq!(
        base64_encode(&mtproto_crypto::sha::sha256(&[&c])),
        RAW_SHA256_B64
    );
}

#[test]
fn increment_temp_key_carries() {
    let mut k = [0u8; 32];
    k[31] = 0xff;
    k[30] = 0xff;
    rsa::increment_temp_key(&mut k);
    assert_eq!(k[29..], [1, 0, 0]);
    let mut k = [0xff; 32];
    rsa::increment_temp_key(&mut k);
    assert_eq!(k, [0; 32]);
}

#[test]
fn private_key_roundtrips() {
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(42);
    let t = std::time::Instant::now();
    let sk = RsaPrivateKey::generate(&mut rng).unwrap();
    eprintln!("2048-bit RSA key generation: {:?}", t.elapsed());
    let pk = sk.public_key().clone();
    assert_eq!(pk.len(), 256);
    let dbg = format!("{sk:?}");
    assert!(dbg.starts_with("RsaPrivateKey { public: RsaPublicKey"));

    // PEM round trip
    let pem = sk.to_pkcs1_pem();
    let sk2 = RsaPrivateKey::from_pkcs1_pem(&pem).unwrap();
    assert_eq!(sk2.public_key(), &pk);
    assert_eq!(RsaPublicKey::from_pem(&pem).unwrap(), pk);

    // RSA_PAD round trip with the grammers flow data
    let data = h(F_DATA);
    let t = std::time::Instant::now();
    let enc = pk.rsa_pad_encrypt(&data, &mut rng).unwrap();
    let dec = sk.rsa_pad_decrypt(&enc).unwrap();
    eprintln!("RSA_PAD encrypt + decrypt: {:?}", t.elapsed());
    assert_eq!(&dec.data_with_padding[..data.len()], &data[..]);
    assert_eq!(format!("{dec:?}"), "RsaPadPlaintext { .. }");
    let mut bad = enc;
    bad[100] ^= 1;
    assert!(matches!(
        sk.rsa_pad_decrypt(&bad),
        Err(RsaError::RsaPadHashMismatch) | Err(RsaError::InputOutOfRange)
    ));
    assert_eq!(
        sk.rsa_pad_decrypt(&enc[1..]),
        Err(RsaError::InputOutOfRange)
    );
    assert_eq!(
        sk.rsa_pad_decrypt(&[0xff; 256]),
        Err(RsaError::InputOutOfRange)
    );

    // legacy (Telethon 1.x) round trip
    let enc = pk.legacy_encrypt(&data, &mut rng).unwrap();
    assert_eq!(sk.legacy_decrypt(&enc).unwrap(), data);
    let enc = pk
        .legacy_encrypt_with(&data, &vec![7u8; 235 - data.len()])
        .unwrap();
    assert_eq!(sk.legacy_decrypt(&enc).unwrap(), data);
    let mut bad = enc;
    bad[200] ^= 1;
    assert!(matches!(
        sk.legacy_decrypt(&bad),
        Err(RsaError::LegacyHashMismatch) | Err(RsaError::InputOutOfRange)
    ));
    assert_eq!(
        pk.legacy_encrypt(&[0; 236], &mut rng),
        Err(RsaError::DataTooLong { len: 236 })
    );

    // raw: decrypt(encrypt(m)) == m
    let m = [0x42u8; 200];
    let c = pk.encrypt_raw(&m).unwrap();
    assert_eq!(&sk.decrypt_raw(&c).unwrap()[56..], &m[..]);
}

#[test]
fn tl_bytes_short_and_long_forms() {
    let mut out = Vec::new();
    rsa::tl_bytes(&[7; 253], &mut out);
    assert_eq!((out.len(), out[0]), (256, 253));
    out.clear();
    rsa::tl_bytes(&[7; 254], &mut out);
    assert_eq!((out.len(), &out[..4]), (260, &[254, 254, 0, 0][..]));
    out.clear();
    let max = vec![0u8; (1 << 24) - 1];
    rsa::tl_bytes(&max, &mut out);
    assert_eq!(
        (out.len(), &out[..4]),
        (4 + (1 << 24), &[254, 0xff, 0xff, 0xff][..])
    );
}

/// 2^24 bytes have no TL length: no panic, and a well-formed value cut to
/// 2^24 - 1 bytes, never a cut-off length.
#[test]
fn tl_bytes_of_16_mib_stay_well_formed() {
    let mut out = Vec::new();
    rsa::tl_bytes(&vec![0u8; 1 << 24], &mut out);
    assert_eq!(
        (out.len(), &out[..4]),
        (4 + (1 << 24), &[254, 0xff, 0xff, 0xff][..])
    );
}
