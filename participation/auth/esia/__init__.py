"""ESIA relying party: signed authorization requests, code exchange, id_token checks, person data.

The legacy ESIA contract (DOMAIN.md §2): the browser goes to `{base}/aas/oauth2/ac` with a
`client_secret` that is a detached CMS signature of `scope + timestamp + client_id + state`; the
code comes back to our callback and is exchanged at `{base}/aas/oauth2/te`; the person's data is
read from `{base}/rs/prns/{oid}…` with the bearer access token. Three things are pluggable:
the signature (`Signer`: RSA now, GOST later), the endpoint paths and signed string
(`EsiaContract`: v2/v3 later) and the HTTP hop (`Transport`: real HTTP, or the Flask test client).
"""

from participation.auth.esia.client import (
    MESSAGES,
    EsiaAddress,
    EsiaClient,
    EsiaError,
    EsiaPerson,
    account_level_from_person,
    esia_client,
    esia_error,
    subject_oid,
)
from participation.auth.esia.keys import (
    ensure_client_credentials,
    generate_rsa_key,
    load_private_key,
    load_public_key,
    load_signer,
    private_key_pem,
    provider_public_key,
    public_key_pem,
    read_pem,
    self_signed_certificate,
    write_new_file,
)
from participation.auth.esia.signing import (
    LEGACY,
    EsiaContract,
    RSASigner,
    Signer,
    b64url_decode,
    b64url_encode,
    esia_timestamp,
    is_uuid,
    new_state,
    parse_esia_timestamp,
)
from participation.auth.esia.transport import (
    EsiaUnavailable,
    FlaskClientTransport,
    HttpResponse,
    Transport,
    UrllibTransport,
    esia_transport,
)

__all__ = [
    "LEGACY",
    "MESSAGES",
    "EsiaAddress",
    "EsiaClient",
    "EsiaContract",
    "EsiaError",
    "EsiaPerson",
    "EsiaUnavailable",
    "FlaskClientTransport",
    "HttpResponse",
    "RSASigner",
    "Signer",
    "Transport",
    "UrllibTransport",
    "account_level_from_person",
    "b64url_decode",
    "b64url_encode",
    "ensure_client_credentials",
    "esia_client",
    "esia_error",
    "esia_timestamp",
    "esia_transport",
    "generate_rsa_key",
    "is_uuid",
    "load_private_key",
    "load_public_key",
    "load_signer",
    "new_state",
    "parse_esia_timestamp",
    "private_key_pem",
    "provider_public_key",
    "public_key_pem",
    "read_pem",
    "self_signed_certificate",
    "subject_oid",
    "write_new_file",
]
