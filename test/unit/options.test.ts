import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveOptions, parseFramesOrSeconds, framesAt, flagNameOf, type OptionDeclarations } from '../../src/core/options.js';
import { toYargsOptions, valuesFromArguments } from '../../src/cli/yargsOptions.js';
import { flagUsage, valueTag } from '../../src/cli/help.js';
import { PiaggioError } from '../../src/core/errors.js';

const declarations = {
  epsilon: { type: 'number', min: 0, max: 1, default: 0.2, alias: 'e', description: 'radius' },
  minSamples: { type: 'integer', min: 1, max: 100, default: 2, alias: 's', description: 'core size' },
  metric: { type: 'choice', choices: ['cosine', 'euclidean'], default: 'cosine', description: 'distance' },
  minSceneLength: { type: 'framesOrSeconds', default: { frames: 15 }, flag: 'min-scene-len', description: 'length' },
  keep: { type: 'boolean', default: false, description: 'keep' },
  label: { type: 'string', description: 'no default' },
} as const satisfies OptionDeclarations;

function rejection(given: Record<string, unknown>, fromCommandLine = false): string {
  try {
    resolveOptions(declarations, given, { fromCommandLine });
  } catch (error) {
    assert.ok(error instanceof PiaggioError);
    assert.equal(error.exitCode, 2);
    return error.message;
  }
  assert.fail('expected a rejection');
}

describe('resolveOptions', () => {
  test('fills defaults and keeps given values', () => {
    const values = resolveOptions(declarations, { epsilon: 0.5 });
    assert.deepEqual(Object.fromEntries(Object.entries(values)), { epsilon: 0.5, minSamples: 2, metric: 'cosine', minSceneLength: { frames: 15 }, keep: false, label: undefined });
  });

  test('values validated at the boundary pass a stage unchecked; a value changed after that is checked', () => {
    const stage = { epsilon: declarations.epsilon, metric: declarations.metric } as const satisfies OptionDeclarations;
    const table = resolveOptions(declarations, { epsilon: 0.5, label: 'x' });
    // The table's other keys came validated from a larger table: not "unknown" to the stage.
    assert.deepEqual(Object.entries(resolveOptions(stage, { ...table, fps: undefined })), [['epsilon', 0.5], ['metric', 'cosine']]);
    assert.throws(() => resolveOptions(stage, { ...table, epsilon: 1.5 }), { message: 'Expected number between 0 and 1 for epsilon but received 1.5' });
    assert.throws(() => resolveOptions(stage, { ...table, espilon: 0.1 }), { message: 'Unknown option espilon; did you mean epsilon?' });
    // A declaration of the same name but another range is another declaration: checked again.
    const stricter = { epsilon: { ...declarations.epsilon, max: 0.4 } } as const satisfies OptionDeclarations;
    assert.throws(() => resolveOptions(stricter, table), { message: 'Expected number between 0 and 0.4 for epsilon but received 0.5' });
    assert.equal(JSON.stringify(table), '{"epsilon":0.5,"minSamples":2,"metric":"cosine","minSceneLength":{"frames":15},"keep":false,"label":"x"}');
  });

  test('rejects out-of-range numbers in the sharp style', () => {
    assert.equal(rejection({ epsilon: 1.5 }), 'Expected number between 0 and 1 for epsilon but received 1.5');
    assert.equal(rejection({ minSamples: 2.5 }), 'Expected integer between 1 and 100 for minSamples but received 2.5');
    assert.equal(rejection({ metric: 'manhattan' }), 'Expected one of cosine, euclidean for metric but received "manhattan"');
    assert.equal(rejection({ keep: 'yes' }), 'Expected boolean for keep but received "yes"');
  });

  test('the command line and the library get the same sentence for the same value', () => {
    assert.equal(rejection({ epsilon: '1.5' }, true), rejection({ epsilon: 1.5 }));
    assert.equal(rejection({ epsilon: 'abc' }, true), 'Expected number between 0 and 1 for epsilon but received "abc"');
    assert.equal(rejection({ epsilon: 'abc' }, true), rejection({ epsilon: 'abc' }));
  });

  test('empty text is refused for a text option; NaN and Infinity read the same from the command line as from the library', () => {
    assert.equal(rejection({ label: '' }), "Expected a non-empty string for label but received ''");
    assert.equal(rejection({ label: '' }, true), rejection({ label: '' }));
    for (const text of ['NaN', 'Infinity', '-Infinity']) assert.equal(rejection({ epsilon: text }, true), rejection({ epsilon: Number(text) }), text);
    assert.equal(rejection({ minSamples: 'NaN' }, true), 'Expected integer between 1 and 100 for minSamples but received NaN');
  });

  test('numeric text is accepted only from the command line', () => {
    assert.equal(resolveOptions(declarations, { epsilon: '0.3' }, { fromCommandLine: true }).epsilon, 0.3);
    assert.match(rejection({ epsilon: '0.3' }), /received "0.3"/);
  });

  test('unknown keys are an error, not silently ignored', () => {
    assert.equal(rejection({ epsilonn: 0.3 }), 'Unknown option epsilonn; did you mean epsilon?');
    assert.equal(rejection({ mniSamples: 3 }), 'Unknown option mniSamples; did you mean minSamples?');
    assert.match(rejection({ radius: 0.3 }), /^Unknown option radius; known options are epsilon, minSamples/);
  });

  test('anything but an object of options is one clear error, not a TypeError or numbered options', () => {
    assert.equal(rejection(null as unknown as Record<string, unknown>), 'Expected an object for options but received null');
    assert.equal(rejection('fast' as unknown as Record<string, unknown>), 'Expected an object for options but received "fast"');
    assert.equal(rejection([0.3] as unknown as Record<string, unknown>), 'Expected an object for options but received an array of 1');
    assert.equal(rejection(7 as unknown as Record<string, unknown>), 'Expected an object for options but received 7');
    // Left out, the options are all defaults.
    assert.equal(resolveOptions(declarations, undefined).epsilon, 0.2);
  });

  test('frames or seconds', () => {
    assert.deepEqual(parseFramesOrSeconds('15'), { frames: 15 });
    assert.deepEqual(parseFramesOrSeconds('0.6s'), { seconds: 0.6 });
    assert.deepEqual(parseFramesOrSeconds(12), { frames: 12 });
    assert.equal(parseFramesOrSeconds('1.5'), undefined);
    assert.equal(parseFramesOrSeconds('-3'), undefined);
    assert.equal(framesAt({ seconds: 0.6 }, 25), 15);
    assert.equal(framesAt({ frames: 7 }, 25), 7);
    assert.match(rejection({ minSceneLength: 'long' }), /Expected a whole number of frames \(15\) or seconds with an s suffix \(0.6s\) for minSceneLength but received "long"/);
  });
});

describe('yargs flags generated from declarations', () => {
  test('flag names and aliases; --help shows one tag with the range and the default', () => {
    const flags = toYargsOptions(declarations);
    assert.deepEqual(Object.keys(flags), ['epsilon', 'min-samples', 'metric', 'min-scene-len', 'keep', 'label']);
    assert.equal(flags.epsilon.alias, 'e');
    assert.equal(flags.epsilon.type, 'string');
    assert.equal(flags.keep.type, 'boolean');
    assert.equal(flagNameOf('minSamples', declarations.minSamples), 'min-samples');
    assert.equal(flagUsage('epsilon', declarations.epsilon), '-e, --epsilon <number 0..1>');
    assert.equal(flagUsage('metric', declarations.metric), '--metric <cosine|euclidean>');
    assert.equal(flagUsage('minSceneLength', declarations.minSceneLength), '--min-scene-len <frames|Ns>');
    assert.equal(flagUsage('keep', declarations.keep), '--keep');
    assert.equal(flagUsage('report', { type: 'boolean', default: true, description: 'r' }), '--[no-]report');
    assert.equal(flagUsage('output', { type: 'string', alias: 'o', placeholder: 'DIR', description: 'o' }), '-o, --output <DIR>');
    assert.equal(valueTag(declarations.minSamples), '<integer 1..100>');
  });

  test('parsed arguments map back to declaration keys; the last repeated flag wins', () => {
    const values = valuesFromArguments(declarations, { epsilon: ['0.1', '0.4'], 'min-samples': '3', 'min-scene-len': '0.5s' });
    assert.deepEqual(values, { epsilon: '0.4', minSamples: '3', minSceneLength: '0.5s' });
    assert.deepEqual(resolveOptions(declarations, values, { fromCommandLine: true }).minSceneLength, { seconds: 0.5 });
  });
});
