"""Issue TLS material with openssl to a stated profile: subject, SANs, key type, extensions, a private CA."""

from __future__ import annotations

import json

from litecore.records import TaskDraft, TaskFamily, TaskRequest
from litecore.wording import bullets, pick


ORGS = ["Acme Widgets", "Northwind Traders", "Globex", "Initech", "Umbrella Labs", "Stark Logistics", "Wayne Data"]
UNITS = ["Platform", "Payments", "SRE", "IT Operations", "Research"]
PLACES = [("DE", "Berlin"), ("FR", "Lyon"), ("US", "Austin"), ("GB", "Leeds"), ("NL", "Utrecht"), ("JP", "Osaka"),
          ("CA", "Calgary"), ("SE", "Malmo")]
HOSTS = ["api", "www", "portal", "auth", "metrics", "mail", "vpn", "git"]

TESTS = r'''import base64
import datetime
import functools
import json
import os
import pathlib
import re
import subprocess

import pytest

P = json.loads(r"""__PROFILE__""")
TLS = pathlib.Path("/app/tls")


def ssl(*args):
    r = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r


def need(path):
    """Fail fast (no openssl run, no traceback) when the agent never wrote the file."""
    if not path.is_file():
        pytest.fail(f"{path} is missing", pytrace=False)
    return path


def pem(text, label):
    m = re.search(f"-----BEGIN {label}-----.*?-----END {label}-----", text, re.S)
    assert m, f"no {label} in openssl output"
    return m.group(0)


@functools.lru_cache(maxsize=None)
def info(kind, name):
    """One openssl run per certificate/CSR (cached): subject, issuer, dates, public key, text dump."""
    path = need(TLS / name)
    args = [kind, "-in", str(path), "-noout", "-nameopt", "RFC2253", "-subject", "-pubkey", "-text"]
    args += ["-issuer", "-startdate", "-enddate"] if kind == "x509" else ["-verify"]
    r = ssl(*args)
    out = {"text": r.stdout, "stderr": r.stderr, "pubkey": pem(r.stdout, "PUBLIC KEY")}
    for line in r.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep and key in ("subject", "issuer", "notBefore", "notAfter"):
            out[key] = value.strip()
    return out


@functools.lru_cache(maxsize=None)
def pubkey(name):
    path = need(TLS / name)
    return pem(ssl("pkey", "-in", str(path), "-pubout").stdout, "PUBLIC KEY")


def crt(name="server.crt"):
    return info("x509", name)


def dn(text):
    return dict(part.split("=", 1) for part in text.split(","))


def sans(text):
    after = text.split("X509v3 Subject Alternative Name:", 1)
    assert len(after) == 2, "no subjectAltName"
    line = after[1].strip().splitlines()[0]
    return sorted(x.strip() for x in line.split(","))


def want_sans():
    return sorted([f"DNS:{d}" for d in P["dns"]] + [f"IP Address:{i}" for i in P["ips"]])


def test_key_and_cert_match():
    assert pubkey("server.key") == crt()["pubkey"]


def test_subject():
    assert dn(crt()["subject"]) == P["subject"]


def test_subject_alt_names():
    assert sans(crt()["text"]) == want_sans()


def test_validity_days():
    fmt = "%b %d %H:%M:%S %Y %Z"
    a = datetime.datetime.strptime(" ".join(crt()["notBefore"].split()), fmt)
    b = datetime.datetime.strptime(" ".join(crt()["notAfter"].split()), fmt)
    assert abs((b - a).total_seconds() - P["days"] * 86400) <= 86400
    assert a <= datetime.datetime.utcnow() + datetime.timedelta(hours=1)


def test_key_type():
    text = crt()["text"]
    if P["key"].startswith("rsa"):
        assert "rsaEncryption" in text and f"Public-Key: ({P['key'][3:]} bit)" in text
    else:
        assert "id-ecPublicKey" in text and P["curve"] in text


if P["level"] != "easy":
    def test_server_extensions():
        text = crt()["text"]
        assert "CA:FALSE" in text
        assert "TLS Web Server Authentication" in text

    def test_csr():
        csr = info("req", "server.csr")
        assert "verify OK" in csr["stderr"], csr["stderr"]
        assert dn(csr["subject"]) == P["subject"]
        assert sans(csr["text"]) == want_sans()
        assert csr["pubkey"] == pubkey("server.key")

if P["level"] == "hard":
    def test_signed_by_private_ca():
        ca = crt("ca.crt")
        assert "CA:TRUE" in ca["text"] and "Certificate Sign" in ca["text"]
        assert dn(ca["subject"]) == P["ca_subject"]
        assert ca["pubkey"] == pubkey("ca.key")
        out = ssl("verify", "-CAfile", str(TLS / "ca.crt"), str(TLS / "server.crt")).stdout
        assert "OK" in out
        assert dn(crt()["issuer"]) == P["ca_subject"]

    def test_fullchain_and_key_modes():
        def certs(name):
            text = need(TLS / name).read_text()
            blocks = re.findall("-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", text, re.S)
            return [base64.b64decode("".join(b.split())) for b in blocks]

        chain = certs("fullchain.pem")
        assert len(chain) == 2
        assert chain[0] == certs("server.crt")[0], "first block is not server.crt"
        assert chain[1] == certs("ca.crt")[0], "second block is not ca.crt"
        for k in ("server.key", "ca.key"):
            assert os.stat(TLS / k).st_mode & 0o077 == 0, k
'''


def generate(req: TaskRequest) -> TaskDraft:
    rng = req.rng
    level = req.difficulty
    org = rng.choice(ORGS)
    c, city = rng.choice(PLACES)
    domain = rng.choice(["example.com", "example.net", "corp.test", "internal.test"])
    hosts = rng.sample(HOSTS, rng.randint(2, 3))
    cn = f"{hosts[0]}.{domain}"
    dns = [f"{h}.{domain}" for h in hosts]
    if rng.random() < 0.5:
        dns.append(f"*.{rng.choice(['svc', 'apps', 'edge'])}.{domain}")
    ips = [f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"]
    if level != "easy":
        ips.append("127.0.0.1")
    subject = {"C": c, "L": city, "O": org, "CN": cn}
    if rng.random() < 0.6:
        subject["OU"] = rng.choice(UNITS)
    days = rng.choice([30, 90, 180, 365, 397, 825])
    # medium/hard ask for a non-default key; EC curves keep key generation cheap (RSA-3072 costs ~0.5 s CPU)
    key = "rsa2048" if level == "easy" else rng.choice(["ec", "ec384"])
    ca_subject = {"C": c, "O": org, "CN": f"{org} Internal Root CA"}
    profile = {"subject": subject, "dns": dns, "ips": ips, "days": days, "key": key, "level": level,
               "ca_subject": ca_subject, "curve": {"ec": "P-256", "ec384": "P-384"}.get(key, "")}

    order = ["C", "L", "O", "OU", "CN"]
    subj = "/" + "/".join(f"{k}={subject[k]}" for k in order if k in subject)
    ca_subj = "/" + "/".join(f"{k}={ca_subject[k]}" for k in ("C", "O", "CN"))
    san = ",".join([f"DNS:{d}" for d in dns] + [f"IP:{i}" for i in ips])
    newkey = {"rsa2048": "-newkey rsa:2048", "ec": "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1",
              "ec384": "-newkey ec -pkeyopt ec_paramgen_curve:secp384r1"}[key]

    fields = {"C": "country", "L": "locality", "O": "organisation", "OU": "organisational unit", "CN": "common name"}
    subj_lines = [f"{fields[k]} (`{k}`): `{subject[k]}`" for k in order if k in subject]
    reqs = [f"subject exactly: {'; '.join(subj_lines)} (no other subject fields)",
            f"subjectAltName with DNS names {', '.join(f'`{d}`' for d in dns)} and IP addresses "
            f"{', '.join(f'`{i}`' for i in ips)} (nothing else)",
            f"valid for {days} days starting now",
            {"rsa2048": "an RSA 2048-bit key", "ec": "an ECDSA key on the P-256 (prime256v1) curve",
             "ec384": "an ECDSA key on the P-384 (secp384r1) curve"}[key] + ", unencrypted, in /app/tls/server.key"]
    if level != "easy":
        reqs.append("a leaf profile: basicConstraints `CA:FALSE` and extendedKeyUsage `serverAuth`")
        reqs.append("also keep the certificate signing request for the same key, subject and SANs in "
                    "/app/tls/server.csr")
    if level == "hard":
        reqs.append(f"it must NOT be self-signed: first create a private CA in /app/tls/ca.key and /app/tls/ca.crt "
                    f"(subject `C={c}`, `O={org}`, `CN={ca_subject['CN']}`; `CA:TRUE`; key usage keyCertSign and "
                    f"cRLSign; valid 3650 days) and sign the server certificate with it")
        reqs.append("write /app/tls/fullchain.pem = the server certificate followed by the CA certificate, and "
                    "make both private keys readable by their owner only")
    what = "a self-signed certificate" if level != "hard" else "a certificate from a private CA"
    intro = pick(rng, [
        f"The `{cn}` service needs TLS. Create {what} at /app/tls/server.crt with:",
        f"Issue {what} for `{cn}` into /app/tls/server.crt (PEM). Requirements:",
        f"Set up TLS material for `{cn}`: {what}, PEM, at /app/tls/server.crt, with",
    ])
    instruction = f"{intro}\n\n{bullets(reqs)}\n\nUse openssl; it is installed.\n"

    leaf_ext = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature" + \
        (",keyEncipherment" if key.startswith("rsa") else "") + f"\nextendedKeyUsage=serverAuth\nsubjectAltName={san}"
    blocks = ["""# Where things go, and what this openssl can do
mkdir -p /app/tls && cd /app/tls && ls -la
openssl version"""]
    if level == "easy":
        blocks.append(f"""# One step: new key + self-signed certificate with the subject and SANs
openssl req -x509 {newkey} -nodes -keyout server.key -out server.crt -days {days} \\
  -subj '{subj}' -addext 'subjectAltName={san}'""")
    elif level == "medium":
        blocks.append(f"""# Key and CSR first (the CSR carries the SANs), then self-sign it with the leaf extensions
openssl req -new {newkey} -nodes -keyout server.key -out server.csr -subj '{subj}' -addext 'subjectAltName={san}'
printf '%s\\n' {' '.join(repr(x) for x in leaf_ext.split(chr(10)))} > leaf.ext
openssl x509 -req -in server.csr -signkey server.key -out server.crt -days {days} -extfile leaf.ext""")
    else:
        blocks.append(f"""# The private CA (an ECDSA P-256 key): self-signed, CA:TRUE, allowed to sign certificates
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt -days 3650 -subj '{ca_subj}' \\
  -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign'""")
        blocks.append(f"""# Server key + CSR, then sign it with the CA using the leaf extensions
openssl req -new {newkey} -nodes -keyout server.key -out server.csr -subj '{subj}' -addext 'subjectAltName={san}'
printf '%s\\n' {' '.join(repr(x) for x in leaf_ext.split(chr(10)))} > leaf.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days {days} -extfile leaf.ext
cat server.crt ca.crt > fullchain.pem
chmod 600 server.key ca.key""")
    blocks.append("""# Inspect the result
openssl x509 -in server.crt -noout -subject -issuer -dates -ext subjectAltName""" +
                  ("\nopenssl verify -CAfile ca.crt server.crt" if level == "hard" else "") + "\ncd /app")
    solve = "\n\n".join(blocks) + "\n"
    if level == "easy":
        wrong = (f"mkdir -p /app/tls && cd /app/tls && openssl req -x509 {newkey} -nodes -keyout server.key "
                 f"-out server.crt -days {days} -subj '{subj}'\n")
    elif level == "medium":
        wrong = solve.replace(newkey, "-newkey rsa:2048")
    else:
        wrong = solve.replace("-CA ca.crt -CAkey ca.key -CAcreateserial", "-signkey server.key")
    tests = TESTS.replace("__PROFILE__", json.dumps(profile))
    return TaskDraft(instruction=instruction, app_files={}, solve=solve, wrong_solve=wrong, tests=tests,
                     tags=("tls", "openssl", "pki"), requires=("openssl",))


FAMILY = TaskFamily(
    name="tls-certificate",
    description="issue TLS keys/certificates with openssl to a stated profile (SANs, key type, CSR, private CA)",
    generate=generate,
    requires=("openssl",),
)
