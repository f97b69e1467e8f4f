// lib.mjs - helpers shared by the tests/proxy checks: a check runner whose lines run.sh counts
// ("ok - NAME" / "not ok - NAME"), a browser-like cookie jar, a minimal HTTP "browser" that
// follows redirects by hand, the consent form parser, the MCP client's in-memory OAuth
// provider, and PKCE / URL helpers.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import process from 'node:process';

let failed = 0;

export async function check(name, fn) {
  try {
    await fn();
    process.stdout.write(`ok - ${name}\n`);
  } catch (e) {
    failed++;
    const msg = String(e?.stack ?? e)
      .split('\n')
      .slice(0, 8)
      .join('\n   ');
    process.stdout.write(`not ok - ${name}\n   ${msg}\n`);
  }
}

export function done() {
  process.exitCode = failed ? 1 : 0;
}

export function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`environment variable ${name} is required`);
  return v;
}

// ---- cookies -------------------------------------------------------------------------------

// A cookie jar that behaves like one browser profile for what these tests need: cookies are
// keyed by host name and cookie name (browsers do not separate cookies by port), Max-Age=0
// deletes, expiry is honoured, attributes are kept for assertions.
export class Jar {
  constructor() {
    this.cookies = new Map(); // "host\tname" -> {name, value, attrs, expires}
  }

  store(url, setCookies) {
    const host = new URL(url).hostname;
    for (const sc of setCookies) {
      const parts = sc.split(';').map((s) => s.trim());
      const eq = parts[0].indexOf('=');
      if (eq <= 0) continue;
      const name = parts[0].slice(0, eq);
      const value = parts[0].slice(eq + 1);
      const attrs = {};
      for (const p of parts.slice(1)) {
        const i = p.indexOf('=');
        attrs[(i < 0 ? p : p.slice(0, i)).toLowerCase()] = i < 0 ? true : p.slice(i + 1);
      }
      const key = `${host}\t${name}`;
      const maxAge = attrs['max-age'] !== undefined ? Number(attrs['max-age']) : undefined;
      if (maxAge !== undefined && maxAge <= 0) {
        this.cookies.delete(key);
        continue;
      }
      const expires = maxAge !== undefined ? Date.now() + maxAge * 1000 : Infinity;
      this.cookies.set(key, { name, value, attrs, expires, raw: sc });
    }
  }

  header(url) {
    const host = new URL(url).hostname;
    const now = Date.now();
    const out = [];
    for (const [key, c] of this.cookies) {
      if (!key.startsWith(`${host}\t`)) continue;
      if (c.expires < now) continue;
      out.push(`${c.name}=${c.value}`);
    }
    return out.join('; ');
  }

  get(host, name) {
    return this.cookies.get(`${host}\t${name}`);
  }

  names(host) {
    return [...this.cookies.keys()].filter((k) => k.startsWith(`${host}\t`)).map((k) => k.split('\t')[1]);
  }

  clone() {
    const j = new Jar();
    for (const [k, v] of this.cookies) j.cookies.set(k, { ...v });
    return j;
  }
}

// One request as a browser would send it: the jar's cookies, no automatic redirects.
// opts: {method, form (object), headers, origin}. Returns {status, headers, location, text,
// url, setCookies}.
export async function browse(jar, url, opts = {}) {
  const u = new URL(url);
  const headers = { 'user-agent': 'mcpauth-proxy-tests', ...(opts.headers ?? {}) };
  const cookie = jar ? jar.header(u) : '';
  if (cookie) headers.cookie = cookie;
  let body;
  if (opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.form).toString();
  }
  if (opts.origin) headers.origin = opts.origin;
  const res = await fetch(u, { method: opts.method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
  const setCookies = res.headers.getSetCookie();
  if (jar) jar.store(u, setCookies);
  const text = await res.text();
  const loc = res.headers.get('location');
  return {
    status: res.status,
    headers: res.headers,
    location: loc ? new URL(loc, u).href : null,
    text,
    url: u.href,
    setCookies,
  };
}

// ---- the consent page ----------------------------------------------------------------------

function unescapeHtml(s) {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#x27;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

// {action, tx, csrf_token, clientName, redirectHost, redirectUri, scopes} of a consent page.
export function parseConsent(html) {
  const input = (name) => {
    const m = html.match(new RegExp(`<input[^>]*name="${name}"[^>]*value="([^"]*)"`));
    return m ? unescapeHtml(m[1]) : null;
  };
  const byId = (id) => {
    const m = html.match(new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</`));
    return m ? unescapeHtml(m[1]) : null;
  };
  const form = html.match(/<form[^>]*id="consent-form"[^>]*action="([^"]*)"/);
  if (!form) throw new Error(`not a consent page: ${html.slice(0, 300)}`);
  const scopes = [...(html.match(/<ul id="scopes">([\s\S]*?)<\/ul>/)?.[1] ?? '').matchAll(/<span class="scope">([^<]*)<\/span>/g)].map(
    (m) => unescapeHtml(m[1]),
  );
  return {
    action: unescapeHtml(form[1]),
    tx: input('tx'),
    csrf_token: input('csrf_token'),
    clientName: byId('client-name'),
    redirectHost: byId('redirect-host'),
    redirectUri: byId('redirect-uri'),
    scopes,
  };
}

export function isConsentPage(r) {
  return r.status === 200 && /id="consent-form"/.test(r.text);
}

// Submits the consent form of page `r` (fetched from `pageUrl`) like a browser: same-origin
// POST with the page's hidden fields and the jar's cookies. `postTo` overrides the origin the
// POST is sent to (replicas); `origin` is the Origin header (the page's origin by default).
export async function submitConsent(jar, r, decision = 'approve', opts = {}) {
  const f = parseConsent(r.text);
  const page = new URL(r.url);
  const target = new URL(f.action, opts.postTo ?? page);
  return browse(jar, target, {
    form: { tx: f.tx, csrf_token: f.csrf_token, decision },
    origin: opts.origin ?? page.origin,
    headers: { 'sec-fetch-site': 'same-origin', ...(opts.headers ?? {}) },
  });
}

// Follows a browser through redirects from `start` until a Location starts with `stopAt`
// (the client's redirect URI). A consent page is approved on the way (unless opts.consent is
// 'stop', then it returns the page). opts.rewrite(url) may change each URL before it is
// fetched (to send a step to another replica); opts.consentPostTo(pageUrl) picks where the
// consent form is posted and opts.origin the Origin it carries (the public origin of the
// replicas). Returns {url, params, steps}.
export async function drive(jar, start, stopAt, opts = {}) {
  const rewrite = opts.rewrite ?? ((u) => u);
  let url = rewrite(new URL(start).href);
  const steps = [];
  for (let i = 0; i < 25; i++) {
    let r = await browse(jar, url);
    steps.push({ url, status: r.status, location: r.location });
    if (isConsentPage(r)) {
      if (opts.consent === 'stop') return { page: r, steps };
      r = await submitConsent(jar, r, 'approve', { postTo: opts.consentPostTo?.(url), origin: opts.origin });
      steps.push({ url: `POST ${r.url}`, status: r.status, location: r.location });
    }
    if (r.status < 300 || r.status >= 400 || !r.location) {
      const e = new Error(`stopped at ${r.url} with ${r.status}: ${r.text.slice(0, 300)}`);
      e.response = r;
      e.steps = steps;
      throw e;
    }
    if (r.location.startsWith(stopAt)) {
      const u = new URL(r.location);
      return { url: u.href, params: u.searchParams, steps };
    }
    if (opts.stopBefore?.(r.location)) return { url: r.location, steps, pending: true };
    url = rewrite(r.location);
  }
  throw new Error('too many redirects');
}

// ---- the MCP client's side -----------------------------------------------------------------

// The SDK's OAuthClientProvider kept in memory (what a desktop MCP client would persist): its
// dynamic registration, tokens, PKCE verifier and the authorization URL it was sent to, plus
// the last `state` it made and how many times it registered. Shared by the proxy flows here
// and by the Node package's proxy test (node/test/e2e-proxy.test.mjs).
export class MemoryProvider {
  constructor(redirectUrl, name) {
    this._redirectUrl = redirectUrl;
    this.name = name;
    this.info = undefined;
    this.stored = undefined;
    this.verifier = undefined;
    this.authUrl = undefined;
    this.lastState = undefined;
    this.registrations = 0;
  }
  get redirectUrl() {
    return this._redirectUrl;
  }
  get clientMetadata() {
    return {
      client_name: this.name,
      redirect_uris: [this._redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() {
    this.lastState = crypto.randomBytes(12).toString('base64url');
    return this.lastState;
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info) {
    this.registrations++;
    this.info = info;
  }
  tokens() {
    return this.stored;
  }
  saveTokens(t) {
    this.stored = t;
  }
  redirectToAuthorization(url) {
    this.authUrl = url;
  }
  saveCodeVerifier(v) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}

// ---- small helpers -------------------------------------------------------------------------

export function pkce() {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

export function withPort(url, port) {
  const u = new URL(url);
  u.port = String(port);
  return u.href;
}

export function authorizeUrl(base, params) {
  const u = new URL('/authorize', base);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) u.searchParams.set(k, v);
  return u.href;
}

export async function register(base, body, headers = {}) {
  const res = await fetch(new URL('/register', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: await res.json().catch(() => null) };
}

export async function token(base, form, headers = {}) {
  const res = await fetch(new URL('/token', base), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers: res.headers, json, text };
}

export const payloadOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());

export async function mcpCall(mcpUrl, accessToken, body) {
  const res = await fetch(mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${accessToken}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: await res.json().catch(() => null) };
}

export { assert };
