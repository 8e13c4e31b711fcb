import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runObjectStoreSuite } from './conformance.ts';
import { LocalStore } from './local.ts';
import { MemoryStore } from './memory.ts';

runObjectStoreSuite('memory', async () => new MemoryStore());
runObjectStoreSuite('local', async () => new LocalStore(await mkdtemp(join(tmpdir(), 'lakestream-store-'))));
