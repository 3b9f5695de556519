import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { Preprocessor, type ChannelTriple, type RgbImage } from '../../src/models/preprocess.js';
import type { ResampleFilter } from '../../src/models/resample.js';

/**
 * Compares piaggio's preprocessing with tensors computed independently by Pillow and numpy
 * (test/fixtures/preprocess/generate.py, which documents both recipes).
 *
 * Tolerances: the resized and cropped pixels must be identical byte for byte (piaggio reimplements
 * Pillow's fixed-point resampler, so there is nothing to tolerate; sharp's cubic kernel, used before,
 * differed from Pillow's bicubic by up to 113 levels, 7.8 on average, on the block images). The
 * normalised floats may differ by 2e-6: numpy rounds to float32 after each of its three operations
 * (divide by 255, subtract the mean, divide by the std), piaggio computes in float64 and rounds once;
 * values reach about 2.7, where one float32 step is 2.4e-7.
 */

const FLOAT_TOLERANCE = 2e-6;
const fixtures = fileURLToPath(new URL('../fixtures/preprocess/', import.meta.url));

interface Recipe {
  readonly resize: number;
  readonly crop: number;
  readonly filter: ResampleFilter;
  readonly mean: ChannelTriple;
  readonly std: ChannelTriple;
}

interface ReferenceOutput {
  readonly file: string;
  readonly resized: [number, number];
  readonly crop: [number, number];
  readonly tensorShape: [number, number, number];
  readonly channelSums: [number, number, number];
  readonly samples: [number, number, number, number][];
}

interface Reference {
  readonly pillow: string;
  readonly recipes: Record<string, Recipe>;
  readonly images: { name: string; file: string; width: number; height: number; outputs: Record<string, ReferenceOutput> }[];
}

const reference = JSON.parse(readFileSync(`${fixtures}reference.json`, 'utf8')) as Reference;

async function decodePng(file: string): Promise<RgbImage> {
  const { data, info } = await sharp(`${fixtures}${file}`).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

describe(`preprocessing against Pillow ${reference.pillow} + numpy reference tensors`, () => {
  test('the fixtures cover both recipes, downscaling, upscaling and a crop offset of exactly .5', () => {
    assert.deepEqual(Object.keys(reference.recipes).sort(), ['clip', 'imagenet']);
    assert.ok(reference.images.length >= 5);
    const shrinks = reference.images.some((image) => Math.min(image.width, image.height) > 2 * 256);
    const grows = reference.images.some((image) => Math.min(image.width, image.height) < 224);
    assert.ok(shrinks && grows);
    assert.ok(reference.images.some((image) => image.outputs.clip.resized[1] === 301), 'a 224x301 picture is only cropped, at offset 38.5');
  });

  for (const image of reference.images) {
    for (const [recipeName, recipe] of Object.entries(reference.recipes)) {
      test(`${image.name}, ${recipeName}: same geometry, identical pixels, tensor within ${FLOAT_TOLERANCE}`, async () => {
        const expected = image.outputs[recipeName];
        const source = await decodePng(image.file);
        assert.deepEqual([source.width, source.height], [image.width, image.height]);
        const preprocessor = new Preprocessor({ size: recipe.crop, resizeShorterSide: recipe.resize, filter: recipe.filter, mean: recipe.mean, std: recipe.std });

        const geometry = preprocessor.geometry(source.width, source.height);
        assert.deepEqual([geometry.resizedWidth, geometry.resizedHeight], expected.resized, 'resized size');
        assert.deepEqual([geometry.left, geometry.top], expected.crop, 'crop offset');

        const pixels = preprocessor.resizedPixels(source);
        const wanted = await decodePng(expected.file);
        assert.equal(pixels.length, wanted.data.length);
        let differing = 0;
        for (let index = 0; index < pixels.length; index += 1) if (pixels[index] !== wanted.data[index]) differing += 1;
        assert.equal(differing, 0, `${differing} of ${pixels.length} bytes differ from Pillow's`);

        const [channels, height, width] = expected.tensorShape;
        const plane = height * width;
        const tensor = new Float32Array(channels * plane);
        preprocessor.writeInto(source, tensor, 0);
        for (const [channel, y, x, value] of expected.samples) {
          const actual = tensor[channel * plane + y * width + x];
          assert.ok(Math.abs(actual - value) <= FLOAT_TOLERANCE, `tensor[${channel}, ${y}, ${x}] = ${actual}, numpy ${value}`);
        }
        for (let channel = 0; channel < 3; channel += 1) {
          let sum = 0;
          for (let index = channel * plane; index < (channel + 1) * plane; index += 1) sum += tensor[index];
          assert.ok(Math.abs(sum - expected.channelSums[channel]) <= FLOAT_TOLERANCE * plane, `channel ${channel} sums to ${sum}, numpy ${expected.channelSums[channel]}`);
        }
      });
    }
  }
});
