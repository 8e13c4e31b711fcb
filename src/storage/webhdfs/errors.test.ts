import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CallContext, remoteError } from './errors.ts';

// Bodies as the NameNode sends them (Hadoop's WebHDFS ExceptionHandler: {"RemoteException": {...}}).
const body = (exception: string, message: string) =>
  JSON.stringify({
    RemoteException: { exception, javaClassName: `org.apache.hadoop.${exception}`, message },
  });
const ctx: CallContext = {
  op: 'CREATE',
  path: '/lake/t/_delta_log/0.json',
  user: 'bob',
  server: 'NameNode at 127.0.0.1:9870',
  namenode: '127.0.0.1:9870',
};

describe('WebHDFS error messages', () => {
  it('a missing file is NOT_FOUND naming the path', () => {
    const e = remoteError(404, body('FileNotFoundException', 'File does not exist: /lake/x'), ctx);
    assert.equal(e.code, 'NOT_FOUND');
    assert.match(e.message, /\/lake\/t\/_delta_log\/0\.json/);
  });

  it('a refused user is PERMISSION naming the user and the path', () => {
    const e = remoteError(
      403,
      body(
        'AccessControlException',
        'Permission denied: user=bob, access=WRITE, inode="/lake":alice:supergroup:drwx------',
      ),
      ctx,
    );
    assert.equal(e.code, 'PERMISSION');
    assert.equal(e.retriable, false);
    assert.match(e.message, /user "bob"/);
    assert.match(e.message, /\/lake\/t\/_delta_log\/0\.json/);
  });

  it('safe mode is UNAVAILABLE, retriable, and says so', () => {
    const e = remoteError(
      403,
      body('SafeModeException', 'Cannot create file /lake/x. Name node is in safe mode.'),
      ctx,
    );
    assert.equal(e.code, 'UNAVAILABLE');
    assert.equal(e.retriable, true);
    assert.match(e.message, /NameNode at 127\.0\.0\.1:9870 is in safe mode/);
  });

  it('no DataNode to write to (all down, or not yet registered after a restart) is retriable', () => {
    const e = remoteError(
      403,
      body('IOException', 'Failed to find datanode, suggest to check cluster health. excludeDatanodes=null'),
      ctx,
    );
    assert.equal(e.code, 'UNAVAILABLE');
    assert.equal(e.retriable, true);
  });

  it('a DataNode that lost its connection to a restarting NameNode is retriable', () => {
    const e = remoteError(
      403,
      body(
        'EOFException',
        'End of File Exception between local host is: "vm/127.0.0.1"; destination host is: "localhost":9120; : java.io.EOFException',
      ),
      ctx,
    );
    assert.equal(e.code, 'UNAVAILABLE');
    assert.equal(e.retriable, true);
    assert.match(e.message, /CREATE \/lake\/t\/_delta_log\/0\.json .*try again: EOFException/);
  });

  // What WebHDFS answers while a NameNode restarts (startup, safe mode, DataNodes re-registering):
  // each a 403 or 500 whose class or message says it passes. The DataNode forwards its own HDFS
  // client's failures with the NameNode's stack trace after the first line.
  const passing: [string, number, string, string][] = [
    ['startup', 403, 'RetriableException', 'Namenode is in startup mode'],
    ['RPC not started', 403, 'RetriableException', 'NameNode still not started'],
    [
      'safe mode (manual)',
      403,
      'SafeModeException',
      'Cannot rename /lake/a. Name node is in safe mode.\nIt was turned on manually.',
    ],
    [
      'safe mode (startup, no block locations)',
      403,
      'SafeModeException',
      'Zero blocklocations for /lake/a. Name node is in safe mode.',
    ],
    [
      'safe mode via a DataNode',
      403,
      'IOException',
      'Cannot create file/lake/a. Name node is in safe mode.\n\tat org.apache.hadoop.hdfs...',
    ],
    [
      'no DataNode registered yet',
      403,
      'IOException',
      'Failed to find datanode, suggest to check cluster health. excludeDatanodes=null',
    ],
    [
      'close before the block is reported',
      403,
      'IOException',
      'Unable to close file because the last block BP-1:blk_1073741825_1001 does not have enough number of replicas.',
    ],
    [
      'next block before the last is reported',
      403,
      'NotReplicatedYetException',
      'Not replicated yet: /lake/a',
    ],
    [
      'no DataNode holds the block yet',
      403,
      'IOException',
      'No active and not excluded nodes contain this block',
    ],
    [
      'a DataNode reading a block not reported yet',
      403,
      'BlockMissingException',
      'Could not obtain block: BP-1:blk_1073741825_1001 file=/lake/a',
    ],
    [
      'the DataNode cannot reach the NameNode',
      403,
      'ConnectException',
      'Call From localhost/127.0.0.1 to localhost:8020 failed on connection exception: java.net.ConnectException: Connection refused',
    ],
    [
      "the DataNode's connection reset",
      403,
      'SocketException',
      'Call From localhost/127.0.0.1 to localhost:8020 failed on socket exception: java.net.SocketException: Connection reset',
    ],
    [
      "the DataNode's connection closed",
      403,
      'EOFException',
      'End of File Exception between local host is: "vm/127.0.0.1"; destination host is: "localhost":8020',
    ],
    [
      "a temp file's lease lost in the restart",
      403,
      'LeaseExpiredException',
      'No lease on /lake/.tmp-1 (inode 16400): File is not open for writing.',
    ],
    ['a NameNode failing inside', 500, 'NullPointerException', ''],
  ];
  for (const [what, status, exception, message] of passing)
    it(`after a NameNode restart, "${what}" is UNAVAILABLE and retriable`, () => {
      const e = remoteError(status, body(exception, message), ctx);
      assert.equal(e.code, 'UNAVAILABLE', e.message);
      assert.equal(e.retriable, true, e.message);
      assert.match(e.message, /\/lake\/t\/_delta_log\/0\.json/);
    });

  // ...and what a restart does not cure: failing at once, not after minutes of retries.
  const lasting: [string, number, string, string, string][] = [
    [
      'a refused user',
      403,
      'AccessControlException',
      'Permission denied: user=bob, access=WRITE',
      'PERMISSION',
    ],
    ['a missing file', 404, 'FileNotFoundException', 'File does not exist: /lake/a', 'NOT_FOUND'],
    [
      'a bad parameter',
      400,
      'IllegalArgumentException',
      'Invalid value for webhdfs parameter "op"',
      'BAD_ARGUMENT',
    ],
    [
      'a full quota',
      403,
      'DSQuotaExceededException',
      'The DiskSpace quota of /lake is exceeded: quota = 1024 B',
      'INTERNAL',
    ],
    [
      'a directory in the way',
      403,
      'ParentNotDirectoryException',
      'Parent path is not a directory: /lake/a',
      'INTERNAL',
    ],
    ['some other I/O failure', 403, 'IOException', 'Checksum error: /lake/a at 0', 'INTERNAL'],
  ];
  for (const [what, status, exception, message, code] of lasting)
    it(`${what} is ${code} and not retried`, () => {
      const e = remoteError(status, body(exception, message), ctx);
      assert.equal(e.code, code, e.message);
      assert.equal(e.retriable, false, e.message);
    });

  it('a reply that is not a RemoteException still names the call and the HTTP status', () => {
    const e = remoteError(502, '<html>Bad Gateway</html>', ctx);
    assert.equal(e.code, 'UNAVAILABLE');
    assert.match(e.message, /CREATE \/lake\/t\/_delta_log\/0\.json .*HTTP 502/);
  });
});
