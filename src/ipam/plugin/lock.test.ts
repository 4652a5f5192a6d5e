import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HostLock } from './lock.js';

test('the host lock admits one holder at a time', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ti-lock-'));
  try {
    const file = path.join(dir, 'ipam.lock');
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 10; i++) {
          const lock = await HostLock.acquire(file);
          most = Math.max(most, ++inside);
          await new Promise((r) => setTimeout(r, 1));
          inside--;
          await lock.release();
        }
      }),
    );
    assert.equal(most, 1);
    assert.equal(existsSync(file), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a lock left by a dead process is taken over; a live holder makes the wait time out naming it', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ti-lock-'));
  try {
    const file = path.join(dir, 'ipam.lock');
    writeFileSync(file, '2147483646'); // no such PID
    const lock = await HostLock.acquire(file, 2000);
    await assert.rejects(HostLock.acquire(file, 100), new RegExp(`held by PID ${process.pid}`));
    await lock.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
