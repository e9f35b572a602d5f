"""litecore domain plugin: security (secrets, crypto, PKI, hardening, log forensics, password audits)."""

from __future__ import annotations

import litecore
from litecore.records import Domain, DomainSpec

from litecore_plugin_security.families import (
    bruteforce_audit,
    hash_crack,
    openssl_decrypt,
    permission_policy,
    secret_rotation,
    tls_certificate,
)

SPEC = DomainSpec(
    description=(
        "Defensive security work at the terminal on an offline Linux host: finding and rotating leaked "
        "credentials, recovering encrypted material from partial key knowledge, issuing TLS keys and "
        "certificates to an exact profile, hardening file permissions against a written policy, auditing "
        "authentication logs for attacks, and testing password strength against dictionaries. Checks look at "
        "outcomes (decrypted bytes, certificate fields, modes on disk, reported findings) so any correct "
        "method passes, while the traps are the ones real incidents have: decoys, rotated and compressed "
        "logs, stream ciphers that accept any key, rule precedence."
    ),
    skills=("grep and regex for credential patterns", "openssl enc / req / x509 / verify",
            "PBKDF2, salted and unsalted hashes", "chmod with special bits (setuid, setgid, sticky)",
            "syslog/sshd log parsing with time windows", "writing precise machine-readable reports"),
    topics=("secret scanning and rotation", "vault recovery", "private certificate authorities",
            "deployment hardening", "SSH brute force and account compromise", "password audits"),
    tools=("openssl", "python3 (hashlib, hmac, base64, re, tarfile)", "grep", "find", "stat", "chmod", "tar",
           "zcat", "awk", "jq"),
    packages=("openssl", "python3", "tar", "gzip", "gawk", "grep", "findutils", "jq"),
)


def domain() -> Domain:
    return Domain(
        name="security",
        spec=SPEC,
        category="security",
        description="credential leaks, openssl crypto and PKI, permissions, log forensics, password cracking",
        families=(secret_rotation.FAMILY, openssl_decrypt.FAMILY, tls_certificate.FAMILY, permission_policy.FAMILY,
                  bruteforce_audit.FAMILY, hash_crack.FAMILY),
    )


@litecore.hookimpl
def litecore_domains():
    return [domain()]
