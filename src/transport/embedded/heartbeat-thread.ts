// The heartbeat thread (a worker_thread, one per EmbeddedTransport that has consumers): keeps the
// members of this process alive in the log file while the main thread is busy, like the Kafka
// client's heartbeat thread. It only refreshes existing rows; joining and leaving stay on the main
// thread, so a member that left cannot be brought back by a late beat.
//
// A member whose main thread has not polled for maxPollIntervalMs stops beating and so dies after
// the session timeout (Kafka's max.poll.interval.ms): a stuck process does not hold its partitions.

import { parentPort, workerData } from 'node:worker_threads';
import { openHeartbeatConnection } from './sqlite.ts';

export interface HeartbeatSetup {
  dir: string;
  intervalMs: number;
  maxPollIntervalMs: number;
}

export type HeartbeatCommand =
  | { type: 'add'; group: string; memberId: string; lastPoll: SharedArrayBuffer }
  | { type: 'remove'; group: string; memberId: string };

const setup = workerData as HeartbeatSetup;
const db = openHeartbeatConnection(setup.dir);
const beat = db.prepare('UPDATE group_members SET heartbeat_ms = ? WHERE group_id = ? AND member_id = ?');
const members = new Map<string, { group: string; memberId: string; lastPoll: BigInt64Array }>();

parentPort!.on('message', (c: HeartbeatCommand) => {
  const key = `${c.group}\u0000${c.memberId}`;
  if (c.type === 'add')
    members.set(key, { group: c.group, memberId: c.memberId, lastPoll: new BigInt64Array(c.lastPoll) });
  else members.delete(key);
});

setInterval(() => {
  const now = Date.now();
  for (const m of members.values()) {
    if (now - Number(Atomics.load(m.lastPoll, 0)) > setup.maxPollIntervalMs) continue;
    try {
      beat.run(now, m.group, m.memberId); // autocommit: one short write transaction
    } catch {
      // locked past busy_timeout or the file went away: the main thread's poll reports it
    }
  }
}, setup.intervalMs);
