#!/usr/bin/env node
// The sweep behind PROscore's default lambda (docs/ippro.md): the lambda study of
// tools/ablations.mjs alone (one scoring pass, PROscore at lambda in {0.001, 0.01, 0.1, 1, 10},
// L2, L1, BN scale, Taylor and random for reference), one-shot, judged on training images the
// scoring pass did not use. Extra arguments go to tools/ablations.mjs (e.g. --targets 0.3).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = [join(root, 'tools', 'ablations.mjs'), '--studies', 'lambda', '--out', join(root, 'bench-results', 'lambda-sweep'), ...process.argv.slice(2)];
const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(result.status ?? 1);
