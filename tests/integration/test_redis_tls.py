"""``rediss://`` end to end: a Redis of its own that speaks only TLS, a certificate from a
CA made here. The client checks the certificate: without the CA it does not connect."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fieldgate.infra.redis import REDIS_FAILURES, redis_client


def certificate(
    name: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[str, ec.EllipticCurvePrivateKey]
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer[0])]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
    )
    if name == issuer[0]:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
    else:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), False)
    return builder.sign(issuer[1], hashes.SHA256())


def write(path: Path, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> None:
    path.with_suffix(".key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.with_suffix(".pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A ``redis-server`` on a TLS port only; its port and the CA's certificate."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed: rediss:// not tested end to end")
    ca = ("fieldgate test CA", ec.generate_private_key(ec.SECP256R1()))
    server_key = ec.generate_private_key(ec.SECP256R1())
    write(tmp_path / "ca", ca[1], certificate(ca[0], ca[1], ca))
    write(tmp_path / "server", server_key, certificate("localhost", server_key, ca))
    port = free_port()
    options = {
        "port": "0",  # no plain port
        "tls-port": str(port),
        "tls-auth-clients": "no",
        "tls-cert-file": str(tmp_path / "server.pem"),
        "tls-key-file": str(tmp_path / "server.key"),
        "tls-ca-cert-file": str(tmp_path / "ca.pem"),
        "save": "",
        "appendonly": "no",
    }
    process = subprocess.Popen(
        [server, *(part for name, value in options.items() for part in (f"--{name}", value))],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if process.poll() is not None:
                pytest.skip("redis-server does not speak TLS here")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not open its TLS port")
        yield port, tmp_path / "ca.pem"
    finally:
        process.terminate()
        process.wait(5)


async def test_rediss_connects_with_the_certificate_checked(tls_redis: tuple[int, Path]) -> None:
    port, ca = tls_redis
    trusted = redis_client(f"rediss://localhost:{port}/0?ssl_ca_certs={ca}")
    untrusted = redis_client(f"rediss://localhost:{port}/0")
    plain = redis_client(f"redis://localhost:{port}/0", timeout=0.5)
    try:
        assert await trusted.ping() is True
        for client in (untrusted, plain):
            with pytest.raises(REDIS_FAILURES):
                await client.ping()
    finally:
        await asyncio.gather(trusted.aclose(), untrusted.aclose(), plain.aclose())
