import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DECODE_COSTS, DecodeCostModel, estimateFromPackets, hasCutHint, packetSizeSpikes } from '../../src/operators/kernels/scenes/fastScenePlan.js';

/** A 1080p stream of `gops` GOPs of `length` frames: keyframes of `keyBytes`, other frames of `frameBytes`. */
function stream(gops: number, length: number, keyBytes: number, frameBytes: number): { sizes: Int32Array; keyframes: Int32Array } {
  const sizes = new Int32Array(gops * length).fill(frameBytes);
  const keyframes = Int32Array.from({ length: gops }, (_, gop) => gop * length);
  for (const keyframe of keyframes) sizes[keyframe] = keyBytes;
  return { sizes, keyframes };
}

describe('fastScenePlan', () => {
  test('DecodeCostModel: a frame costs its pixels and its bytes; the full pass adds analysis and transitions to every frame', () => {
    const { sizes, keyframes } = stream(2, 10, 102_400, 1_024);
    const model = new DecodeCostModel(sizes, keyframes, 1000, 1000);
    const frame = DECODE_COSTS.perMegapixel + DECODE_COSTS.perKilobyte;
    const keyframe = DECODE_COSTS.perMegapixel + 100 * DECODE_COSTS.perKilobyte;
    assert.ok(Math.abs(model.decode(1, 3) - 3 * frame) < 1e-9);
    assert.ok(Math.abs(model.decode(0, 0) - keyframe) < 1e-9);
    assert.equal(model.decode(5, 4), 0);
    assert.ok(Math.abs(model.fullPass(0, 19) - (2 * keyframe + 18 * frame + 20 * (DECODE_COSTS.analysis + DECODE_COSTS.transitions))) < 1e-9);
    // The scan decodes and scores the keyframes and only parses the rest.
    assert.ok(Math.abs(model.scan(0, 19) - (2 * (keyframe + DECODE_COSTS.analysis) + 18 * DECODE_COSTS.skippedPacket)) < 1e-9);
    assert.ok(Math.abs(model.scan(1, 9) - 9 * DECODE_COSTS.skippedPacket) < 1e-9);
    assert.ok(Math.abs(model.stretch(0, 9, 4) - (DECODE_COSTS.process + keyframe + 9 * frame + 4 * DECODE_COSTS.analysis)) < 1e-9);
  });

  test('estimateFromPackets: a still talk costs its keyframe scan; cut hints in every GOP cost a full decode and more', () => {
    // A talk: 40 GOPs of 250 frames that change only in a corner (300-byte frames beside a 60 kB keyframe).
    const talk = stream(40, 250, 60_000, 300);
    const talkModel = new DecodeCostModel(talk.sizes, talk.keyframes, 1920, 1080);
    const quiet = estimateFromPackets(talkModel, packetSizeSpikes(talk.sizes, talk.keyframes), talk.keyframes, 2);
    assert.deepEqual({ hinted: quiet.hintedIntervals, frames: quiet.hintedFrames, intervals: quiet.intervals }, { hinted: 0, frames: 0, intervals: 40 });
    assert.ok(quiet.fastCost < 0.05 * quiet.fullCost, `${quiet.fastCost} against ${quiet.fullCost}`);

    // Footage with a cut in every GOP: a frame coded nearly intra in the middle of each.
    const footage = stream(40, 250, 60_000, 3_000);
    for (const keyframe of footage.keyframes) footage.sizes[keyframe + 120] = 50_000;
    const spikes = packetSizeSpikes(footage.sizes, footage.keyframes);
    assert.ok(hasCutHint(spikes, 0, 250));
    assert.ok(!hasCutHint(spikes, 0, 120), 'the hint lies at frame 120, which the open interval (0, 120) excludes');
    const busy = estimateFromPackets(new DecodeCostModel(footage.sizes, footage.keyframes, 1920, 1080), spikes, footage.keyframes, 2);
    assert.deepEqual({ hinted: busy.hintedIntervals, frames: busy.hintedFrames }, { hinted: 40, frames: 10_000 });
    assert.ok(busy.fastCost > busy.fullCost * 0.85, `${busy.fastCost} against ${busy.fullCost}`);
  });
});
