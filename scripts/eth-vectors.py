#!/usr/bin/env python3
"""Writes crates/portcullis/src/domain/ethereum/vectors.json: personal_sign
signatures, their signers, high-s twins and EIP-55 checksums, all made by
eth-account (an implementation independent of Portcullis), for the unit
tests of domain/ethereum.rs.

    pip install eth-account==0.14.0 && scripts/eth-vectors.py
"""
import json, os

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import to_checksum_address

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
KEYS = ["0x" + f"{i:02x}" * 32 for i in (1, 2, 3, 0x11, 0x7f)]
MESSAGES = [
    "hello",
    "",
    "example.com wants you to sign in with your Ethereum account:\n{address}\n\nSign in to Example.\n\n"
    "URI: https://example.com/login\nVersion: 1\nChain ID: 1\nNonce: 32891756\nIssued At: 2026-12-03T17:20:48Z",
    "unicode: \u00e9\u00e8 \u2713",
]

signatures = []
for key in KEYS:
    account = Account.from_key(key)
    for text in MESSAGES:
        message = text.format(address=account.address)
        signed = Account.sign_message(encode_defunct(text=message), private_key=key)
        r, s, v = signed.r, signed.s, signed.v
        twin = "0x" + f"{r:064x}{N - s:064x}{(55 - v):02x}"  # the same signature with s' = n - s, v flipped
        signatures.append({
            "message": message,
            "signature": "0x" + signed.signature.hex().removeprefix("0x"),
            "signer": account.address,
            "high_s_twin": twin,
        })

# EIP-1271: isValidSignature(bytes32, bytes) calldata, for signatures of several lengths.
from eth_abi import encode as abi_encode
from eth_utils import function_signature_to_4byte_selector, keccak

selector = function_signature_to_4byte_selector("isValidSignature(bytes32,bytes)")
eip1271 = []
for length in (0, 1, 32, 65, 100, 130):
    digest = keccak(text=f"message {length}")
    signature = bytes((i * 7 + length) % 256 for i in range(length))
    eip1271.append({"hash": "0x" + digest.hex(), "signature": "0x" + signature.hex(),
                    "call_data": "0x" + (selector + abi_encode(["bytes32", "bytes"], [digest, signature])).hex()})

addresses = []
for i in range(20):
    raw = bytes((i * 37 + j * 11) % 256 for j in range(20))
    addresses.append(to_checksum_address("0x" + raw.hex()))

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "portcullis", "src",
                   "domain", "ethereum", "vectors.json")
with open(out, "w") as f:
    json.dump({"made_by": "eth-account 0.14.0 (scripts/eth-vectors.py)", "signatures": signatures,
               "checksummed_addresses": addresses, "eip1271": eip1271}, f, indent=1)
    f.write("\n")
print(f"wrote {len(signatures)} signatures and {len(addresses)} addresses")
