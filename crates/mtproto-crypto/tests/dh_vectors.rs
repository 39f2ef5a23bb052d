//! DH / auth-key-exchange vectors from /work/shared/vectors/auth_key_exchange.json (restated here).
#![allow(clippy::unwrap_used)]

use mtproto_crypto::dh::{self, DhError, DhSecret};
use rand::SeedableRng;

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

struct Flow {
    name: &'static str,
    server_nonce: &'static str,
    new_nonce: &'static str,
    encrypted_answer: &'static str,
    tmp_key: &'static str,
    tmp_iv: &'static str,
    answer: &'static str,
    answer_padding: &'static str,
    g: i32,
    dh_prime: &'static str,
    g_a: &'static str,
    b: &'static str,
    g_b: &'static str,
    client_inner: &'static str,
    client_padding: &'static str,
    client_encrypted: &'static str,
    auth_key: &'static str,
    auth_key_id: &'static str,
    aux_hash: &'static str,
    nnh1: &'static str,
    nnh2: &'static str,
    nnh3: &'static str,
    salt_i64: i64,
}

const FLOWS: &[Flow] = &[
    Flow {
        name: "official_samples_2025",
        server_nonce: "801775a3efbfd2701aa28ad727be4646",
        new_nonce: "264f835b0b7bdff9c6ed6cf819fd6df5dcd17e90d67add2c2c1e3775c7a6a0ac",
        encrypted_answer: "9a46dce9d54de42c5e4f0d19d776c8c1f318eb1af8836500b5da1b1a80d58038a554feaf627e6dc4e4924943602d8e19488a6e38a0b81346257e4db5be6e9e00fe991fd6c56d618d3d0a2493202677ac7cf245846c1494f60d08e61b7fea8bb72dd8ba53f6cbf78f2b387757fe2e7f345a368abbec694efde066dc3d2375cf010d1e1bf4351724b269e68b541409e07649feee1df6dc5b3c18166879cc67876782d43ec9b79af8acf67868f4ab7de4082603b670ec622b5dfbbb9e908fe0244593a4d22474316020ce0e76a5c6ad021d3989451e0b3e8ee48c355992db90300b376b296e18bb470300c7df14bfae05a452583ead93167941208bbb5ac8099f0494aa27d6c1a5b678ad12b19fb7d423bb4a29c0eb03169ec538211d82feb50f209652d00d3399986b3b0ca09ceb5e2fccb49017fee5f54930d9de371172b3ff1080d733e5dd620b42dbb76a3e9c25b1b89ab8aa35c099322ca390e269d8818ea8722008de537705b4071da7def502fcd5a30d2026ea8a87a0f4915803a8271b665690e96aabdfc0b479538ae61ba701edff14f7212370958ed41ec8e41e427c407fbb0360565c1a6bdf285bc5120b11631b75803dfbf8aaebdc47418a1f061747005aba9314ee5e261c3e504eae0adaac832b414bf6f7002982ce5b5ae2513761ee29fa1cba090b9a39aace2948a80e144db2c622589d79fb42e3dae491104e8a653ded7629cde08b6c41e90e55b0ebcd4f1fc50faddf4a7a9f6d711f0959dfef04a744a6adfd890b2ab405b9ad5f8e3f38928108f4cd0ba501a492fc463bc7be8c506b5f7d24cc819a95929166b6e814",
        tmp_key: "e68ca5aba101ffca0adda66303a57affaa2712fb16a7b8dafc72c25e8a73a368",
        tmp_iv: "0a355d4431b9ddd91a51eff3f7d340d64f0390c53f91dc53c331d43c264f835b",
        answer: "ba0d89b579f0afb50252e5fc96924bfcecda4f05801775a3efbfd2701aa28ad727be464603000000fe000100c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f48198a0aa7c14058229493d22530f4dbfa336f6e0ac925139543aed44cce7c3720fd51f69458705ac68cd4fe6b6b13abdc9746512969328454f18faf8c595f642477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4a4a695811051907e162753b56b0f6b410dba74d8a84b2a14b3144e0ef1284754fd17ed950d5965b4b9dd46582db1178d169c6bc465b0d6ff9ca3928fef5b9ae4e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f0d8115f635b105ee2e4e15d04b2454bf6f4fadf034b10403119cd8e3b92fcc5bfe000100236f6d779877a357465cec030ac5fda6d6b377372bfa75574289988fd87d966a29b47e0c00bc788900304ea5e03f3856058c309a6cb508553913788d41a61b1d82b0a2f932c68f18fc21851e66d8649ad9e2092f08c96ad67810724369bf0511e74e1f71f1a825eddfa1d5dc30e359693c0366ff9fb6828699acfd1f037116f95add42f6c64b580b3287aa32fba518e4b8c9c7b52413b501247db05addd891794394db529e66890603bcd75cf70e6151398ee85f6d8178ea72c6a61937bce32bfdaea86b57a27ebc379933f54c7d44f3e407ed26685d88f0f10a344cdf62f4e20974b374ba1d41df223a867dd19713cf0ff71f24465d79258b1742916ee35ee3ebe57767",
        answer_padding: "e9a54498509543e9",
        g: 3,
        dh_prime: "c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f48198a0aa7c14058229493d22530f4dbfa336f6e0ac925139543aed44cce7c3720fd51f69458705ac68cd4fe6b6b13abdc9746512969328454f18faf8c595f642477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4a4a695811051907e162753b56b0f6b410dba74d8a84b2a14b3144e0ef1284754fd17ed950d5965b4b9dd46582db1178d169c6bc465b0d6ff9ca3928fef5b9ae4e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f0d8115f635b105ee2e4e15d04b2454bf6f4fadf034b10403119cd8e3b92fcc5b",
        g_a: "236f6d779877a357465cec030ac5fda6d6b377372bfa75574289988fd87d966a29b47e0c00bc788900304ea5e03f3856058c309a6cb508553913788d41a61b1d82b0a2f932c68f18fc21851e66d8649ad9e2092f08c96ad67810724369bf0511e74e1f71f1a825eddfa1d5dc30e359693c0366ff9fb6828699acfd1f037116f95add42f6c64b580b3287aa32fba518e4b8c9c7b52413b501247db05addd891794394db529e66890603bcd75cf70e6151398ee85f6d8178ea72c6a61937bce32bfdaea86b57a27ebc379933f54c7d44f3e407ed26685d88f0f10a344cdf62f4e20974b374ba1d41df223a867dd19713cf0ff71f24465d79258b1742916ee35ee3",
        b: "f2987dda0abce0b7ce23a7b850be126641cbaabc1f4c250c839e1844e2e2cbe57bc0a30b45f6c21d8635f5e927db0d7498a2f03c6a42d3fb2f3787d5b4d63c2f17a6eb197c0412237e528b68d3d70adcdeebd7cd6bacec59d4fb8f17125ed00b95b34a2d5d8a2133937b5dfef6db09f0a3a1bc207a87d9fe4761c59880ca551432e4affcf3982b11eabc526977215f4ac2ce20fa7c808a971da8c8a08ff26debb326ee580b551beaf0c4b677fce00e5c6aaeda3a5a42f38c9c6e226eeded0502a6befc991cc1e0b504e187206d172e72e05d958009fb8c27616ebdd28247262a33af25e911c9dc22d9a88c6e31a623e6c1e1011cdbd184f6dffc4f77f5370f16",
        g_b: "5eedfbf6a2199cd1b06182c5c4e0dc26b69ecde1ad6430d192cd8a69e7434b66a42900af29b3f41c619ad383fb3721705cf52c34c0507433f743592ee5d4fc50f64e0f8686870e36179af8c8f4587bd572e98af4a8247de2f524bcd48642b38f36104046d7502cdc14bf39a88422b4b1111d886a326c473d1145e69e37c676e1e8fda07e470482f853886700ae1e7ffde69ff6d40547c515110b74c6680c844b61504fe0a2d3e08bb7bae70016c97d7e6b7fa4cebfe6b5be30c884849ade39cc50fd9b4fb16f671efe8533d0bf7ff8bf13957f1e0d55e713199ceacc72419af60cdb1d561084565e9f090141b9f8732b2e806c1b01b25baffc4ee1bd5525cb8a",
        client_inner: "54b6436679f0afb50252e5fc96924bfcecda4f05801775a3efbfd2701aa28ad727be46460000000000000000fe0001005eedfbf6a2199cd1b06182c5c4e0dc26b69ecde1ad6430d192cd8a69e7434b66a42900af29b3f41c619ad383fb3721705cf52c34c0507433f743592ee5d4fc50f64e0f8686870e36179af8c8f4587bd572e98af4a8247de2f524bcd48642b38f36104046d7502cdc14bf39a88422b4b1111d886a326c473d1145e69e37c676e1e8fda07e470482f853886700ae1e7ffde69ff6d40547c515110b74c6680c844b61504fe0a2d3e08bb7bae70016c97d7e6b7fa4cebfe6b5be30c884849ade39cc50fd9b4fb16f671efe8533d0bf7ff8bf13957f1e0d55e713199ceacc72419af60cdb1d561084565e9f090141b9f8732b2e806c1b01b25baffc4ee1bd5525cb8a",
        client_padding: "8347525eb8b63de9ce3a1fcc",
        client_encrypted: "fa29896ee19d3ccb08fb07cf1c922cffbf5d38d98ba56d926d63064c77741f423bce22b5a2c100e34bb5d7ce3027e85e65006205b6926c0e42ef29e7cc24eec4523650f692a530fb95d57ef3604c490155fb8530c94e9e2ebdf272bdb3dd98ffca65ff51e5dbca4cf799d6660f6d0ba1a8b1ce6fe9d26f401b1b79e057ee273cae14d8d8d60030c862e13b2e49fe97008aea0ec8ade90ae3dddc641ae7c0844a37efc4da3b27308b9c40b1fd2028c12b37ea719d593dc7edc892b8630b82e05168fcc0d76e7ca23106fef13b09d3bae83d612cdf2e3a5adde4e807eeed660c9921ad364cff6614350f313a48ab3483f08ab81a226f7763a575f44a04bd53c58a49abd2ee4a885f2610a8387803e418c371af9378a0941f2db0aa9ce019048b6c9ed0c7fcb33985624e2392233caa5e66a3891ab18544685e96ef5c2b55e69ea2c62b33e6058da2944f087b803f251a7c",
        auth_key: "83cbd31c0303361ff1c29437a77cba749c84f28a118646038c7edd29ef718a1f6a493047d476a6e678d97a4a5cc7990cea552d68e109869e5bfc86570049cd8f2eb4ba10b6c4123fb8a977774b4c5185b5c96af7bd7a71db78e6e6148ced2048869a21b8ed7fba7f6f2e7722bfa28447ab84a245cb0e6d01261191b753191e744dcfda522d50167832ee4d5ee90aaa6f31821248f0f06bf5692ef604cfc4316cede078f71e17bcebbe388589e6707af5ba26e8dd063bb116c4b4e7bef3b462c3350d0376d42f95d353e46be4c378d2a60141a2339641f8b712eb3ecfb42b7f26f69e9bb15373e0ac4be266e1681859ddaab8cd7d877bb847d2a8bd068a784943",
        auth_key_id: "0438720625f291f6",
        aux_hash: "2f3107216012e3f6",
        nnh1: "51070b3db672b7602e4ee2fe761b36a2",
        nnh2: "794ad269e516e2908373e4933518b092",
        nnh3: "13ad218aca902a727262362b77b54fa6",
        salt_i64: -8570978028107704154,
    },
    Flow {
        name: "official_samples_2024",
        server_nonce: "e11dbc3bc97d91a26154f932af019943",
        new_nonce: "a8bbc849512dac6c67b6efd9157d6ca7377a1776307d84265c6be9bdcf802ac1",
        encrypted_answer: "6ad7dd5d8b2526c761abe50e93c82a6f331b1eae0ad011893da976e3771d4aa45209d234fea65642985386b817bf8980f517f6d32dbeb47e34534556f950ddf960db721a48480231619161112682c6046d5629c71cd1ec8061dfcdd704703ec7a8aebdcbd159579fc8886d9fa51e009af49b5ab90c7628eb81c9788a2eb6ac0e757a7debe3d949f80a990bedb4d2dbae43f00328b82f4d8fc83a9b9cfeef467e1593bb4579ee32412f167a780cfa517650bd0eb51cbfb50e3afe978839466131fcd956711e63614f006a55ed35ed2b1f833c29f4fd7a84f0c8f1c10dfc1a1aaf9a8a57108decf206e3968406f0fb25e922df154f497b51527e4834202fab477a137d0a99d1c347196fba10699f52ea56f01ef93829b310a5c97db95fd57e64417e526eb920d261157c6e38791bdd5389eeb744e075d952db33a8151207d0ab3c629e30a723a5205f8fa18398937ed2714a4e76a5f4512508a4be1b4d6ae46fd156c6f06347af5e07ce49279195133b07cce4bc6775d88f3611180d23c4c70946619ad759ab9f183a385ccf9bf19315fadbe8a4fdc748af52df930345909c870de4b48901e9f90e56d74ca534d8e1fe3a35a92a18d676958eb8fc3d82f9cee308df2a9e4ccd23ff89ea255b9eedbc3378148879666ffc2e19a431cbb57ae1a010ffe5cb39abf131add9e90bf969a112c435509b78960e0b20031c822190841561e8390446227660bbaccf3d53574bfba33bf476e3bdc9eb680aa2a17fd6756f652725ed0313e5eb0fd6a9c8c949eefbe809a89311bf20f40055ca25fd169dc13ee14b315092fde4184638d849682fd862",
        tmp_key: "5ea702f743e850f5546e857f08b7d5337bbaedf9b61248751594851be2e8c297",
        tmp_iv: "1cef8e372a63d97ebfa805c0dbb018bc7c1e0931693fbcb1a1afc0c0a8bbc849",
        answer: "ba0d89b5406709f612fadfbec3f0289d0aa67eefe11dbc3bc97d91a26154f932af01994303000000fe000100c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f48198a0aa7c14058229493d22530f4dbfa336f6e0ac925139543aed44cce7c3720fd51f69458705ac68cd4fe6b6b13abdc9746512969328454f18faf8c595f642477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4a4a695811051907e162753b56b0f6b410dba74d8a84b2a14b3144e0ef1284754fd17ed950d5965b4b9dd46582db1178d169c6bc465b0d6ff9ca3928fef5b9ae4e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f0d8115f635b105ee2e4e15d04b2454bf6f4fadf034b10403119cd8e3b92fcc5bfe0001000a77200bdff6e6c4c126a2c41df310ab3a3bdbd698cd480749e1f3c64fb1cfc9dfc70ac6f1aa671019620a640055b2cf7d7d99cc86533645c0fa000954de2987bad68d7450cf134c9f0305f34c1bb285da8233f65970a01c4bd3afd5ea3cd5864b8f1dcb35d5e9737df15063c54cf53048ef519a280498dddaf23764f29ffb0c5813caad90c319be8592b78c4be815e65ada7c62ea23754b5a2c5a86c4721872d0cc48e0f895c3ebe186e81e5f0e88a6b3f09101c409af3410b64238fbf2a2095e3f3b7ffc7eb3a02a319b99a155647bc59958bcdfed8a1cc6eb7f13f8600e521d9d0247b0f639f2fa3b09f72987781f71c0e8aa950167de5092380b4853e7f1513dc565",
        answer_padding: "c26f8049523e89d2",
        g: 3,
        dh_prime: "c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f48198a0aa7c14058229493d22530f4dbfa336f6e0ac925139543aed44cce7c3720fd51f69458705ac68cd4fe6b6b13abdc9746512969328454f18faf8c595f642477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4a4a695811051907e162753b56b0f6b410dba74d8a84b2a14b3144e0ef1284754fd17ed950d5965b4b9dd46582db1178d169c6bc465b0d6ff9ca3928fef5b9ae4e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f0d8115f635b105ee2e4e15d04b2454bf6f4fadf034b10403119cd8e3b92fcc5b",
        g_a: "0a77200bdff6e6c4c126a2c41df310ab3a3bdbd698cd480749e1f3c64fb1cfc9dfc70ac6f1aa671019620a640055b2cf7d7d99cc86533645c0fa000954de2987bad68d7450cf134c9f0305f34c1bb285da8233f65970a01c4bd3afd5ea3cd5864b8f1dcb35d5e9737df15063c54cf53048ef519a280498dddaf23764f29ffb0c5813caad90c319be8592b78c4be815e65ada7c62ea23754b5a2c5a86c4721872d0cc48e0f895c3ebe186e81e5f0e88a6b3f09101c409af3410b64238fbf2a2095e3f3b7ffc7eb3a02a319b99a155647bc59958bcdfed8a1cc6eb7f13f8600e521d9d0247b0f639f2fa3b09f72987781f71c0e8aa950167de5092380b4853e7f1",
        b: "1376a5a6bf7a9f874b47028f3d5cff0689fd52f58949bb0ee9bacdbe81dd1ced07101844eb6f2ae19e61120b84799431f445785e33a18141399821479ae96786e0f4e9c5c6c9e46bf562c21c96b0f8f7438c8caba3dfcb3dd3b886c2a37b95ed804315335c0ddffeb3a278243d89f964278bc734d1087d6d4b554c1f78397a414f440e38ba9a4f1211b20ae835437762f81a45fdb035bb2220d939693084b39a3c7be2481309ab9ae378eab8bb3a15a69eba80bef683582e2218fa604e823eabd111553d31dbb46b9383a0d8eef615fff9cf266c970800aa28ac5e962d20351311a815ffa7562989ca6d6323bf2b5af40ef3f45021b7445664852d07b80172ce",
        g_b: "a215d057bc6648453d68c2f418a38d9d4f4fa47e5d520ac7ebc2adc3b00075090c10a1e9d96a5dda127317f2ddc165c5f6c8c2854648c106d0d9df684dae70b0e6021658806245b494b762b1979e8bd597b5cc8e43a80f96ca47fb0765c98d40529f3d94c82113ae32c603aa24411ef8b330565a1d66ea6b89c9d4f8affeea397c4b247564215d147b6ad0df7f3fb4499e89e34304531d87448b91967b5bd53093f09386c0f78940c1dd6aa7c8667e15857453e6aad275f94cd386468cf49108fb7c54282596a4d0314dce9efed4066a6e072471439aeaaa74157db7dd53f01982982534dee8740610ba433bf459b3dfe38674561f31991ce007ba112dda6718",
        client_inner: "54b64366406709f612fadfbec3f0289d0aa67eefe11dbc3bc97d91a26154f932af0199430000000000000000fe000100a215d057bc6648453d68c2f418a38d9d4f4fa47e5d520ac7ebc2adc3b00075090c10a1e9d96a5dda127317f2ddc165c5f6c8c2854648c106d0d9df684dae70b0e6021658806245b494b762b1979e8bd597b5cc8e43a80f96ca47fb0765c98d40529f3d94c82113ae32c603aa24411ef8b330565a1d66ea6b89c9d4f8affeea397c4b247564215d147b6ad0df7f3fb4499e89e34304531d87448b91967b5bd53093f09386c0f78940c1dd6aa7c8667e15857453e6aad275f94cd386468cf49108fb7c54282596a4d0314dce9efed4066a6e072471439aeaaa74157db7dd53f01982982534dee8740610ba433bf459b3dfe38674561f31991ce007ba112dda6718",
        client_padding: "74876952857ba6aaa495a20d",
        client_encrypted: "14d185e575255986c29be3a0437d525ba22430cba0cd755225945ad3a1acefb536518514f5086892e6e3fa84d1cbb644bc8f7bebcde74e31ba8a073f47623ebb6e7d94b3a676a4c1afd4689c52d05f73d21c33f64fe6aeabd04273d9117cd064e467e1f8e6c887bcae4679e0399ad35db1302a80629618f8c8485248d89a4e3568b464ff7b608cbe24b51eeb81b65d76224b62a1669eaa48a99c122e5e8a778e13dd441dc52175160088a498f186a2b99c736fe8c5c3e274d804c629564a0f15ddabc5b449356a7990900652a7432afb1499c7ce09246f6b29006425df2926465b04f17c0077b6a336a50e46b675ad5607f05818f84eadec1f4847bf311027e742f8b1e183c01810c4ce964f2a0f36e257849c144c9b0b93b4a7a9e57391db0ccb0d757a2b7a77257c8ff55553d66b6e1d45e9d8ca88e5a47b16322ff2ed5f5abe099e7006b2d29c829d746b704130b1",
        auth_key: "aca2547baa3b4b3e6ad9129adee796042fc4acaaaba40dce7a1196640595829e2ba85c5e68e5d2b7b713b28720ccd0e65da3b80cd8a9282bde895755b924f4cbbced119dee057d3066d7095c25771a53d9ad6ec3464ee0e7fe1a4d9851f17b6cc7d6e636e0bdea7d66153cf37005835a528e65673c1f5adaa27465964ba89aa6fd045108b25b1dc9ab2d979864858c9eacbfa4a399cdbf2154d2cc6743c5caa40683343d80a36c7f1289dc5ac5ee585dea1e1cd296444ea6cd8f6c3564b2d355b310a3c02608eea5ec36d38e941bf811489ab7a24c069e44ff54714cb4a45eee2f310fddc0a1b08bd3dff8801e27c8508efd7ad51ef3c13ef1d9a02ee4601741",
        auth_key_id: "65588b3350ef784e",
        aux_hash: "20b5c361a4f5a3d0",
        nnh1: "1142871352165e59e1124036b48b97d3",
        nnh2: "20d87dd307142b798b67a8dea2c22140",
        nnh3: "141c6db2686ef8df4e08e685ccd31510",
        salt_i64: -3585621112631548343,
    },
    Flow {
        name: "grammers_test_dc_flow",
        server_nonce: "65ba0b393e1094329eda2c42d6283303",
        new_nonce: "b9dce68b05ef760fa7edfefeff45aaa8afbac11dc3d333bc3132fd16ab816d63",
        encrypted_answer: "fd064e91012ade621b26a48ac7dc8b2c8670ed67092a00fe8c936483e4b02822c3cc655aaffe00542e311df5abdaa645b1da85ca50a6c7b0e7cc7cb2b23d42c84e288bb3b5cfe313e1ebafe19833916df4d1f58dba62e0ac49cac17a31b8b0d57d43eefda546d67e80e311c4b213adec9635c73f75a18ffb26fb71391523bd5ddfcc8be51b36d6b2552394c511ec935d53811a981baca62a2b58cbfe96f1b35e118e5e17456994aea931839925c4578f281f3f129d28026ec80224617a9ca8c615a12fba9c53e774476567f07b01a59d2e6635e39c16dc0a54679f3b54b0482f1cbeac821147d93d7365f4e23fb5794eb5fd4ffdc6456638ea32f641f49ee705e7b0da71cb75753e2f4f80d5af07edb017948f332e34a9c5886b0c86281e0e7228d5a652a9faaf819f7686c099186169aaa377c136fac57b69b7f7b383aaece652f8dcb14e0dfb23e2a65330307a74c31c508cc504450fa208eee14d8bbead1c1f90ccfc183ae1d3345c62424ea3477776204e8fe69efbb6a27b168913d3babaca30aa1c9589d6655b2ad4cd59f67e9b3957ab3270d70afab9bd488a6c5f39ca739ca8947def00cdb8812152731710f5108235775a019d3b4986d6b720b05167b4ee731a10a29fc1e03c42e99d8ff5cf64f45070c2f5ce485ea5fddc281728b6e4d0dea561c9097e3f8a54b055b0c069a9f8207520f6429eb5225c985e3379f2cf6754f56d414fcd00d502e69223b911b915978e0890a9ef128715b828bf3fda3fee6c7b9b2621d971a6f7820f89f4c4c2ab29dec00007c3ec6cead64f7f5802d5e6a4a16a185cfbfced5351fa68380e",
        tmp_key: "1dd9c8a08b737e0d5c389f97fa2953b5b208a1eb0ed2d6520ed6e6534d866361",
        tmp_iv: "c8142490c882b7dfa48a3fca82578adeca57fad48905d8a3035532aeb9dce68b",
        answer: "ba0d89b54e44b426241e8b839153122d44585ac665ba0b393e1094329eda2c42d628330303000000fe000100c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f48198a0aa7c14058229493d22530f4dbfa336f6e0ac925139543aed44cce7c3720fd51f69458705ac68cd4fe6b6b13abdc9746512969328454f18faf8c595f642477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4a4a695811051907e162753b56b0f6b410dba74d8a84b2a14b3144e0ef1284754fd17ed950d5965b4b9dd46582db1178d169c6bc465b0d6ff9ca3928fef5b9ae4e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f0d8115f635b105ee2e4e15d04b2454bf6f4fadf034b10403119cd8e3b92fcc5bfe0001002d0c5610744873379d3daca04af98b9c27ccbfbb5041cfeb13fa0290aed64b12de2e154709a175875eeeb6c8595c1d6baa712f674cea5dd408e41ec54fb23940525b5e57716ed34e0aafe04fcfbf8493dac6d189fd63470954b9b49aee866145016bf2697eb457717a757b10e88e299117b68e8a861184922ebb15e878b74aed801bc7f9c87a6c91c95c66237bd49f3b63b2ce8cf7b72997d7e917e36edf71ce74560473a8b1b340c131c599eb5ecad7d7c1eb382987193534f710af24ee829b768d427bfc42a3955f0963591251691f51d3a40f320d7165db39bec7875c94339fbc3f6c41c4a424856af563fa7cce13d901908bef256d6f0840727ddf44f68444cbef64",
        answer_padding: "726490b417b92740",
        g: 3,
        dh_prime: "c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f48198a0aa7c14058229493d22530f4dbfa336f6e0ac925139543aed44cce7c3720fd51f69458705ac68cd4fe6b6b13abdc9746512969328454f18faf8c595f642477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4a4a695811051907e162753b56b0f6b410dba74d8a84b2a14b3144e0ef1284754fd17ed950d5965b4b9dd46582db1178d169c6bc465b0d6ff9ca3928fef5b9ae4e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f0d8115f635b105ee2e4e15d04b2454bf6f4fadf034b10403119cd8e3b92fcc5b",
        g_a: "2d0c5610744873379d3daca04af98b9c27ccbfbb5041cfeb13fa0290aed64b12de2e154709a175875eeeb6c8595c1d6baa712f674cea5dd408e41ec54fb23940525b5e57716ed34e0aafe04fcfbf8493dac6d189fd63470954b9b49aee866145016bf2697eb457717a757b10e88e299117b68e8a861184922ebb15e878b74aed801bc7f9c87a6c91c95c66237bd49f3b63b2ce8cf7b72997d7e917e36edf71ce74560473a8b1b340c131c599eb5ecad7d7c1eb382987193534f710af24ee829b768d427bfc42a3955f0963591251691f51d3a40f320d7165db39bec7875c94339fbc3f6c41c4a424856af563fa7cce13d901908bef256d6f0840727ddf44f684",
        b: "8fc3605a4604cbb5461fdeff439c761150083cdd502550558e92c730d46c9caf0b1b2d64d2c264942c50d98694fff604fdd2bd87f2cafb719bc55e65a1f60b08809660a650721c40d56fc9c792df1d463aad1718c6924b7bdffbe395f14633d33fc38ce47c18a1561b83a5c66d29f9e292637127471c3baab0028ae42796b689e53a7f9ab5f0ee6d3fb658d847c1abca509fc4ed0d45edbb1c946488910d8d78fa0767255b57a7c3898da8d26625bde40c5a0e80b581408ecd95a17d396dc7574a8ed3cbc4c085197ffaad29c18e577eb292aa8b98caa92efd6f9536049b5a7defc861e270eca90c55b9585405cb96f3e6ea754850b09e7a59ba5fd92d357982",
        g_b: "8f152348d6b2fee8d08ed809075d23782305950d6610af1cca8d90ffbc136e2a648d8500f2d3c3d8b36e9949428fbc534eb788888d76b0bd57920695dcd5fd72842346c39b83c4e28a31d9ea9925c83310254b5a8e3dadfb1fcff33c93b919b82da39f3ba8abbdbdbdd9026112ac5117f60f7f9d5dca4f6edd45946dd53deef60acdc1172428751a380103ded1d2a18a0d8b8ced819ab814b0e827c5ed942c0d29595f51c7ae88d2be54e15005f5137406c2f737ccb3514326e561963d6972dd991b151e15408ebc9cd7ba92b4cc0eaa7adc4a7fd4a4f2fb4d3bd29977a7147db3b351b0790ee27530926e30f90c097b732c2f9f817d8d10e8988b8ee05a0f84",
        client_inner: "54b643664e44b426241e8b839153122d44585ac665ba0b393e1094329eda2c42d62833030000000000000000fe0001008f152348d6b2fee8d08ed809075d23782305950d6610af1cca8d90ffbc136e2a648d8500f2d3c3d8b36e9949428fbc534eb788888d76b0bd57920695dcd5fd72842346c39b83c4e28a31d9ea9925c83310254b5a8e3dadfb1fcff33c93b919b82da39f3ba8abbdbdbdd9026112ac5117f60f7f9d5dca4f6edd45946dd53deef60acdc1172428751a380103ded1d2a18a0d8b8ced819ab814b0e827c5ed942c0d29595f51c7ae88d2be54e15005f5137406c2f737ccb3514326e561963d6972dd991b151e15408ebc9cd7ba92b4cc0eaa7adc4a7fd4a4f2fb4d3bd29977a7147db3b351b0790ee27530926e30f90c097b732c2f9f817d8d10e8988b8ee05a0f84",
        client_padding: "915d39752aaa2ec16b6cbde6",
        client_encrypted: "def448d48c608480bab65df3f8990be8011f7b415a6f8113617bea749b8b0ea6a937987b18cc4dcce8197efdcf8d6ec6af7fc3364b4945df77e4a1ae9db7acea4abcd73247edb36bde20fc969c1d55717277afe0bc31a9ee99f7d822f91fa2dc69c868a19511b162d55e0814d0292b7708b67d57eb04569349d5a20ffe85c0141fc17e9bbbaf207bef56e66decda718c52c45273f868c2eff89bb06355cd515fbfe123d719b244234867d2889c9d0e4436ba644076e5014a78af60b2f0e1b30285f4f71539bcf8c506ccafd62cfcd1b040fe5e35bb30e519ad56d753100f604e3ea5d02409d74dd3ab0861227410f1e13591cf2a638347e6c6d0bcae14e0e8753313b51daee40a67407b5cc8b213856a290a0c7b6cda9ff9c58d69faaf6a748cff05512b69f1380f7a36843edecdc764048bc16d9808f353a9caf6d49ca8b717c8f6de037518a444931a7da2b80f16d0",
        auth_key: "7582e48ad36cd6eef7944ac9bd7027de9ee3202543b68850ac01e1221350f7174e6c3771c9d86b3075f777539c23d053e9da9a1510d49e8fa0ad76a016ce28bfe3543dde69959bc682dab762b95a36629a8438e65baa53cc79b551c23d555c7675a36f4ece90882ece497d28a903409b780a8a80516cb0f8534fee3a67530beb2b1929626e07c2a052c4870b18b0a626606ca05cb13668a65aee3fa32cbebf1b3a56532138cb22c017cac44a292021902eea9b9f906c6be19c9203c7bb3ebc5f1b2044d0a90cb008f7248c3ae4449e0895b6090abb04c24131c2948bd27d879ecb934e50a46671f987653385ab388e4fa1ddd4c95743111e08bf11fef1f8f739",
        auth_key_id: "9cfd4a95546f4614",
        aux_hash: "d78e45cf63b32cf6",
        nnh1: "13b781a0de4ab6bc7ab414cbe13f9f86",
        nnh2: "",
        nnh3: "",
        salt_i64: 4459407212920268508,
    },
];

const RFC3526_2048: &str = "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7edee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf0598da48361c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb9ed529077096966d670c354e4abc9804f1746c08ca18217c32905e462e36ce3be39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf6955817183995497cea956ae515d2261898fa051015728e5a8aacaa68ffffffffffffffff";
const NON_SAFE_PRIME: &str = "814567dc24cbcf64722d9d8a2003a9107f1b52d00f39fae5e5c8d0b552df70fcf6b2a5b310e19afe7822916b3b2f667a7bfc7cb82a8274d4e25923c4a9db402b314c2ec88abeac8320be1e0d8758326691a2e9a61d81c1c1a8fb178feb8bea89f7af032027ceabe080cbd3e762479a9162e954012ceeb0e7a9528f3fec46680620374a9ac2b1137295c1b4dcb8542468ad46d554aa3678b19628bbc460ed18f7263b2ee390e364fab84a3ec8d7afeb073bcf288e6c7d9d76f04823229db14e7d844e496be8d1e57749606c87927104a0bdf86b65b7d8a3573fff8ef73e01bd9ee86b6175a56d9fe288bafcd6395b14d4a87dd2badf45e1bb2684e73fd2f24183";
const COMPOSITE: &str = "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7edee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf0598da48361c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb9ed529077096966d670c354e4abc9804f1746c08ca18217c32905e462e36ce3be39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf6955817183995497cea956ae515d2261898fa051015728e5a8aacaa690000000000000001";

fn rng() -> rand_chacha::ChaCha20Rng {
    rand_chacha::ChaCha20Rng::seed_from_u64(3)
}

#[test]
fn recompute_every_flow() {
    for f in FLOWS {
        let server_nonce: [u8; 16] = h(f.server_nonce).try_into().unwrap();
        let new_nonce: [u8; 32] = h(f.new_nonce).try_into().unwrap();
        let tmp = dh::tmp_aes_key_iv(&server_nonce, &new_nonce);
        assert_eq!(hex::encode(tmp.key), f.tmp_key, "{}", f.name);
        assert_eq!(hex::encode(tmp.iv), f.tmp_iv, "{}", f.name);

        // client: decrypt encrypted_answer, check SHA1, get server_DH_inner_data
        let answer = dh::decrypt_answer_with_hash(&h(f.encrypted_answer), &tmp).unwrap();
        assert_eq!(hex::encode(&answer), f.answer, "{}", f.name);
        // server: the same bytes from answer + its padding
        let enc = dh::encrypt_with_hash(&h(f.answer), &h(f.answer_padding), &tmp).unwrap();
        assert_eq!(hex::encode(enc), f.encrypted_answer, "{}", f.name);

        let p = h(f.dh_prime);
        assert!(dh::is_known_prime(&p));
        assert_eq!(hex::encode(dh::TELEGRAM_DH_PRIME), f.dh_prime);
        dh::check_dh_params(f.g, &p, &mut rng()).unwrap();
        dh::check_g_a(&h(f.g_a), &p).unwrap();

        let b = DhSecret::from_slice(&h(f.b)).unwrap();
        let g_b = dh::public_value(f.g, &b, &p).unwrap();
        assert_eq!(hex::encode(g_b), f.g_b, "{}", f.name);
        dh::check_g_b(&g_b, &p).unwrap();

        let enc = dh::encrypt_with_hash(&h(f.client_inner), &h(f.client_padding), &tmp).unwrap();
        assert_eq!(hex::encode(&enc), f.client_encrypted, "{}", f.name);
        // and the server reads it back
        assert_eq!(
            hex::encode(dh::decrypt_answer_with_hash(&enc, &tmp).unwrap()),
            f.client_inner
        );

        let key = dh::compute_auth_key(&h(f.g_a), &b, &p).unwrap();
        assert_eq!(hex::encode(key.as_bytes()), f.auth_key, "{}", f.name);
        assert_eq!(hex::encode(key.id()), f.auth_key_id, "{}", f.name);
        assert_eq!(hex::encode(key.aux_hash()), f.aux_hash, "{}", f.name);
        assert_eq!(
            hex::encode(key.new_nonce_hash(&new_nonce, 1)),
            f.nnh1,
            "{}",
            f.name
        );
        if !f.nnh2.is_empty() {
            assert_eq!(hex::encode(key.new_nonce_hash(&new_nonce, 2)), f.nnh2);
            assert_eq!(hex::encode(key.new_nonce_hash(&new_nonce, 3)), f.nnh3);
        }
        assert_eq!(
            dh::server_salt(&new_nonce, &server_nonce),
            f.salt_i64,
            "{}",
            f.name
        );
        assert_eq!(
            dh::server_salt_bytes(&new_nonce, &server_nonce),
            f.salt_i64.to_le_bytes()
        );
    }
}

#[test]
fn server_side_shared_key_matches() {
    // server with secret a computes g_a, client with b computes g_b; both get the same key
    let p = dh::TELEGRAM_DH_PRIME;
    let mut r = rng();
    let a = DhSecret::generate(&mut r);
    let b = DhSecret::generate(&mut r);
    let g_a = dh::public_value(3, &a, &p).unwrap();
    let g_b = dh::public_value(3, &b, &p).unwrap();
    let k_client = dh::compute_auth_key(&g_a, &b, &p).unwrap();
    let k_server = dh::compute_auth_key(&g_b, &a, &p).unwrap();
    assert_eq!(k_client, k_server);
    assert_eq!(format!("{a:?}"), "DhSecret(..)");
}

#[test]
fn g_residue_conditions() {
    let p = dh::TELEGRAM_DH_PRIME; // p mod 8 = 3, p mod 3 = 2
    assert_eq!(dh::check_g(3, &p), Ok(()));
    assert_eq!(dh::check_g(4, &p), Ok(()));
    assert_eq!(
        dh::check_g(2, &p),
        Err(DhError::GNotQuadraticResidue { g: 2 })
    );
    for g in [1, 8, 0, -3] {
        assert_eq!(dh::check_g(g, &p), Err(DhError::GOutOfRange { g }));
    }
    // small p values with the listed residues
    let ok = |g: i32, p: u32| dh::check_g(g, &p.to_be_bytes()).is_ok();
    assert!(ok(2, 23) && !ok(2, 19)); // 23 mod 8 = 7
    assert!(ok(5, 11) && ok(5, 19) && !ok(5, 13)); // mod 5 = 1 or 4
    assert!(ok(6, 19) && ok(6, 23) && !ok(6, 29)); // mod 24 = 19 or 23
    assert!(ok(7, 17) && ok(7, 19) && ok(7, 13) && !ok(7, 11)); // mod 7 = 3, 5, 6
    let rfc = h(RFC3526_2048);
    assert_eq!(dh::check_g(2, &rfc), Ok(()));
}

#[test]
fn prime_checks() {
    let mut r = rng();
    // an unknown but genuine safe prime (RFC 3526 group 14) passes the full test
    dh::check_dh_params(2, &h(RFC3526_2048), &mut r).unwrap();
    assert_eq!(
        dh::check_dh_prime(&h(NON_SAFE_PRIME), 15, &mut r),
        Err(DhError::PrimeNotSafe)
    );
    assert_eq!(
        dh::check_dh_prime(&h(COMPOSITE), 15, &mut r),
        Err(DhError::PrimeNotPrime)
    );
    assert_eq!(
        dh::check_dh_prime(&dh::TELEGRAM_DH_PRIME[1..], 15, &mut r),
        Err(DhError::PrimeWrongSize)
    );
    let mut big = vec![1u8];
    big.extend_from_slice(&dh::TELEGRAM_DH_PRIME);
    assert_eq!(
        dh::check_dh_prime(&big, 15, &mut r),
        Err(DhError::PrimeWrongSize)
    );
    // the known prime also passes the slow path (strip its "known" status by testing q directly)
    let mut p = dh::TELEGRAM_DH_PRIME;
    p[255] ^= 2; // an even-ish neighbour: not prime
    assert_eq!(
        dh::check_dh_prime(&p, 15, &mut r),
        Err(DhError::PrimeNotPrime)
    );
}

#[test]
fn g_a_g_b_ranges() {
    let p = dh::TELEGRAM_DH_PRIME;
    let pn = num_from(&p);
    let one = num_from(&[1]);
    let bound = one.clone() << 1984usize;
    let be = |x: &num_bigint_like::N| x.to_be();
    use num_bigint_like::N;
    type Case = (N, Result<(), DhError>, Result<(), DhError>);
    let cases: [Case; 8] = [
        (
            num_from(&[1]),
            Err(DhError::GaOutOfRange),
            Err(DhError::GbOutOfRange),
        ),
        (
            num_from(&[0]),
            Err(DhError::GaOutOfRange),
            Err(DhError::GbOutOfRange),
        ),
        (
            num_from(&[2]),
            Err(DhError::GaUnsafe),
            Err(DhError::GbUnsafe),
        ),
        (
            bound.clone(),
            Err(DhError::GaUnsafe),
            Err(DhError::GbUnsafe),
        ),
        (bound.add_small(1), Ok(()), Ok(())),
        (
            pn.sub(&bound),
            Err(DhError::GaUnsafe),
            Err(DhError::GbUnsafe),
        ),
        (
            pn.sub(&one),
            Err(DhError::GaOutOfRange),
            Err(DhError::GbOutOfRange),
        ),
        (
            pn.clone(),
            Err(DhError::GaOutOfRange),
            Err(DhError::GbOutOfRange),
        ),
    ];
    for (x, ra, rb) in cases {
        assert_eq!(dh::check_g_a(&be(&x), &p), ra);
        assert_eq!(dh::check_g_b(&be(&x), &p), rb);
    }
    assert_eq!(dh::check_g_a(&be(&pn.sub(&bound).sub(&one)), &p), Ok(()));
    // compute_auth_key refuses a bad g_a
    let b = DhSecret::from_bytes([7; 256]);
    assert_eq!(
        dh::compute_auth_key(&[1], &b, &p).unwrap_err(),
        DhError::GaOutOfRange
    );
    assert_eq!(
        dh::compute_auth_key(&p, &b, &p).unwrap_err(),
        DhError::GaOutOfRange
    );
    assert_eq!(
        DhSecret::from_slice(&[0; 255]).unwrap_err(),
        DhError::BadSecretLength
    );
    assert!(dh::pow_secret(&[2], &b, &p[1..]).is_err());
}

#[test]
fn answer_with_hash_errors() {
    let tmp = dh::tmp_aes_key_iv(&[1; 16], &[2; 32]);
    assert_eq!(
        dh::decrypt_answer_with_hash(&[0; 40], &tmp),
        Err(DhError::EncryptedNotAligned { len: 40 })
    );
    assert_eq!(
        dh::decrypt_answer_with_hash(&[0; 16], &tmp),
        Err(DhError::EncryptedNotAligned { len: 16 })
    );
    assert_eq!(
        dh::decrypt_answer_with_hash(&[0; 64], &tmp),
        Err(DhError::AnswerHashMismatch)
    );
    assert_eq!(
        dh::encrypt_with_hash(&[0; 12], &[0; 16], &tmp),
        Err(DhError::BadPaddingLength { len: 16 })
    );
    assert_eq!(
        dh::encrypt_with_hash(&[0; 12], &[0; 1], &tmp),
        Err(DhError::BadPaddingLength { len: 1 })
    );
    let mut r = rng();
    for len in 0..40u8 {
        let data: Vec<u8> = (0..len).collect();
        let enc = dh::encrypt_with_hash_rng(&data, &tmp, &mut r).unwrap();
        assert_eq!(dh::decrypt_answer_with_hash(&enc, &tmp).unwrap(), data);
    }
}

/// Minimal big-number helper for building boundary values in tests
/// (schoolbook on big-endian byte vectors, 257 bytes wide).
mod num_bigint_like {
    #[derive(Clone)]
    pub(crate) struct N(pub(crate) [u8; 257]);
    impl N {
        pub(crate) fn to_be(&self) -> Vec<u8> {
            self.0.to_vec()
        }
        pub(crate) fn sub(&self, o: &N) -> N {
            let mut r = [0u8; 257];
            let mut borrow = false;
            for i in (0..257).rev() {
                let (d, b1) = self.0[i].overflowing_sub(o.0[i]);
                let (d, b2) = d.overflowing_sub(u8::from(borrow));
                r[i] = d;
                borrow = b1 || b2;
            }
            N(r)
        }
        pub(crate) fn add_small(&self, x: u8) -> N {
            let mut o = [0u8; 257];
            o[256] = x;
            let mut r = [0u8; 257];
            let mut carry = false;
            for i in (0..257).rev() {
                let (s, c1) = self.0[i].overflowing_add(o[i]);
                let (s, c2) = s.overflowing_add(u8::from(carry));
                r[i] = s;
                carry = c1 || c2;
            }
            N(r)
        }
    }
    impl core::ops::Shl<usize> for N {
        type Output = N;
        fn shl(self, bits: usize) -> N {
            // only used for 1 << 1984
            assert!(self.0[..256].iter().all(|&b| b == 0) && self.0[256] == 1);
            let mut r = [0u8; 257];
            r[256 - bits / 8] = 1 << (bits % 8);
            N(r)
        }
    }
}
fn num_from(b: &[u8]) -> num_bigint_like::N {
    let mut r = [0u8; 257];
    r[257 - b.len()..].copy_from_slice(b);
    num_bigint_like::N(r)
}

/// Keys, IVs and DH exponents never show up in `Debug` output.
#[test]
fn secrets_are_redacted_in_debug() {
    let secret = DhSecret::from_bytes([0xab; 256]);
    assert_eq!(format!("{secret:?}"), "DhSecret(..)");
    let tmp = dh::tmp_aes_key_iv(&[1; 16], &[2; 32]);
    assert_eq!(format!("{tmp:?}"), "AesKeyIv { .. }");
    let cipher = mtproto_crypto::ige::Aes256Ige::new(&tmp.key);
    assert_eq!(format!("{cipher:?}"), "Aes256Ige { .. }");
    assert!(!format!("{:#?}", (&secret, &tmp, &cipher)).contains("ab"));
}
