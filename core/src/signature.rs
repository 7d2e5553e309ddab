//! Ed25519 signature checks that give one verdict whether a signature is
//! checked alone or in a batch.
//!
//! Batch verification checks a random linear combination of many
//! signature equations at once. With the textbook *cofactorless* equation
//! (`[s]B = R + [k]A`, what `verify_strict` checks) a batch can pass a
//! signature whose `R` or `A` carries a small torsion component that a
//! single check refuses: the torsion part of each equation lives in a group
//! of order 8, where a random coefficient kills it one time in eight (and
//! an attacker who predicts the coefficients can make that every time).
//! Two honest peers could then disagree about one entry.
//!
//! So both checks here use the *cofactored* equation `[8]([s]B − R − [k]A)
//! = 0`, as ZIP 215 does, with `verify_strict`'s encoding rules on top: `s`
//! must be canonical (`s < ℓ`), `R` and `A` canonically encoded, and
//! neither of small order. The batch check is then exactly the single
//! check on every signature, up to a 2⁻¹²⁸ chance. The only signatures
//! `verify_strict` refuses and these accept are ones whose `R` or `A` has a
//! torsion component that cancels under the cofactor: an honest signer
//! never makes one (its `R` is `[r]B`), and a signer who does only signs
//! its own entries differently. Telling those apart in a batch would cost
//! a scalar multiplication per signature, about half a verification.
//!
//! Batches also merge the terms of signatures by the same key (entries
//! arrive sorted by author), so a batch of one author's entries costs
//! about half a multiscalar multiplication of the textbook batch.

use std::collections::HashMap;

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use sha2::{Digest, Sha512};

/// An ed25519 public key ready for checks: canonically encoded,
/// decompressed, not of small order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PublicKey {
    bytes: [u8; 32],
    point: EdwardsPoint,
}

impl PublicKey {
    /// The key for `bytes`, or `None` when they are not a canonical
    /// encoding of a curve point of large order.
    pub(crate) fn from_bytes(bytes: &[u8; 32]) -> Option<Self> {
        let point = decompress_canonical(bytes)?;
        if point.is_small_order() {
            return None;
        }
        Some(Self {
            bytes: *bytes,
            point,
        })
    }
}

/// Whether `bytes` encode a field element below p = 2²⁵⁵ − 19 (the sign
/// bit aside).
fn canonical_y(bytes: &[u8; 32]) -> bool {
    let top = bytes[31] & 0x7f;
    !(top == 0x7f && bytes[1..31].iter().all(|b| *b == 0xff) && bytes[0] >= 0xed)
}

fn decompress_canonical(bytes: &[u8; 32]) -> Option<EdwardsPoint> {
    if !canonical_y(bytes) {
        return None;
    }
    // x = 0 with the sign bit set is a second encoding of (0, ±1), the
    // only points with x = 0. (Read from the bytes: compressing the point
    // again to compare would cost a field inversion.)
    if bytes[31] >> 7 == 1 && (y_is(bytes, &Y_ONE) || y_is(bytes, &Y_MINUS_ONE)) {
        return None;
    }
    CompressedEdwardsY(*bytes).decompress()
}

/// y = 1, little-endian.
const Y_ONE: [u8; 32] = {
    let mut b = [0; 32];
    b[0] = 1;
    b
};

/// y = p − 1 = 2²⁵⁵ − 20, little-endian.
const Y_MINUS_ONE: [u8; 32] = {
    let mut b = [0xff; 32];
    b[0] = 0xec;
    b[31] = 0x7f;
    b
};

/// Whether `bytes` encode `y` (the sign bit aside).
fn y_is(bytes: &[u8; 32], y: &[u8; 32]) -> bool {
    bytes[..31] == y[..31] && bytes[31] & 0x7f == y[31]
}

/// A signature's parts, checked for encoding: `R` canonical and not of
/// small order, `s` canonical.
struct Parts {
    r: EdwardsPoint,
    s: Scalar,
    k: Scalar,
}

fn parts(key: &PublicKey, msg: &[u8], sig: &[u8; 64]) -> Option<Parts> {
    let r_bytes: [u8; 32] = sig[..32].try_into().ok()?;
    let s_bytes: [u8; 32] = sig[32..].try_into().ok()?;
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))?;
    let r = decompress_canonical(&r_bytes)?;
    if r.is_small_order() {
        return None;
    }
    let mut h = Sha512::new();
    h.update(r_bytes);
    h.update(key.bytes);
    h.update(msg);
    let wide: [u8; 64] = h.finalize().into();
    Some(Parts {
        r,
        s,
        k: Scalar::from_bytes_mod_order_wide(&wide),
    })
}

/// Checks one signature.
pub(crate) fn verify(key: &PublicKey, msg: &[u8], sig: &[u8; 64]) -> bool {
    let Some(p) = parts(key, msg, sig) else {
        return false;
    };
    // [s]B − [k]A − R, times the cofactor.
    let sb_minus_ka = EdwardsPoint::vartime_double_scalar_mul_basepoint(&p.k, &-key.point, &p.s);
    (sb_minus_ka - p.r).mul_by_cofactor().is_identity()
}

/// One signature of a batch.
pub(crate) struct Item<'a> {
    /// The signer's key.
    pub(crate) key: &'a PublicKey,
    /// The signed message.
    pub(crate) msg: &'a [u8],
    /// The signature.
    pub(crate) sig: &'a [u8; 64],
}

/// Checks many signatures at once: true exactly when [`verify`] accepts
/// each of them (up to a 2⁻¹²⁸ chance). The random coefficients are drawn
/// from a hash of the whole batch, as in `ed25519-dalek`'s batch check.
pub(crate) fn verify_batch(items: &[Item<'_>]) -> bool {
    let mut all = Vec::with_capacity(items.len());
    let mut transcript = blake3::Hasher::new_derive_key("starling ed25519 batch v1");
    for it in items {
        let Some(p) = parts(it.key, it.msg, it.sig) else {
            return false;
        };
        transcript.update(it.sig);
        transcript.update(&p.k.to_bytes());
        all.push(p);
    }
    let mut coefficients = transcript.finalize_xof();
    let mut b = Scalar::ZERO;
    let mut scalars = Vec::with_capacity(items.len() + 1);
    let mut points = Vec::with_capacity(items.len() + 1);
    scalars.push(Scalar::ZERO); // the basepoint's, filled in below
    points.push(ED25519_BASEPOINT_POINT);
    // Terms of one key are merged: Σ zᵢkᵢ·A.
    let mut by_key: HashMap<[u8; 32], usize> = HashMap::new();
    let mut key_terms: Vec<(Scalar, EdwardsPoint)> = Vec::new();
    for (it, p) in items.iter().zip(&all) {
        let mut z = [0u8; 16];
        coefficients.fill(&mut z);
        let z = Scalar::from(u128::from_le_bytes(z));
        b -= z * p.s;
        scalars.push(z);
        points.push(p.r);
        let zk = z * p.k;
        match by_key.get(&it.key.bytes) {
            Some(&i) => key_terms[i].0 += zk,
            None => {
                by_key.insert(it.key.bytes, key_terms.len());
                key_terms.push((zk, it.key.point));
            }
        }
    }
    scalars[0] = b;
    for (c, a) in key_terms {
        scalars.push(c);
        points.push(a);
    }
    EdwardsPoint::vartime_multiscalar_mul(scalars, points)
        .mul_by_cofactor()
        .is_identity()
}

#[cfg(test)]
mod tests {
    use curve25519_dalek::constants::EIGHT_TORSION;
    use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
    use proptest::prelude::*;

    use super::*;

    /// What a signature was made to be.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Kind {
        Honest,
        /// A torsion point added to R, s computed for the new R.
        TorsionInR(usize),
        /// A torsion point added to A (a key with a torsion component).
        TorsionInA(usize),
        /// R is a point of small order.
        SmallR(usize),
        /// A is a point of small order.
        SmallA(usize),
        /// s + ℓ: the same scalar, non-canonical.
        BigS,
        /// R encoded with y + p (non-canonical), where that fits.
        NonCanonicalR,
        /// A flipped bit in s.
        Tampered,
    }

    fn hram(r: &[u8; 32], a: &[u8; 32], msg: &[u8]) -> Scalar {
        let mut h = Sha512::new();
        h.update(r);
        h.update(a);
        h.update(msg);
        Scalar::from_bytes_mod_order_wide(&h.finalize().into())
    }

    fn scalar(seed: u64, what: &str) -> Scalar {
        let mut wide = [0u8; 64];
        let mut x = blake3::Hasher::new_derive_key(what);
        x.update(&seed.to_le_bytes());
        x.finalize_xof().fill(&mut wide);
        Scalar::from_bytes_mod_order_wide(&wide)
    }

    /// A key's bytes, a message and a signature of `kind`.
    fn make(kind: Kind, seed: u64) -> ([u8; 32], Vec<u8>, [u8; 64]) {
        let msg = format!("message {seed}").into_bytes();
        let a = scalar(seed, "test key");
        let r = scalar(seed, "test nonce");
        let b = ED25519_BASEPOINT_POINT;
        let (big_a, big_r) = match kind {
            Kind::TorsionInA(t) => (a * b + EIGHT_TORSION[t], r * b),
            Kind::SmallA(t) => (EIGHT_TORSION[t], r * b),
            Kind::TorsionInR(t) => (a * b, r * b + EIGHT_TORSION[t]),
            Kind::SmallR(t) => (a * b, EIGHT_TORSION[t]),
            _ => (a * b, r * b),
        };
        let a_bytes = big_a.compress().to_bytes();
        let mut r_bytes = big_r.compress().to_bytes();
        let k = hram(&r_bytes, &a_bytes, &msg);
        let mut s = r + k * a;
        if matches!(kind, Kind::SmallA(_)) {
            // With A of small order, s = r works for the cofactored check.
            s = r;
        }
        let mut sig = [0u8; 64];
        sig[32..].copy_from_slice(&s.to_bytes());
        match kind {
            Kind::BigS => {
                // s + ℓ, little endian, fits in 253 bits.
                // ℓ = 2²⁵² + 27742317777372353535851937790883648493.
                let l: [u8; 32] = [
                    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde,
                    0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
                ];
                let mut carry = 0u16;
                for i in 0..32 {
                    let v = u16::from(sig[32 + i]) + u16::from(l[i]) + carry;
                    sig[32 + i] = v as u8;
                    carry = v >> 8;
                }
            }
            Kind::NonCanonicalR => {
                // y + p fits in 255 bits only for y < 19; use a fixed small
                // y instead when the nonce's y is larger (then the
                // signature is also wrong, which is fine for the check).
                let y_small = r_bytes[1..31].iter().all(|x| *x == 0) && r_bytes[0] < 19;
                if !y_small {
                    r_bytes = [0; 32];
                    r_bytes[0] = 2;
                }
                let sign = r_bytes[31] & 0x80;
                let v = r_bytes[0];
                r_bytes = [0xff; 32];
                r_bytes[0] = 0xed + v;
                r_bytes[31] = 0x7f | sign;
            }
            Kind::Tampered => sig[40] ^= 1,
            _ => {}
        }
        sig[..32].copy_from_slice(&r_bytes);
        (a_bytes, msg, sig)
    }

    fn single(a: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
        PublicKey::from_bytes(a).is_some_and(|k| verify(&k, msg, sig))
    }

    fn strict(a: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
        VerifyingKey::from_bytes(a).is_ok_and(|k| {
            k.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(sig))
                .is_ok()
        })
    }

    fn kind() -> impl Strategy<Value = Kind> {
        prop_oneof![
            4 => Just(Kind::Honest),
            1 => (1usize..8).prop_map(Kind::TorsionInR),
            1 => (1usize..8).prop_map(Kind::TorsionInA),
            1 => (0usize..8).prop_map(Kind::SmallR),
            1 => (0usize..8).prop_map(Kind::SmallA),
            1 => Just(Kind::BigS),
            1 => Just(Kind::NonCanonicalR),
            1 => Just(Kind::Tampered),
        ]
    }

    #[test]
    fn honest_signatures_pass_both_ways_and_agree_with_strict() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let msgs: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; i as usize]).collect();
        let sigs: Vec<[u8; 64]> = msgs.iter().map(|m| key.sign(m).to_bytes()).collect();
        let pk = PublicKey::from_bytes(&key.verifying_key().to_bytes()).unwrap();
        let items: Vec<Item<'_>> = msgs
            .iter()
            .zip(&sigs)
            .map(|(m, s)| Item {
                key: &pk,
                msg: m,
                sig: s,
            })
            .collect();
        assert!(verify_batch(&items));
        for (m, s) in msgs.iter().zip(&sigs) {
            assert!(verify(&pk, m, s));
            assert!(strict(&key.verifying_key().to_bytes(), m, s));
        }
        let mut bad = sigs[3];
        bad[0] ^= 1;
        let mut items = items;
        items[3].sig = &bad;
        assert!(!verify_batch(&items));
    }

    #[test]
    fn crafted_signatures_are_what_they_claim() {
        for seed in 0..8 {
            let (a, m, s) = make(Kind::Honest, seed);
            assert!(single(&a, &m, &s) && strict(&a, &m, &s));
            // Torsion in R: refused by strict, and the cofactor hides it.
            let (a, m, s) = make(Kind::TorsionInR(1), seed);
            assert!(!strict(&a, &m, &s));
            assert!(single(&a, &m, &s));
            for k in [
                Kind::SmallR(1),
                Kind::SmallA(1),
                Kind::BigS,
                Kind::NonCanonicalR,
                Kind::Tampered,
            ] {
                let (a, m, s) = make(k, seed);
                assert!(!single(&a, &m, &s), "{k:?} accepted");
                assert!(!strict(&a, &m, &s), "{k:?} accepted by strict");
            }
        }
    }

    /// A canonical encoding is one that compressing the point gives back.
    fn canonical_by_compressing(bytes: &[u8; 32]) -> Option<EdwardsPoint> {
        CompressedEdwardsY(*bytes)
            .decompress()
            .filter(|p| p.compress().as_bytes() == bytes)
    }

    #[test]
    fn the_edge_encodings_are_judged_as_by_compressing() {
        let mut cases = vec![Y_ONE, Y_MINUS_ONE, [0; 32], [0xff; 32]];
        for y in [Y_ONE, Y_MINUS_ONE] {
            let mut signed = y;
            signed[31] |= 0x80;
            cases.push(signed);
        }
        // y = p and y = p + 1 (non-canonical encodings of 0 and 1).
        let mut p = Y_MINUS_ONE;
        p[0] = 0xed;
        cases.push(p);
        p[0] = 0xee;
        cases.push(p);
        for b in cases {
            assert_eq!(
                decompress_canonical(&b).map(|p| p.compress()),
                canonical_by_compressing(&b).map(|p| p.compress()),
                "{b:02x?}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

        /// Reading canonicity from the bytes agrees with compressing the
        /// point again, on any 32 bytes (and on small y, where x = 0 lives).
        #[test]
        fn canonical_encodings_read_from_bytes_agree_with_compressing(
            mut b in any::<[u8; 32]>(),
            small in any::<bool>(),
        ) {
            if small {
                let (sign, low) = (b[31] & 0x80, b[0]);
                b = [0; 32];
                b[0] = low % 4;
                b[31] = sign;
            }
            prop_assert_eq!(
                decompress_canonical(&b).map(|p| p.compress()),
                canonical_by_compressing(&b).map(|p| p.compress())
            );
        }

        /// One verdict per signature: a batch passes exactly when every
        /// signature in it passes alone, whatever adversarial signatures it
        /// mixes in; and the single check agrees with `verify_strict` on
        /// everything but torsion that the cofactor cancels.
        #[test]
        fn batch_and_single_agree_on_adversarial_signatures(
            kinds in proptest::collection::vec(kind(), 1..12),
            seed in any::<u64>(),
        ) {
            let made: Vec<_> = kinds
                .iter()
                .enumerate()
                .map(|(i, k)| make(*k, seed.wrapping_add(i as u64)))
                .collect();
            let verdicts: Vec<bool> = made.iter().map(|(a, m, s)| single(a, m, s)).collect();
            for ((k, (a, m, s)), v) in kinds.iter().zip(&made).zip(&verdicts) {
                if !matches!(k, Kind::TorsionInR(_) | Kind::TorsionInA(_)) {
                    prop_assert_eq!(*v, strict(a, m, s), "{:?}", k);
                }
                if *k == Kind::Honest {
                    prop_assert!(*v);
                }
            }
            let keys: Vec<Option<PublicKey>> =
                made.iter().map(|(a, _, _)| PublicKey::from_bytes(a)).collect();
            let usable: Vec<usize> = (0..made.len()).filter(|i| keys[*i].is_some()).collect();
            let items: Vec<Item<'_>> = usable
                .iter()
                .map(|&i| Item {
                    key: keys[i].as_ref().unwrap(),
                    msg: &made[i].1,
                    sig: &made[i].2,
                })
                .collect();
            let expected = usable.iter().all(|&i| verdicts[i]);
            prop_assert_eq!(verify_batch(&items), expected);
        }
    }
}
