"""HTTP client of the NBS data portal (PORTAL.md): the indicator tree (`m=getTree`) and data
queries (`m=QueryData`), one request at a time.

Polite and robust, as the portal needs: a pause between requests (it throttles bursts);
time-outs, HTTP 5xx/429, HTML pages (rate limiting, maintenance) and truncated or invalid JSON
are retried with exponential back-off; a `returncode` other than 200 is an error naming the
query (retrying a bad code does not help). TLS certificates are always verified: a failed
verification stops with a message saying how to give a CA bundle.

Settings (environment): PROVPANEL_PORTAL_URL (the endpoint), PROVPANEL_PORTAL_DELAY (seconds
between requests, default 1), PROVPANEL_PORTAL_TIMEOUT (seconds, default 30),
PROVPANEL_PORTAL_RETRIES (further attempts, default 4), PROVPANEL_PORTAL_BACKOFF (first wait
before a retry, doubled each time, default 2), PROVPANEL_CA_BUNDLE (a PEM file of CA
certificates; REQUESTS_CA_BUNDLE and SSL_CERT_FILE are honoured too).
"""

from __future__ import annotations

import datetime
import http.client
import json
import os
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_PORTAL_URL = "https://data.stats.gov.cn/easyquery.htm"
_USER_AGENT = "provpanel-fetch (+https://github.com/; research data pipeline)"


class PortalError(Exception):
    """A fetch cannot go on; the message says what was asked, what came back and what to do."""


class PortalTLSError(PortalError):
    """The portal's TLS certificate could not be verified (never worked around)."""


class _Retryable(Exception):
    """A transient failure of one attempt (time-out, 5xx, HTML page, bad JSON)."""


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        raise PortalError(f"{name}={text!r}: expected a number of seconds (or attempts)") from None
    if value < 0:
        raise PortalError(f"{name}={text!r}: expected a number >= 0")
    return value


@dataclass(frozen=True)
class PortalSettings:
    url: str = DEFAULT_PORTAL_URL
    delay: float = 1.0  # seconds between two requests
    timeout: float = 30.0  # seconds per attempt
    retries: int = 4  # further attempts after the first
    backoff: float = 2.0  # wait before the first retry, doubled for each further one
    ca_bundle: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PortalSettings:
        env = os.environ if env is None else env
        bundle = env.get("PROVPANEL_CA_BUNDLE") or env.get("REQUESTS_CA_BUNDLE") or None
        return cls(
            url=(env.get("PROVPANEL_PORTAL_URL") or DEFAULT_PORTAL_URL).strip(),
            delay=_number(env, "PROVPANEL_PORTAL_DELAY", cls.delay),
            timeout=_number(env, "PROVPANEL_PORTAL_TIMEOUT", cls.timeout),
            retries=int(_number(env, "PROVPANEL_PORTAL_RETRIES", cls.retries)),
            backoff=_number(env, "PROVPANEL_PORTAL_BACKOFF", cls.backoff),
            ca_bundle=bundle,
        )


@dataclass(frozen=True)
class PortalAnswer:
    """One JSON answer exactly as received, with what was asked and when."""

    url: str  # the endpoint
    method: str  # GET or POST
    query: str  # the query string (GET) or form body (POST) as sent
    accessed: str  # UTC, ISO 8601 with Z
    body: bytes  # the bytes as received
    payload: Any  # the parsed JSON


def tls_help(url: str, detail: str) -> str:
    return (
        f"TLS certificate verification failed for {url}: {detail}. provpanel never switches "
        "verification off. Give a CA bundle that verifies the portal's chain (a PEM file, e.g. "
        "your system's or your institution's bundle): PROVPANEL_CA_BUNDLE=/path/to/ca-bundle.pem "
        "(SSL_CERT_FILE or REQUESTS_CA_BUNDLE work too), then re-run the same command: it resumes."
    )


def _ssl_context(settings: PortalSettings) -> ssl.SSLContext:
    bundle = settings.ca_bundle
    if bundle and not os.path.isfile(bundle):
        raise PortalError(f"CA bundle {bundle} (PROVPANEL_CA_BUNDLE / REQUESTS_CA_BUNDLE): no such file")
    # create_default_context verifies certificates and host names; SSL_CERT_FILE is honoured
    # through OpenSSL's default paths
    return ssl.create_default_context(cafile=bundle) if bundle else ssl.create_default_context()


def _is_tls_verification(error: BaseException | None) -> bool:
    return isinstance(error, ssl.SSLCertVerificationError)


def _looks_like_html(body: bytes, content_type: str) -> bool:
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return "html" in content_type.lower() or head.startswith((b"<!doctype", b"<html", b"<"))


def _html_title(body: bytes) -> str:
    text = body[:4000].decode("utf-8", "replace")
    lower = text.lower()
    start, end = lower.find("<title>"), lower.find("</title>")
    if 0 <= start < end:
        return text[start + 7:end].strip()[:120]
    return " ".join(text.split())[:120]


class PortalClient:
    """One request at a time against the endpoint of `settings`; `requests` counts attempts."""

    def __init__(self, settings: PortalSettings | None = None, *,
                 say: Callable[[str], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings or PortalSettings.from_env()
        self.say = say or (lambda message: None)
        self._sleep = sleep
        self._last_request: float | None = None
        self._context = _ssl_context(self.settings) if self.settings.url.lower().startswith("https") else None
        self.requests = 0

    # ------------------------------------------------------------ the two queries

    def tree(self, dbcode: str, parent: str = "zb") -> list[dict]:
        """The child nodes of `parent` in the indicator tree of database `dbcode`."""
        form = {"id": parent, "dbcode": dbcode, "wdcode": "zb", "m": "getTree"}
        answer = self._request("POST", form, f"the indicator tree of {dbcode} under {parent}")
        if not isinstance(answer.payload, list):
            raise PortalError(
                f"{self.settings.url} (getTree {dbcode} {parent}): expected a JSON list of tree "
                f"nodes, found {type(answer.payload).__name__}"
            )
        return [node for node in answer.payload if isinstance(node, dict)]

    def query(self, dbcode: str, code: str, years: str) -> PortalAnswer:
        """The data of indicator `code` for `years` (`2001-2021`, `2020`, `LAST10`): by province
        and year in fsnd, by year in the national databases (no region dimension)."""
        fixed = [{"wdcode": "zb", "valuecode": code}, {"wdcode": "sj", "valuecode": years}]
        params = {
            "m": "QueryData",
            "dbcode": dbcode,
            "rowcode": "zb" if dbcode.startswith("hg") else "reg",
            "colcode": "sj",
            "wds": "[]",
            "dfwds": json.dumps(fixed, separators=(",", ":")),
            "k1": str(int(time.time() * 1000)),
            "h": "1",
        }
        answer = self._request("GET", params, f"QueryData {dbcode} {code} {years}")
        payload = answer.payload
        if not isinstance(payload, dict) or "returncode" not in payload:
            raise PortalError(f"{self.settings.url}?{answer.query}: expected a JSON object with "
                              f"returncode and returndata, found {str(payload)[:200]}")
        if payload.get("returncode") != 200:
            raise PortalError(
                f"the portal refused QueryData {dbcode} {code} {years} "
                f"({self.settings.url}?{answer.query}): returncode {payload.get('returncode')}, "
                f"{str(payload.get('returndata'))[:300]!r}. Check the code in "
                "dbt_project/seeds/portal_indicator_codes.csv and the portal's tree."
            )
        return answer

    # ------------------------------------------------------------ one request, retried

    def _request(self, method: str, params: Mapping[str, str], what: str) -> PortalAnswer:
        encoded = urllib.parse.urlencode(params)
        attempts = self.settings.retries + 1
        last_problem = ""
        for attempt in range(1, attempts + 1):
            try:
                return self._attempt(method, encoded, what)
            except _Retryable as problem:
                last_problem = str(problem)
                if attempt == attempts:
                    break
                wait = self.settings.backoff * 2 ** (attempt - 1)
                self.say(f"    {what}: {problem}; retry {attempt}/{attempts - 1} in {wait:g} s")
                self._sleep(wait)
        raise PortalError(
            f"{what} failed after {attempts} attempts ({self.settings.url}): {last_problem}. "
            "The portal may be throttling or in maintenance: wait and re-run the same command, "
            "it fetches only what is still missing."
        )

    def _wait_turn(self) -> None:
        if self._last_request is not None:
            remaining = self.settings.delay - (time.monotonic() - self._last_request)
            if remaining > 0:
                self._sleep(remaining)

    def _attempt(self, method: str, encoded: str, what: str) -> PortalAnswer:
        self._wait_turn()
        url = self.settings.url
        if method == "GET":
            request = urllib.request.Request(f"{url}?{encoded}", method="GET")
        else:
            request = urllib.request.Request(url, data=encoded.encode("ascii"), method="POST")
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        request.add_header("User-Agent", _USER_AGENT)
        request.add_header("Accept", "application/json, text/plain, */*")
        accessed = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.settings.timeout,
                                        context=self._context) as response:
                body = response.read()
                content_type = response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            if error.code >= 500 or error.code == 429:
                raise _Retryable(f"HTTP {error.code} {error.reason}") from None
            raise PortalError(f"{what}: HTTP {error.code} {error.reason} from {url}") from None
        except urllib.error.URLError as error:
            if _is_tls_verification(error.reason):
                raise PortalTLSError(tls_help(url, str(error.reason))) from None
            if isinstance(error.reason, (TimeoutError, ConnectionError, OSError)):
                raise _Retryable(f"no answer ({error.reason})") from None
            raise PortalError(f"{what}: {url}: {error.reason}") from None
        except ssl.SSLCertVerificationError as error:
            raise PortalTLSError(tls_help(url, str(error))) from None
        except TimeoutError:
            raise _Retryable(f"no answer within {self.settings.timeout:g} s") from None
        except (http.client.IncompleteRead, http.client.RemoteDisconnected, ConnectionError) as error:
            raise _Retryable(f"the answer was cut off ({type(error).__name__})") from None
        finally:
            self._last_request = time.monotonic()
        if _looks_like_html(body, content_type):
            raise _Retryable(f"an HTML page instead of JSON ({_html_title(body)!r})")
        try:
            payload = json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise _Retryable(f"invalid or truncated JSON ({len(body)} bytes: {error})") from None
        return PortalAnswer(url=url, method=method, query=encoded, accessed=accessed, body=body,
                            payload=payload)
