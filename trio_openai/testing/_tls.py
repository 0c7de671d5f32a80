"""Throwaway TLS for tests: a ``trustme`` CA, and server and client contexts it signs.

``trustme`` is a development dependency: it is imported when :func:`tls_contexts`
runs (the other two functions take a CA the caller made), never at import time.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import trustme

__all__ = ["client_context", "server_context", "tls_contexts"]


def tls_contexts() -> tuple[ssl.SSLContext, trustme.CA]:
    """Make a throwaway certificate authority and a server context it signed.

    Returns:
        ``(server_ssl_context, ca)``: pass the context to :func:`open_http_server`;
        give clients ``client_context(ca)`` (or ``ca.configure_trust(ctx)``).

    Raises:
        ImportError: ``trustme`` (a development dependency) is not installed.
    """
    try:
        import trustme
    except ImportError:
        raise ImportError(
            "trio_openai.testing TLS helpers need the 'trustme' package: pip install trustme"
        ) from None
    ca = trustme.CA()
    return server_context(ca), ca


def server_context(
    ca: trustme.CA,
    *,
    require_client_cert: bool = False,
    identities: Iterable[str] = ("127.0.0.1", "localhost", "::1"),
) -> ssl.SSLContext:
    """Build a server-side SSL context with a certificate from *ca*.

    Args:
        ca: a ``trustme.CA``.
        require_client_cert: mutual TLS: refuse clients without a certificate signed
            by *ca* (see ``client_context(ca, client_cert=True)``).
        identities: host names and IP addresses the certificate is valid for.

    Returns:
        The context.
    """
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*identities).configure_cert(context)
    if require_client_cert:
        context.verify_mode = ssl.CERT_REQUIRED
        ca.configure_trust(context)
    return context


def client_context(ca: trustme.CA, *, client_cert: bool = False) -> ssl.SSLContext:
    """Build a verifying client-side SSL context that trusts *ca*.

    Args:
        ca: a ``trustme.CA``.
        client_cert: also present a client certificate signed by *ca* (mutual TLS).

    Returns:
        The context.
    """
    context = ssl.create_default_context()
    ca.configure_trust(context)
    if client_cert:
        ca.issue_cert("client.example.org").configure_cert(context)
    return context
