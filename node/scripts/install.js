// The install script: builds build/Release/mcpauth.node with cmake-js (headers from the npm
// package node-api-headers; nothing is downloaded). Needs a C compiler, CMake >= 3.15,
// pkg-config and the -dev packages of the core (jansson, libcurl, OpenSSL 3, libjwt).
//
// cmake-js is a dependency of this package. When the package folder is linked rather than
// copied (`npm install ./node`), npm may not have installed it inside the folder yet; it is
// then looked up from the installing project (INIT_CWD) too.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { createRequire } = require('node:module');

const here = path.resolve(__dirname, '..');
if (process.env.LIBMCPAUTH_SKIP_BUILD === '1') process.exit(0);

function find(id) {
  const bases = [here, process.env.INIT_CWD, process.cwd()].filter(Boolean);
  for (const b of bases) {
    try {
      return createRequire(path.join(b, 'package.json')).resolve(id);
    } catch {
      /* next */
    }
  }
  return null;
}

let cli = find('cmake-js/bin/cmake-js');
if (!cli) {
  // a linked folder whose dependencies are not installed yet: install them here
  console.error('libmcpauth: installing cmake-js and node-api-headers into the package folder');
  const npm = process.env.npm_execpath;
  const r = npm
    ? spawnSync(process.execPath, [npm, 'install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock'], { cwd: here, stdio: 'inherit' })
    : spawnSync('npm', ['install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock'], { cwd: here, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status || 1);
  cli = find('cmake-js/bin/cmake-js');
  if (!cli) {
    console.error('libmcpauth: cmake-js not found');
    process.exit(1);
  }
}
const jobs = String(process.env.LIBMCPAUTH_JOBS || process.env.JOBS || 2);
const args = [cli, 'compile', '--directory', here, '--out', path.join(here, 'build'), '--parallel', jobs];
if (process.env.LIBMCPAUTH_DEBUG === '1') args.push('--debug');
const r = spawnSync(process.execPath, args, { cwd: here, stdio: ['ignore', 'inherit', 'inherit'] });
process.exit(r.status === null ? 1 : r.status);
