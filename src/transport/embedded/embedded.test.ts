import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTransportSuite } from '../suite.ts';
import { EmbeddedTransport } from './transport.ts';

const shared = mkdtempSync(join(tmpdir(), 'lakestream-log-'));
runTransportSuite('embedded', async () => new EmbeddedTransport(shared));
