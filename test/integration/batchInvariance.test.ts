import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { ProtobufWriter, modelProto, node, valueInfo } from '../../src/core/onnxProtobuf.js';
import { ImageEncoder } from '../../src/models/ImageEncoder.js';
import { WorkerImageEncoder } from '../../src/models/WorkerImageEncoder.js';
import { batchCouplingOperators, readOnnxNodes, type OnnxNodeUse } from '../../src/models/onnxOperators.js';
import { IMAGENET_MEAN, IMAGENET_STD, type ChannelTriple, type RgbImage } from '../../src/models/preprocess.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { sharedModelPath, sharedPath, skipWithoutShared } from '../helpers/shared.js';
import { writeTinyOnnxModel } from '../helpers/tinyOnnxModel.js';
import { writeBatchMaxOnnxModel, writeDynamicQuantizedOnnxModel } from '../helpers/dynamicQuantizedOnnxModel.js';

const IDENTITY: { mean: ChannelTriple; std: ChannelTriple } = { mean: [0, 0, 0], std: [1, 1, 1] };

function uniform(colour: readonly [number, number, number], side = 32): RgbImage {
  const data = new Uint8Array(side * side * 3);
  for (let index = 0; index < data.length; index += 3) data.set(colour, index);
  return { data, width: side, height: side };
}

/** Dim pictures whose channel ratios a coarse quantisation step changes, and bright ones that coarsen it. */
const PICTURES: RgbImage[] = [
  uniform([10, 23, 37]),
  uniform([250, 250, 250]),
  uniform([3, 7, 12]),
  uniform([120, 40, 200]),
  uniform([15, 60, 33]),
  uniform([240, 5, 90]),
  uniform([8, 9, 31]),
];

/** Embeds `pictures` in consecutive calls of at most `batchSize`, as embedBatches would. */
async function embedInBatches(encoder: { embed(pictures: readonly RgbImage[]): Promise<Float32Array[]> }, pictures: readonly RgbImage[], batchSize: number): Promise<Float32Array[]> {
  const vectors: Float32Array[] = [];
  for (let start = 0; start < pictures.length; start += batchSize) vectors.push(...(await encoder.embed(pictures.slice(start, start + batchSize))));
  return vectors;
}

/** The raw bits of each vector, so that equality is to the last bit (and -0 differs from 0). */
function bits(vectors: readonly Float32Array[]): number[][] {
  return vectors.map((vector) => [...new Uint32Array(vector.buffer, vector.byteOffset, vector.length)]);
}

function differingPictures(first: readonly Float32Array[], second: readonly Float32Array[]): number[] {
  const a = bits(first);
  const b = bits(second);
  return a.flatMap((vector, index) => (vector.every((value, position) => value === b[index][position]) ? [] : [index]));
}

let directory: ReturnType<typeof makeTemporaryDirectory>;
let dynamicModel: string;

before(() => {
  directory = makeTemporaryDirectory('piaggio-batch-invariance-');
  dynamicModel = writeDynamicQuantizedOnnxModel(directory.path, 'dynamic.onnx');
});
after(() => directory.remove());

describe('operators that couple a batch', () => {
  test('reads DynamicQuantizeLinear from a generated dynamically quantized model, and nothing coupled from a plain one', async () => {
    const nodes = await readOnnxNodes(dynamicModel);
    assert.deepEqual(
      nodes.map((entry) => entry.opType),
      ['GlobalAveragePool', 'Flatten', 'DynamicQuantizeLinear', 'Constant', 'Constant', 'MatMulInteger', 'Cast', 'Mul'],
    );
    assert.deepEqual(nodes.find((entry) => entry.opType === 'Cast')?.integers, { to: 1 });
    assert.deepEqual(batchCouplingOperators(nodes), ['DynamicQuantizeLinear']);
    assert.deepEqual(batchCouplingOperators(await readOnnxNodes(writeTinyOnnxModel(directory.path, 'plain.onnx'))), []);
  });

  test('finds coupling operators inside a control-flow subgraph, fused ones by domain, and batch normalisation only in training mode', async () => {
    const branch = new ProtobufWriter();
    branch.message(1, node('DynamicQuantizeLinear', ['x'], ['q', 's', 'z'], 'inner_quantize'));
    branch.string(2, 'then_branch');
    const attribute = new ProtobufWriter().string(1, 'then_branch').message(6, branch).integer(20, 5);
    const ifNode = node('If', ['condition'], ['out'], 'branching').message(5, attribute);
    const graph = new ProtobufWriter().message(1, ifNode).string(2, 'outer');
    graph.message(11, valueInfo('condition', [1], 9));
    graph.message(12, valueInfo('out', ['n']));
    const path = join(directory.path, 'subgraph.onnx');
    writeFileSync(path, modelProto(graph, 'piaggio-test'));
    const nodes = await readOnnxNodes(path);
    assert.deepEqual(nodes.map((entry) => entry.opType), ['If', 'DynamicQuantizeLinear']);
    assert.deepEqual(batchCouplingOperators(nodes), ['DynamicQuantizeLinear']);

    const made = (opType: string, domain = '', integers: Record<string, number> = {}): OnnxNodeUse => ({ opType, domain, name: opType, integers });
    assert.deepEqual(
      batchCouplingOperators([
        made('DynamicQuantizeMatMul', 'com.microsoft'),
        made('DynamicQuantizeMatMul'),
        made('BatchNormalization'),
        made('BatchNormalization', '', { training_mode: 0 }),
        made('QLinearConv'),
        made('MatMulInteger'),
      ]),
      ['com.microsoft.DynamicQuantizeMatMul'],
    );
    assert.deepEqual(batchCouplingOperators([made('BatchNormalization', '', { training_mode: 1 })]), ['BatchNormalization']);
  });

  test('a file that is not an ONNX model is refused', async () => {
    const path = join(directory.path, 'not-a-model.onnx');
    writeFileSync(path, 'this is text, not protobuf\n');
    await assert.rejects(readOnnxNodes(path));
  });
});

describe('ImageEncoder batch invariance with a dynamically quantized model', () => {
  test('batched anyway, a picture\'s embedding changes with the batch it shares (the bug this guards against)', async () => {
    const encoder = await ImageEncoder.load(dynamicModel, { ...IDENTITY, perPicture: false });
    try {
      assert.equal(encoder.perPicture, false);
      const alone = await embedInBatches(encoder, PICTURES, 1);
      const together = await embedInBatches(encoder, PICTURES, PICTURES.length);
      const differing = differingPictures(alone, together);
      assert.ok(differing.includes(0), `the dim picture 0 must change beside the bright picture 1; differing: ${differing.join(', ')}`);
    } finally {
      await encoder.release();
    }
  });

  test('by default it runs one picture per call, and embeddings are bit-identical for batch sizes 1, 3 and 7 and for any order', async () => {
    const encoder = await ImageEncoder.load(dynamicModel, IDENTITY);
    try {
      assert.equal(encoder.perPicture, true);
      assert.match(encoder.batchDependence ?? '', /DynamicQuantizeLinear/);
      const one = await embedInBatches(encoder, PICTURES, 1);
      for (const batchSize of [3, PICTURES.length]) {
        assert.deepEqual(differingPictures(one, await embedInBatches(encoder, PICTURES, batchSize)), [], `batch size ${batchSize}`);
      }
      const reversed = await embedInBatches(encoder, [...PICTURES].reverse(), 4);
      assert.deepEqual(differingPictures(one, reversed.reverse()), [], 'reversed order');
      // What the model computes for one picture alone: the per-picture path is that, not something else.
      const reference = await ImageEncoder.load(dynamicModel, { ...IDENTITY, perPicture: false });
      try {
        assert.deepEqual(differingPictures(one, await embedInBatches(reference, PICTURES, 1)), []);
      } finally {
        await reference.release();
      }
    } finally {
      await encoder.release();
    }
  });

  test('a graph with a fixed batch of 4 gets its unused slots zeroed, so an earlier call\'s pictures do not leak into a later one', async () => {
    const fixed = writeDynamicQuantizedOnnxModel(directory.path, 'dynamic-fixed.onnx', 4);
    const fresh = await ImageEncoder.load(fixed, IDENTITY);
    const used = await ImageEncoder.load(fixed, IDENTITY);
    try {
      assert.equal(fresh.perPicture, true);
      const [expected] = await fresh.embed([PICTURES[0]]);
      await used.embed([PICTURES[1], PICTURES[5], PICTURES[3], PICTURES[2]]);
      const [actual] = await used.embed([PICTURES[0]]);
      assert.deepEqual(bits([actual]), bits([expected]));
    } finally {
      await fresh.release();
      await used.release();
    }
  });

  test('a batch-coupled graph without a listed operator is caught by the check at load', async () => {
    const model = writeBatchMaxOnnxModel(directory.path, 'batch-max.onnx');
    assert.deepEqual(batchCouplingOperators(await readOnnxNodes(model)), [], 'ReduceMax is not listed');
    const coupled = await ImageEncoder.load(model, { ...IDENTITY, perPicture: false });
    const encoder = await ImageEncoder.load(model, IDENTITY);
    try {
      assert.notDeepEqual(differingPictures(await embedInBatches(coupled, PICTURES, 1), await embedInBatches(coupled, PICTURES, 7)), [], 'the model is coupled');
      assert.equal(encoder.perPicture, true);
      assert.match(encoder.batchDependence ?? '', /changed when other pictures shared its batch/);
      assert.deepEqual(differingPictures(await embedInBatches(encoder, PICTURES, 1), await embedInBatches(encoder, PICTURES, 7)), []);
    } finally {
      await coupled.release();
      await encoder.release();
    }
  });

  test('a model that computes each picture alone stays batched', async () => {
    const encoder = await ImageEncoder.load(writeTinyOnnxModel(directory.path, 'pool.onnx'), IDENTITY);
    try {
      assert.equal(encoder.perPicture, false);
      assert.equal(encoder.batchDependence, undefined);
    } finally {
      await encoder.release();
    }
  });
});

describe('WorkerImageEncoder batch invariance', () => {
  test('says once that it embeds one picture per call, records it, and gives the same bits for any request size and worker', async () => {
    const notices: string[] = [];
    const encoder = await WorkerImageEncoder.load(dynamicModel, { ...IDENTITY, device: 'cpu', workers: 2, onNotice: (text) => notices.push(text) });
    try {
      assert.equal(notices.length, 1, notices.join('\n'));
      assert.match(notices[0], /DynamicQuantizeLinear over the whole batch, so pictures are embedded one per model call/);
      assert.equal(encoder.describe().perPicture, true);
      assert.match(String(encoder.describe().batchDependence), /DynamicQuantizeLinear/);
      assert.match(encoder.fingerprint, /"perPicture":true/);
      const one = await embedInBatches(encoder, PICTURES, 1);
      const all = await encoder.embed(PICTURES);
      const split = (await Promise.all([encoder.embed(PICTURES.slice(0, 3)), encoder.embed(PICTURES.slice(3))])).flat();
      assert.deepEqual(differingPictures(one, all), []);
      assert.deepEqual(differingPictures(one, split), []);
    } finally {
      await encoder.release();
    }
  });

  test('a batched model gives no notice and keeps its fingerprint', async () => {
    const notices: string[] = [];
    const encoder = await WorkerImageEncoder.load(writeTinyOnnxModel(directory.path, 'pool-worker.onnx'), { ...IDENTITY, device: 'cpu', onNotice: (text) => notices.push(text) });
    try {
      assert.deepEqual(notices, []);
      assert.equal(encoder.describe().perPicture, undefined);
      assert.doesNotMatch(encoder.fingerprint, /perPicture/);
    } finally {
      await encoder.release();
    }
  });
});

async function decodeForAnalysis(path: string): Promise<RgbImage> {
  const { data, info } = await sharp(path).rotate().removeAlpha().toColourspace('srgb')
    .resize({ width: 256, height: 256, fit: 'outside', withoutEnlargement: true })
    .raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

describe('batch invariance of the real MobileNetV2 int8 model', { skip: skipWithoutShared }, () => {
  let pictures: RgbImage[] = [];
  before(async () => {
    const folder = sharedPath('media', 'images', 'imagededup', 'base_images');
    pictures = await Promise.all(readdirSync(folder).sort().slice(0, 10).map((name) => decodeForAnalysis(join(folder, name))));
  });

  test('statically quantized: batched, and 10 pictures embed to the same bits with batch sizes 1, 3 and 16', async () => {
    assert.equal(pictures.length, 10);
    assert.deepEqual(batchCouplingOperators(await readOnnxNodes(sharedModelPath)), []);
    const encoder = await ImageEncoder.load(sharedModelPath, { mean: IMAGENET_MEAN, std: IMAGENET_STD });
    try {
      assert.equal(encoder.perPicture, false, encoder.batchDependence);
      const one = await embedInBatches(encoder, pictures, 1);
      assert.deepEqual(differingPictures(one, await embedInBatches(encoder, pictures, 3)), [], 'batch size 3');
      assert.deepEqual(differingPictures(one, await embedInBatches(encoder, pictures, 16)), [], 'batch size 16');
    } finally {
      await encoder.release();
    }
  });

  test('the worker-thread encoder, with 1 and 2 onnxruntime threads, gives those same bits', async () => {
    const local = await ImageEncoder.load(sharedModelPath, { mean: IMAGENET_MEAN, std: IMAGENET_STD });
    const expected = await embedInBatches(local, pictures, 1);
    await local.release();
    for (const intraOpThreads of [1, 2]) {
      const encoder = await WorkerImageEncoder.load(sharedModelPath, { mean: IMAGENET_MEAN, std: IMAGENET_STD, device: 'cpu', intraOpThreads });
      try {
        assert.equal(encoder.describe().perPicture, undefined);
        for (const batchSize of [1, 3, 16]) {
          assert.deepEqual(differingPictures(expected, await embedInBatches(encoder, pictures, batchSize)), [], `${intraOpThreads} threads, batch size ${batchSize}`);
        }
      } finally {
        await encoder.release();
      }
    }
  });
});
