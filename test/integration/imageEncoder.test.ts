import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { PiaggioError } from '../../src/core/errors.js';
import { ImageEncoder } from '../../src/models/ImageEncoder.js';
import { IMAGENET_MEAN, IMAGENET_STD, type ChannelTriple, type RgbImage } from '../../src/models/preprocess.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { sharedModelPath, sharedPath, skipWithoutShared } from '../helpers/shared.js';
import { writeTinyOnnxModel, type TinyModelSpec } from '../helpers/tinyOnnxModel.js';
import { writeDegenerateOnnxModel } from '../helpers/degenerateOnnxModel.js';

const IDENTITY: { mean: ChannelTriple; std: ChannelTriple } = { mean: [0, 0, 0], std: [1, 1, 1] };

function uniform(width: number, height: number, colour: readonly [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let index = 0; index < data.length; index += 3) data.set(colour, index);
  return { data, width, height };
}

/** What the GlobalAveragePool -> Flatten model returns for a uniform colour: the normalised colour, unit length. */
function expectedEmbedding(colour: readonly [number, number, number], mean: ChannelTriple, std: ChannelTriple): number[] {
  const values = colour.map((byte, channel) => (byte / 255 - mean[channel]) / std[channel]);
  const norm = Math.hypot(...values);
  return values.map((value) => value / norm);
}

/** float32 averaging over a whole input plane is accurate to a few units in the sixth decimal. */
function assertClose(actual: ArrayLike<number>, wanted: readonly number[], message?: string): void {
  assert.equal(actual.length, wanted.length, message);
  for (let index = 0; index < wanted.length; index += 1) {
    assert.ok(Math.abs(actual[index] - wanted[index]) < 1e-5, `${message ?? ''} [${index}] ${actual[index]} != ${wanted[index]}`);
  }
}

async function rejectsWithCode(promise: Promise<unknown>, code: string, pattern?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof PiaggioError, `expected a PiaggioError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (pattern) assert.match(error.message, pattern);
    assert.ok(!error.message.includes('\n'), 'one line');
    return true;
  });
}

let directory: ReturnType<typeof makeTemporaryDirectory>;
function model(name: string, spec: TinyModelSpec = {}): string {
  return writeTinyOnnxModel(directory.path, name, spec);
}

before(() => {
  directory = makeTemporaryDirectory('piaggio-encoder-');
});
after(() => directory.remove());

describe('ImageEncoder with generated models', () => {
  test('infers input name and size, output name and length from a bare graph', async () => {
    const encoder = await ImageEncoder.load(model('plain.onnx'));
    try {
      assert.equal(encoder.inputName, 'input');
      assert.equal(encoder.inputSize, 32);
      assert.equal(encoder.outputName, 'embedding');
      assert.equal(encoder.dimensions, 3);
      assert.deepEqual(encoder.mean, IMAGENET_MEAN, 'a bare .onnx gets ImageNet statistics');
      assert.deepEqual(encoder.std, IMAGENET_STD);
    } finally {
      await encoder.release();
    }
  });

  test('embeds a batch of differently sized frames in order, L2-normalised', async () => {
    const encoder = await ImageEncoder.load(model('batch.onnx'), IDENTITY);
    try {
      const colours = [[255, 0, 0], [60, 80, 0], [10, 20, 200]] as const;
      const frames = [uniform(64, 48, colours[0]), uniform(32, 32, colours[1]), uniform(20, 40, colours[2])];
      const embeddings = await encoder.embed(frames);
      assert.equal(embeddings.length, 3);
      embeddings.forEach((embedding, index) => {
        assert.ok(embedding instanceof Float32Array);
        assertClose(embedding, expectedEmbedding(colours[index], IDENTITY.mean, IDENTITY.std), `frame ${index}`);
      });
      assertClose(embeddings[1], [0.6, 0.8, 0]);
      assert.deepEqual(await encoder.embed([]), []);
    } finally {
      await encoder.release();
    }
  });

  test('applies the mean and std it was given', async () => {
    const encoder = await ImageEncoder.load(model('imagenet.onnx'));
    try {
      const colour = [90, 140, 210] as const;
      const [embedding] = await encoder.embed([uniform(40, 40, colour)]);
      assertClose(embedding, expectedEmbedding(colour, IMAGENET_MEAN, IMAGENET_STD));
    } finally {
      await encoder.release();
    }
  });

  test('queues concurrent calls, each getting its own results', async () => {
    const encoder = await ImageEncoder.load(model('queue.onnx'), IDENTITY);
    try {
      const [first, second] = await Promise.all([
        encoder.embed([uniform(32, 32, [255, 0, 0]), uniform(32, 32, [0, 255, 0])]),
        encoder.embed([uniform(32, 32, [0, 0, 255])]),
      ]);
      assertClose(first[0], [1, 0, 0]);
      assertClose(first[1], [0, 1, 0]);
      assertClose(second[0], [0, 0, 1]);
    } finally {
      await encoder.release();
    }
  });

  test('picks the output named like an embedding among several', async () => {
    const encoder = await ImageEncoder.load(model('named.onnx', { outputs: ['logits', 'image_embeds'] }));
    try {
      assert.equal(encoder.outputName, 'image_embeds');
    } finally {
      await encoder.release();
    }
  });

  test('several outputs and none named like an embedding: asks for --model-output; a given name is used or reported missing', async () => {
    const path = model('ambiguous.onnx', { outputs: ['a', 'b'] });
    await rejectsWithCode(ImageEncoder.load(path), 'EMODELOUTPUT', /several outputs \(a, b\).*--model-output/);
    const encoder = await ImageEncoder.load(path, { outputName: 'b', ...IDENTITY });
    try {
      assert.equal(encoder.outputName, 'b');
      assertClose((await encoder.embed([uniform(32, 32, [0, 0, 9])]))[0], [0, 0, 1]);
    } finally {
      await encoder.release();
    }
    await rejectsWithCode(ImageEncoder.load(path, { outputName: 'zzz' }), 'EMODELOUTPUT', /no output named zzz; its outputs are a, b/);
  });

  test('flattens an [N, C, 1, 1] output per item', async () => {
    const encoder = await ImageEncoder.load(model('unflattened.onnx', { flatten: false, outputs: ['features'] }), IDENTITY);
    try {
      assert.equal(encoder.dimensions, 3);
      const [embedding] = await encoder.embed([uniform(32, 32, [0, 30, 40])]);
      assertClose(embedding, [0, 0.6, 0.8]);
    } finally {
      await encoder.release();
    }
  });

  test('a symbolic input size defaults to 224 and can be set; a symbolic output length is measured', async () => {
    const path = model('symbolic.onnx', { inputShape: ['batch', 'channels', 'height', 'width'] });
    const defaulted = await ImageEncoder.load(path);
    try {
      assert.equal(defaulted.inputSize, 224);
      assert.equal(defaulted.dimensions, 3, 'measured by running a blank image');
    } finally {
      await defaulted.release();
    }
    const sized = await ImageEncoder.load(path, { inputSize: 40, ...IDENTITY });
    try {
      assert.equal(sized.inputSize, 40);
      assertClose((await sized.embed([uniform(50, 50, [255, 0, 0])]))[0], [1, 0, 0]);
    } finally {
      await sized.release();
    }
  });

  test('splits batches for a graph with a fixed batch size', async () => {
    const encoder = await ImageEncoder.load(model('fixed-batch.onnx', { inputShape: [2, 3, 32, 32] }), IDENTITY);
    try {
      const colours = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [3, 4, 0], [0, 3, 4]] as const;
      const embeddings = await encoder.embed(colours.map((colour) => uniform(32, 32, colour)));
      assert.equal(embeddings.length, 5);
      embeddings.forEach((embedding, index) => assertClose(embedding, expectedEmbedding(colours[index], IDENTITY.mean, IDENTITY.std), `frame ${index}`));
    } finally {
      await encoder.release();
    }
  });

  test('refuses inputs that are not [N, 3, H, W] images, and a size that contradicts the graph', async () => {
    await rejectsWithCode(ImageEncoder.load(model('nhwc.onnx', { inputShape: ['batch', 32, 32, 3] })), 'EMODELINPUT', /channels last \(NHWC\).*\[N, 3, H, W\]/);
    await rejectsWithCode(ImageEncoder.load(model('flat.onnx', { inputShape: ['batch', 3, 32] })), 'EMODELINPUT', /not 4 dimensions/);
    await rejectsWithCode(ImageEncoder.load(model('fixed.onnx'), { inputSize: 64 }), 'EMODELINPUT', /fixed at 32x32/);
  });

  test('refuses an input larger than it can feed with one line, before any batch is allocated', async () => {
    const tooLarge = /asks for input input of shape .*more than piaggio can feed \(sides up to 2048 pixels, a fixed batch up to 1024 pictures\)/;
    await rejectsWithCode(ImageEncoder.load(model('huge.onnx', { inputShape: ['batch', 3, 100000, 100000] })), 'EMODELINPUT', tooLarge);
    await rejectsWithCode(ImageEncoder.load(model('two-to-31.onnx', { inputShape: ['batch', 3, 2 ** 31, 2 ** 31] })), 'EMODELINPUT', /\[batch, 3, 2147483648, 2147483648\]/);
    await rejectsWithCode(ImageEncoder.load(model('huge-batch.onnx', { inputShape: [2 ** 31, 3, 32, 32] })), 'EMODELINPUT', /\[2147483648, 3, 32, 32\]/);
    await rejectsWithCode(ImageEncoder.load(model('open.onnx', { inputShape: ['batch', 3, 'height', 'width'] }), { inputSize: 100000 }), 'EMODELINPUT', /\[batch, 3, 100000, 100000\]/);
    await rejectsWithCode(ImageEncoder.load(model('empty-side.onnx', { inputShape: ['batch', 3, 0, 0] })), 'EMODELINPUT', /not a square image/);
    const largest = await ImageEncoder.load(model('largest.onnx', { inputShape: ['batch', 3, 2048, 2048] }));
    try {
      assert.equal(largest.inputSize, 2048, 'the largest side is still accepted');
    } finally {
      await largest.release();
    }
  });

  test('a batch whose input tensor cannot be allocated is one line, and the encoder still works after it', async () => {
    const encoder = await ImageEncoder.load(model('open-size.onnx', { inputShape: ['batch', 3, 'height', 'width'] }), { inputSize: 2048, ...IDENTITY });
    try {
      // 1024 x 3 x 2048 x 2048 floats is more than a typed array can hold.
      const tiny = Array.from({ length: 1024 }, () => uniform(1, 1, [1, 2, 3]));
      await rejectsWithCode(encoder.embed(tiny), 'EINFERENCE', /its input tensor \[1024, 3, 2048, 2048\] cannot be allocated \(.+\): lower --batch-size/);
      const [after] = await encoder.embed([uniform(4, 4, [0, 3, 4])]);
      // float32 averaging over four million pixels is accurate to about 1e-4.
      [0, 0.6, 0.8].forEach((wanted, index) => assert.ok(Math.abs(after[index] - wanted) < 1e-3, `[${index}] ${after[index]} != ${wanted}`));
    } finally {
      await encoder.release();
    }
  });

  test('an embedding that is all zeros, NaN or infinite is an error naming the model, not a vector', async () => {
    for (const [output, problem] of [
      ['zero', /gave an embedding that is all zeros \(3 values\)/],
      ['nan', /gave an embedding that holds NaN \(value 0 of 3\)/],
      ['infinity', /gave an embedding that holds Infinity \(value 0 of 3\)/],
    ] as const) {
      const path = writeDegenerateOnnxModel(directory.path, `${output}.onnx`, output);
      const encoder = await ImageEncoder.load(path);
      try {
        assert.equal(encoder.dimensions, 3);
        await rejectsWithCode(encoder.embed([uniform(32, 32, [200, 100, 50])]), 'EEMBEDDING', problem);
        await rejectsWithCode(encoder.embed([uniform(32, 32, [200, 100, 50])]), 'EEMBEDDING', new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} gave`));
      } finally {
        await encoder.release();
      }
    }
  });

  test('a model that gives NaN for some pictures only embeds the others, and fails the batch holding one', async () => {
    const encoder = await ImageEncoder.load(writeDegenerateOnnxModel(directory.path, 'nan-on-dark.onnx', 'nan-on-dark'));
    try {
      const [bright] = await encoder.embed([uniform(32, 32, [250, 240, 230])]);
      assert.ok(bright.every(Number.isFinite));
      assert.ok(Math.abs(Math.hypot(...bright) - 1) < 1e-6, 'unit length');
      await rejectsWithCode(encoder.embed([uniform(32, 32, [250, 240, 230]), uniform(32, 32, [0, 0, 0])]), 'EEMBEDDING', /holds NaN/);
    } finally {
      await encoder.release();
    }
  });

  test('reports a file that is not a model, or is missing, as a load failure naming the path', async () => {
    const garbage = join(directory.path, 'garbage.onnx');
    writeFileSync(garbage, 'this is not protobuf');
    await rejectsWithCode(ImageEncoder.load(garbage), 'EMODELLOAD', new RegExp(`Cannot load the ONNX model ${garbage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    await rejectsWithCode(ImageEncoder.load(join(directory.path, 'absent.onnx')), 'EMODELLOAD', /absent\.onnx/);
  });

  test('release is idempotent and an embed after it is refused', async () => {
    const encoder = await ImageEncoder.load(model('release.onnx'));
    await encoder.release();
    await encoder.release();
    await assert.rejects(encoder.embed([uniform(32, 32, [1, 2, 3])]), /after release/);
  });
});

async function decodeForAnalysis(path: string): Promise<RgbImage> {
  const { data, info } = await sharp(path).rotate().removeAlpha().toColourspace('srgb')
    .resize({ width: 256, height: 256, fit: 'outside', withoutEnlargement: true })
    .raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

function cosine(first: Float32Array, second: Float32Array): number {
  let dot = 0;
  for (let index = 0; index < first.length; index += 1) dot += first[index] * second[index];
  return dot;
}

describe('ImageEncoder with the real MobileNetV2 model', { skip: skipWithoutShared }, () => {
  test('finds input "input" at 224 and the 1280-value "embedding" output, and embeds near-duplicates close together', async () => {
    const encoder = await ImageEncoder.load(sharedModelPath, { mean: IMAGENET_MEAN, std: IMAGENET_STD });
    try {
      assert.equal(encoder.inputName, 'input');
      assert.equal(encoder.inputSize, 224);
      assert.equal(encoder.outputName, 'embedding');
      assert.equal(encoder.dimensions, 1280);
      const images = sharedPath('media', 'images', 'imagededup');
      const frames = await Promise.all([
        decodeForAnalysis(join(images, 'base_images', 'ukbench00120.jpg')),
        decodeForAnalysis(join(images, 'mixed_images', 'ukbench00120_resize.jpg')),
        decodeForAnalysis(join(images, 'base_images', 'ukbench01380.jpg')),
        decodeForAnalysis(join(images, 'base_images', 'ukbench09268.jpg')),
      ]);
      const [original, resized, other, third] = await encoder.embed(frames);
      assert.equal(original.length, 1280);
      assert.ok(Math.abs(Math.hypot(...original) - 1) < 1e-5, 'unit length');
      const duplicate = cosine(original, resized);
      assert.ok(duplicate > 0.75, `near-duplicates: cosine ${duplicate}`);
      for (const [name, value] of [['00120 vs 01380', cosine(original, other)], ['00120 vs 09268', cosine(original, third)], ['01380 vs 09268', cosine(other, third)]] as const) {
        assert.ok(value < 0.7, `${name} are different pictures: cosine ${value}`);
      }
    } finally {
      await encoder.release();
    }
  });
});
