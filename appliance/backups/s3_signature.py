"""AWS Signature V4 for S3 requests, and where a bucket's objects live.

The signature covers the host, the time and the SHA-256 of the body. The
secret key is used only in the HMACs here, never sent, and kept out of
reprs so it cannot reach a log or a traceback.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
SIGNED_HEADERS = "host;x-amz-content-sha256;x-amz-date"


@dataclass(frozen=True)
class S3Bucket:
    endpoint: str
    name: str
    region: str
    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    # Aliyun OSS refuses path-style requests; most others take both.
    virtual_hosted: bool = False


def object_location(bucket: S3Bucket, key: str) -> tuple[str, str]:
    """(base URL, path) of `key`; the path is URI-encoded once, as S3's
    signature wants it."""
    parts = urlsplit(bucket.endpoint)
    base_path = parts.path.rstrip("/")
    quoted_key = quote(key, safe="/-_.~")
    if bucket.virtual_hosted:
        return f"{parts.scheme}://{bucket.name}.{parts.netloc}", (
            f"{base_path}/{quoted_key}"
        )
    return f"{parts.scheme}://{parts.netloc}", f"{base_path}/{bucket.name}/{quoted_key}"


def canonical_query(query: dict[str, str]) -> str:
    return "&".join(
        f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}"
        for name, value in sorted(query.items())
    )


def signed_headers(
    bucket: S3Bucket,
    method: str,
    host: str,
    path: str,
    query: str,
    payload_sha256: str,
    now: datetime,
) -> dict[str, str]:
    """The headers that sign one request with Signature V4."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    scope = f"{stamp[:8]}/{bucket.region}/s3/aws4_request"
    canonical_headers = (
        f"host:{host}\nx-amz-content-sha256:{payload_sha256}\nx-amz-date:{stamp}\n"
    )
    canonical_request = "\n".join(
        [method, path, query, canonical_headers, SIGNED_HEADERS, payload_sha256]
    )
    string_to_sign = "\n".join(
        [ALGORITHM, stamp, scope, sha256_hex(canonical_request.encode())]
    )
    key = signing_key(bucket.secret_key, stamp[:8], bucket.region)
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "host": host,
        "x-amz-content-sha256": payload_sha256,
        "x-amz-date": stamp,
        "authorization": (
            f"{ALGORITHM} Credential={bucket.access_key}/{scope}, "
            f"SignedHeaders={SIGNED_HEADERS}, Signature={signature}"
        ),
    }


def signing_key(secret_key: str, day: str, region: str) -> bytes:
    key = f"AWS4{secret_key}".encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
