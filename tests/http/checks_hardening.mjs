// checks_hardening.mjs - attacks on `mcpauth serve` over raw sockets (issue 10, parts 1 and 5):
// ambiguous framing, odd request targets, over-long header names, slow clients (headers and
// bodies), a stuck
// upstream, clients that leave, upstream connection reuse.
//
// Environment: PROXY (proxy A: default limits), PROXYD (proxy D: --upstream-timeout 1
// --header-timeout 1 --body-timeout 1), UPSTREAM (the upstream's base URL), TOKEN (good for PROXY's /mcp).
import net from 'node:net';
import process from 'node:process';
import { assert, check, done, env } from './lib.mjs';

const A = new URL(env('PROXY'));
const D = new URL(env('PROXYD'));
const UP = env('UPSTREAM');
const TOKEN = env('TOKEN');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Sends `raw` on a new socket; resolves {data, closed, ms} when the peer closes or after
// waitMs (closed false then).
function rawRequest(url, raw, { waitMs = 3000, localAddress } = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s = net.connect({ host: url.hostname, port: Number(url.port), localAddress });
    let data = '';
    let settled = false;
    const finish = (closed) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ data, closed, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    s.on('data', (d) => (data += d.toString('latin1')));
    s.on('end', () => finish(true));
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
    s.on('connect', () => s.write(raw));
  });
}

function statusOf(data) {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
  return m ? Number(m[1]) : 0;
}

function headerOf(data, name) {
  const head = data.split('\r\n\r\n')[0];
  for (const line of head.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (line.slice(0, i).toLowerCase() === name.toLowerCase()) return line.slice(i + 1).trim();
  }
  return undefined;
}

// A plain request with fetch-like timing, from a chosen source address.
function timedGet(url, path, localAddress) {
  return rawRequest(url, `GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`, {
    waitMs: 5000,
    localAddress,
  });
}

const host = `Host: ${A.host}\r\n`;

await check('Content-Length with Transfer-Encoding: 400 and the connection closed', async () => {
  const r = await rawRequest(
    A,
    `POST /echo HTTP/1.1\r\n${host}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /echo HTTP/1.1\r\n${host}\r\n`,
  );
  assert.equal(statusOf(r.data), 400, r.data);
  assert.equal(r.closed, true, 'connection left open');
  assert.equal((r.data.match(/HTTP\/1\.1 /g) ?? []).length, 1, `a second response: ${r.data}`);
});

await check('two different Content-Length values: 400 and the connection closed', async () => {
  const r = await rawRequest(
    A,
    `POST /echo HTTP/1.1\r\n${host}Content-Length: 3\r\nContent-Length: 10\r\n\r\nabcGET /x HTTP/1.1\r\n\r\n`,
  );
  assert.equal(statusOf(r.data), 400, r.data);
  assert.equal(r.closed, true, 'connection left open');
});

await check('an over-long header name is refused (431), not dropped', async () => {
  const r = await rawRequest(
    A,
    `GET /echo HTTP/1.1\r\n${host}X-${'a'.repeat(300)}: 1\r\nConnection: close\r\n\r\n`,
  );
  assert.equal(statusOf(r.data), 431, r.data);
});

await check('more than 256 header fields are refused (431)', async () => {
  let many = '';
  for (let i = 0; i < 300; i++) many += `X-H${i}: ${i}\r\n`;
  const r = await rawRequest(A, `GET /echo HTTP/1.1\r\n${host}${many}Connection: close\r\n\r\n`);
  assert.equal(statusOf(r.data), 431, r.data.slice(0, 200));
});

await check('two Authorization headers reach the router combined: refused, not decided by the first', async () => {
  const body = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
  const r = await rawRequest(
    A,
    `POST /mcp HTTP/1.1\r\n${host}Authorization: Bearer ${TOKEN}\r\nAuthorization: Bearer x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
  );
  assert.equal(statusOf(r.data), 401, r.data.slice(0, 300));
  assert.match(headerOf(r.data, 'www-authenticate') ?? '', /invalid_request/);
});

await check('a header value that is not UTF-8 does not break routing (the token still counts)', async () => {
  const body = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
  const raw = Buffer.concat([
    Buffer.from(`POST /mcp HTTP/1.1\r\n${host}Authorization: Bearer ${TOKEN}\r\nX-Odd: `),
    Buffer.from([0xff, 0xfe, 0x41]),
    Buffer.from(`\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`),
  ]);
  const r = await rawRequest(A, raw);
  assert.equal(statusOf(r.data), 200, r.data.slice(0, 300));
});

await check('OPTIONS * is answered by serve (204 with Allow), not sent upstream', async () => {
  const r = await rawRequest(A, `OPTIONS * HTTP/1.1\r\n${host}Connection: close\r\n\r\n`);
  assert.equal(statusOf(r.data), 204, r.data);
  assert.match(headerOf(r.data, 'allow') ?? '', /OPTIONS/);
});

await check('HEAD keeps the upstream Content-Length', async () => {
  const r = await rawRequest(A, `HEAD /sized HTTP/1.1\r\n${host}Connection: close\r\n\r\n`);
  assert.equal(statusOf(r.data), 200, r.data);
  assert.equal(headerOf(r.data, 'content-length'), '11', r.data);
  assert.equal(r.data.split('\r\n\r\n')[1], '', 'HEAD answered with a body');
});

await check('upstream connections are kept alive and reused', async () => {
  const before = (await (await fetch(`${UP}/conns`)).json()).connections;
  for (let i = 0; i < 20; i++) {
    const res = await fetch(`${A.origin}/echo?i=${i}`);
    await res.arrayBuffer();
    assert.equal(res.status, 200);
  }
  const after = (await (await fetch(`${UP}/conns`)).json()).connections;
  assert.ok(after - before <= 2, `${after - before} new upstream connections for 20 requests`);
});

await check('a stuck upstream: 504 after --upstream-timeout', async () => {
  const r = await rawRequest(D, `GET /hang HTTP/1.1\r\nHost: ${D.host}\r\nConnection: close\r\n\r\n`, {
    waitMs: 5000,
  });
  assert.equal(statusOf(r.data), 504, r.data);
  assert.ok(r.ms >= 900 && r.ms < 3000, `answered after ${r.ms} ms`);
});

await check('a client that leaves while the upstream is stuck aborts the upstream request', async () => {
  const before = await (await fetch(`${UP}/hangstats`)).json();
  await rawRequest(A, `GET /hang HTTP/1.1\r\n${host}\r\n`, { waitMs: 300 });
  await sleep(700);
  const after = await (await fetch(`${UP}/hangstats`)).json();
  assert.equal(after.open - before.open, 1, JSON.stringify({ before, after }));
  assert.equal(after.closed - before.closed, 1, `upstream request still open: ${JSON.stringify(after)}`);
});

await check('300 requests stuck on the upstream: metadata, OAuth routes and MCP still answered', async () => {
  const held = [];
  const hangReq = `GET /hang HTTP/1.1\r\n${host}\r\n`;
  // from several source addresses, so that the per-address limit is not what protects us
  for (let i = 0; i < 300; i++) {
    held.push(rawRequest(A, hangReq, { waitMs: 4000, localAddress: `127.0.0.${10 + (i % 10)}` }));
  }
  await sleep(800);
  try {
    const t0 = Date.now();
    const prm = await timedGet(A, '/.well-known/oauth-protected-resource/mcp', '127.0.0.3');
    assert.equal(statusOf(prm.data), 200, prm.data.slice(0, 200));
    const as = await timedGet(A, '/.well-known/oauth-authorization-server', '127.0.0.3');
    assert.equal(statusOf(as.data), 200, as.data.slice(0, 200));
    const body = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
    const mcp = await rawRequest(
      A,
      `POST /mcp HTTP/1.1\r\n${host}Authorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      { waitMs: 5000, localAddress: '127.0.0.3' },
    );
    assert.equal(statusOf(mcp.data), 200, mcp.data.slice(0, 200));
    const ms = Date.now() - t0;
    assert.ok(ms < 1000, `three requests took ${ms} ms`);
  } finally {
    await Promise.all(held);
  }
});

// Slow-socket attack: connections that trickle their headers from one address.
function trickler(url, localAddress, stopAt) {
  return new Promise((resolve) => {
    const s = net.connect({ host: url.hostname, port: Number(url.port), localAddress });
    let timer;
    const end = () => {
      clearInterval(timer);
      s.destroy();
      resolve();
    };
    s.on('error', end);
    s.on('close', end);
    s.on('connect', () => {
      s.write(`GET /echo HTTP/1.1\r\nHost: ${url.host}\r\n`);
      timer = setInterval(() => {
        if (Date.now() > stopAt) return end();
        s.write('X-Slow: a\r\n');
      }, 300);
    });
  });
}

await check('300 slow sockets from one address: others are served in well under a second', async () => {
  const stopAt = Date.now() + 3000;
  const slow = [];
  for (let i = 0; i < 300; i++) slow.push(trickler(A, '127.0.0.20', stopAt));
  await sleep(800);
  try {
    const r = await timedGet(A, '/echo', '127.0.0.4');
    assert.equal(statusOf(r.data), 200, r.data.slice(0, 200));
    assert.ok(r.ms < 500, `answered after ${r.ms} ms`);
    const p = await timedGet(A, '/.well-known/oauth-protected-resource/mcp', '127.0.0.4');
    assert.equal(statusOf(p.data), 200);
  } finally {
    await Promise.all(slow);
  }
});

await check('headers trickled past --header-timeout: the connection is closed', async () => {
  const t0 = Date.now();
  const closedAfter = await new Promise((resolve) => {
    const s = net.connect({ host: D.hostname, port: Number(D.port) });
    let timer;
    const end = () => {
      clearInterval(timer);
      s.destroy();
      resolve(Date.now() - t0);
    };
    s.on('close', end);
    s.on('error', end);
    s.on('connect', () => {
      s.write(`GET /echo HTTP/1.1\r\nHost: ${D.host}\r\n`);
      timer = setInterval(() => s.write('X-Slow: a\r\n'), 200);
    });
    setTimeout(end, 6000);
  });
  assert.ok(closedAfter >= 900 && closedAfter < 3000, `closed after ${closedAfter} ms`);
});

// A body trickled after complete headers: --body-timeout (1 s on proxy D) closes the
// connection; the idle timeout never would, since a byte arrives every 200 ms.
function trickleBody(url, path, { totalMs = 6000, everyMs = 200 } = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const s = net.connect({ host: url.hostname, port: Number(url.port) });
    let timer;
    let data = '';
    const end = () => {
      clearInterval(timer);
      s.destroy();
      resolve({ ms: Date.now() - t0, data });
    };
    s.on('data', (d) => (data += d.toString('latin1')));
    s.on('close', end);
    s.on('error', end);
    s.on('connect', () => {
      s.write(`POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`);
      timer = setInterval(() => s.write(' '), everyMs);
    });
    setTimeout(end, totalMs);
  });
}

await check('a body trickled past --body-timeout: the connection is closed', async () => {
  const r = await trickleBody(D, '/echo');
  assert.ok(r.ms >= 900 && r.ms < 3000, `closed after ${r.ms} ms`);
  assert.equal(statusOf(r.data), 0, `answered: ${r.data.slice(0, 100)}`);
});

await check('a body sent in pieces within --body-timeout still reaches the upstream', async () => {
  const body = '{"jsonrpc":"2.0","id":1,"method":"ping"}';
  const got = await new Promise((resolve) => {
    const s = net.connect({ host: D.hostname, port: Number(D.port) });
    let data = '';
    s.on('data', (d) => (data += d.toString('latin1')));
    s.on('close', () => resolve(data));
    s.on('error', () => resolve(data));
    s.on('connect', async () => {
      s.write(`POST /echo HTTP/1.1\r\nHost: ${D.host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
      for (let i = 0; i < 4; i++) {
        await sleep(150);
        s.write(body.slice((i * body.length) / 4, ((i + 1) * body.length) / 4));
      }
    });
    setTimeout(() => {
      s.destroy();
      resolve(data);
    }, 5000);
  });
  assert.equal(statusOf(got), 200, got.slice(0, 200));
  assert.ok(got.includes('"body":"{\\"jsonrpc\\"'), got.slice(-200));
});

done();
process.exitCode ||= 0;
