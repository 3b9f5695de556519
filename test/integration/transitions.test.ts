import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom, tap } from 'rxjs';
import { fromVideo } from '../../src/sources/fromVideo.js';
import { createSceneCutDetector, detectSceneCuts, type DetectSceneCutsOptions, type SceneTransition } from '../../src/operators/detectSceneCuts.js';
import { detectScenes } from '../../src/pipelines/scenes.js';
import { runPiaggio } from '../helpers/runPiaggio.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';

/**
 * A 430-frame video made with ffmpeg lavfi (25 fps, 320x240, lossless H.264 so every ffmpeg gives
 * the same pixels), with every kind of event at known frames:
 *
 *   0   testsrc2                      hard cut at 40
 *   40  mandelbrot, fading to black over 76..99 (ffmpeg fade: 99 is the last darkened frame)
 *   100 black (25 frames)
 *   125 smptehdbars fading in from black over 126..149
 *   165 dissolve (xfade) to colorchart over 166..194; ONE WHITE FRAME at 220
 *   245 rgbtestsrc (hard cut), fading to white over 281..304
 *   305 white (25 frames)
 *   330 testsrc fading in from white over 331..354; ONE RED FRAME at 375
 *   390 testsrc2 (hard cut) to the end, 429
 */
const HARD_CUTS = [40, 245, 390];
const FLASHES = [220, 375];
const FPS = 25;

function generateEventsVideo(path: string): void {
  const source = (expression: string) => ['-f', 'lavfi', '-i', `${expression}${expression.includes('=') ? ':' : '='}size=320x240:rate=${FPS}`];
  const plain = 'setpts=PTS-STARTPTS,format=yuv420p,setsar=1';
  const filter = [
    `[0:v]trim=end_frame=40,${plain}[a]`,
    `[1:v]trim=end_frame=60,${plain},fade=t=out:s=35:n=25[b]`,
    `[2:v]trim=end_frame=25,${plain}[k]`,
    `[3:v]trim=end_frame=70,${plain},fade=t=in:s=0:n=25[c]`,
    `[4:v]scale=320:240,trim=end_frame=80,${plain}[d]`,
    `[c][d]xfade=transition=fade:duration=1.2:offset=1.6,drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='eq(n,95)'[cd]`,
    `[5:v]trim=end_frame=60,${plain},fade=t=out:s=35:n=25:color=white[e]`,
    `[6:v]trim=end_frame=25,${plain}[w]`,
    `[7:v]trim=end_frame=60,${plain},fade=t=in:s=0:n=25:color=white,drawbox=x=0:y=0:w=iw:h=ih:color=red:t=fill:enable='eq(n,45)'[f]`,
    `[8:v]trim=end_frame=40,${plain}[g]`,
    '[a][b][k][cd][e][w][f][g]concat=n=8:v=1:a=0[out]',
  ].join(';');
  execFileSync(
    'ffmpeg',
    [
      '-hide_banner', '-loglevel', 'error', '-y',
      ...source('testsrc2'), ...source('mandelbrot'), ...source('color=black'), ...source('smptehdbars'),
      '-f', 'lavfi', '-i', `colorchart=rate=${FPS}`,
      ...source('rgbtestsrc'), ...source('color=white'), ...source('testsrc'), ...source('testsrc2'),
      '-filter_complex', filter, '-map', '[out]', '-c:v', 'libx264', '-qp', '0', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', path,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}

const temporary = makeTemporaryDirectory();
const videoPath = join(temporary.path, 'events.mp4');
before(() => generateEventsVideo(videoPath));
after(() => temporary.remove());

/** Decodes the video once with fromVideo, runs one kernel per entry, and the operator with transitions. */
async function analyse(runs: Record<string, DetectSceneCutsOptions>, operatorOptions: DetectSceneCutsOptions = { detector: 'content' }) {
  const detectors = Object.entries(runs).map(([name, options]) => ({ name, detector: createSceneCutDetector({ ...options, fps: FPS }), cuts: [] as number[] }));
  const transitions: SceneTransition[] = [];
  const operatorCuts: number[] = [];
  let frames = 0;
  await lastValueFrom(
    fromVideo(videoPath).pipe(
      tap((frame) => {
        for (const entry of detectors) entry.cuts.push(...entry.detector.process(frame));
      }),
      detectSceneCuts({ ...operatorOptions, fps: FPS, onTransition: (transition) => transitions.push(transition) }),
      tap((sceneFrame) => {
        if (sceneFrame.isSceneStart && sceneFrame.frame.index > 0) operatorCuts.push(sceneFrame.frame.index);
        frames += 1;
        sceneFrame.frame.release();
      }),
    ),
  );
  const cuts: Record<string, number[]> = {};
  for (const entry of detectors) cuts[entry.name] = [...entry.cuts, ...entry.detector.flush()];
  return { cuts, transitions, frames, operatorCuts };
}

describe('gradual transitions, hard cuts and flashes on a generated video', () => {
  test('each detector reports what it is meant to, and none of the flashes', async () => {
    const { cuts, frames } = await analyse({
      content: { detector: 'content' },
      adaptive: { detector: 'adaptive' },
      threshold: { detector: 'threshold' },
      ceiling: { detector: 'threshold', thresholdMethod: 'ceiling', threshold: 243 },
      histogram: { detector: 'histogram' },
      hash: { detector: 'hash' },
      contentWithoutFlashCheck: { detector: 'content', flashLength: 0 },
      ceilingWithoutFlashCheck: { detector: 'threshold', thresholdMethod: 'ceiling', threshold: 243, flashLength: 0 },
    });
    assert.equal(frames, 430);
    for (const [name, list] of Object.entries(cuts)) {
      if (name.endsWith('WithoutFlashCheck')) continue;
      for (const flash of FLASHES) assert.ok(!list.includes(flash) && !list.includes(flash + 1), `${name} cut at the flash ${flash}: ${list}`);
    }
    // content: the hard cuts, plus the first all-black frame after the fade-out (100) and the first
    // frame out of black (126). Hue and saturation jump there, because dark pixels keep their colour
    // until they are black (PySceneDetect's cut at 394 in testvideo.mp4 is such a frame). Fades to
    // and from white and the dissolve change too little per frame.
    assert.deepEqual(cuts.content, [40, 100, 126, 245, 390]);
    // adaptive: as content, plus the same jumps at white (305, 331), which stand out against quiet neighbours.
    assert.deepEqual(cuts.adaptive, [40, 100, 126, 245, 305, 331, 390]);
    // threshold: brightness only, so no hard cut; one cut halfway through the black, (100 + 126) / 2.
    assert.deepEqual(cuts.threshold, [113]);
    // ceiling at 243: halfway through the white, (305 + 331) / 2.
    assert.deepEqual(cuts.ceiling, [318]);
    // histogram: hard cuts, and every gradual transition as a cut every 15 frames while it lasts.
    assert.deepEqual(cuts.histogram, [40, 76, 91, 126, 141, 166, 181, 245, 281, 296, 331, 346, 390]);
    // hash: hard cuts, black onset and end (a black frame hashes to all zeros), the end of white,
    // and one cut late in the fade to white, where the washed-out picture's hash turns to noise.
    const inFadeToWhite = cuts.hash.filter((cut) => cut > 281 && cut < 305);
    assert.equal(inFadeToWhite.length, 1, `hash: ${cuts.hash}`);
    assert.deepEqual(cuts.hash.filter((cut) => cut <= 281 || cut >= 305), [40, 100, 126, 245, 331, 390]);
    for (const cut of HARD_CUTS) for (const name of ['content', 'adaptive', 'histogram', 'hash']) assert.ok(cuts[name].includes(cut), `${name} finds ${cut}`);
    // Without the flash check (PySceneDetect's behaviour) both flashes are cuts, and the red one
    // even takes the real cut at 390 with it: 376 (back from red) starts a merge that 390, 14
    // frames later, only extends, and the video ends before the merge is let out.
    assert.deepEqual(cuts.contentWithoutFlashCheck, [40, 100, 126, 220, 245, 375]);
    assert.deepEqual(cuts.ceilingWithoutFlashCheck, [220, 318]);
  });

  test('with the combined detector (the default): cuts at the hard cuts only, every transition a typed span, no flash', async () => {
    const { transitions, operatorCuts, cuts } = await analyse({ combined: {} }, {});
    // 100 and 126 are where the fade reaches black and leaves it: hard steps, as content finds them.
    assert.deepEqual(operatorCuts, [40, 100, 126, 245, 390]);
    assert.deepEqual(cuts.combined, operatorCuts, 'the kernel alone cuts where the operator does');
    const at = (frame: number) => frame / FPS;
    // Fade out, black, fade in: one transition through black (the flash check keeps 220 and 375 out).
    // The dissolve's ends are narrowed to the frames that make 95% of its change.
    assert.deepEqual(transitions, [
      { type: 'fade', startFrame: 76, endFrame: 149, startTime: at(76), endTime: at(149), colour: 'black' },
      { type: 'dissolve', startFrame: 169, endFrame: 191, startTime: at(169), endTime: at(191) },
      { type: 'fade', startFrame: 281, endFrame: 355, startTime: at(281), endTime: at(355), colour: 'white' },
    ]);
  });

  test('fades to and from black and white and the dissolve come out as spans, the flashes do not', async () => {
    const { transitions } = await analyse({});
    const at = (frame: number) => frame / FPS;
    assert.deepEqual(transitions, [
      { type: 'fade-out', startFrame: 76, endFrame: 100, startTime: at(76), endTime: at(100), colour: 'black' },
      { type: 'fade-in', startFrame: 126, endFrame: 150, startTime: at(126), endTime: at(150), colour: 'black' },
      { type: 'dissolve', startFrame: 166, endFrame: 195, startTime: at(166), endTime: at(195) },
      { type: 'fade-out', startFrame: 281, endFrame: 305, startTime: at(281), endTime: at(305), colour: 'white' },
      { type: 'fade-in', startFrame: 331, endFrame: 355, startTime: at(331), endTime: at(355), colour: 'white' },
    ]);
  });

  test('piaggio scenes --json reports cuts, scenes and transitions; --stats writes one row per frame', async () => {
    const statsPath = join(temporary.path, 'threshold-stats.csv');
    const result = await runPiaggio(['scenes', videoPath, '--json', '--detector', 'threshold', '--stats', statsPath]);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.deepEqual(report.cuts, [113]);
    assert.equal(report.detector, 'threshold');
    assert.equal(report.threshold, 12);
    assert.deepEqual(report.scenes.map((scene: { startFrame: number }) => scene.startFrame), [0, 113]);
    assert.deepEqual(report.transitions.map((span: SceneTransition) => `${span.type} ${span.startFrame}-${span.endFrame}`), [
      'fade-out 76-100', 'fade-in 126-150', 'dissolve 166-195', 'fade-out 281-305', 'fade-in 331-355',
    ]);
    assert.equal(report.stats, statsPath);
    const lines = readFileSync(statsPath, 'utf8').trimEnd().split('\n');
    assert.equal(lines[0], 'Frame Number,Timecode,average_rgb');
    assert.equal(lines.length, 431);
    assert.match(lines[101], /^101,00:00:04\.000,0\.0$/, 'frame 100 is black, at 4 s');
    const noTransitions = await runPiaggio(['scenes', videoPath, '--json', '--no-transitions', '--detector', 'hash', '--flash-length', '0']);
    const hashReport = JSON.parse(noTransitions.stdout);
    assert.deepEqual(hashReport.transitions, []);
    assert.ok(hashReport.cuts.includes(220), 'flash check off: the white flash is a cut');
  });

  test('a run that fails or is interrupted leaves no stats file, not even a temporary one', async () => {
    const statsPath = join(temporary.path, 'interrupted.csv');
    const controller = new AbortController();
    await assert.rejects(
      detectScenes(videoPath, { stats: statsPath, detector: 'content' }, {
        signal: controller.signal,
        onMetrics: (frame) => {
          if (frame === 200) controller.abort('SIGINT');
        },
      }),
      /Interrupted by SIGINT/,
    );
    assert.equal(existsSync(statsPath), false);
    assert.deepEqual(readdirSync(temporary.path).filter((name) => name.includes('interrupted')), []);
  });
});
