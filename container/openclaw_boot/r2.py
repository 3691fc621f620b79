"""A small S3 client for R2 (standard library only): list, head, get, download, delete.

The boot code reads the reference implementation's objects with it (legacy import) and, only on
an explicit request from the admin page, deletes them. restic keeps its own S3 client; this one
never touches the restic repository. Requests are signed with AWS Signature Version 4 (R2 accepts
region `auto`); credentials come from R2_ACCESS_KEY_ID / R2_SECRET_ACCESS_KEY and never appear in
a URL, an error message or a log line.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
CHUNK = 1024 * 1024


class R2Error(RuntimeError):
    """An S3 request failed; the message names the operation and key, never a credential."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class S3Object:
    key: str
    size: int
    etag: str
    """Without quotes. For a single-part upload it is the MD5 of the content."""
    last_modified: str
    """ISO 8601, UTC."""

    @property
    def etag_is_md5(self) -> bool:
        return len(self.etag) == 32 and all(c in "0123456789abcdef" for c in self.etag.lower())


def _quote(key: str) -> str:
    return urllib.parse.quote(key, safe="/-_.~")


def _iso(value: str) -> str:
    """S3's LastModified (ISO 8601 in listings, RFC 1123 in headers) as ISO 8601 UTC with a Z."""
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.strptime(value, "%a, %d %b %Y %H:%M:%S %Z")
        except ValueError:
            return value
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def canonical_query(query: dict[str, str]) -> str:
    return "&".join(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
        for k, v in sorted(query.items())
    )


def sigv4_headers(
    method: str,
    host: str,
    path: str,
    query: dict[str, str],
    payload_hash: str,
    amz_date: str,
    region: str,
    key_id: str,
    secret: str,
) -> dict[str, str]:
    """The x-amz-* and Authorization headers of an S3 SigV4 request (host signed too)."""
    day = amz_date[:8]
    signed = {"host": host, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date}
    names = ";".join(sorted(signed))
    canonical = "\n".join(
        [
            method,
            path,
            canonical_query(query),
            "".join(f"{name}:{signed[name]}\n" for name in sorted(signed)),
            names,
            payload_hash,
        ]
    )
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + secret).encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "x-amz-content-sha256": payload_hash,
        "x-amz-date": amz_date,
        "Authorization": f"AWS4-HMAC-SHA256 Credential={key_id}/{scope}, "
        f"SignedHeaders={names}, Signature={signature}",
    }


class R2Client:
    def __init__(
        self,
        endpoint: str,
        bucket: str,
        access_key_id: str,
        secret_access_key: str,
        region: str = "auto",
        timeout: float = 120,
    ) -> None:
        parts = urllib.parse.urlsplit(endpoint.rstrip("/"))
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise R2Error("R2 endpoint must be an http(s) URL")
        self.scheme, self.host, self.base_path = parts.scheme, parts.netloc, parts.path
        self.bucket = bucket
        self._key_id = access_key_id
        self._secret = secret_access_key
        self.region = region
        self.timeout = timeout

    # ---- signing -----------------------------------------------------------------------------
    def _signed(
        self, method: str, key: str | None, query: dict[str, str], payload_hash: str
    ) -> urllib.request.Request:
        path = f"{self.base_path}/{_quote(self.bucket)}"
        if key is not None:
            path += "/" + _quote(key)
        amz_date = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        headers = sigv4_headers(
            method,
            self.host,
            path,
            query,
            payload_hash,
            amz_date,
            self.region,
            self._key_id,
            self._secret,
        )
        url = f"{self.scheme}://{self.host}{path}"
        if query:
            url += "?" + canonical_query(query)
        request = urllib.request.Request(url, method=method)  # noqa: S310 - http(s) checked above
        for name, value in headers.items():
            request.add_header(name, value)
        return request

    def _open(self, method: str, key: str | None, query: dict[str, str] | None = None) -> Any:
        request = self._signed(method, key, query or {}, EMPTY_SHA256)
        what = f"{method} {key if key is not None else self.bucket}"
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)  # noqa: S310
        except urllib.error.HTTPError as exc:
            code = exc.code
            detail = ""
            try:
                body = exc.read(4096)
                found = ET.fromstring(body).findtext("Code")  # noqa: S314
                detail = f" ({found})" if found else ""
            except (ET.ParseError, OSError):
                pass
            raise R2Error(f"{what} answered HTTP {code}{detail}", code) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise R2Error(f"{what} failed: {reason}") from None

    # ---- operations --------------------------------------------------------------------------
    def list(self, prefix: str = "") -> Iterator[S3Object]:
        """Every object under `prefix` (ListObjectsV2, all pages), in key order."""
        token: str | None = None
        while True:
            query = {"list-type": "2", "prefix": prefix, "max-keys": "1000"}
            if token:
                query["continuation-token"] = token
            with self._open("GET", None, query) as response:
                root = ET.fromstring(response.read())  # noqa: S314
            for item in root.iter(f"{S3_NS}Contents"):
                yield S3Object(
                    key=item.findtext(f"{S3_NS}Key") or "",
                    size=int(item.findtext(f"{S3_NS}Size") or 0),
                    etag=(item.findtext(f"{S3_NS}ETag") or "").strip('"'),
                    last_modified=_iso(item.findtext(f"{S3_NS}LastModified") or ""),
                )
            if (root.findtext(f"{S3_NS}IsTruncated") or "false").lower() != "true":
                return
            token = root.findtext(f"{S3_NS}NextContinuationToken")
            if not token:
                return

    def head(self, key: str) -> S3Object | None:
        try:
            with self._open("HEAD", key) as response:
                return S3Object(
                    key=key,
                    size=int(response.headers.get("Content-Length") or 0),
                    etag=(response.headers.get("ETag") or "").strip('"'),
                    last_modified=_iso(response.headers.get("Last-Modified") or ""),
                )
        except R2Error as exc:
            if exc.status == 404:
                return None
            raise

    def get(self, key: str, limit: int = 16 * 1024 * 1024) -> bytes:
        """A small object's content (refuses more than `limit` bytes)."""
        with self._open("GET", key) as response:
            data: bytes = response.read(limit + 1)
        if len(data) > limit:
            raise R2Error(f"GET {key}: larger than {limit} bytes")
        return data

    def download(self, key: str, target: Path) -> tuple[int, str]:
        """Stream an object to `target` (created with mode 0600). Returns (bytes, md5 hex)."""
        digest = hashlib.md5(usedforsecurity=False)
        size = 0
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle, self._open("GET", key) as response:
            while True:
                try:
                    chunk = response.read(CHUNK)
                except OSError as exc:  # connection reset, IncompleteRead
                    raise R2Error(f"GET {key}: transfer broke off: {type(exc).__name__}") from None
                if not chunk:
                    break
                handle.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        return size, digest.hexdigest()

    def delete(self, key: str) -> None:
        with self._open("DELETE", key):
            pass
