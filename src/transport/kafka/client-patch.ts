// The Kafka client runs with one fix of ours (patches/@platformatic+kafka+*.patch, applied by
// patch-package at `npm install` / `npm ci`): a send whose partitions no longer share a leader after a
// failover goes to each partition's own leader, instead of the whole group to the first partition's
// leader, which refused the others with NOT_LEADER_OR_FOLLOWER until the send failed (issue 16, a
// 3-broker cluster). Without it a producer would stall again, so a client without the fix is refused.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LakestreamError } from '../../errors.ts';

const MARK = 'lakestream patch: a group whose partitions no longer share a leader';
let checked: boolean | undefined;

/** Whether the installed client carries the fix (read once). */
export function kafkaClientPatched(): boolean {
  if (checked === undefined) {
    const entry = fileURLToPath(import.meta.resolve('@platformatic/kafka'));
    const producer = entry.replace(/dist[/\\]index\.js$/, 'dist/clients/producer/producer.js');
    checked = readFileSync(producer, 'utf8').includes(MARK);
  }
  return checked;
}

/** Throws when the installed Kafka client lacks the fix, saying how to get it. */
export function requireKafkaClientPatch(): void {
  if (!kafkaClientPatched())
    throw new LakestreamError(
      'INTERNAL',
      'the installed @platformatic/kafka lacks lakestream\'s fix for sends after a broker failover (patches/); run "npm ci" (or "npx patch-package") in the project',
    );
}
