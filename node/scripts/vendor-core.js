// prepack / postpack: copies the C core's sources (libmcpauth/include, libmcpauth/src and the
// source list libmcpauth/sources.txt) from the repository into node/libmcpauth/, so the tarball
// `npm pack` makes builds on its own; `--clean` removes the copy again.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const here = path.resolve(__dirname, '..');
const dest = path.join(here, 'libmcpauth');
const src = path.resolve(here, '..', 'libmcpauth');

if (process.argv.includes('--clean')) {
  if (fs.existsSync(path.join(here, '..', 'libmcpauth', 'sources.txt'))) fs.rmSync(dest, { recursive: true, force: true });
  process.exit(0);
}
if (!fs.existsSync(path.join(src, 'sources.txt'))) {
  // packing from an unpacked tarball: the copy is already here
  if (fs.existsSync(path.join(dest, 'sources.txt'))) process.exit(0);
  console.error('libmcpauth: cannot find the C core (../libmcpauth/sources.txt)');
  process.exit(1);
}
fs.rmSync(dest, { recursive: true, force: true });
fs.mkdirSync(dest, { recursive: true });
fs.cpSync(path.join(src, 'include'), path.join(dest, 'include'), { recursive: true });
fs.cpSync(path.join(src, 'src'), path.join(dest, 'src'), { recursive: true, filter: (p) => !p.endsWith('.o') });
fs.copyFileSync(path.join(src, 'sources.txt'), path.join(dest, 'sources.txt'));
