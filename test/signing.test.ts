import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ArtifactError,
  bundleChecksum,
  bundleContent,
  loadBundle,
  saveBundle,
  serializeBundle,
  signBundle,
  type ModelBundle,
} from '../src/persist/bundle';
import { hmacSignature, MIN_KEY_BYTES, MODEL_KEY_ENV, ModelKeyError, readModelKey, signatureMatches } from '../src/persist/signing';
import { writeFileAtomic } from '../src/persist/atomic-write';
import { DEFAULT_PARAMS } from '../src/params/params';
import { bundleFromPipeline, runPipeline } from '../src/workflow/pipeline';

const dir = mkdtempSync(join(tmpdir(), 'signing-'));
const bundle = bundleFromPipeline(runPipeline({ ...DEFAULT_PARAMS, nNormal: 1000, nAnomalous: 50, nEstimators: 10 }), new Date('2026-01-02T03:04:05.000Z'));
const keyA = Buffer.from('a'.repeat(64));
const keyB = Buffer.from('b'.repeat(64));
let n = 0;
const fresh = (name: string) => join(dir, `${n++}-${name}`);

function refusal(f: () => unknown): ArtifactError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ArtifactError);
    return e as ArtifactError;
  }
  throw new Error('expected the loader to refuse the bundle');
}

describe('HMAC primitives', () => {
  it('hmac-sha256 of the content (RFC 4231 test case 2)', () => {
    expect(hmacSignature('what do ya want for nothing?', 'Jefe')).toBe('hmac-sha256:5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });
  it('matches only the same content and key; malformed signatures never match', () => {
    const s = hmacSignature('content', keyA);
    expect(signatureMatches('content', s, keyA)).toBe(true);
    expect(signatureMatches('content', s, keyB)).toBe(false);
    expect(signatureMatches('content!', s, keyA)).toBe(false);
    expect(signatureMatches('content', s.toUpperCase(), keyA)).toBe(false);
    expect(signatureMatches('content', s.slice(0, -2), keyA)).toBe(false);
    expect(signatureMatches('content', 'sha256:' + s.slice(12), keyA)).toBe(false);
  });
});

describe('signed bundles', () => {
  it('saveBundle with a key adds a signature over the checksummed content; the checksum is unchanged', () => {
    const path = fresh('signed.json');
    const saved = saveBundle(path, bundle, { key: keyA });
    const onDisk = JSON.parse(readFileSync(path, 'utf8')) as ModelBundle;
    expect(saved.signature).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(onDisk.signature).toBe(saved.signature);
    expect(onDisk.checksum).toBe(bundle.checksum);
    expect(bundleChecksum(onDisk)).toBe(bundle.checksum);
    expect(onDisk.signature).toBe(hmacSignature(bundleContent(bundle), keyA));
    expect(saved.bytes).toBe(readFileSync(path).length);
  });
  it('loads with the same key (bytes or the same text as a string), and without any key', () => {
    const path = fresh('signed.json');
    saveBundle(path, bundle, { key: keyA });
    expect(loadBundle(path, { key: keyA }).checksum).toBe(bundle.checksum);
    expect(loadBundle(path, { key: 'a'.repeat(64) }).checksum).toBe(bundle.checksum);
    expect(loadBundle(path).checksum).toBe(bundle.checksum);
  });
  it('signed with one key is refused with another (SIGNATURE, names the path, says which)', () => {
    const path = fresh('signed-a.json');
    saveBundle(path, bundle, { key: keyA });
    const e = refusal(() => loadBundle(path, { key: keyB }));
    expect(e.code).toBe('SIGNATURE');
    expect(e.message).toContain(path.split('/').pop()!);
    expect(e.message).toMatch(/signature does not match the given key: the bundle was signed with another key/);
  });
  it('unsigned is refused when a key is required', () => {
    const path = fresh('unsigned.json');
    saveBundle(path, bundle);
    expect(JSON.parse(readFileSync(path, 'utf8')).signature).toBeUndefined();
    const e = refusal(() => loadBundle(path, { key: keyA }));
    expect(e.code).toBe('SIGNATURE');
    expect(e.message).toMatch(/unsigned\.json: bundle is unsigned but a signing key was given/);
    expect(loadBundle(path).checksum).toBe(bundle.checksum); // without a key, as before
  });
  it('an attacker without the key: edit the content and recompute the checksum -> refused by the signature only', () => {
    const path = fresh('forged.json');
    const signed = signBundle(bundle, keyA);
    const forged: ModelBundle = { ...signed, threshold: -0.3, forest: { ...signed.forest, offset: -0.3 } };
    forged.checksum = bundleChecksum(forged);
    writeFileSync(path, serializeBundle(forged));
    expect(loadBundle(path).threshold).toBe(-0.3); // the checksum alone cannot tell
    const e = refusal(() => loadBundle(path, { key: keyA }));
    expect(e.code).toBe('SIGNATURE');
  });
  it('a tampered signature is refused: one hex digit changed, or malformed (even without a key)', () => {
    const signed = signBundle(bundle, keyA);
    const last = signed.signature!.slice(-1);
    const flipped = { ...signed, signature: signed.signature!.slice(0, -1) + (last === '0' ? '1' : '0') };
    const p1 = fresh('flipped.json');
    writeFileSync(p1, serializeBundle(flipped));
    expect(refusal(() => loadBundle(p1, { key: keyA })).code).toBe('SIGNATURE');
    const p2 = fresh('malformed.json');
    writeFileSync(p2, serializeBundle({ ...signed, signature: 'hmac-sha256:xyz' }));
    const e = refusal(() => loadBundle(p2));
    expect(e.code).toBe('SIGNATURE');
    expect(e.message).toMatch(/malformed signature "hmac-sha256:xyz"/);
  });
  it('the checksum still comes first: a signed bundle edited by hand is a CHECKSUM error', () => {
    const path = fresh('edited.json');
    saveBundle(path, bundle, { key: keyA });
    writeFileSync(path, readFileSync(path, 'utf8').replace(/"threshold": -?[0-9.e-]+/, '"threshold": -0.3'));
    expect(refusal(() => loadBundle(path, { key: keyA })).code).toBe('CHECKSUM');
  });
});

describe('readModelKey', () => {
  const write = (name: string, content: string | Buffer) => {
    const p = fresh(name);
    writeFileSync(p, content);
    return p;
  };
  it('no file and no variable: no key', () => {
    expect(readModelKey({ env: {} })).toBeUndefined();
  });
  it('from a file (trailing newline ignored) or from ANOMALY_MODEL_KEY: the same text gives the same key', () => {
    const text = 'f'.repeat(40);
    const fromFile = readModelKey({ keyFile: write('k', `${text}\n`), env: {} });
    const fromEnv = readModelKey({ env: { [MODEL_KEY_ENV]: text } });
    expect(fromFile).toEqual(Buffer.from(text));
    expect(fromEnv).toEqual(fromFile);
  });
  it('the file wins over the variable', () => {
    const key = readModelKey({ keyFile: write('k', 'x'.repeat(32)), env: { [MODEL_KEY_ENV]: 'y'.repeat(32) } });
    expect(key).toEqual(Buffer.from('x'.repeat(32)));
  });
  it('a missing key file names the path', () => {
    const p = join(dir, 'no-such.key');
    expect(() => readModelKey({ keyFile: p })).toThrow(ModelKeyError);
    expect(() => readModelKey({ keyFile: p })).toThrow(`cannot read the model key file ${p}: no such file`);
  });
  it('an empty key file (or only a newline) names the path', () => {
    const p = write('empty.key', '\n');
    expect(() => readModelKey({ keyFile: p })).toThrow(`the model key file ${p} is empty`);
  });
  it(`a key shorter than ${MIN_KEY_BYTES} bytes is refused`, () => {
    const p = write('short.key', 'secret\n');
    expect(() => readModelKey({ keyFile: p })).toThrow(`the model key file ${p} holds 6 bytes; a key needs at least ${MIN_KEY_BYTES}`);
    expect(() => readModelKey({ env: { [MODEL_KEY_ENV]: 'short' } })).toThrow(`${MODEL_KEY_ENV} holds 5 bytes`);
  });
  it('a directory, an unreadable file and a set-but-empty variable are refused with their names', () => {
    const d = fresh('keydir');
    mkdirSync(d);
    expect(() => readModelKey({ keyFile: d })).toThrow(`cannot read the model key file ${d}: it is a directory`);
    const p = write('locked.key', 'z'.repeat(32));
    chmodSync(p, 0o000);
    let readable = true;
    try {
      readFileSync(p);
    } catch {
      readable = false;
    }
    // root reads any file: then only the message form can be checked on the directory case above
    if (!readable) expect(() => readModelKey({ keyFile: p })).toThrow(`cannot read the model key file ${p}: permission denied`);
    chmodSync(p, 0o600);
    expect(() => readModelKey({ env: { [MODEL_KEY_ENV]: '' } })).toThrow(`${MODEL_KEY_ENV} is empty`);
  });
  it('a key read from a file signs and verifies a bundle end to end', () => {
    const key = readModelKey({ keyFile: write('good.key', `${'k'.repeat(64)}\n`) })!;
    const path = fresh('e2e.json');
    saveBundle(path, bundle, { key });
    expect(loadBundle(path, { key: readModelKey({ env: { [MODEL_KEY_ENV]: 'k'.repeat(64) } }) }).checksum).toBe(bundle.checksum);
  });
});

describe('writeFileAtomic', () => {
  it('creates folders, replaces the file whole and leaves no temporary file', () => {
    const sub = join(fresh('atomic'), 'a', 'b');
    const p = join(sub, 'f.txt');
    expect(writeFileAtomic(p, 'first')).toBe(5);
    expect(writeFileAtomic(p, 'second, longer ✓')).toBe(Buffer.byteLength('second, longer ✓'));
    expect(readFileSync(p, 'utf8')).toBe('second, longer ✓');
    expect(readdirSync(sub)).toEqual(['f.txt']);
  });
  it('a failed write leaves no temporary file and the old content', () => {
    const sub = fresh('atomic-fail');
    mkdirSync(join(sub, 'target'), { recursive: true }); // renaming a file over a folder fails
    expect(() => writeFileAtomic(join(sub, 'target'), 'x')).toThrow();
    expect(readdirSync(sub)).toEqual(['target']);
  });
});
