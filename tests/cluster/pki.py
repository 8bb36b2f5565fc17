"""Certificates and keys for the local control plane, made with the ``openssl`` command.

Everything is ECDSA P-256 (fast to generate; Kubernetes accepts it for serving and client
certificates and ES256 for service-account tokens) and valid for a few days: each cluster gets
a fresh PKI in its own state directory.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

_DAYS = "7"


@dataclass(frozen=True)
class CertPair:
    cert: Path
    key: Path


@dataclass(frozen=True)
class Pki:
    ca: CertPair
    apiserver: CertPair
    admin: CertPair
    controller_manager: CertPair
    scheduler: CertPair
    kwok: CertPair
    executor: CertPair
    service_account_key: Path
    service_account_pub: Path


def _openssl(*args: str) -> None:
    exe = shutil.which("openssl")
    if exe is None:
        raise RuntimeError("the openssl command is needed to make the test PKI (apt: openssl)")
    done = subprocess.run([exe, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {done.stderr.strip()}")


def _issue(
    directory: Path,
    name: str,
    subject: str,
    ca: CertPair | None,
    extensions: list[str],
) -> CertPair:
    pair = CertPair(directory / f"{name}.crt", directory / f"{name}.key")
    args = [
        "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", str(pair.key), "-out", str(pair.cert), "-days", _DAYS,
        "-subj", subject,
    ]  # fmt: skip
    if ca is not None:
        args += ["-CA", str(ca.cert), "-CAkey", str(ca.key)]
    for ext in extensions:
        args += ["-addext", ext]
    _openssl(*args)
    pair.key.chmod(0o600)
    return pair


def _client(directory: Path, name: str, user: str, group: str | None, ca: CertPair) -> CertPair:
    subject = (f"/O={group}" if group else "") + f"/CN={user}"
    return _issue(
        directory,
        name,
        subject,
        ca,
        [
            "basicConstraints=critical,CA:FALSE",
            "keyUsage=critical,digitalSignature",
            "extendedKeyUsage=clientAuth",
        ],
    )


def make_pki(directory: Path) -> Pki:
    """Creates a CA, the API server's serving certificate, client certificates for each
    component and the service-account signing key pair in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = _issue(
        directory,
        "ca",
        "/CN=migration-rollback-test-ca",
        None,
        [
            "basicConstraints=critical,CA:TRUE",
            "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
        ],
    )
    sans = ",".join(
        [
            "IP:127.0.0.1",
            "DNS:localhost",
            "DNS:kubernetes",
            "DNS:kubernetes.default",
            "DNS:kubernetes.default.svc",
            "DNS:kubernetes.default.svc.cluster.local",
        ]
    )
    apiserver = _issue(
        directory,
        "apiserver",
        "/CN=kube-apiserver",
        ca,
        [
            "basicConstraints=critical,CA:FALSE",
            "keyUsage=critical,digitalSignature",
            "extendedKeyUsage=serverAuth",
            f"subjectAltName={sans}",
        ],
    )
    sa_key = directory / "service-account.key"
    sa_pub = directory / "service-account.pub"
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(sa_key))
    _openssl("ec", "-in", str(sa_key), "-pubout", "-out", str(sa_pub))
    sa_key.chmod(0o600)
    return Pki(
        ca=ca,
        apiserver=apiserver,
        # The tests' identity: a cluster admin through the system:masters group.
        admin=_client(directory, "admin", "migration-rollback-test-admin", "system:masters", ca),
        # The identities the bootstrap RBAC policy grants the two components.
        controller_manager=_client(
            directory, "controller-manager", "system:kube-controller-manager", None, ca
        ),
        scheduler=_client(directory, "scheduler", "system:kube-scheduler", None, ca),
        kwok=_client(directory, "kwok", "kwok-controller", "system:masters", ca),
        executor=_client(directory, "job-executor", "job-executor", "system:masters", ca),
        service_account_key=sa_key,
        service_account_pub=sa_pub,
    )
