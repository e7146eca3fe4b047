// Builds the chart bundle into app/web/static/dist/ (not committed): charts.js + charts.css, minified,
// with pre-compressed .gz and .br siblings that aiohttp serves to browsers that accept them.
// Idempotent: run it as often as you like (`npm run build`).
import { build } from "esbuild";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, gzipSync, constants } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "app", "web", "static", "dist");
mkdirSync(out, { recursive: true });

await build({
  entryPoints: { charts: join(here, "src", "charts.js") },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2019"],
  outdir: out,
  legalComments: "none",
  logLevel: "warning",
});
await build({
  entryPoints: { charts: join(here, "src", "charts.css") },
  bundle: true,
  minify: true,
  outdir: out,
  logLevel: "warning",
});

for (const name of ["charts.js", "charts.css"]) {
  const body = readFileSync(join(out, name));
  writeFileSync(join(out, name + ".gz"), gzipSync(body, { level: 9 }));
  writeFileSync(
    join(out, name + ".br"),
    brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
  );
  console.log(`${name}: ${body.length} bytes, gzip ${gzipSync(body, { level: 9 }).length}`);
}
