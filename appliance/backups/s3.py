"""A small S3 client on httpx: what copying a backup offsite needs.

It puts an object, uploads a large one in parts (aborting the upload when
a part fails), and reads back an object's size and ETag. Requests are
signed (s3_signature.py) over the SHA-256 of the body, so a server
refuses bytes that changed on the way. Bodies stream
from the open file in CHUNK pieces; no archive or part is ever held in
memory whole, which matters on a 1 GB host copying a multi-GB archive.

Exceptions:

    S3Error              the server answered with an error
    UploadMismatch       the server's ETag is not the one of the bytes sent
    httpx.TimeoutException, httpx.TransportError
                         no answer in time, or the connection failed
    OSError              the local file could not be read
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from appliance.backups.s3_signature import (
    S3Bucket,
    canonical_query,
    object_location,
    sha256_hex,
    signed_headers,
)

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024
MAX_PARTS = 10_000
ERROR_BODY_LIMIT = 64 * 1024
# Worth another try: the server is busy or restarting, not refusing us.
RETRY_STATUSES = frozenset({500, 502, 503, 504})
RETRY_DELAY_SECONDS = 1.0


class S3Error(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(
            f"{status} {code}: {message}" if message else f"{status} {code}"
        )
        self.status = status
        self.code = code


class UploadMismatch(Exception):
    """What the server stored is not what was sent."""


@dataclass(frozen=True)
class FileSlice:
    """`length` bytes of an open file from `offset`, read with pread so
    that parts never share a file position."""

    descriptor: int
    offset: int
    length: int

    def chunks(self) -> Iterator[bytes]:
        position, end = self.offset, self.offset + self.length
        while position < end:
            chunk = os.pread(self.descriptor, min(CHUNK, end - position), position)
            if not chunk:
                raise OSError(f"the file ended {end - position} bytes early")
            position += len(chunk)
            yield chunk

    def digests(self) -> tuple[str, str]:
        """(sha256, md5) hex digests: the signature needs the first before
        the body is sent, and S3's ETag of a plain upload is the second."""
        sha256, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
        for chunk in self.chunks():
            sha256.update(chunk)
            md5.update(chunk)
        return sha256.hexdigest(), md5.hexdigest()


@dataclass(frozen=True)
class StoredObject:
    size: int
    etag: str


def bare_etag(etag: str) -> str:
    # Quoted by the protocol; upper-case hex from some providers (Aliyun).
    return etag.strip().strip('"').lower()


def multipart_etag(part_md5s: list[str]) -> str:
    """The ETag S3 gives an object completed from these parts."""
    joined = b"".join(bytes.fromhex(md5) for md5 in part_md5s)
    digest = hashlib.md5(joined, usedforsecurity=False).hexdigest()
    return f"{digest}-{len(part_md5s)}"


def slices_of(descriptor: int, size: int, part_bytes: int) -> list[FileSlice]:
    # S3 takes at most 10,000 parts: a huge file gets bigger ones.
    part_bytes = max(part_bytes, math.ceil(size / MAX_PARTS))
    return [
        FileSlice(descriptor, offset, min(part_bytes, size - offset))
        for offset in range(0, size, part_bytes)
    ]


def xml_field(body: bytes, name: str) -> str | None:
    """The text of the first element called `name` (any namespace)."""
    if not body:
        return None
    try:
        # Our own endpoint's reply, capped in size; expat refuses entity
        # expansion bombs and ElementTree fetches no external entities.
        root = ElementTree.fromstring(body)  # noqa: S314
    except ElementTree.ParseError:
        return None
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == name:
            return (element.text or "").strip()
    return None


@dataclass(frozen=True)
class Reply:
    """A server's answer with at most ERROR_BODY_LIMIT bytes of its body:
    a misconfigured endpoint (a web page, a captive portal) can send
    anything, and none of our requests expects a large reply."""

    status_code: int
    reason_phrase: str
    headers: httpx.Headers
    content: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300


def read_reply(response: httpx.Response) -> Reply:
    content = bytearray()
    for chunk in response.iter_bytes():
        content += chunk
        if len(content) >= ERROR_BODY_LIMIT:
            del content[ERROR_BODY_LIMIT:]
            break
    return Reply(
        response.status_code, response.reason_phrase, response.headers, bytes(content)
    )


def unsent(error: httpx.TransportError) -> bool:
    return isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout))


def error_from(response: Reply) -> S3Error:
    body = response.content
    code = xml_field(body, "Code") or response.reason_phrase or "error"
    return S3Error(response.status_code, code, xml_field(body, "Message") or "")


class S3Client:
    """One bucket, over one connection pool; use it as a context manager."""

    def __init__(self, bucket: S3Bucket, timeout: float, attempts: int = 3):
        self.bucket = bucket
        self.attempts = attempts
        # Every phase (connect, each write, each read) gets `timeout`, so a
        # stalled server costs at most that per try, not forever.
        self.http = httpx.Client(timeout=httpx.Timeout(timeout))

    def __enter__(self) -> S3Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.http.close()

    def upload_file(
        self,
        key: str,
        descriptor: int,
        size: int,
        part_bytes: int,
        multipart_above: int,
    ) -> str:
        """Upload `size` bytes of an open file; the ETag it should now have."""
        if size <= multipart_above:
            return self.put_object(key, FileSlice(descriptor, 0, size))
        return self.upload_in_parts(key, slices_of(descriptor, size, part_bytes))

    def put_object(self, key: str, body: FileSlice | bytes) -> str:
        payload = Payload.of(body)
        return checked_etag(self.request("PUT", key, body=payload), payload.md5)

    def upload_in_parts(self, key: str, slices: list[FileSlice]) -> str:
        upload_id = self.start_multipart_upload(key)
        try:
            etags = [
                self.upload_part(key, upload_id, number, piece)
                for number, piece in enumerate(slices, start=1)
            ]
            self.complete_multipart_upload(key, upload_id, etags)
        except BaseException:
            self.abort_multipart_upload(key, upload_id)
            raise
        return multipart_etag(etags)

    def start_multipart_upload(self, key: str) -> str:
        # Not idempotent: a retry after a lost reply would leave the first
        # upload open and unknown to us, its parts billed until a lifecycle
        # rule removes them.
        response = self.request("POST", key, query={"uploads": ""}, idempotent=False)
        upload_id = xml_field(response.content, "UploadId")
        if not upload_id:
            raise S3Error(response.status_code, "NoUploadId", "reply without one")
        return upload_id

    def upload_part(
        self, key: str, upload_id: str, number: int, piece: FileSlice
    ) -> str:
        query = {"partNumber": str(number), "uploadId": upload_id}
        payload = Payload.of(piece)
        response = self.request("PUT", key, query=query, body=payload)
        return checked_etag(response, payload.md5)

    def complete_multipart_upload(
        self, key: str, upload_id: str, etags: list[str]
    ) -> None:
        parts = "".join(
            f'<Part><PartNumber>{number}</PartNumber><ETag>"{etag}"</ETag></Part>'
            for number, etag in enumerate(etags, start=1)
        )
        body = f"<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>".encode()
        response = self.request(
            "POST", key, query={"uploadId": upload_id}, body=Payload.of(body)
        )
        # S3 may answer 200 and still put an error in the body.
        code = xml_field(response.content, "Code")
        if code:
            message = xml_field(response.content, "Message") or ""
            raise S3Error(response.status_code, code, message)

    def abort_multipart_upload(self, key: str, upload_id: str) -> None:
        """Best effort: the failure that led here is the one to report."""
        try:
            self.request("DELETE", key, query={"uploadId": upload_id})
        except (S3Error, httpx.HTTPError) as exc:
            logger.warning(
                "could not abort the multipart upload of %s (%s); its parts "
                "stay in bucket %s until a lifecycle rule removes them",
                key,
                exc,
                self.bucket.name,
            )

    def head_object(self, key: str) -> StoredObject:
        response = self.request("HEAD", key)
        return StoredObject(
            size=int(response.headers.get("content-length", -1)),
            etag=bare_etag(response.headers.get("etag", "")),
        )

    def request(
        self,
        method: str,
        key: str,
        query: dict[str, str] | None = None,
        body: Payload | None = None,
        idempotent: bool = True,
    ) -> Reply:
        """Send one signed request, tried up to `attempts` times while the
        server is busy or the connection fails; an error reply raises. A
        request that is not `idempotent` is tried again only when it cannot
        have reached the server (no connection was made)."""
        body = body or Payload.of(b"")
        attempt = 1
        while True:
            try:
                response = self.send_once(method, key, query or {}, body)
            except httpx.TransportError as exc:
                if attempt >= self.attempts or not (idempotent or unsent(exc)):
                    raise
                problem = str(exc) or type(exc).__name__
            else:
                if response.is_success:
                    return response
                if response.status_code not in RETRY_STATUSES or (
                    attempt >= self.attempts
                ):
                    raise error_from(response)
                problem = f"answered {response.status_code}"
            logger.warning(
                "%s %s: %s; try %d of %d next",
                method,
                key,
                problem,
                attempt + 1,
                self.attempts,
            )
            time.sleep(RETRY_DELAY_SECONDS * attempt)
            attempt += 1

    def send_once(
        self, method: str, key: str, query: dict[str, str], body: Payload
    ) -> Reply:
        base, path = object_location(self.bucket, key)
        query_string = canonical_query(query)
        url = f"{base}{path}" + (f"?{query_string}" if query_string else "")
        headers = signed_headers(
            self.bucket,
            method,
            urlsplit(base).netloc,
            path,
            query_string,
            body.sha256,
            datetime.now(UTC),
        )
        if method in ("PUT", "POST"):
            # Given, so httpx streams the body as it is instead of chunked.
            headers["content-length"] = str(body.length)
        request = self.http.build_request(
            method, url, headers=headers, content=body.content()
        )
        response = self.http.send(request, stream=True)
        try:
            return read_reply(response)
        finally:
            response.close()


@dataclass(frozen=True)
class Payload:
    """A request body with the digests known before it is sent."""

    source: FileSlice | bytes
    length: int
    sha256: str
    md5: str

    @classmethod
    def of(cls, source: FileSlice | bytes) -> Payload:
        if isinstance(source, FileSlice):
            return cls(source, source.length, *source.digests())
        md5 = hashlib.md5(source, usedforsecurity=False).hexdigest()
        return cls(source, len(source), sha256_hex(source), md5)

    def content(self) -> Iterator[bytes] | bytes | None:
        if isinstance(self.source, FileSlice):
            return self.source.chunks()
        return self.source or None


def checked_etag(response: Reply, expected_md5: str) -> str:
    etag = bare_etag(response.headers.get("etag", ""))
    if etag != expected_md5:
        raise UploadMismatch(
            f"the server's ETag {etag or '(none)'} is not the MD5 of the bytes "
            f"sent, {expected_md5}"
        )
    return etag
