"""HTTP client of the NBS data portal (PORTAL.md): the indicator tree (`m=getTree`), a table's
indicators for one region and an indicator for every region (`m=QueryData`).

It talks as the clients that work in 2026 do (the recorded requests in
`shared/data/portal_recorded/cassettes/`): one keep-alive `requests` session whose cookie jar
keeps what the server sets (`JSESSIONID`, `u`), `POST` forms with the `Referer` of the
database's page and `X-Requested-With: XMLHttpRequest`, a pause between requests.

Failures, as the portal and its firewall (WZWS) produce them:
- connection errors, time-outs, HTTP 429/5xx: retried by urllib3's `Retry` with exponential
  back-off, honouring `Retry-After`;
- an HTML challenge page (bursts): the client slows down (the pause doubles) and tries again;
- a captcha page or HTTP 403 (`UrlACL`): stops at once (`PortalBlocked`) with what to do;
- truncated or invalid JSON, an answer slower than the overall deadline: tried again;
- `returncode` other than 200: `PortalRefused`, never retried (the fetch reports the
  indicator and goes on);
- TLS verification failure: stops, saying how to give a CA bundle (never switched off).

Settings (environment): PROVPANEL_PORTAL_URL (the endpoint), PROVPANEL_PORTAL_DELAY (seconds
between requests, default 1), PROVPANEL_PORTAL_TIMEOUT (seconds per read, default 30),
PROVPANEL_PORTAL_DEADLINE (seconds for one whole answer, default 120),
PROVPANEL_PORTAL_RETRIES (further attempts, default 4), PROVPANEL_PORTAL_BACKOFF (back-off
factor in seconds, default 2), PROVPANEL_PORTAL_USER_AGENT, PROVPANEL_CA_BUNDLE (a PEM file of
CA certificates; REQUESTS_CA_BUNDLE and SSL_CERT_FILE are honoured too).
"""

from __future__ import annotations

import datetime
import json
import os
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

DEFAULT_PORTAL_URL = "https://data.stats.gov.cn/easyquery.htm"
# A browser's, as the recorded clients send (the firewall turns away unusual agents); a setting.
DEFAULT_USER_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                      "Chrome/120.0.0.0 Safari/537.36")
DOCS_PAGE = "docs/portal.md"
# The page of each database on the portal (easyquery.htm?cn=...), sent as the Referer.
DATABASE_PAGES = {"hgyd": "A01", "hgjd": "B01", "hgnd": "C01", "fsyd": "E0101", "fsjd": "E0102",
                  "fsnd": "E0103", "csyd": "E0104", "csnd": "E0105"}
ONE_REGION = "110000"  # a table's indicators are listed in an answer for one region (Beijing)

WHAT_TO_DO = (
    "What you can do: wait (an hour or a day) and re-run the same command, it resumes where it "
    "stopped; run it from a network inside mainland China; or download the tables by hand with "
    f"the portal's download button and add them as an edition ({DOCS_PAGE}, 'By hand')."
)


class PortalError(Exception):
    """A fetch cannot go on; the message says what was asked, what came back and what to do."""


class PortalTLSError(PortalError):
    """The portal's TLS certificate could not be verified (never worked around)."""


class PortalBlocked(PortalError):
    """The firewall refuses this client (HTTP 403, a captcha): retrying now does not help."""


class PortalRefused(PortalError):
    """The portal answered the query with a returncode other than 200 (an unknown code, a table
    asked for all regions): about this query only."""

    def __init__(self, message: str, returncode: Any, returndata: str) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.returndata = returndata


class _TryAgain(Exception):
    """A failure of one answer that another attempt may not have (challenge page, bad JSON)."""


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
    timeout: float = 30.0  # seconds for the connection and for each read
    deadline: float = 120.0  # seconds for one whole answer (a server dribbling bytes is cut off)
    retries: int = 4  # further attempts after the first
    backoff: float = 2.0  # back-off factor: waits of about backoff × 2^n seconds
    ca_bundle: str | None = None
    user_agent: str = DEFAULT_USER_AGENT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PortalSettings:
        env = os.environ if env is None else env
        bundle = env.get("PROVPANEL_CA_BUNDLE") or env.get("REQUESTS_CA_BUNDLE") or None
        return cls(
            url=(env.get("PROVPANEL_PORTAL_URL") or DEFAULT_PORTAL_URL).strip(),
            delay=_number(env, "PROVPANEL_PORTAL_DELAY", cls.delay),
            timeout=_number(env, "PROVPANEL_PORTAL_TIMEOUT", cls.timeout),
            deadline=_number(env, "PROVPANEL_PORTAL_DEADLINE", cls.deadline),
            retries=int(_number(env, "PROVPANEL_PORTAL_RETRIES", cls.retries)),
            backoff=_number(env, "PROVPANEL_PORTAL_BACKOFF", cls.backoff),
            ca_bundle=bundle,
            user_agent=(env.get("PROVPANEL_PORTAL_USER_AGENT") or DEFAULT_USER_AGENT).strip(),
        )


@dataclass(frozen=True)
class PortalAnswer:
    """One JSON answer exactly as received, with what was asked and when."""

    url: str  # the endpoint
    method: str  # POST (GET is answered too, but not what the clients that work send)
    query: str  # the form body as sent
    accessed: str  # UTC, ISO 8601 with Z
    body: bytes  # the bytes as received
    payload: Any  # the parsed JSON

    @property
    def returndata(self) -> dict:
        data = self.payload.get("returndata") if isinstance(self.payload, dict) else None
        return data if isinstance(data, dict) else {}


def tls_help(url: str, detail: str) -> str:
    return (
        f"TLS certificate verification failed for {url}: {detail}. provpanel never switches "
        "verification off. Give a CA bundle that verifies the portal's chain (a PEM file, e.g. "
        "your system's or your institution's bundle): PROVPANEL_CA_BUNDLE=/path/to/ca-bundle.pem "
        "(SSL_CERT_FILE or REQUESTS_CA_BUNDLE work too), then re-run the same command: it resumes."
    )


def _looks_like_html(body: bytes) -> bool:
    # by the bytes, not the Content-Type: the recorded answers carry none, and a JSON answer is
    # JSON whatever a header says
    return body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _is_captcha(body: bytes) -> bool:
    text = body[:20000].decode("utf-8", "replace").lower()
    return "captcha" in text or "验证码" in text


def _html_title(body: bytes) -> str:
    text = body[:4000].decode("utf-8", "replace")
    lower = text.lower()
    start, end = lower.find("<title>"), lower.find("</title>")
    if 0 <= start < end and text[start + 7:end].strip():
        return text[start + 7:end].strip()[:120]
    return " ".join(text.split())[:120]


def _form(**fields: str) -> str:
    """A form body in the field order the recorded clients send."""
    return urllib.parse.urlencode(fields)


def _dims(*pairs: tuple[str, str]) -> str:
    # json.dumps' default separators: the bytes the recorded clients send
    return json.dumps([{"wdcode": code, "valuecode": value} for code, value in pairs])


class PortalClient:
    """One request at a time against the endpoint of `settings`, over one session; `requests`
    counts the HTTP requests sent (retries included)."""

    def __init__(self, settings: PortalSettings | None = None, *,
                 say: Callable[[str], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings or PortalSettings.from_env()
        self.say = say or (lambda message: None)
        self._sleep = sleep
        self._last_request: float | None = None
        self.delay = self.settings.delay  # grows when the firewall challenges
        self.requests = 0
        bundle = self.settings.ca_bundle
        if bundle and not os.path.isfile(bundle):
            raise PortalError(f"CA bundle {bundle} (PROVPANEL_CA_BUNDLE / REQUESTS_CA_BUNDLE): no such file")
        self.session = requests.Session()
        # given with each request: requests would let REQUESTS_CA_BUNDLE override the session's
        self._verify: str | bool = bundle or os.environ.get("SSL_CERT_FILE") or True
        self.session.headers.update({
            "User-Agent": self.settings.user_agent,
            "Accept": "application/json, text/javascript, */*; q=0.01",
            "X-Requested-With": "XMLHttpRequest",
            "Connection": "keep-alive",
        })
        retry = Retry(
            total=self.settings.retries, connect=self.settings.retries, read=self.settings.retries,
            status=self.settings.retries, other=0,  # a TLS failure is not retried
            backoff_factor=self.settings.backoff, backoff_max=120,
            status_forcelist=(429, 500, 502, 503, 504), allowed_methods=frozenset({"GET", "POST"}),
            respect_retry_after_header=True, raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    # ------------------------------------------------------------ the three queries

    def tree(self, dbcode: str, parent: str = "zb") -> list[dict]:
        """The child nodes of `parent` in the tree of database `dbcode`: folders
        (`isParent: true`) and tables (the leaves)."""
        form = _form(m="getTree", dbcode=dbcode, rowcode="zb", colcode="sj", wds="[]", dfwds="[]",
                     k1=self._k1(), id=parent, wdcode="zb")
        answer = self._request(dbcode, form, f"getTree {dbcode} {parent}")
        if not isinstance(answer.payload, list):
            raise PortalRefused(
                f"getTree {dbcode} {parent}: expected a JSON list of tree nodes, found "
                f"{json.dumps(answer.payload, ensure_ascii=False)[:200]}",
                answer.payload.get("returncode") if isinstance(answer.payload, dict) else None,
                str(answer.payload)[:300])
        return [node for node in answer.payload if isinstance(node, dict)]

    def table(self, dbcode: str, table: str, years: str) -> PortalAnswer:
        """A table for one region (`rowcode=zb`): the answer's `wdnodes` list the table's
        indicators with code, name and unit. National databases have no region."""
        wds = "[]" if dbcode.startswith("hg") else _dims(("reg", ONE_REGION))
        form = _form(m="QueryData", dbcode=dbcode, rowcode="zb", colcode="sj", wds=wds,
                     dfwds=_dims(("zb", table), ("sj", years)), k1=self._k1())
        where = "" if dbcode.startswith("hg") else f" for region {ONE_REGION}"
        return self._data(dbcode, form, f"QueryData {dbcode} table {table}{where} {years}")

    def query(self, dbcode: str, code: str, years: str) -> PortalAnswer:
        """Indicator `code` for `years` (`2001-2021`, `2020`, `LAST10`): by region and year in
        the province databases (`rowcode=reg`), by year in the national ones."""
        rowcode = "zb" if dbcode.startswith("hg") else "reg"
        form = _form(m="QueryData", dbcode=dbcode, rowcode=rowcode, colcode="sj", wds="[]",
                     dfwds=_dims(("zb", code), ("sj", years)), k1=self._k1())
        return self._data(dbcode, form, f"QueryData {dbcode} {code} {years}")

    def _data(self, dbcode: str, form: str, what: str) -> PortalAnswer:
        answer = self._request(dbcode, form, what)
        payload = answer.payload
        if not isinstance(payload, dict) or "returncode" not in payload:
            raise PortalError(f"{what}: expected a JSON object with returncode and returndata, found "
                              f"{json.dumps(payload, ensure_ascii=False)[:200]}")
        if payload.get("returncode") != 200:
            text = str(payload.get("returndata"))[:300]
            raise PortalRefused(f"the portal refused {what}: returncode {payload.get('returncode')}, {text!r}",
                                payload.get("returncode"), text)
        body = payload.get("returndata")
        if not isinstance(body, dict) or not isinstance(body.get("datanodes"), list) \
                or not isinstance(body.get("wdnodes"), list):
            raise PortalError(f"{what}: expected returndata with the lists datanodes and wdnodes, found "
                              f"{json.dumps(body, ensure_ascii=False)[:200]}")
        return answer

    @staticmethod
    def _k1() -> str:
        return str(int(time.time() * 1000))

    # ------------------------------------------------------------ one request

    def _request(self, dbcode: str, form: str, what: str) -> PortalAnswer:
        attempts = self.settings.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return self._attempt(dbcode, form, what)
            except _TryAgain as problem:
                if attempt == attempts:
                    raise PortalError(
                        f"{what}: {problem}, {attempts} times ({self.settings.url}). {WHAT_TO_DO}"
                    ) from None
                wait = self.settings.backoff * 2 ** (attempt - 1)
                self.say(f"    {what}: {problem}; retry {attempt}/{attempts - 1} in {wait:g} s, "
                         f"then one request every {self.delay:g} s")
                self._sleep(wait)
        raise AssertionError("unreachable")

    def _wait_turn(self) -> None:
        if self._last_request is not None:
            remaining = self.delay - (time.monotonic() - self._last_request)
            if remaining > 0:
                self._sleep(remaining)

    def _attempt(self, dbcode: str, form: str, what: str) -> PortalAnswer:
        self._wait_turn()
        url = self.settings.url
        page = DATABASE_PAGES.get(dbcode, "A01")
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
                   "Referer": f"{url}?cn={page}"}
        accessed = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            response = self.session.post(url, data=form, headers=headers, stream=True, verify=self._verify,
                                         timeout=(self.settings.timeout, self.settings.timeout))
            try:
                retried = response.raw.retries.history if response.raw.retries else ()
                self.requests += 1 + len(retried)
                body = self._read_within_deadline(response, what)
            finally:
                response.close()
        except requests.exceptions.SSLError as error:
            self.requests += 1
            raise PortalTLSError(tls_help(url, str(error))) from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
            self.requests += 1 + self.settings.retries
            raise PortalError(f"{what}: no answer from {url} after {self.settings.retries + 1} attempts "
                              f"({type(error).__name__}: {str(error)[:200]}). The portal may be down or "
                              f"unreachable from this network. {WHAT_TO_DO}") from None
        finally:
            self._last_request = time.monotonic()
        status = response.status_code
        if status == 403:
            raise PortalBlocked(
                f"{what}: the portal's firewall refused this client (HTTP 403{self._firewall(response, body)}). "
                "It refuses addresses outside mainland China and clients that asked too much. " + WHAT_TO_DO)
        if 400 <= status < 500 and status != 429:
            raise PortalRefused(f"{what}: HTTP {status} {response.reason} from {url}", status,
                                body[:300].decode("utf-8", "replace"))
        if status != 200:
            raise PortalError(f"{what}: HTTP {status} {response.reason} from {url} after "
                              f"{self.settings.retries + 1} attempts. {WHAT_TO_DO}")
        if _looks_like_html(body):
            if _is_captcha(body):
                raise PortalBlocked(
                    f"{what}: the portal's firewall answered with a captcha page "
                    f"({_html_title(body)!r}{self._firewall(response, body)}): it takes this client for a "
                    "robot and a program cannot answer it. " + WHAT_TO_DO)
            self.delay = min(max(self.delay * 2, 1.0), 60.0)
            raise _TryAgain(f"a firewall challenge page instead of JSON ({_html_title(body)!r})")
        try:
            payload = json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise _TryAgain(f"invalid or truncated JSON ({len(body)} bytes: {error})") from None
        return PortalAnswer(url=url, method="POST", query=form, accessed=accessed, body=body, payload=payload)

    @staticmethod
    def _firewall(response: requests.Response, body: bytes) -> str:
        ray = response.headers.get("WZWS-RAY")
        return f", firewall WZWS-RAY {ray}" if ray else ""

    def _read_within_deadline(self, response: requests.Response, what: str) -> bytes:
        """The whole body, or _TryAgain when it takes longer than the deadline (the read
        time-out alone lets a server that sends a byte a second hold a request for ever)."""
        deadline = time.monotonic() + self.settings.deadline
        chunks: list[bytes] = []
        try:
            while True:
                chunk = response.raw.read1(65536, decode_content=True)
                if not chunk:
                    break
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise _TryAgain(f"the answer took longer than {self.settings.deadline:g} s "
                                    "(PROVPANEL_PORTAL_DEADLINE)")
        except (urllib3.exceptions.HTTPError, requests.exceptions.RequestException, OSError) as error:
            # a reset, a read time-out, fewer bytes than Content-Length said
            raise _TryAgain(f"the answer was cut off ({type(error).__name__})") from None
        return b"".join(chunks)
