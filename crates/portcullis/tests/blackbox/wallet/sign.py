#!/usr/bin/env python3
"""Signs a Sign-In with Ethereum message for the black-box tests with
eth-account (pinned to 0.14.0 by scripts/test), an implementation
Portcullis did not write. Reads {"key": "0x…", "message": "…"} on stdin;
writes {"address", "signature", "high_s", "hash", "eip1271_call"}:
the account's EIP-55 address, its personal_sign signature, the same
signature's malleated twin (s' = n - s, v flipped), the EIP-191 hash, and
the eth_call data of isValidSignature(hash, signature) encoded by eth_abi.
"""
import json, sys

from eth_abi import encode
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_defunct

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SELECTOR = bytes.fromhex("1626ba7e")

request = json.load(sys.stdin)
signable = encode_defunct(text=request["message"])
signed = Account.sign_message(signable, private_key=request["key"])
r, s, v = signed.r, signed.s, signed.v
twin = r.to_bytes(32, "big") + (N - s).to_bytes(32, "big") + bytes([55 - v])
message_hash = _hash_eip191_message(signable)
signature = bytes(signed.signature)
json.dump({
    "address": Account.from_key(request["key"]).address,
    "signature": "0x" + signature.hex(),
    "high_s": "0x" + twin.hex(),
    "hash": "0x" + message_hash.hex(),
    "eip1271_call": "0x" + (SELECTOR + encode(["bytes32", "bytes"], [message_hash, signature])).hex(),
}, sys.stdout)
