"""A real MCP client (the official Python SDK) against the demo server: the whole OAuth flow.

The SDK's OAuthClientProvider does the protocol work: it is challenged with 401, reads the
protected resource metadata and the authorization server metadata, registers itself
dynamically, runs the authorization code flow with PKCE and exchanges the code for a token.
This file supplies what a desktop app supplies: a loopback redirect URI that receives the code,
and a "browser" (redirect_handler) that opens the authorization URL. The browser here is
scripted: it loads the consent page, submits the Allow form (CSRF field and cookies, as a
browser would), follows the identity provider's sign-in and consent (automatic in the demo
provider) and lands on the loopback redirect URI.

Then it calls the `get-profile` tool and prints the profile, plus one line per step of the flow.
The access token is never printed.

    python client.py http://localhost:8000/mcp [--expect-user test-user]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import http.cookiejar
import json
import sys
import urllib.request
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlparse

import httpx
import httpx2
from mcp.client.auth import OAuthClientProvider
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken
from pydantic import AnyUrl

LOOPBACK = ("localhost", "127.0.0.1", "::1", "[::1]")


def step(who: str, msg: str) -> None:
    print(f"[{who:7}] {msg}", flush=True)


def short(s: str, keep: int = 10) -> str:
    return s if len(s) <= 2 * keep + 1 else f"{s[:keep]}…{s[-keep:]} ({len(s)} chars)"


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified: only to show iss/aud/scope (the server verifies)."""
    try:
        part = token.split(".")[1]
        return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))
    except (IndexError, ValueError):
        return {}


# ---- token storage (in memory), with trace lines ------------------------------------------------


class Storage:
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens
        c = jwt_claims(tokens.access_token)
        step("client", f"token received: {tokens.token_type}, expires in {tokens.expires_in} s, "
                       f"scope {tokens.scope!r}, iss {c.get('iss')}, aud {c.get('aud')} (token not shown)")

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info
        step("client", f"registered dynamically: client_id {short(client_info.client_id or '')}")


# ---- the loopback redirect URI ----------------------------------------------------------------


class Loopback:
    """http://127.0.0.1:<port>/callback: receives the authorization response once."""

    def __init__(self) -> None:
        self.result: asyncio.Future[str] | None = None
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    async def start(self) -> str:
        self.result = asyncio.get_running_loop().create_future()
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{self.port}/callback"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = (await asyncio.wait_for(reader.readline(), 10)).decode("latin-1")
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            parts = line.split(" ")
            ok = len(parts) >= 2 and parts[0] == "GET" and parts[1].startswith("/callback")
            body = b"Signed in. You can close this window." if ok else b"Not found."
            status = b"200 OK" if ok else b"404 Not Found"
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()
            if ok and self.result is not None and not self.result.done():
                self.result.set_result(f"http://127.0.0.1:{self.port}{parts[1]}")
        finally:
            writer.close()

    async def wait(self, timeout: float = 60) -> str:
        assert self.result is not None
        return await asyncio.wait_for(self.result, timeout)

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


# ---- the scripted browser -------------------------------------------------------------------


class BrowserCookiePolicy(http.cookiejar.DefaultCookiePolicy):
    """Like a browser: `Secure` cookies (the proxy's `__Host-` cookies) go to https origins and to
    http://localhost, which browsers treat as a secure context."""

    def return_ok_secure(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        if cookie.secure and urlparse(request.get_full_url()).hostname in LOOPBACK:
            return True
        return bool(super().return_ok_secure(cookie, request))


class ConsentForm(HTMLParser):
    """The consent page: #consent-form (action, hidden fields, the #approve button) and what it
    shows (#client-name, #redirect-host, the .scope items, the .badge)."""

    def __init__(self) -> None:
        super().__init__()
        self.in_form = False
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.approve: tuple[str, str] | None = None
        self.text: dict[str, str] = {}
        self.scopes: list[str] = []
        self._capture: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self._capture = None
        if tag == "form" and a.get("id") == "consent-form":
            self.in_form, self.action = True, a.get("action", "")
        elif self.in_form and tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")
        elif self.in_form and tag == "button" and a.get("id") == "approve":
            self.approve = (a.get("name", ""), a.get("value", ""))
        elif a.get("id") in ("client-name", "redirect-host"):
            self._capture = a["id"]
        elif tag == "span" and a.get("class") in ("scope", "badge"):
            self._capture = a["class"]
            if self._capture == "scope":
                self.scopes.append("")

    def handle_endtag(self, tag: str) -> None:
        self._capture = None
        if tag == "form":
            self.in_form = False

    def handle_data(self, data: str) -> None:
        if self._capture == "scope":
            self.scopes[-1] += data
        elif self._capture:
            self.text[self._capture] = self.text.get(self._capture, "") + data


class _Headers:
    """What http.cookiejar reads from a response."""

    def __init__(self, r: httpx.Response) -> None:
        self.r = r

    def info(self) -> _Headers:
        return self

    def get_all(self, name: str, default: Any = None) -> Any:
        return self.r.headers.get_list(name) or default


class Browser:
    def __init__(self, redirect_uri: str) -> None:
        self.redirect_uri = redirect_uri
        # httpx copies its cookies into a default-policy jar for every request, so the browser
        # keeps its own jar and sets the Cookie header itself
        self.jar = http.cookiejar.CookieJar(policy=BrowserCookiePolicy())
        self.http = httpx.AsyncClient(follow_redirects=False, timeout=15)

    async def request(self, method: str, url: str, data: dict[str, str] | None = None,
                      headers: dict[str, str] | None = None) -> httpx.Response:
        req = urllib.request.Request(url, method=method)
        self.jar.add_cookie_header(req)
        h = dict(headers or {})
        if req.has_header("Cookie"):
            h["Cookie"] = str(req.get_header("Cookie"))
        r = await self.http.request(method, url, data=data, headers=h)
        self.jar.extract_cookies(_Headers(r), req)  # type: ignore[arg-type]
        self.http.cookies.clear()
        return r

    async def open(self, auth_url: str) -> None:
        """Opens the authorization URL and clicks through until the redirect URI is reached."""
        url, method = auth_url, "GET"
        data: dict[str, str] | None = None
        headers: dict[str, str] = {}
        server = urlparse(auth_url)
        for _ in range(20):
            u = urlparse(url)
            if url.startswith(self.redirect_uri):
                q = parse_qs(u.query)
                got = "code received" if "code" in q else f"error {q.get('error')}"
                step("browser", f"-> {self.redirect_uri} ({got}, iss {q.get('iss', ['-'])[0]})")
                await self.request("GET", url)  # the client's loopback listener
                return
            r = await self.request(method, url, data, headers)
            method, data, headers = "GET", None, {}
            if r.status_code in (301, 302, 303, 307):
                nxt = urljoin(url, r.headers["location"])
                n = urlparse(nxt)
                if (u.netloc == server.netloc and u.path.endswith("/authorize") and n.netloc != server.netloc):
                    step("browser", f"consent approved -> redirected to the identity provider {n.scheme}://{n.netloc}{n.path}")
                elif u.netloc != server.netloc and n.netloc == server.netloc:
                    step("browser", f"identity provider signed the user in and consented -> {n.scheme}://{n.netloc}{n.path}")
                url = nxt
                continue
            if r.status_code == 200 and "consent-form" in r.text:
                form = ConsentForm()
                form.feed(r.text)
                if form.action is None or form.approve is None or "csrf_token" not in form.fields:
                    raise RuntimeError("consent page without the expected form")
                t = {k: " ".join(v.split()) for k, v in form.text.items()}
                step("browser", f"consent page at {u.scheme}://{u.netloc}{u.path}: client {t.get('client-name')!r} "
                                f"({t.get('badge', '')}), returns to {t.get('redirect-host')}, scopes "
                                f"{' '.join(form.scopes)!r} -> Allow")
                data = dict(form.fields)
                data[form.approve[0]] = form.approve[1]
                origin = f"{u.scheme}://{u.netloc}"
                headers = {"Origin": origin, "Sec-Fetch-Site": "same-origin", "Referer": url}
                method, url = "POST", urljoin(url, form.action)
                continue
            raise RuntimeError(f"browser: unexpected {r.status_code} from {u.scheme}://{u.netloc}{u.path}: "
                               f"{r.text[:300]}")
        raise RuntimeError("browser: too many redirects")

    async def close(self) -> None:
        await self.http.aclose()


# ---- the MCP client ---------------------------------------------------------------------------


def trace_hook(mcp_url: str) -> Any:
    async def on_response(r: httpx2.Response) -> None:
        url = str(r.request.url).split("?")[0]
        path = r.request.url.path
        if r.status_code == 401 and url == mcp_url:
            step("client", f"{r.request.method} {url} -> 401, WWW-Authenticate: {r.headers.get('www-authenticate')}")
        elif path.startswith("/.well-known/oauth-protected-resource"):
            step("client", f"protected resource metadata: {url} -> {r.status_code}")
        elif path.startswith(("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration")):
            step("client", f"authorization server metadata: {url} -> {r.status_code}")
        elif path.endswith("/register"):
            step("client", f"POST {url} -> {r.status_code}")
        elif path.endswith("/token"):
            step("client", f"POST {url} (code + PKCE verifier) -> {r.status_code}")
    return on_response


async def run(mcp_url: str) -> dict[str, Any]:
    loopback = Loopback()
    redirect_uri = await loopback.start()
    browser = Browser(redirect_uri)
    storage = Storage()

    async def redirect_handler(auth_url: str) -> None:
        u = urlparse(auth_url)
        step("client", f"opens the browser at {u.scheme}://{u.netloc}{u.path} (PKCE S256, state, resource)")
        await browser.open(auth_url)

    async def callback_handler() -> AuthorizationCodeResult:
        q = parse_qs(urlparse(await loopback.wait()).query)
        if "code" not in q:
            raise RuntimeError(f"authorization failed: {q.get('error')} {q.get('error_description')}")
        step("client", f"code received at {redirect_uri}; the SDK checks state and iss next")
        return AuthorizationCodeResult(code=q["code"][0], state=q.get("state", [None])[0],
                                       iss=q.get("iss", [None])[0])

    oauth = OAuthClientProvider(
        server_url=mcp_url,
        client_metadata=OAuthClientMetadata(
            client_name="libmcpauth demo client", redirect_uris=[AnyUrl(redirect_uri)],
            grant_types=["authorization_code", "refresh_token"], response_types=["code"],
            token_endpoint_auth_method="none"),
        storage=storage, redirect_handler=redirect_handler, callback_handler=callback_handler)
    try:
        async with httpx2.AsyncClient(auth=oauth, timeout=httpx2.Timeout(30.0),
                                      event_hooks={"response": [trace_hook(mcp_url)]}) as http:
            async with streamable_http_client(mcp_url, http_client=http) as (read, write):
                async with ClientSession(read, write) as session:
                    init = await session.initialize()
                    info = getattr(init, "server_info", None) or getattr(init, "serverInfo", None)
                    step("client", f"MCP session initialized with {getattr(info, 'name', '?')}")
                    result = await session.call_tool("get-profile", {})
    finally:
        await browser.close()
        loopback.close()
    fields = getattr(type(result), "model_fields", {})

    def field(new: str, old: str) -> Any:  # mcp 2.x snake_case, mcp 1.x camelCase
        return getattr(result, new if new in fields else old, None)

    if field("is_error", "isError"):
        raise RuntimeError(f"get-profile failed: {result.content}")
    sc = field("structured_content", "structuredContent")
    profile = sc if isinstance(sc, dict) else json.loads(result.content[0].text)  # type: ignore[union-attr]
    if isinstance(profile, dict) and set(profile) == {"result"}:
        profile = profile["result"]
    step("client", "tools/call get-profile -> the profile the server's tool returned:")
    return dict(profile)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("url", help="the MCP endpoint, e.g. http://localhost:8000/mcp")
    ap.add_argument("--expect-user", help="exit 1 unless the profile's userId is this")
    args = ap.parse_args()
    profile = asyncio.run(run(args.url))
    print(json.dumps(profile, indent=2, ensure_ascii=False))
    if args.expect_user and profile.get("userId") != args.expect_user:
        print(f"client: expected userId {args.expect_user!r}, got {profile.get('userId')!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
