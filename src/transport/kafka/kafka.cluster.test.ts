// The shared transport suite on the real local Kafka cluster (`lakestream cluster up --kafka`).

import { ensureCluster } from '../../../test/helpers/cluster.ts';
import { runTransportSuite } from '../suite.ts';
import { openKafkaTransport } from './index.ts';

const cluster = await ensureCluster({ kafka: true });
runTransportSuite('kafka', () => openKafkaTransport(cluster.kafkaUrl));
