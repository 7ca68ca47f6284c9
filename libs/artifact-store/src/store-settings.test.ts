import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseS3Url } from './s3/location';
import { StoreSettingsError, describeStoreSettings, parseStoreSettings, storeSettingsForChild } from './store-settings';

describe('store settings', () => {
  it('reads an s3:// store with its endpoint, region and credentials from flags', () => {
    const settings = parseStoreSettings(
      {
        store: 's3://ippro-runs/team/a/',
        s3Endpoint: 'http://127.0.0.1:8333/',
        s3Region: 'eu-west-1',
        s3AccessKeyId: 'id',
        s3SecretAccessKey: 'secret',
      },
      {},
    );
    assert.deepEqual(settings, {
      kind: 's3',
      bucket: 'ippro-runs',
      prefix: 'team/a',
      endpoint: 'http://127.0.0.1:8333',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
    });
    assert.equal(settings && describeStoreSettings(settings), 's3://ippro-runs/team/a');
  });

  it('falls back to the environment, flags first', () => {
    const env = { IPPRO_STORE: 's3://from-env', AWS_ENDPOINT_URL_S3: 'https://s3.example.com', AWS_REGION: 'us-west-2' };
    assert.deepEqual(parseStoreSettings({}, env), { kind: 's3', bucket: 'from-env', prefix: '', endpoint: 'https://s3.example.com', region: 'us-west-2' });
    assert.deepEqual(parseStoreSettings({ store: 's3://from-flag/p', s3Region: 'ap-south-1' }, { ...env, IPPRO_S3_ENDPOINT: 'http://seaweedfs:8333' }), {
      kind: 's3',
      bucket: 'from-flag',
      prefix: 'p',
      endpoint: 'http://seaweedfs:8333',
      region: 'ap-south-1',
    });
    assert.equal(parseStoreSettings({}, {}), undefined);
    assert.deepEqual(parseStoreSettings({ store: 'some/dir' }, {}), { kind: 'disk', root: resolve('some/dir') });
  });

  it('refuses what cannot be used, naming the flag', () => {
    const refused: [Parameters<typeof parseStoreSettings>[0], RegExp][] = [
      [{ s3Endpoint: 'http://x:1' }, /--s3-endpoint needs --store s3:\/\/BUCKET/],
      [{ store: 'dir', s3Region: 'x' }, /--s3-region needs an s3:\/\/ store, not the directory 'dir'/],
      [{ store: 'gs://bucket' }, /only s3:\/\/ addresses and directories are stores/],
      [{ store: 's3://UPPER' }, /--store: .*"UPPER" is not a bucket name/],
      [{ store: 's3://ab' }, /is not a bucket name/],
      [{ store: 's3://bucket/a//b' }, /has an empty, '\.' or '\.\.' segment/],
      [{ store: 's3://bucket/../b' }, /has an empty, '\.' or '\.\.' segment/],
      [{ store: 's3://bucket', s3AccessKeyId: 'id' }, /--s3-access-key-id and --s3-secret-access-key go together/],
      [{ store: 's3://bucket', s3Endpoint: 'seaweedfs:8333' }, /--s3-endpoint 'seaweedfs:8333' must be an http:\/\/ or https:\/\/ URL/],
      [{ store: 's3://bucket', s3Endpoint: 'not a url' }, /--s3-endpoint 'not a url' is not a URL/],
    ];
    for (const [values, message] of refused) assert.throws(() => parseStoreSettings(values, {}), (error: unknown) => error instanceof StoreSettingsError && message.test(error.message));
  });

  it('gives a child process the same store, with credentials only in its environment', () => {
    const settings = parseStoreSettings({ store: 's3://bucket/p', s3Endpoint: 'http://h:1', s3AccessKeyId: 'id', s3SecretAccessKey: 'secret' }, {});
    assert.ok(settings !== undefined);
    assert.deepEqual(storeSettingsForChild(settings), {
      args: ['--store', 's3://bucket/p', '--s3-endpoint', 'http://h:1'],
      env: { AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret' },
    });
    assert.deepEqual(parseS3Url('s3://bucket'), { bucket: 'bucket', prefix: '' });
  });
});
