import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cellDistance,
  emptySketch,
  histogramDistance,
  PictureSketcher,
  SKETCH_BINS,
  SKETCH_CELLS,
  solidColour,
  structureDistance,
  type PictureSketch,
} from '../../src/operators/kernels/scenes/PictureSketch.js';
import type { AnalysisFrame } from '../../src/operators/kernels/scenes/SceneCutDetector.js';
import { messages } from '../../src/core/messages.js';
import { argumentErrorWith, solidFrame, texturedFrame } from '../helpers/detectorFrames.js';

function sketchOf(frame: AnalysisFrame): PictureSketch {
  const sketch = emptySketch();
  new PictureSketcher().sketch(frame, sketch);
  return sketch;
}

describe('PictureSketch', () => {
  test('a solid frame: every cell its colour, one histogram bin per channel, no structure', () => {
    const sketch = sketchOf(solidFrame(0, 200, 100, 20, 64, 36));
    assert.equal(sketch.cells.length, SKETCH_CELLS * 3);
    for (let cell = 0; cell < SKETCH_CELLS; cell += 1) assert.deepEqual([...sketch.cells.subarray(cell * 3, cell * 3 + 3)], [200, 100, 20]);
    assert.equal(sketch.histogram[200 >> 4], 1);
    assert.equal(sketch.histogram[SKETCH_BINS + (100 >> 4)], 1);
    assert.equal(sketch.histogram[2 * SKETCH_BINS + (20 >> 4)], 1);
    assert.equal(sketch.histogram.reduce((sum, value) => sum + value, 0), 3);
    // Zero but for rounding: the cell lumas are all the same.
    assert.ok(sketch.structure.every((value) => Math.abs(value) < 1e-9));
    assert.ok(sketch.lumaSpread < 1e-9);
    assert.ok(Math.abs(sketch.meanLuma - (0.299 * 200 + 0.587 * 100 + 0.114 * 20)) < 1e-9);
  });

  test('cells are the mean of their pixels, also where the width is no multiple of 16', () => {
    // 40 x 18: left 20 columns red, the rest blue; cells 0..7 take columns 0..19 (2.5 per cell).
    const width = 40;
    const height = 18;
    const data = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y += 1) for (let x = 0; x < width; x += 1) data.set(x < 20 ? [255, 0, 0] : [0, 0, 255], (y * width + x) * 3);
    const sketch = sketchOf({ data, width, height, index: 0 });
    for (let column = 0; column < 16; column += 1) {
      const red = sketch.cells[column * 3];
      assert.equal(red, column < 8 ? 255 : 0, `column ${column}`);
    }
    // Half the cells at red's luma, half at blue's: the spread is half their difference.
    assert.ok(Math.abs(sketch.lumaSpread - (0.299 * 255 - 0.114 * 255) / 2) < 1e-9, `spread ${sketch.lumaSpread}`);
  });

  test('distances: 0 for the same picture; brightness changes the cells and colours but hardly the structure', () => {
    const picture = sketchOf(texturedFrame(0, 1, 1, 0, 64, 36));
    const darker = sketchOf(texturedFrame(1, 1, 0.6, 0, 64, 36));
    const other = sketchOf(texturedFrame(2, 3, 1, 0, 64, 36));
    assert.equal(cellDistance(picture, picture), 0);
    assert.equal(histogramDistance(picture, picture), 0);
    assert.equal(structureDistance(picture, picture), 0);
    assert.ok(cellDistance(picture, darker) > 20, `cells ${cellDistance(picture, darker)}`);
    assert.ok(histogramDistance(picture, darker) > 0.3, `colours ${histogramDistance(picture, darker)}`);
    assert.ok(structureDistance(picture, darker) < 0.1, `structure ${structureDistance(picture, darker)}`);
    assert.ok(structureDistance(picture, other) > 0.5, `structure of another picture ${structureDistance(picture, other)}`);
  });

  test('solid black and white (and nearly black) are told from pictures and from grey', () => {
    assert.equal(solidColour(sketchOf(solidFrame(0, 5, 5, 5))), 'black');
    assert.equal(solidColour(sketchOf(solidFrame(0, 250, 250, 250))), 'white');
    assert.equal(solidColour(sketchOf(solidFrame(0, 128, 128, 128))), undefined);
    assert.equal(solidColour(sketchOf(texturedFrame(0, 2))), undefined, 'a picture');
    // At a tenth of its light a picture is as good as black: the last frames of a fade out.
    assert.equal(solidColour(sketchOf(texturedFrame(0, 2, 0.1))), 'black');
  });

  test('a frame smaller than the grid: every cell reads a pixel (a white 9x16 frame is white)', () => {
    const white = sketchOf(solidFrame(0, 255, 255, 255, 9, 16));
    assert.ok(white.cells.every((value) => value === 255));
    assert.equal(solidColour(white), 'white');
    assert.ok(white.lumaSpread < 1e-9);
  });

  test('refuses a frame whose data is too short for its size', () => {
    assert.throws(() => sketchOf({ data: new Uint8Array(10), width: 4, height: 4, index: 3 }), argumentErrorWith(messages.frameDataTooShort('PictureSketcher', 3, 4, 4, 48, 10)));
  });
});
