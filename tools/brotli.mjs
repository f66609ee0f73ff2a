// Brotli-compress files for the build, at the best quality a browser can decode.
//
//   node tools/brotli.mjs SOURCE DEST [SOURCE DEST ...]
//
// Writes DEST, the Brotli stream of SOURCE, for each pair (build.py keeps them in a
// cache by the source's sha256: quality 11 takes ~45 s for pyodide.asm.wasm). Node's
// built-in zlib: no package to install, and the same input always gives the same bytes.
// Window 2^24 bytes, the largest plain Brotli allows (RFC 7932): every browser decodes it.
import { readFileSync, writeFileSync } from "node:fs";
import { brotliCompressSync, constants } from "node:zlib";

const args = process.argv.slice(2);
if (args.length === 0 || args.length % 2 !== 0) {
  console.error("usage: node tools/brotli.mjs SOURCE DEST [SOURCE DEST ...]");
  process.exit(2);
}
for (let i = 0; i < args.length; i += 2) {
  const data = readFileSync(args[i]);
  const params = {
    [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
    [constants.BROTLI_PARAM_LGWIN]: constants.BROTLI_MAX_WINDOW_BITS,
    [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
  };
  writeFileSync(args[i + 1], brotliCompressSync(data, { params }));
}
