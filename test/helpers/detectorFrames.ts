import assert from 'node:assert/strict';
import { PiaggioError } from '../../src/core/errors.js';
import type { AnalysisFrame, SceneCutDetector } from '../../src/operators/kernels/scenes/SceneCutDetector.js';

export const FRAME_WIDTH = 32;
export const FRAME_HEIGHT = 24;

/** A solid-colour analysis frame. */
export function solidFrame(index: number, red: number, green: number, blue: number, width = FRAME_WIDTH, height = FRAME_HEIGHT): AnalysisFrame {
  const data = new Uint8Array(width * height * 3);
  for (let offset = 0; offset < data.length; offset += 3) {
    data[offset] = red;
    data[offset + 1] = green;
    data[offset + 2] = blue;
  }
  return { data, width, height, index };
}

/**
 * A deterministic textured frame: pattern `kind` (1, 2, 3, ...) gives clearly different structure
 * and colours; `brightness` scales it towards black (0) or keeps it (1); `shift` moves it right.
 */
export function texturedFrame(index: number, kind: number, brightness = 1, shift = 0, width = FRAME_WIDTH, height = FRAME_HEIGHT): AnalysisFrame {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const u = x - shift;
      const offset = (y * width + x) * 3;
      const wave = Math.sin((u * kind) / 3 + y / (kind + 1)) * Math.cos((y * (4 - (kind % 3))) / 5);
      const checker = ((Math.floor(u / (2 + kind)) + Math.floor(y / (3 + (kind % 2)))) % 2) * 60;
      data[offset] = Math.round(brightness * Math.min(255, Math.max(0, 110 + 90 * wave + checker * (kind % 2))));
      data[offset + 1] = Math.round(brightness * Math.min(255, Math.max(0, 40 * kind + 70 * Math.sin(u / (kind + 2)) + checker)));
      data[offset + 2] = Math.round(brightness * Math.min(255, Math.max(0, 230 - 50 * kind + 25 * wave)));
    }
  }
  return { data, width, height, index };
}

/** Linear mix of two frames' pixels: (1 - alpha) a + alpha b, as a dissolve or a fade makes them. */
export function blendFrames(index: number, a: AnalysisFrame, b: AnalysisFrame, alpha: number): AnalysisFrame {
  const data = new Uint8Array(a.data.length);
  for (let offset = 0; offset < data.length; offset += 1) data[offset] = Math.round((1 - alpha) * a.data[offset] + alpha * b.data[offset]);
  return { data, width: a.width, height: a.height, index };
}

/** Runs a detector over frames; returns the cuts, [cut, frame that reported it] pairs and the scores. */
export function runDetector(detector: SceneCutDetector, frames: readonly AnalysisFrame[]): { cuts: number[]; reports: Array<[number, number]>; scores: number[] } {
  const cuts: number[] = [];
  const reports: Array<[number, number]> = [];
  const scores: number[] = [];
  for (const frame of frames) {
    for (const cut of detector.process(frame)) {
      cuts.push(cut);
      reports.push([cut, frame.index]);
    }
    scores.push(detector.lastScore);
  }
  for (const cut of detector.flush()) {
    cuts.push(cut);
    reports.push([cut, frames.length]);
  }
  return { cuts, reports, scores };
}

/** For assert.throws: a kernel's argument error (EINVALIDARGUMENT, usage exit code) with exactly this message. */
export function argumentErrorWith(message: string): (error: unknown) => boolean {
  return (error) => {
    if (!(error instanceof PiaggioError)) throw new assert.AssertionError({ message: `expected a PiaggioError, got ${String(error)}`, actual: error, expected: message });
    assert.equal(error.code, 'EINVALIDARGUMENT');
    assert.equal(error.exitCode, 2);
    assert.equal(error.message, message);
    return true;
  };
}
