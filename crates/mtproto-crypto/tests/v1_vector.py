# Independent MTProto 1.0 encryption (description_v1) with Python's hashlib
# and the `cryptography` package's AES-ECB, IGE written out here.
import hashlib
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
key = bytes(range(256))
plain = bytes.fromhex("00112233445566778899aabbccddeeff") + (0x5f00000000000004).to_bytes(8,'little') + (0).to_bytes(4,'little') + (40).to_bytes(4,'little') + bytes.fromhex("65f7a375") + bytes(range(1,37))
pad = bytes(range(0xa0, 0xa8))
msg_key = hashlib.sha1(plain).digest()[4:20]
x=0
sha1 = lambda b: hashlib.sha1(b).digest()
a = sha1(msg_key + key[x:x+32]); b = sha1(key[32+x:48+x] + msg_key + key[48+x:64+x]); c = sha1(key[64+x:96+x] + msg_key); d = sha1(msg_key + key[96+x:128+x])
aes_key = a[0:8] + b[8:20] + c[4:16]
aes_iv = a[8:20] + b[0:8] + c[16:20] + d[0:8]
ecb = Cipher(algorithms.AES(aes_key), modes.ECB()).encryptor()
data = plain + pad
iv1, iv2 = aes_iv[:16], aes_iv[16:]
out = b''
for i in range(0, len(data), 16):
    blk = data[i:i+16]
    x_ = bytes(p ^ q for p, q in zip(blk, iv1))
    y = ecb.update(x_)
    y = bytes(p ^ q for p, q in zip(y, iv2))
    out += y
    iv1, iv2 = y, blk
auth_key_id = sha1(key)[12:20]
print("plain", plain.hex()); print("pad", pad.hex()); print("packet", (auth_key_id + msg_key + out).hex())
