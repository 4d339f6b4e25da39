import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppendFile } from '../../../libs/record/append-file.ts';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'sluice-append-'));

test('append file: many writes in one turn land in order; close waits for them; later writes are ignored', async () => {
  const path = join(tmp(), 'a', 'b', 'out.bin'); // directories are created
  const errors: unknown[] = [];
  const f = new AppendFile(path, (e) => errors.push(e));
  const expected: Buffer[] = [];
  for (let i = 0; i < 1000; i++) {
    const b = Buffer.alloc(1 + (i % 97), i & 0xff);
    expected.push(b);
    f.write(b);
  }
  const total = expected.reduce((n, b) => n + b.length, 0);
  assert.equal(f.queuedBytes, total, 'nothing is written synchronously');
  await f.close();
  f.write(Buffer.from('late'));
  await f.close();
  assert.deepEqual(errors, []);
  assert.equal(f.queuedBytes, 0);
  assert.equal(f.bytesWritten, total);
  assert.deepEqual(readFileSync(path), Buffer.concat(expected));
});

test('append file: an existing file or a planted symlink is an error (EEXIST), reported once, and left alone', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'victim'), 'keep');
  symlinkSync(join(dir, 'victim'), join(dir, 'link.flv'));
  writeFileSync(join(dir, 'exists.flv'), 'old');
  for (const name of ['link.flv', 'exists.flv']) {
    const errors: NodeJS.ErrnoException[] = [];
    const f = new AppendFile(join(dir, name), (e) => errors.push(e));
    f.write(Buffer.from('new'));
    await f.close();
    f.write(Buffer.from('more'));
    assert.deepEqual(
      errors.map((e) => e.code),
      ['EEXIST'],
    );
    assert.equal(f.error?.code, 'EEXIST');
    assert.equal(f.queuedBytes, 0, 'the queue is dropped');
  }
  assert.equal(readFileSync(join(dir, 'victim'), 'utf8'), 'keep');
  assert.equal(readFileSync(join(dir, 'exists.flv'), 'utf8'), 'old');
});

test('append file: a directory that cannot be made (a regular file in the way) fails with its errno', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'file'), 'x');
  const errors: NodeJS.ErrnoException[] = [];
  const f = new AppendFile(join(dir, 'file', 'sub', 'out.ts'), (e) => errors.push(e));
  f.write(Buffer.alloc(10));
  await f.close();
  assert.equal(errors.length, 1);
  assert.ok(['ENOTDIR', 'EEXIST'].includes(errors[0]!.code ?? ''), errors[0]!.code);
});
