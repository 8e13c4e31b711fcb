#!/usr/bin/env node
// Entry point of the `lakestream` command: the CLI lives in src/cli, run as TypeScript by Node's type
// stripping. `npx lakestream` and npm scripts run on the Node 24 LTS the project pins as a devDependency.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  console.error(
    `lakestream needs Node.js 24 or newer (this is ${process.version}). Run it as "npx lakestream …" from the ` +
      'project folder after "npm ci": npm then uses the Node 24 the project pins.',
  );
  process.exit(1);
}
const { runCli } = await import('../src/cli/main.ts');
process.exitCode = await runCli(process.argv.slice(2));
