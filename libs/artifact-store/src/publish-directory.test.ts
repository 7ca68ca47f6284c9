import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { OutputTakenError, publishDirectory, removeStaleStaging, stagingDirOf } from './publish-directory';

const scratch = mkdtempSync(join(tmpdir(), 'ippro-publish-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A result of two files and a sub-directory, tagged with `who` wrote it. */
function result(who: string): (dir: string) => Promise<void> {
  return async (dir) => {
    mkdirSync(join(dir, 'model'));
    await writeFile(join(dir, 'model', 'weights.bin'), `weights of ${who}`);
    await writeFile(join(dir, 'summary.json'), JSON.stringify({ who }));
  };
}

function siblings(out: string): string[] {
  const name = out.split('/').pop() ?? '';
  return readdirSync(join(out, '..')).filter((entry) => entry.includes(name) && entry !== name);
}

describe('publishDirectory', () => {
  it('renames a complete staging directory to an --out that does not exist, leaving nothing beside it', async () => {
    const out = join(scratch, 'fresh', 'nested', 'out');
    await publishDirectory(out, result('a'));
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')), { who: 'a' });
    assert.equal(readFileSync(join(out, 'model', 'weights.bin'), 'utf8'), 'weights of a');
    assert.deepEqual(siblings(out), [], 'no staging directory left');
  });

  it('uses an existing empty --out without deleting it: same directory, the result moved in', async () => {
    const out = join(scratch, 'existing-empty');
    mkdirSync(out);
    const inode = statSync(out).ino;
    await publishDirectory(out, result('b'), { last: ['summary.json'] });
    assert.equal(statSync(out).ino, inode, 'the very directory that existed');
    assert.deepEqual(readdirSync(out).sort(), ['model', 'summary.json']);
    assert.deepEqual(siblings(out), []);
  });

  it('never touches an --out that something wrote to meanwhile; the complete result stays in the staging directory', async () => {
    const out = join(scratch, 'taken');
    mkdirSync(out);
    const error = await publishDirectory(out, async (dir) => {
      // Someone writes into --out while the result is made.
      writeFileSync(join(out, 'notes.txt'), 'mine');
      await result('c')(dir);
    }).then(
      () => assert.fail('published into a directory that was written to'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof OutputTakenError);
    assert.match(error.message, /taken was written to by something else while the result was made; nothing in it was touched, and the complete result is kept in .*\.taken\.staging-\d+/);
    assert.deepEqual(readdirSync(out), ['notes.txt']);
    assert.equal(readFileSync(join(error.keptAt, 'model', 'weights.bin'), 'utf8'), 'weights of c');
  });

  it('removes the staging directory when writing fails, and rethrows', async () => {
    const out = join(scratch, 'failing');
    await assert.rejects(
      publishDirectory(out, async (dir) => {
        await writeFile(join(dir, 'half.bin'), 'half');
        throw new Error('disk full');
      }),
      /disk full/,
    );
    assert.equal(existsSync(out), false);
    assert.deepEqual(siblings(out), []);
  });

  it('concurrent writers to one --out: one result, whole; the others refused with theirs kept', async () => {
    for (const start of ['absent', 'empty'] as const) {
      const out = join(scratch, `contended-${start}`);
      if (start === 'empty') mkdirSync(out);
      // Writers in separate processes (each stages under its own pid), started together.
      const writers = ['w0', 'w1', 'w2', 'w3'].map((who) => runWriter(out, who));
      const outcomes = await Promise.all(writers);
      const winners = outcomes.filter((outcome) => outcome.status === 'published');
      assert.equal(winners.length, 1, `${start}: ${JSON.stringify(outcomes)}`);
      const who = (JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { who: string }).who;
      assert.equal(who, winners[0]?.who);
      assert.equal(readFileSync(join(out, 'model', 'weights.bin'), 'utf8'), `weights of ${who}`, 'not mixed with another writer');
      assert.deepEqual(readdirSync(out).sort(), ['model', 'summary.json']);
      for (const outcome of outcomes.filter((entry) => entry.status === 'taken')) {
        assert.equal(readFileSync(join(outcome.keptAt ?? '', 'summary.json'), 'utf8'), JSON.stringify({ who: outcome.who }));
      }
    }
  });
});

interface WriterOutcome {
  who: string;
  status: 'published' | 'taken';
  keptAt?: string;
}

/** A child process that publishes `who`'s result to `out` and reports how it went. */
function runWriter(out: string, who: string): Promise<WriterOutcome> {
  const program = `
    const { publishDirectory, OutputTakenError } = require(${JSON.stringify(join(__dirname, 'publish-directory.js'))});
    const { mkdirSync, writeFileSync } = require('node:fs');
    const { join } = require('node:path');
    publishDirectory(${JSON.stringify(out)}, async (dir) => {
      mkdirSync(join(dir, 'model'));
      writeFileSync(join(dir, 'model', 'weights.bin'), 'weights of ${who}');
      writeFileSync(join(dir, 'summary.json'), JSON.stringify({ who: '${who}' }));
    }, { last: ['summary.json'] }).then(
      () => console.log(JSON.stringify({ who: '${who}', status: 'published' })),
      (error) => {
        if (!(error instanceof OutputTakenError)) { console.error(error); process.exit(1); }
        console.log(JSON.stringify({ who: '${who}', status: 'taken', keptAt: error.keptAt }));
      },
    );`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', program], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(output) as WriterOutcome) : reject(new Error(`writer ${who} exited with ${code}`))));
  });
}

describe('removeStaleStaging', () => {
  it('removes the staging directories of processes that no longer run, and keeps the others', async () => {
    const out = join(scratch, 'stale', 'out');
    mkdirSync(join(scratch, 'stale'));
    const dead = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '']);
      child.on('exit', () => resolve(child.pid ?? 0));
    });
    for (const pid of [dead, process.pid, process.ppid]) mkdirSync(stagingDirOf(out, pid));
    mkdirSync(join(scratch, 'stale', `.other.staging-${dead}`));
    assert.deepEqual(await removeStaleStaging(out), [stagingDirOf(out, dead)]);
    assert.deepEqual(readdirSync(join(scratch, 'stale')).sort(), [`.other.staging-${dead}`, `.out.staging-${process.pid}`, `.out.staging-${process.ppid}`].sort());
  });
});
