// conformance-hooks.mjs - lets @modelcontextprotocol/conformance (built for Node 22) run on
// Node 20: its bundle imports fs.globSync, which Node 20 lacks, for a command these tests do
// not use. Loaded with `node --import ./conformance-hooks.mjs`; on Node 22+ it does nothing.
// The resolve hook gives the conformance bundle (and only it) an 'fs' that adds a globSync
// stub throwing when called.
import fs from 'node:fs';
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

const SHIM =
  'data:text/javascript,' +
  encodeURIComponent(
    "export * from 'node:fs'; export { default } from 'node:fs';" +
      "export function globSync() { throw new Error('fs.globSync needs Node 22'); }",
  );

if (isMainThread && typeof fs.globSync !== 'function') register(import.meta.url);

export async function resolve(specifier, context, next) {
  if (
    (specifier === 'fs' || specifier === 'node:fs') &&
    context.parentURL?.includes('/@modelcontextprotocol/conformance/')
  )
    return { url: SHIM, shortCircuit: true };
  return next(specifier, context);
}
