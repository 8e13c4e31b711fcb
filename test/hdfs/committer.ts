// A Delta-style committer for the race test: claims `_delta_log/<version>.json` with putIfAbsent,
// moving to the next version whenever another writer won, until it has won `--wins` versions.
// Usage: node test/hdfs/committer.ts STORE_URL ID WINS START_AT_EPOCH_MS
// Prints one JSON line: {"id": ID, "won": [versions], "lost": [versions]}.

import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../../src/storage/open.ts';

const [url, id, winsArg, startAt] = process.argv.slice(2);
const store = await openStore(url);
const wanted = Number(winsArg);
const won: number[] = [];
const lost: number[] = [];
// Both processes start their first attempt at the same moment, so they race from version 0 on.
await sleep(Math.max(0, Number(startAt) - Date.now()));
for (let version = 0; won.length < wanted; version++) {
  const path = `_delta_log/${String(version).padStart(20, '0')}.json`;
  const body = `${JSON.stringify({ commitInfo: { writer: id, version } })}\n`;
  const r = await store.putIfAbsent(path, new TextEncoder().encode(body));
  (r.written ? won : lost).push(version);
}
process.stdout.write(`${JSON.stringify({ id, won, lost })}\n`);
await store.close();
