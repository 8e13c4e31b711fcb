#!/usr/bin/env node
// Entry point of the `lakestream` command: the CLI lives in src/cli, run as TypeScript by Node's type stripping.
const { runCli } = await import('../src/cli/main.ts');
process.exitCode = await runCli(process.argv.slice(2));
