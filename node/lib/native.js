// Loads the addon built by the install script (build/Release/mcpauth.node), or the file named
// by LIBMCPAUTH_ADDON.
'use strict';
const path = require('node:path');

const file = process.env.LIBMCPAUTH_ADDON || path.join(__dirname, '..', 'build', 'Release', 'mcpauth.node');
let addon;
try {
  addon = require(file);
} catch (e) {
  const err = new Error(
    `libmcpauth: cannot load the native addon ${file} (${e.message}). It is built when the package is installed ` +
      '(npm runs `node scripts/install.js`); rebuild it with `npm rebuild libmcpauth`.',
  );
  err.cause = e;
  throw err;
}
module.exports = addon;
