//! Ethereum accounts, for Sign-In with Ethereum (docs/plans/issue-19.md,
//! slice 3): addresses with their EIP-55 checksum, and the signer of an
//! EIP-191 `personal_sign` signature, recovered with secp256k1 (`k256`).
//! Pure computation, no I/O.

use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
use sha3::{Digest, Keccak256};

/// An account address: 20 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Address([u8; 20]);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("must be 0x followed by 40 hexadecimal digits")]
    Malformed,
    #[error("its mixed-case checksum (EIP-55) is wrong")]
    BadChecksum,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("must be 65 bytes (r, s, v) in hexadecimal, with 0x")]
    Malformed,
    #[error("its s value is in the upper half of the curve order (a malleated signature)")]
    HighS,
    #[error("no signer can be recovered from it")]
    Unrecoverable,
}

/// `0x` and exactly `2 × N` hex digits: the digits, and the bytes.
fn from_hex<const N: usize>(text: &str) -> Option<(&str, [u8; N])> {
    let hex = text.strip_prefix("0x")?;
    if hex.len() != 2 * N || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut bytes = [0u8; N];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some((hex, bytes))
}

fn keccak(bytes: &[u8]) -> [u8; 32] {
    Keccak256::digest(bytes).into()
}

impl Address {
    /// `0x` and 40 hex digits. All lower case or all upper case carries no
    /// checksum and is taken as it is; mixed case must be the EIP-55
    /// checksum of the address, or it is refused (a typo caught).
    pub fn parse(text: &str) -> Result<Address, AddressError> {
        let (hex, bytes) = from_hex::<20>(text).ok_or(AddressError::Malformed)?;
        let address = Address(bytes);
        let has_lower = hex.bytes().any(|b| b.is_ascii_lowercase());
        let has_upper = hex.bytes().any(|b| b.is_ascii_uppercase());
        if has_lower && has_upper && address.checksummed()[2..] != *hex {
            return Err(AddressError::BadChecksum);
        }
        Ok(address)
    }

    /// The EIP-55 form: `0x` and hex digits, a letter upper case where the
    /// matching nibble of the Keccak-256 hash of the lower-case hex is 8
    /// or more.
    pub fn checksummed(&self) -> String {
        let lower: String = self.0.iter().map(|b| format!("{b:02x}")).collect();
        let hash = keccak(lower.as_bytes());
        let mut out = String::with_capacity(42);
        out.push_str("0x");
        for (i, c) in lower.chars().enumerate() {
            let nibble = (hash[i / 2] >> if i % 2 == 0 { 4 } else { 0 }) & 0x0f;
            out.push(if nibble >= 8 {
                c.to_ascii_uppercase()
            } else {
                c
            });
        }
        out
    }

    pub fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }
}

/// The hash an EIP-191 `personal_sign` signature is made over:
/// Keccak-256 of `"\x19Ethereum Signed Message:\n" + len(message) + message`.
pub fn personal_message_hash(message: &[u8]) -> [u8; 32] {
    let mut prefixed = format!("\x19Ethereum Signed Message:\n{}", message.len()).into_bytes();
    prefixed.extend_from_slice(message);
    keccak(&prefixed)
}

/// The address that signed `message` with `personal_sign`. `signature`:
/// `0x` and 130 hex digits, r ‖ s ‖ v with v 27/28 (or 0/1). A high `s`
/// is refused: its twin with the low `s` is the canonical signature, and
/// accepting both would let one signature be presented twice.
pub fn recover_personal_signer(message: &[u8], signature: &str) -> Result<Address, SignatureError> {
    let (_, bytes) = from_hex::<65>(signature).ok_or(SignatureError::Malformed)?;
    let v = match bytes[64] {
        v @ (27 | 28) => v - 27,
        v @ (0 | 1) => v,
        _ => return Err(SignatureError::Malformed),
    };
    let signature = Signature::from_slice(&bytes[..64]).map_err(|_| SignatureError::Malformed)?;
    if signature.normalize_s() != signature {
        return Err(SignatureError::HighS);
    }
    let recovery = RecoveryId::from_byte(v).ok_or(SignatureError::Malformed)?;
    let key =
        VerifyingKey::recover_from_prehash(&personal_message_hash(message), &signature, recovery)
            .map_err(|_| SignatureError::Unrecoverable)?;
    let point = key.to_sec1_point(false);
    let hash = keccak(&point.as_bytes()[1..]);
    let mut address = [0u8; 20];
    address.copy_from_slice(&hash[12..]);
    Ok(Address(address))
}

/// The selector of EIP-1271's `isValidSignature(bytes32,bytes)`, which is
/// also the value a contract returns when the signature is its own.
pub const EIP1271_MAGIC: [u8; 4] = [0x16, 0x26, 0xba, 0x7e];

/// The `eth_call` data asking a contract wallet whether `signature` is its
/// signature of `hash`: the selector, then the ABI encoding of
/// `(bytes32 hash, bytes signature)` (the hash, the offset of the bytes,
/// their length, the bytes padded to 32).
pub fn eip1271_call_data(hash: &[u8; 32], signature: &[u8]) -> Vec<u8> {
    let word = |n: usize| {
        let mut w = [0u8; 32];
        w[24..].copy_from_slice(&(n as u64).to_be_bytes());
        w
    };
    let padded = signature.len().div_ceil(32) * 32;
    let mut data = Vec::with_capacity(4 + 96 + padded);
    data.extend_from_slice(&EIP1271_MAGIC);
    data.extend_from_slice(hash);
    data.extend_from_slice(&word(64));
    data.extend_from_slice(&word(signature.len()));
    data.extend_from_slice(signature);
    data.resize(4 + 96 + padded, 0);
    data
}

/// Whether an `eth_call` answer (the returned bytes) is the magic value: a
/// `bytes4` is returned left-aligned in one 32-byte word.
pub fn eip1271_says_valid(returned: &[u8]) -> bool {
    returned.len() == 32 && returned[..4] == EIP1271_MAGIC && returned[4..].iter().all(|b| *b == 0)
}

#[cfg(test)]
mod tests;
