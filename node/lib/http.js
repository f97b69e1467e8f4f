// The HTTP adapters: fetch (Request -> Response), Express middleware and node:http. Each one
// turns a request into the router's input, follows the core's decisions (the body on demand,
// the host's verifier with its completion call) and carries them out: "respond" is sent as it
// is, "pass" hands the request on with its auth. No path, scope or challenge rule lives here.
'use strict';
const http = require('node:http');
const { toSdkAuthInfo } = require('./sdk');

const NO_BODY_STATUS = new Set([101, 204, 205, 304]);

// ---- fetch ---------------------------------------------------------------------------------

function fetchRequestJson(request, peer) {
  const u = new URL(request.url);
  const headers = {};
  for (const [k, v] of request.headers) headers[k] = v;
  const out = { method: request.method, path: u.pathname, query: u.search.slice(1), headers };
  if (peer) out.peer = peer;
  return out;
}

// Reads at most maxBytes of a fetch body from a clone: the original stays readable for the
// handler that comes next.
async function readFetchBody(request, maxBytes) {
  if (!request.body) return { body: '' };
  const reader = request.clone().body.getReader();
  const chunks = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        return { truncated: true };
      }
      chunks.push(value);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  return { body: Buffer.concat(chunks).toString('utf8') };
}

function toResponse(d, method) {
  const headers = new Headers();
  for (const [k, v] of d.headers) headers.append(k, v);
  const body = NO_BODY_STATUS.has(d.status) || method === 'HEAD' ? null : d.body;
  return new Response(body, { status: d.status, headers });
}

/**
 * provider.route(request): the router in front of any fetch-style handler (Hono, SDK v2,
 * mcp-use's server.fetch, Workers-style hosts):
 *   const res = (await provider.route(request)) ?? (await next(request));
 * Resolves to a Response when the core answers (metadata, proxy routes, 401/403 challenges),
 * or undefined when the request goes on; then `authOf(request)` gives its AuthInfo.
 */
async function route(provider, request, opts = {}) {
  const d = await provider.decide(fetchRequestJson(request, opts.peer), (max) => readFetchBody(request, max));
  if (d.action === 'respond') return toResponse(d, request.method);
  if (d.auth) authByRequest.set(request, d.auth);
  return undefined;
}

const authByRequest = new WeakMap();
/** The AuthInfo the router attached to a fetch Request it passed (or undefined). */
function authOf(request) {
  return authByRequest.get(request);
}

// ---- node:http / Express --------------------------------------------------------------------

function nodeRequestJson(req) {
  const url = req.originalUrl || req.url || '/';
  const q = url.indexOf('?');
  // From the raw header list: Node's req.headers keeps only the first of a repeated
  // Authorization (and other single-value headers); the core must see every copy (a request
  // with two credentials is refused, not decided by whichever copy a parser kept).
  const headers = {};
  const raw = req.rawHeaders;
  if (Array.isArray(raw) && raw.length) {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const k = raw[i].toLowerCase();
      const v = raw[i + 1];
      if (headers[k] === undefined) headers[k] = v;
      else headers[k] += k === 'cookie' ? `; ${v}` : `, ${v}`;
    }
  } else {
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined) continue;
      headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
    }
  }
  const out = {
    method: req.method,
    path: q < 0 ? url : url.slice(0, q),
    query: q < 0 ? '' : url.slice(q + 1),
    headers,
  };
  const peer = req.socket && req.socket.remoteAddress;
  if (peer) out.peer = peer;
  return out;
}

// A body some middleware already parsed (express.json(), express.urlencoded(), text(), raw()),
// as text again.
function parsedBody(req) {
  const b = req.body;
  if (typeof b === 'string') return b;
  if (Buffer.isBuffer(b)) return b.toString('utf8');
  if (b && typeof b === 'object') {
    const type = String(req.headers['content-type'] || '').toLowerCase();
    if (type.includes('application/x-www-form-urlencoded')) {
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(b)) {
        if (Array.isArray(v)) for (const x of v) p.append(k, String(x));
        else p.append(k, String(v));
      }
      return p.toString();
    }
    return JSON.stringify(b);
  }
  return undefined;
}

function bodyConsumed(req) {
  return req._body === true || (req.body !== undefined && req.readableEnded) || req.complete && !req.readable && req.body !== undefined;
}

// Reads at most maxBytes + 1 of a node request. Resolves { buf, truncated, ended }.
function readNodeBody(req, maxBytes) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    const done = (truncated, ended) => {
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('error', onError);
      req.pause();
      resolve({ buf: Buffer.concat(chunks), truncated, ended });
    };
    const onData = (c) => {
      chunks.push(c);
      size += c.length;
      if (size > maxBytes) done(true, false);
    };
    const onEnd = () => done(false, true);
    const onError = (e) => {
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      reject(e);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.resume();
  });
}

// A new IncomingMessage that replays `prefix` and then whatever is left of `req`: the handler
// after the router reads the body as if nobody had.
function replay(req, prefix, ended) {
  const r = new http.IncomingMessage(req.socket);
  for (const k of ['method', 'url', 'headers', 'rawHeaders', 'httpVersion', 'httpVersionMajor', 'httpVersionMinor', 'trailers', 'rawTrailers']) {
    r[k] = req[k];
  }
  for (const k of Object.keys(req)) {
    if (!(k in r) && !k.startsWith('_')) r[k] = req[k];
  }
  if (prefix.length) r.push(prefix);
  if (ended) {
    r.complete = true;
    r.push(null);
  } else {
    req.on('data', (c) => r.push(c));
    req.on('end', () => {
      r.complete = true;
      r.push(null);
    });
    req.on('error', (e) => r.destroy(e));
    req.resume();
  }
  return r;
}

function sendDecision(res, d, method) {
  res.statusCode = d.status;
  for (const [k, v] of d.headers) {
    const prev = res.getHeader(k);
    if (prev === undefined) res.setHeader(k, v);
    else res.setHeader(k, Array.isArray(prev) ? [...prev, v] : [String(prev), v]);
  }
  if (NO_BODY_STATUS.has(d.status) || method === 'HEAD') res.end();
  else {
    if (!res.hasHeader('content-length')) res.setHeader('content-length', Buffer.byteLength(d.body));
    res.end(d.body);
  }
}

// Runs the router for a node request. Resolves { d, req } where req is the request to hand on
// (a replay when the body had to be read from the stream).
async function decideNode(provider, req) {
  let handOn = req;
  let bodyText;
  const readBody = async (max) => {
    const already = bodyConsumed(req) ? parsedBody(req) : undefined;
    if (already !== undefined) {
      if (Buffer.byteLength(already) > max) return { truncated: true };
      return { body: already };
    }
    if (req.readableEnded || req.destroyed) {
      // someone read the stream and kept no body we can see: the core applies every method
      // scope (fail closed) rather than waiting for data that will never come
      return { truncated: true };
    }
    const got = await readNodeBody(req, max);
    handOn = replay(req, got.buf, got.ended);
    if (got.truncated) return { truncated: true };
    bodyText = got.buf.toString('utf8');
    return { body: bodyText };
  };
  const d = await provider.decide(nodeRequestJson(req), readBody);
  return { d, req: handOn, bodyText };
}

function attachAuth(req, auth) {
  req.mcpauth = auth;
  req.auth = toSdkAuthInfo(auth);
}

/**
 * provider.express(): Express 4/5 middleware. Answers what the core answers; on a pass sets
 * req.auth (the SDK's AuthInfo, for StreamableHTTPServerTransport) and req.mcpauth (the seed's
 * ctx.auth) and calls next(). Works before or after express.json().
 */
function express(provider) {
  return function mcpauthMiddleware(req, res, next) {
    decideNode(provider, req).then(
      ({ d, req: handOn, bodyText }) => {
        if (d.action === 'respond') return sendDecision(res, d, req.method);
        if (d.auth) attachAuth(req, d.auth);
        if (handOn !== req && bodyText !== undefined) {
          // the body was read here: give it to the next handlers the way express.json() does
          const type = String(req.headers['content-type'] || '').toLowerCase();
          let body = bodyText;
          if (type.includes('json')) {
            try {
              body = JSON.parse(bodyText);
            } catch {
              /* left as text */
            }
          }
          req.body = body;
          req._body = true;
        }
        next();
      },
      (e) => next(e),
    );
  };
}

/**
 * provider.nodeHandler(inner): a node:http listener that runs the router first and calls
 * inner(req, res) for requests that pass (with req.auth and req.mcpauth set). Without inner,
 * passing requests get 404.
 */
function nodeHandler(provider, inner) {
  return function mcpauthListener(req, res) {
    decideNode(provider, req).then(
      ({ d, req: handOn }) => {
        if (d.action === 'respond') return sendDecision(res, d, req.method);
        if (d.auth) {
          attachAuth(req, d.auth);
          if (handOn !== req) attachAuth(handOn, d.auth);
        }
        if (inner) return inner(handOn, res);
        res.statusCode = 404;
        res.end();
      },
      (e) => {
        if (!res.headersSent) {
          res.statusCode = 500;
          res.setHeader('content-type', 'application/json');
          res.end('{"error":"server_error"}');
        } else res.destroy(e);
      },
    ).catch((e) => res.destroy(e));
  };
}

/**
 * provider.fastmcp(): the `authenticate` hook of the fastmcp framework. It runs the router on
 * the MCP request: a "respond" is thrown as a Response (fastmcp sends it verbatim: the core's
 * 401/403 challenge), a "pass" resolves to the AuthInfo, which becomes the session's auth.
 */
function fastmcp(provider) {
  return async function authenticate(req) {
    const { d } = await decideNode(provider, req);
    if (d.action === 'respond') {
      const headers = new Headers();
      for (const [k, v] of d.headers) headers.append(k, v);
      throw new Response(NO_BODY_STATUS.has(d.status) ? null : d.body, { status: d.status, headers });
    }
    return d.auth;
  };
}

module.exports = { route, authOf, express, nodeHandler, fastmcp, fetchRequestJson, nodeRequestJson };
