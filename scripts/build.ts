// Builds dist/geecache: one self-contained executable (bun build --compile).
import { $ } from "bun";

const root = new URL("..", import.meta.url).pathname;
const outfile = process.argv[2] ?? `${root}dist/geecache`;
await $`${process.execPath} build --compile --minify --sourcemap --format=esm ${root}src/cli/main.ts --outfile ${outfile}`.quiet();
console.log(`built ${outfile}`);
