// upstream.mjs - a trivial MCP-shaped HTTP server that stands behind `mcpauth serve` in the tests.
//
//   POST /mcp          JSON-RPC: initialize, notifications/* (202), ping, tools/list,
//                      tools/call "whoami" (returns what the proxy told us about the user)
//   GET  /mcp          405 (no standalone SSE stream; the MCP SDK accepts that)
//   GET  /mcp/stream   text/event-stream: one event now, one after 1.5 s, then the end
//   GET  /mcp/idle     text/event-stream: one event, then silence until the client goes away
//   GET  /stats        {"idleOpen":N,"idleClosed":M} counts of /mcp/idle connections
//   *    /hang         never answers (counts in /hangstats: {"open":N,"closed":M})
//   GET  /sized        "hello world" with Content-Length: 11 (HEAD: the same headers)
//   GET  /conns        {"connections":N} TCP connections accepted so far
//   *    /echo, /mcp/echo   {method, url, headers, body} as received
//
// Prints {"port":N} on stdout when listening on 127.0.0.1 (port from argv[2], default 0).
import http from 'node:http';
import process from 'node:process';

function decodeAuth(h) {
  if (!h) return null;
  try {
    return JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
  } catch {
    return { undecodable: h };
  }
}

function rpcResult(id, result) {
  return { jsonrpc: '2.0', id, result };
}

function handleRpc(msg, req) {
  switch (msg.method) {
    case 'initialize':
      return rpcResult(msg.id, {
        protocolVersion: msg.params?.protocolVersion ?? '2025-06-18',
        capabilities: { tools: {} },
        serverInfo: { name: 'mcpauth-test-upstream', version: '0.0.0' },
      });
    case 'ping':
      return rpcResult(msg.id, {});
    case 'tools/list':
      return rpcResult(msg.id, {
        tools: [
          {
            name: 'whoami',
            description: 'Returns the identity the auth proxy forwarded',
            inputSchema: { type: 'object', properties: {} },
          },
        ],
      });
    case 'tools/call': {
      const who = {
        user: req.headers['x-mcpauth-user'] ?? null,
        auth: decodeAuth(req.headers['x-mcpauth-auth']),
        authorization: req.headers.authorization ?? null,
      };
      return rpcResult(msg.id, { content: [{ type: 'text', text: JSON.stringify(who) }] });
    }
    default:
      return { jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'method not found' } };
  }
}

const stats = { idleOpen: 0, idleClosed: 0 };
const hang = { open: 0, closed: 0 };
let connections = 0;

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const path = req.url.split('?')[0];
    if (path === '/echo' || path === '/mcp/echo') {
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' });
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
      return;
    }
    if (path === '/hang') {
      hang.open++;
      res.on('close', () => hang.closed++);
      return;
    }
    if (path === '/hangstats') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(hang));
      return;
    }
    if (path === '/conns') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ connections }));
      return;
    }
    if (path === '/sized') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '11' });
      res.end(req.method === 'HEAD' ? undefined : 'hello world');
      return;
    }
    if (path === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(stats));
      return;
    }
    if (path === '/mcp/idle') {
      stats.idleOpen++;
      res.on('close', () => stats.idleClosed++);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('event: message\ndata: {"idle":true}\n\n');
      return;
    }
    if (path === '/mcp/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('event: message\ndata: {"n":1}\n\n');
      setTimeout(() => {
        res.write('event: message\ndata: {"n":2}\n\n');
        res.end();
      }, 1500);
      return;
    }
    if (path === '/mcp' && req.method === 'POST') {
      let msg;
      try {
        msg = JSON.parse(body);
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } }));
        return;
      }
      const msgs = Array.isArray(msg) ? msg : [msg];
      const answers = msgs.filter((m) => m.id !== undefined && m.method).map((m) => handleRpc(m, req));
      if (answers.length === 0) {
        res.writeHead(202);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(Array.isArray(msg) ? answers : answers[0]));
      return;
    }
    if (path === '/mcp') {
      res.writeHead(405, { allow: 'POST' });
      res.end();
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
});

server.on('connection', () => connections++);
server.keepAliveTimeout = 60000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
const stop = () => {
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
