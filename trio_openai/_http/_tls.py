"""SSL contexts for the pool: verification on by default, CA files, client certificates.

Rules kept:
- ``verify=True`` uses the system trust store with hostname checking; nothing quietly
  turns verification off. ``verify=False`` is explicit and still encrypts, but it
  lets anyone on the path read and change the traffic, API key included: building a
  pool (so a client) with it, or with a context that does not verify, emits an
  :class:`InsecureRequestWarning` pointing at the caller's line, once per pool.
- Building a context costs milliseconds (loading the trust store), so the pool builds
  one lazily, on its first ``https`` connection, and shares it.
- A handshake failure becomes :class:`TLSError` whose message says it is about
  certificates when it is, so "certificate verify failed" is never hidden behind a
  generic connection error.
"""

from __future__ import annotations

import os
import ssl
import sys
import warnings
from typing import TypeAlias

__all__ = [
    "CertSpec",
    "InsecureRequestWarning",
    "VerifySpec",
    "create_ssl_context",
    "describe_tls_failure",
    "warn_if_insecure",
]

VerifySpec: TypeAlias = "bool | str | os.PathLike[str] | ssl.SSLContext"
"""``True`` (system CAs), ``False`` (no verification), a CA file/dir path, or a context."""

CertSpec: TypeAlias = "str | tuple[str, str] | tuple[str, str, str] | None"
"""Client certificate for mutual TLS: a PEM file with cert and key, ``(cert, key)``,
or ``(cert, key, password)``."""


class InsecureRequestWarning(UserWarning):
    """TLS certificate verification is off: the server's identity is not checked."""


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _caller_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside this package (the user's line)."""
    level = 1
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def warn_if_insecure(verify: VerifySpec) -> None:
    """Warn (:class:`InsecureRequestWarning`) when ``verify`` turns verification off."""
    if verify is False:
        what = "verify=False"
    elif isinstance(verify, ssl.SSLContext) and verify.verify_mode == ssl.CERT_NONE:
        what = "the SSLContext given as verify= does not verify certificates"
    else:
        return
    warnings.warn(
        f"TLS certificate verification is off ({what}): anyone on the network path can "
        "impersonate the server and read the API key. Pass a CA bundle path or an "
        "ssl.SSLContext as verify= for a private CA instead.",
        InsecureRequestWarning,
        stacklevel=_caller_stacklevel(),
    )


def create_ssl_context(verify: VerifySpec = True, cert: CertSpec = None) -> ssl.SSLContext:
    """Build the client-side context.

    Raises:
        FileNotFoundError: a CA path or certificate file that does not exist (named).
        TypeError: ``verify`` or ``cert`` of the wrong type.
    """
    if isinstance(verify, ssl.SSLContext):
        ctx = verify
    elif verify is True:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    elif verify is False:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif isinstance(verify, (str, os.PathLike)):
        path = os.fspath(verify)
        if os.path.isdir(path):
            ctx = ssl.create_default_context(capath=path)
        elif os.path.isfile(path):
            ctx = ssl.create_default_context(cafile=path)
        else:
            raise FileNotFoundError(f"verify: CA bundle {path!r} does not exist")
    else:
        raise TypeError(
            "verify must be True, False, a CA file or directory path, or an ssl.SSLContext; "
            f"got {type(verify).__name__}"
        )
    if cert is not None:
        _load_client_cert(ctx, cert)
    if not isinstance(verify, ssl.SSLContext):
        ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def _load_client_cert(ctx: ssl.SSLContext, cert: str | tuple[str, ...]) -> None:
    keyfile: str | None = None
    password: str | None = None
    if isinstance(cert, str):
        certfile = cert
    elif isinstance(cert, tuple) and len(cert) in (2, 3):
        certfile, keyfile = cert[0], cert[1]
        password = cert[2] if len(cert) == 3 else None
    else:
        raise TypeError("cert must be a path, (cert, key) or (cert, key, password)")
    for f in (certfile, keyfile):
        if f is not None and not os.path.isfile(f):
            raise FileNotFoundError(f"cert: file {f!r} does not exist")
    ctx.load_cert_chain(certfile, keyfile, password)


def describe_tls_failure(exc: BaseException) -> str:
    """A plain sentence for a failed handshake, found along the exception's causes."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            break
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"TLS certificate verification failed: {seen.verify_message or seen}"
        if isinstance(seen, ssl.SSLError):
            return f"TLS handshake failed: {seen.reason or seen}"
        seen = seen.__cause__ or seen.__context__
    return f"TLS handshake failed: {exc!r}"
