"""Checking one signature with one public key, whatever the key type (RSA, RSA-PSS, EC, DSA).

Shared by the v1 (JAR) and v2/v3 (APK Signing Block) verifiers, on top of
``cryptography``. A key or signature that ``cryptography`` cannot even load
counts as a signature that does not verify: hostile input must not raise.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "md5": hashes.MD5, "sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
    "sha384": hashes.SHA384, "sha512": hashes.SHA512,
}


def verifies(key: PublicKeyTypes, signature: bytes, data: bytes, hash_name: str, *, pss: bool = False) -> bool:
    """True when ``signature`` over ``data`` checks out with ``key`` and hash ``hash_name`` (``sha256``...).

    RSA signatures are PKCS#1 v1.5 unless ``pss`` (then MGF1 with the same
    hash and a salt as long as the digest, as APK Signature Scheme v2 uses).
    """
    algorithm = HASHES.get(hash_name)
    if algorithm is None:
        return False
    digest = algorithm()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            scheme = (padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size) if pss
                      else padding.PKCS1v15())
            key.verify(signature, data, scheme, digest)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(digest))
        elif isinstance(key, dsa.DSAPublicKey):
            key.verify(signature, data, digest)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True
