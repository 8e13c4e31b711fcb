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

  it('a reply that is not a RemoteException still names the call and the HTTP status', () => {
    const e = remoteError(502, '<html>Bad Gateway</html>', ctx);
    assert.equal(e.code, 'UNAVAILABLE');
    assert.match(e.message, /CREATE \/lake\/t\/_delta_log\/0\.json .*HTTP 502/);
  });
});
