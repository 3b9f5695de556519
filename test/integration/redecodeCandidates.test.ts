import { execFileSync, spawnSync } from 'node:child_process';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lastValueFrom, of, toArray } from 'rxjs';
import { PiaggioError } from '../../src/core/errors.js';
import { ownedFrame, type Candidate } from '../../src/core/frame.js';
import { ImageEncoder } from '../../src/models/ImageEncoder.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../../src/models/preprocess.js';
import { redecodeCandidates, redecodedSize, redecodeSizeFor } from '../../src/operators/redecodeCandidates.js';
import { detailPicturesServe, detailSideBeforeLoading, runKeyframes } from '../../src/pipelines/keyframes.js';
import { detailFilter, detailGeometry, type DetailGeometry } from '../../src/core/detailPicture.js';
import { yuv420pToRgb } from '../../src/operators/kernels/image/yuv420p.js';
import { readNpy } from '../../src/sinks/npy.js';
import { probeVideo, type VideoProbe } from '../../src/sources/probeVideo.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { writeTinyOnnxModel } from '../helpers/tinyOnnxModel.js';

const WIDTH = 1280;
const HEIGHT = 720;
const FRAMES = 40;
const FPS = 2;
/** The analysis frames are 256x144: ffmpeg's `neighbor` keeps source pixel 5x + 2 of every 5, on both axes. */
const isAnalysisSample = (x: number, y: number): boolean => x % 5 === 2 && y % 5 === 2;

/**
 * Luma of frame `n`: the pixels the analysis frame keeps draw one checkerboard in every frame, so
 * the analysis frames are all the same (one scene, nothing technical about them); every other
 * pixel, 24 of 25, is a grey of its own per frame: dark in the first half, bright in the second.
 */
function luma(n: number): Uint8Array {
  const plane = new Uint8Array(WIDTH * HEIGHT);
  const fine = n < FRAMES / 2 ? 20 + n : 190 + n;
  for (let y = 0; y < HEIGHT; y += 1) {
    for (let x = 0; x < WIDTH; x += 1) {
      plane[y * WIDTH + x] = isAnalysisSample(x, y) ? 30 + ((Math.floor(x / 40) + Math.floor(y / 40)) % 2) * 150 : fine;
    }
  }
  return plane;
}

/**
 * A lossless H.264 file of those frames (keyframe every 10), so the fine detail survives encoding
 * exactly; 2 frames a second, so that frames far apart (over DECODE_THROUGH_SECONDS) go to
 * separate ffmpeg runs.
 */
function writeFineDetailVideo(path: string): void {
  const chroma = new Uint8Array((WIDTH / 2) * (HEIGHT / 2) * 2).fill(128);
  const frames = Array.from({ length: FRAMES }, (_, n) => Buffer.concat([luma(n), chroma]));
  execFileSync(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${WIDTH}x${HEIGHT}`, '-r', String(FPS), '-i', 'pipe:0',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-g', '10', path],
    { input: Buffer.concat(frames), stdio: ['pipe', 'ignore', 'pipe'], maxBuffer: 1 << 20 },
  );
}

/** Frame `index` of `video` decoded on its own (selected by number, not time), scaled as the redecoding scales. */
function decodeFrame(video: string, index: number, width: number, height: number): Uint8Array {
  const result = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', video, '-vf', `select=eq(n\\,${index}),scale=${width}:${height}:flags=bicubic,format=rgb24`,
    '-frames:v', '1', '-f', 'rawvideo', 'pipe:1'], { maxBuffer: 64 << 20 });
  assert.equal(result.status, 0, String(result.stderr));
  return new Uint8Array(result.stdout);
}

let directory: ReturnType<typeof makeTemporaryDirectory>;
let video: string;
let model: string;
let probe: VideoProbe;

before(async () => {
  directory = makeTemporaryDirectory('piaggio-redecode-');
  video = join(directory.path, 'fine-detail.mp4');
  writeFineDetailVideo(video);
  probe = await probeVideo(video);
  // Symbolic height and width: the encoder's input (and resize) size is its default, 224.
  model = writeTinyOnnxModel(directory.path, 'pool.onnx', { inputShape: ['batch', 3, 'height', 'width'] });
});
after(() => directory.remove());

describe('redecodeCandidates', () => {
  test('sizes: the model\'s resize side on the shorter side, never enlarged; the size and kernel come from the embedder\'s description', () => {
    assert.deepEqual(redecodedSize(1920, 1080, 224), { width: 398, height: 224 });
    assert.deepEqual(redecodedSize(720, 1280, 256), { width: 256, height: 455 });
    assert.deepEqual(redecodedSize(320, 240, 256), { width: 320, height: 240 });
    assert.deepEqual(redecodeSizeFor({ resizeShorterSide: 256, filter: 'bilinear' }), { shorterSide: 256, filter: 'bilinear' });
    assert.deepEqual(redecodeSizeFor({ embedder: 'phash', hashSize: 8 }), { shorterSide: 256, filter: 'bicubic' });
  });

  test('gives each candidate its own frame, decoded again at the model\'s size, the same bytes as that frame decoded alone (runs near and far apart)', async () => {
    const wanted = [0, 1, 9, 10, 21, 39];
    const analysis = (index: number): Candidate => ({
      frame: ownedFrame({ sourcePath: video, index, time: index / FPS, presentationTime: probe.startTime + index / FPS, width: 256, height: 144 }, new Uint8Array(256 * 144 * 3)),
      scene: 0,
      sharpness: index,
    });
    let released = 0;
    const candidates = wanted.map((index) => {
      const candidate = analysis(index);
      return { ...candidate, frame: { ...candidate.frame, release: () => (released += 1) } };
    });
    let runs = 0;
    const results = await lastValueFrom(of(...candidates).pipe(redecodeCandidates(video, { probe, shorterSide: 224, poolSize: 8, onProcess: () => (runs += 1) }), toArray()));
    assert.equal(released, wanted.length, 'every analysis frame is released');
    // 0, 0.5, 4.5 and 5 s share a run (gaps of at most 4 s); 10.5 s and 19.5 s have one each.
    assert.equal(runs, 3);
    assert.deepEqual(results.map((result) => [result.frame.index, result.scene, result.sharpness]), wanted.map((index) => [index, 0, index]));
    for (const result of results) {
      assert.deepEqual([result.frame.width, result.frame.height], [398, 224]);
      const alone = decodeFrame(video, result.frame.index, 398, 224);
      assert.ok(Buffer.from(result.frame.data).equals(Buffer.from(alone)), `frame ${result.frame.index}: the bytes of that very frame`);
      result.frame.release();
    }
    // The check above can fail: neighbouring frames differ in their fine detail.
    assert.ok(!Buffer.from(decodeFrame(video, 9, 398, 224)).equals(Buffer.from(decodeFrame(video, 10, 398, 224))));
  });

  test('a candidate the video does not have fails with EDECODE naming the frame', async () => {
    const ghost: Candidate = { frame: ownedFrame({ sourcePath: video, index: 500, time: 50, presentationTime: probe.startTime + 50, width: 256, height: 144 }, new Uint8Array(256 * 144 * 3)) };
    await assert.rejects(lastValueFrom(of(ghost).pipe(redecodeCandidates(video, { probe, shorterSide: 224, poolSize: 2 }), toArray())), (error: unknown) => {
      assert.ok(error instanceof PiaggioError);
      assert.equal(error.code, 'EDECODE');
      assert.match(error.message, /frame 500 \(50\.000 s\).*--embed-from analysis/);
      return true;
    });
  });
});

describe('keyframes: candidates embedded from full frames', () => {
  let runs = 0;
  /** A keyframes run, into a folder of its own; `detailEvery` 1 (every frame's own picture) unless given. */
  async function run(embedFrom: 'full' | 'redecode' | 'analysis', runModel = model, detailEvery = 1): Promise<{ frames: number[]; clusters: number[]; vectors: Float32Array[] }> {
    runs += 1;
    const output = join(directory.path, `out-${runs}-${embedFrom}-${detailEvery}-${basename(runModel)}`);
    const saved = join(directory.path, `embeddings-${runs}-${embedFrom}-${detailEvery}-${basename(runModel)}.npy`);
    const { manifest } = await runKeyframes(video, output, { model: runModel, embedFrom, detailEvery, saveEmbeddings: saved, embeddingCache: false, report: false });
    const matrix = await readNpy(saved);
    const vectors = Array.from({ length: matrix.rows }, (_, row) => matrix.vectors.slice(row * matrix.dimensions, (row + 1) * matrix.dimensions));
    return { frames: manifest.items.map((item) => item.frame as number), clusters: manifest.items.map((item) => item.cluster), vectors };
  }

  /** The detail picture of frame `index` as the scene pass makes it (detailFilter), converted to RGB as embedDetailPictures converts it. */
  function detailFrame(index: number, geometry: DetailGeometry): Uint8Array {
    const result = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', video, '-vf', `select=eq(n\\,${index}),${detailFilter(geometry, 'yuv420p')}`,
      '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1'], { maxBuffer: 64 << 20 });
    assert.equal(result.status, 0, String(result.stderr));
    return yuv420pToRgb(new Uint8Array(result.stdout), geometry.width, geometry.height, { matrix: 'bt601', fullRange: false });
  }

  test('frames that differ only in detail the 256x144 analysis frame drops: one cluster from analysis frames, apart from full frames (the scene pass\'s detail pictures, or decoded again), each embedding that of its own frame', async () => {
    const analysis = await run('analysis');
    const full = await run('full');
    const redecoded = await run('redecode');
    for (const other of [full, redecoded]) {
      assert.deepEqual(other.frames, analysis.frames, 'the same candidates');
      assert.notEqual(other.clusters[0], other.clusters[2], 'dark and bright full frames are apart');
    }
    assert.equal(full.frames.length, 3, `start, middle, end of the one scene: ${full.frames.join(', ')}`);
    assert.ok(full.frames[0] < FRAMES / 2 && full.frames[2] >= FRAMES / 2, `a dark and a bright candidate: ${full.frames.join(', ')}`);
    assert.equal(new Set(analysis.clusters).size, 1, 'identical analysis frames: one cluster');

    const encoder = await ImageEncoder.load(model, { mean: IMAGENET_MEAN, std: IMAGENET_STD });
    try {
      // The model file leaves its side open, so the embedder uses 224, and the scene pass decodes centre squares of
      // 226 px (scalerFriendlySide: ffmpeg shrinks to it faster), which the embedder resizes to 224.
      const geometry = detailGeometry(WIDTH, HEIGHT, { shorterSide: await detailSideBeforeLoading({ embedder: 'model', model, modelInputSize: undefined }), centreSquare: true });
      assert.deepEqual(geometry, { width: 226, height: 226, crop: { width: HEIGHT, height: HEIGHT, left: (WIDTH - HEIGHT) / 2, top: 0 } });
      const detail = { width: geometry.width, height: geometry.height };
      const size = redecodedSize(WIDTH, HEIGHT, encoder.preprocessing.resizeShorterSide);
      for (const [item, frame] of full.frames.entries()) {
        const neighbourIndex = frame === 0 ? 1 : frame - 1;
        const [fromDetail] = await encoder.embed([{ data: detailFrame(frame, geometry), ...detail }]);
        assert.deepEqual([...full.vectors[item]], [...fromDetail], `full: candidate ${item} is embedded from frame ${frame}'s detail picture`);
        const [detailNeighbour] = await encoder.embed([{ data: detailFrame(neighbourIndex, geometry), ...detail }]);
        assert.notDeepEqual([...full.vectors[item]], [...detailNeighbour], 'and not from its neighbour\'s');
        const [expected] = await encoder.embed([{ data: decodeFrame(video, frame, size.width, size.height), ...size }]);
        assert.deepEqual([...redecoded.vectors[item]], [...expected], `redecode: candidate ${item} is embedded from frame ${frame}`);
        const [neighbour] = await encoder.embed([{ data: decodeFrame(video, neighbourIndex, size.width, size.height), ...size }]);
        assert.notDeepEqual([...redecoded.vectors[item]], [...neighbour], 'and not from its neighbour');
      }
    } finally {
      await encoder.release();
    }
  });

  test('detailEvery 4: the scene pass scales one frame in 4, and each candidate is embedded from the nearest frame of its scene that has a picture (the 2nd frame from the 1st)', async () => {
    const thinned = await run('full', model, 4);
    const exact = await run('full', model, 1);
    assert.deepEqual(thinned.frames, exact.frames, 'the same candidates');
    assert.equal(thinned.frames[0], 1, 'the start pick is the scene\'s 2nd frame');
    const encoder = await ImageEncoder.load(model, { mean: IMAGENET_MEAN, std: IMAGENET_STD });
    try {
      const geometry = detailGeometry(WIDTH, HEIGHT, { shorterSide: await detailSideBeforeLoading({ embedder: 'model', model, modelInputSize: undefined }), centreSquare: true });
      const embeddingOf = async (frame: number) => [...(await encoder.embed([{ data: detailFrame(frame, geometry), width: geometry.width, height: geometry.height }]))[0]];
      const lenders: number[] = [];
      for (const [item, frame] of thinned.frames.entries()) {
        // Every frame has a grey of its own, so an embedding names the frame it came from.
        let lender: number | undefined;
        for (let distance = 0; distance <= 4 && lender === undefined; distance += 1) {
          for (const other of [frame - distance, frame + distance]) {
            if (lender === undefined && other >= 0 && other < FRAMES && JSON.stringify(await embeddingOf(other)) === JSON.stringify([...thinned.vectors[item]])) lender = other;
          }
        }
        assert.ok(lender !== undefined, `candidate ${item} (frame ${frame}) is embedded from a frame at most 4 away`);
        lenders.push(lender);
      }
      assert.equal(lenders[0], 0, 'frame 1 borrows from frame 0, the first frame a decode gives a picture, 1 away against 3 for frame 4');
      assert.notDeepEqual([...thinned.vectors[0]], [...exact.vectors[0]], 'and so differs from frame 1\'s own');
    } finally {
      await encoder.release();
    }
  });

  test('a model file that wants larger pictures than 256 px: the scene pass decodes them at the side its file states', async () => {
    const large = writeTinyOnnxModel(directory.path, 'pool-320.onnx', { inputShape: ['batch', 3, 320, 320] });
    const full = await run('full', large);
    const encoder = await ImageEncoder.load(large, { mean: IMAGENET_MEAN, std: IMAGENET_STD });
    try {
      assert.equal(encoder.preprocessing.resizeShorterSide, 320);
      const geometry = detailGeometry(WIDTH, HEIGHT, { shorterSide: await detailSideBeforeLoading({ embedder: 'model', model: large, modelInputSize: undefined }), centreSquare: true });
      // 322: the even side from 320 on that ffmpeg shrinks to without its slow AVX2 filter (scalerFriendlySide).
      assert.deepEqual([geometry.width, geometry.height], [322, 322]);
      for (const [item, frame] of full.frames.entries()) {
        const [expected] = await encoder.embed([{ data: detailFrame(frame, geometry), width: 322, height: 322 }]);
        assert.deepEqual([...full.vectors[item]], [...expected], `candidate ${item} is frame ${frame}'s 322-px centre square`);
      }
    } finally {
      await encoder.release();
    }
  });

  test('detail pictures serve a model whose resize is no larger than theirs, or a source no larger than them; otherwise the candidates are decoded again', () => {
    const probe = { width: WIDTH, height: HEIGHT };
    assert.equal(detailPicturesServe(256, 224, probe), true);
    assert.equal(detailPicturesServe(256, 256, probe), true);
    assert.equal(detailPicturesServe(256, 320, probe), false);
    assert.equal(detailPicturesServe(256, 320, { width: 320, height: 200 }), true, 'the source itself is smaller than the detail side');
    assert.equal(detailPicturesServe(undefined, 224, probe), false, 'no detail pictures were decoded');
  });
});
