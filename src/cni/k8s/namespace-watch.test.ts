import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NamespaceWatch } from './namespace-watch.js';
import type { KubeObject } from './client.js';

/** A reader whose list answer and watch streams the test drives. */
class FakeReader {
  lists = 0;
  listAnswer: () => Promise<unknown> = async () => ({
    metadata: { resourceVersion: '10' },
    items: [ns('prod', '5', { team: 'blue' })],
  });
  streams: { path: string; line: (l: string) => void; end: (err?: Error) => void; aborted: boolean }[] = [];

  async get(path: string): Promise<KubeObject> {
    assert.equal(path, '/api/v1/namespaces');
    this.lists++;
    return (await this.listAnswer()) as KubeObject;
  }

  stream(path: string, _idleMs: number, onLine: (l: string) => void, onEnd: (err?: Error) => void): () => void {
    const s = { path, line: onLine, end: onEnd, aborted: false };
    this.streams.push(s);
    return () => {
      s.aborted = true;
    };
  }

  get last() {
    return this.streams[this.streams.length - 1]!;
  }
}

function ns(name: string, version: string, labels: Record<string, string> = {}) {
  return { metadata: { name, resourceVersion: version, labels } };
}

const tick = () => new Promise((r) => setImmediate(r));
const event = (type: string, object: unknown) => JSON.stringify({ type, object });

test('serves nothing until listed, then the listed namespaces; others are left to a GET', async () => {
  const reader = new FakeReader();
  const watch = new NamespaceWatch(reader);
  assert.equal(watch.get('prod'), undefined, 'first lookup starts the watch and is answered by a GET');
  await tick();
  assert.deepEqual(watch.get('prod')?.metadata.labels, { team: 'blue' });
  assert.equal(watch.get('dev'), undefined);
  assert.match(reader.last.path, /watch=true.*resourceVersion=10$/);
  watch.stop();
});

test('follows ADDED, MODIFIED and DELETED; a server-ended watch goes on from the last version', async () => {
  const reader = new FakeReader();
  const watch = new NamespaceWatch(reader);
  watch.get('prod');
  await tick();
  reader.last.line(event('ADDED', ns('dev', '11')));
  reader.last.line(event('MODIFIED', ns('prod', '12', { team: 'red' })));
  assert.equal(watch.get('dev')?.metadata.name, 'dev');
  assert.deepEqual(watch.get('prod')?.metadata.labels, { team: 'red' });
  reader.last.line(event('DELETED', ns('dev', '13')));
  assert.equal(watch.get('dev'), undefined);
  reader.last.line(event('BOOKMARK', { metadata: { resourceVersion: '20' } }));
  reader.last.end();
  assert.equal(reader.streams.length, 2);
  assert.match(reader.last.path, /resourceVersion=20$/);
  assert.equal(reader.lists, 1, 'no re-list after a normal end');
  assert.deepEqual(watch.get('prod')?.metadata.labels, { team: 'red' });
  watch.stop();
  assert.ok(reader.last.aborted, 'stop() aborts the watch');
  assert.equal(watch.get('prod'), undefined, 'stopped: lookups go to a GET (and start it again)');
  watch.stop();
});

test('an ERROR event (410 Expired) re-lists at once', async () => {
  const reader = new FakeReader();
  const watch = new NamespaceWatch(reader);
  watch.get('prod');
  await tick();
  reader.listAnswer = async () => ({ metadata: { resourceVersion: '30' }, items: [ns('other', '29')] });
  reader.last.line(event('ERROR', { kind: 'Status', code: 410, reason: 'Expired' }));
  assert.equal(watch.get('prod'), undefined, 'not served once the watch reported an error');
  reader.last.end();
  await tick();
  assert.equal(reader.lists, 2);
  assert.equal(watch.get('prod'), undefined, 'the new list no longer holds it');
  assert.equal(watch.get('other')?.metadata.name, 'other');
  assert.match(reader.last.path, /resourceVersion=30$/);
  watch.stop();
});

test('a failed watch stops answering until a new list succeeds', async () => {
  const reader = new FakeReader();
  const watch = new NamespaceWatch(reader);
  watch.get('prod');
  await tick();
  reader.last.end(new Error('socket hang up'));
  assert.equal(watch.get('prod'), undefined);
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal(reader.lists, 2, 're-listed after the retry pause');
  assert.equal(watch.get('prod')?.metadata.name, 'prod');
  watch.stop();
});
