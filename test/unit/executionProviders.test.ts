import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseExecutionProviders, detectProviderAvailability, DEVICES } from '../../src/models/executionProviders.js';

const linuxWithoutCuda = { platform: 'linux' as const, cudaInstalled: false };
const linuxWithCuda = { platform: 'linux' as const, cudaInstalled: true };
const mac = { platform: 'darwin' as const, cudaInstalled: false };
const windows = { platform: 'win32' as const, cudaInstalled: false };

describe('chooseExecutionProviders', () => {
  test('cpu is the CPU alone, everywhere, without a notice', () => {
    for (const availability of [linuxWithoutCuda, linuxWithCuda, mac, windows]) {
      assert.deepEqual(chooseExecutionProviders('cpu', availability), { providers: ['cpu'] });
    }
  });

  test('auto takes the installed accelerator, else the CPU silently', () => {
    assert.deepEqual(chooseExecutionProviders('auto', linuxWithCuda), { providers: ['cuda', 'cpu'] });
    assert.deepEqual(chooseExecutionProviders('auto', linuxWithoutCuda), { providers: ['cpu'] });
    assert.deepEqual(chooseExecutionProviders('auto', mac), { providers: ['coreml', 'cpu'] });
    assert.deepEqual(chooseExecutionProviders('auto', windows), { providers: ['dml', 'cpu'] });
  });

  test('an explicit device comes first with the CPU as fallback when it can exist here', () => {
    assert.deepEqual(chooseExecutionProviders('cuda', linuxWithCuda), { providers: ['cuda', 'cpu'] });
    assert.deepEqual(chooseExecutionProviders('coreml', mac), { providers: ['coreml', 'cpu'] });
    assert.deepEqual(chooseExecutionProviders('dml', windows), { providers: ['dml', 'cpu'] });
  });

  test('an explicit device that cannot be used here is the CPU with one notice line saying why and what to do', () => {
    const cuda = chooseExecutionProviders('cuda', linuxWithoutCuda);
    assert.deepEqual(cuda.providers, ['cpu']);
    assert.match(cuda.notice ?? '', /^CUDA is not available: .*--onnxruntime-node-install=cuda12.*; running the model on the CPU$/);
    const coreml = chooseExecutionProviders('coreml', linuxWithCuda);
    assert.equal(coreml.notice, 'CoreML is not available: onnxruntime-node has no CoreML provider on linux; running the model on the CPU');
    assert.match(chooseExecutionProviders('dml', mac).notice ?? '', /DirectML provider on darwin/);
    assert.match(chooseExecutionProviders('cuda', mac).notice ?? '', /no CUDA provider on darwin/);
    for (const device of DEVICES) assert.ok(!(chooseExecutionProviders(device, windows).notice ?? '').includes('\n'));
  });

  test('detects the CUDA provider library next to the installed binding (absent in this checkout, as npm ci skips the CUDA download of onnxruntime-node)', () => {
    const availability = detectProviderAvailability('linux', 'x64');
    assert.equal(availability.platform, 'linux');
    assert.equal(typeof availability.cudaInstalled, 'boolean');
    assert.equal(detectProviderAvailability('aix', 'ppc64').cudaInstalled, false);
  });
});
