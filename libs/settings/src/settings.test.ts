import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Command } from 'commander';
import {
  POSITIVE_INTEGER,
  POSITIVE_NUMBER,
  REDACTED,
  SettingsError,
  TEXT,
  addSettingOptions,
  combineSets,
  commandLineFor,
  configFileText,
  effectiveConfig,
  givenOptions,
  listOf,
  oneOf,
  parseCommandLine,
  parseConfigText,
  readConfigFile,
  required,
  resolveSettings,
  setting,
  together,
  toggle,
  usageLines,
} from './index';

const SET = {
  rounds: setting({ parse: POSITIVE_INTEGER, help: 'pruning rounds', default: '1', env: 'TEST_ROUNDS' }),
  finetuneLr: setting({ parse: POSITIVE_NUMBER, placeholder: 'RATE', help: 'learning rate', default: '0.01' }),
  ranking: setting({ parse: oneOf(['global', 'uniform'] as const), help: 'ranking', default: 'global' }),
  ignoreLayers: setting({ parse: listOf(TEXT), placeholder: 'NAMES', help: 'layers never pruned' }),
  model: setting({ parse: TEXT, placeholder: 'DIR', help: 'model directory' }),
  apiKey: setting({ parse: TEXT, placeholder: 'KEY', help: 'API key', env: 'TEST_API_KEY', secret: true }),
  local: toggle({ help: 'run here' }),
  wait: toggle({ help: 'wait for the run', default: true }),
};

const dir = mkdtempSync(join(tmpdir(), 'ippro-settings-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const fails = (run: () => unknown, pattern: RegExp): void => {
  assert.throws(run, (error: unknown) => error instanceof SettingsError && pattern.test(error.message));
};

describe('resolveSettings', () => {
  it('takes a flag over the file, the file over a variable, a variable over the default', () => {
    const file = parseConfigText('rounds: 3\nfinetune-lr: 5e-2\n', 'run.yaml');
    const env = { TEST_ROUNDS: '7' };
    assert.equal(resolveSettings(SET, { flags: { rounds: '2' }, file, env }).values.rounds, 2);
    const fromFile = resolveSettings(SET, { file, env });
    assert.equal(fromFile.values.rounds, 3);
    assert.equal(fromFile.where('rounds'), 'rounds in run.yaml:1');
    assert.equal(fromFile.values.finetuneLr, 0.05);
    assert.equal(resolveSettings(SET, { env }).values.rounds, 7);
    const defaults = resolveSettings(SET, {});
    assert.deepEqual(
      { rounds: defaults.values.rounds, ranking: defaults.values.ranking, model: defaults.values.model, local: defaults.values.local, wait: defaults.values.wait },
      { rounds: 1, ranking: 'global', model: undefined, local: false, wait: true },
    );
    assert.equal(defaults.given('rounds'), false);
    assert.equal(resolveSettings(SET, { env: { TEST_ROUNDS: '  ' } }).origin('rounds').kind, 'default', 'an empty variable is unset');
  });

  it('reads lists from a comma-separated flag or a YAML sequence, and switches from true/false', () => {
    const file = parseConfigText('ignore-layers: [conv1, dense]\nlocal: true\nwait: no\n', 'run.yaml');
    const resolved = resolveSettings(SET, { file });
    assert.deepEqual(resolved.values.ignoreLayers, ['conv1', 'dense']);
    assert.equal(resolved.values.local, true);
    assert.equal(resolved.values.wait, false);
    assert.deepEqual(resolveSettings(SET, { flags: { ignoreLayers: 'a, b,' } }).values.ignoreLayers, ['a', 'b']);
  });

  it('names the flag, the variable, or the key with its file and line', () => {
    fails(() => resolveSettings(SET, { flags: { rounds: '0' } }), /^--rounds must be a positive integer, got '0'$/);
    fails(() => resolveSettings(SET, { env: { TEST_ROUNDS: 'x' } }), /^\$TEST_ROUNDS must be a positive integer, got 'x'$/);
    fails(() => resolveSettings(SET, { file: parseConfigText('# a run\nranking: random\n', 'run.yaml') }), /^ranking in run\.yaml:2 must be one of global, uniform, got 'random'$/);
    fails(() => resolveSettings(SET, { file: parseConfigText('rounds: [1, 2]\n', 'run.yaml') }), /^rounds in run\.yaml:1 must be a single value/);
    fails(() => resolveSettings(SET, { file: parseConfigText('model: m\n\nround: 3\n', 'run.yaml') }), /^unknown key 'round' in run\.yaml:3 \(did you mean rounds\?\)$/);
    fails(() => resolveSettings(SET, { file: parseConfigText('finetuneLr: 0.1\n', 'run.yaml') }), /^unknown key 'finetuneLr' in run\.yaml:1/);
  });

  it('reports a file that cannot be read or is not YAML, with its line', () => {
    fails(() => readConfigFile(join(dir, 'missing.yaml')), /^--config .*missing\.yaml: cannot read it \(ENOENT\)$/);
    fails(() => parseConfigText('rounds: 1\nmodel: [unclosed\n', 'bad.yaml'), /^bad\.yaml:\d+: not valid YAML or JSON/);
    fails(() => parseConfigText('rounds: 1\nrounds: 2\n', 'twice.yaml'), /^twice\.yaml:2: not valid YAML or JSON: Map keys must be unique/);
    fails(() => parseConfigText('- rounds\n', 'list.yaml'), /^list\.yaml:1: a configuration file is a mapping/);
    writeFileSync(join(dir, 'run.json'), '{\n  "rounds": 4,\n  "ignore-layers": ["a"]\n}\n');
    const json = resolveSettings(SET, { file: readConfigFile(join(dir, 'run.json')) });
    assert.equal(json.values.rounds, 4);
    assert.equal(json.where('ignoreLayers'), `ignore-layers in ${join(dir, 'run.json')}:3`);
  });

  it('requires values and pairs, naming the flag and key', () => {
    const resolved = resolveSettings(SET, {});
    fails(() => required(resolved, 'model'), /^--model is required \(a flag, or the key model in --config\)$/);
    assert.equal(required(resolveSettings(SET, { flags: { model: 'm' } }), 'model'), 'm');
    fails(() => together(resolveSettings(SET, { file: parseConfigText('model: m\n', 'c.yaml') }), 'model', 'ignoreLayers'), /^model in c\.yaml:1 and --ignore-layers go together$/);
  });

  it('refuses a name declared by two sets', () => {
    assert.throws(() => combineSets(SET, { rounds: setting({ parse: TEXT, help: 'other' }) }), /setting rounds is declared twice/);
    assert.deepEqual(Object.keys(combineSets({ a: SET.model }, { b: SET.rounds })), ['a', 'b']);
  });
});

describe('what is derived from the specs', () => {
  it('commander options: only the flags given count, so the file and variables still apply', async () => {
    const command = addSettingOptions(new Command('prune').exitOverride(), SET).action(() => undefined);
    await command.parseAsync(['--rounds', '5', '--no-wait', '--ignore-layers', 'x,y'], { from: 'user' });
    assert.deepEqual(givenOptions(command, SET), { rounds: '5', wait: false, ignoreLayers: 'x,y' });
    const resolved = resolveSettings(SET, { flags: givenOptions(command, SET), file: parseConfigText('rounds: 9\nfinetune-lr: 0.2\n', 'c.yaml') });
    assert.equal(resolved.values.rounds, 5);
    assert.equal(resolved.values.finetuneLr, 0.2);
    assert.equal(resolved.values.wait, false);
    assert.match(command.helpInformation(), /--finetune-lr <rate> +learning rate \(default 0\.01\)/);
    assert.match(command.helpInformation(), /--api-key <key> +API key \(\$TEST_API_KEY\)/);
  });

  it('a command line for a child that parses back to the same values', () => {
    const argv = commandLineFor(SET, { rounds: '3', local: true, wait: false, model: 'dir with space' });
    assert.deepEqual(argv, ['--rounds', '3', '--model', 'dir with space', '--local', '--no-wait']);
    const parsed = parseCommandLine(SET, [...argv, '--config', 'c.yaml']);
    assert.deepEqual(parsed, { flags: { rounds: '3', model: 'dir with space', local: true, wait: false }, config: 'c.yaml', help: false });
    fails(() => parseCommandLine(SET, ['--frobnicate']), /Unknown option '--frobnicate'/);
    assert.match(usageLines(SET), /^ {2}--no-wait +wait for the run$/m);
    assert.match(usageLines(SET), /^ {2}--rounds N +pruning rounds \(default 1\) \(\$TEST_ROUNDS\)$/m);
  });

  it('the effective configuration, secrets redacted, and a file that gives the same values back', () => {
    const resolved = resolveSettings(SET, { flags: { model: 'models/a', ignoreLayers: 'conv1' }, env: { TEST_API_KEY: 'hunter2' } });
    const config = effectiveConfig(resolved);
    assert.deepEqual(config, { rounds: 1, 'finetune-lr': 0.01, ranking: 'global', 'ignore-layers': ['conv1'], model: 'models/a', 'api-key': REDACTED, local: false, wait: true });
    const text = configFileText(resolved, 'ippro prune');
    assert.doesNotMatch(text, /hunter2/);
    assert.match(text, /^# api-key: \(secret: give it by \$TEST_API_KEY\)$/m);
    const again = resolveSettings(SET, { file: parseConfigText(text, 'printed.yaml'), env: { TEST_API_KEY: 'hunter2' } });
    assert.deepEqual(again.values, resolved.values);
  });
});
