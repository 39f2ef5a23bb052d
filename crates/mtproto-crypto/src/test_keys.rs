//! A fixed RSA key pair for tests, demos and fuzzing: public, so never for
//! anything else.

/// A fixed 2048-bit RSA private key (PKCS#1 PEM) for fast tests and demos,
/// generated for this crate with `openssl genrsa -traditional 2048`. Never use it
/// outside tests: it is public.
pub const TEST_RSA_PRIVATE_PEM: &str = "\
-----BEGIN RSA PRIVATE KEY-----\n\
MIIEowIBAAKCAQEAo0sYoX4kSHEt5UfOrces+mfa7aqt+qWIphRBJTYfbHx2g/RN\n\
z1k2Tj7GugYPmezb3QCtmZvAArd11i3o2AppbBLkLTbYeSxog10VUrd+/e8Hfc8D\n\
n0wC1cCzv+jyI4254fq27HCHiqWBBj5CULY0FmPQdjKGe/PNSxDcdUWFaZ50Yc+8\n\
prS3NnnT14pJ+/13ENx9P9wK3zfRSinOioBBrdpWTGOAfw3Mkkb2d4fQUpXvL71R\n\
7yh4IEX3PpBLceoZnpXKyTs+kvRQR1m4ziQzNWATvj6DdauNXTepmRc55VlNl6Et\n\
3ChGeYheFVmoWKK/UKgM1Bb9hRkNWtOijnXYawIDAQABAoIBABIIJ+cla9JIFT5d\n\
aJhOFW7tawKVt3KXNvjIAc2fJWcwc1Hs926vNkz7p6xBIRXpTvofqgvtZA2ovq1x\n\
EmZQ+AVELMhFZzAyVDQ1YjZpJu/ZpmUhKBA+L431IqRNj/eXHfCzY+HGJ2GLFy1e\n\
UKpjBGt4iDuVJr6nVIM2kHGuxKW9+YjPn47YSjmmvIhxqnpAJZdxEOEDLbXMt8tB\n\
asJGtZP6QlpXLmY5BdWBmJZdyXVfSklF5fdSfjc+m/ybfm9pYp40iukLPi5k2pR/\n\
AdRT36mwE2gtXvViydL7sSUnF44NZAQHVcM5+o0XfvOPNX1oumm7hOpE4Bak8D95\n\
mKC+9WECgYEAz65r2k2yTjIp3JC85iTR6DoAgwp0IcgPobAbi+zJepmfssN2lolo\n\
zjPVKvdD4iHIbPFm6xz5qslBevMEXBK4k9I5SRJe6akFlnqJsGi1M+woXpP0HR6M\n\
lMoV3+yFjOWNd/ivheQmzNPYBmh+CRmP6zvVJPYaE+Msx6eUHBicodsCgYEAyUjo\n\
11RzmpPcSYOjXmVZwv6qucpKxberAzVo7DVzbl9nchizcNNRJ+EHflEZT6zVBSRU\n\
zSZJENekiy4HI/DMWkSFN8MqUqmoOg2PrSfJoAo55cKDB0OjlHCNtWkRR4G53LdW\n\
5zuLH1XiSemx8zOs7EK9zNBOQnkZxEnN77h40LECgYBsYvBAx0nmS4HTbepYBiFS\n\
nGrF+P+w3bNixAEsXpCsHl7dMevDFsWO0DhRKyjPbKgoSzhWPhIC0vQMkaXV06Nm\n\
6lEhVKgaNC8JYLxZR9xB098htP+y7s2ZnXobGlp8tRTG5w/bxb2GKo1UktYsM54L\n\
u3c6ygHEHUyyij/fBe1A/wKBgQCCIOmvNEDcoVTcDgeTIlDKmJvFKzv14QzlMSVY\n\
+CFdLL6S69cuTN99uaR/jGyhrum0vk04p9S6177f3+zr1mQ2w2+gokL9WAOTLGtD\n\
laJrHdFaccsF6juZ3r4ulvN92CdRwxGiwkLqCjsWb8gEo9bakzdjbxP5M5Nt7A0A\n\
OrGYsQKBgGBXOZYHHj3FSNlk5dUdQrgG4VsqfKXVDbfWlydoZYUYvUR24FLJtPp2\n\
MEW3SmFpqPuMeyKU0ZchXiTPc3JDXUtEjRxkVBPYw+HAXN6Gk/lUIAEzVIMenvr7\n\
y7PuGpbc6mRvgPtpAyjS8+jrcLH5Ny9yLf8FAEgfhf2FUdJwGjyT\n\
-----END RSA PRIVATE KEY-----\n\
";
