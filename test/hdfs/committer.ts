// A Delta-style committer for the race test: tries to claim `_delta_log/<v>.json` with putIfAbsent for
// every version v in 0..VERSIONS-1, attempt v fired at START_AT + v * SLOT_MS so that the processes
// started with the same START_AT hit each version at the same moment.
// Usage: node test/hdfs/committer.ts STORE_URL ID VERSIONS START_AT_EPOCH_MS SLOT_MS
// Prints one JSON line: {"id": ID, "won": [versions], "lost": [versions]}.

import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../../src/storage/index.ts';

const [url, id, versionsArg, startAt, slotMs] = process.argv.slice(2);
const store = await openStore(url);
// warm up the connection so the first timed attempt is not slowed by the handshake
await store.stat('_delta_log/warm-up');
const won: number[] = [];
const lost: number[] = [];
for (let version = 0; version < Number(versionsArg); version++) {
  await sleep(Math.max(0, Number(startAt) + version * Number(slotMs) - Date.now()));
  const path = `_delta_log/${String(version).padStart(20, '0')}.json`;
  const body = `${JSON.stringify({ commitInfo: { writer: id, version } })}\n`;
  const r = await store.putIfAbsent(path, new TextEncoder().encode(body));
  (r.written ? won : lost).push(version);
}
process.stdout.write(`${JSON.stringify({ id, won, lost })}\n`);
await store.close();
