/**
 * Builds the keyframes pipeline by hand and inserts a custom operator between two stages.
 *
 *   node --import tsx examples/customPipeline.ts VIDEO [MODEL.onnx|registry id]
 *
 * Prints one JSON line: the scenes, and for each cluster its representative frame and the mean
 * brightness our custom operator measured.
 */
import { map, type OperatorFunction } from 'rxjs';
import {
  clusterDbscan,
  detectSceneCuts,
  dropTechnicalFrames,
  embedBatches,
  fromVideo,
  loadImageEncoder,
  probeVideo,
  runObservable,
  selectCandidateFrames,
  SceneListBuilder,
  type Candidate,
} from 'piaggio';

/**
 * A custom stage: measures each candidate's mean brightness and passes the candidate on unchanged.
 * It must not hold frames (or it must release them), since frames come from the source's pool.
 */
function measureBrightness(into: Map<number, number>): OperatorFunction<Candidate, Candidate> {
  return map((candidate) => {
    const { data } = candidate.frame;
    let sum = 0;
    for (let offset = 0; offset < data.length; offset += 3) sum += 0.299 * data[offset] + 0.587 * data[offset + 1] + 0.114 * data[offset + 2];
    into.set(candidate.frame.index, sum / (data.length / 3));
    return candidate;
  });
}

const [videoPath, model = 'clip-vit-b32'] = process.argv.slice(2);
if (!videoPath) {
  console.error('usage: customPipeline.ts VIDEO [MODEL]');
  process.exit(2);
}

const probe = await probeVideo(videoPath);
const { encoder } = await loadImageEncoder({ model });
const brightness = new Map<number, number>();
const sceneList = new SceneListBuilder(probe.fps);
try {
  const clustering = await runObservable(
    fromVideo(videoPath, { probe }).pipe(
      detectSceneCuts({ threshold: 27, fps: probe.fps }),
      map((sceneFrame) => (sceneList.add(sceneFrame), sceneFrame)),
      selectCandidateFrames({ framesPerScene: 3 }),
      dropTechnicalFrames(),
      measureBrightness(brightness),
      embedBatches(encoder, { batchSize: 8 }),
      clusterDbscan({ epsilon: 0.2, minSamples: 2 }),
    ),
  );
  const clusters = (clustering?.clusters ?? []).map((cluster) => {
    const frame = clustering!.items[cluster.representative].info.index;
    return { id: cluster.id, size: cluster.members.length, representativeFrame: frame, brightness: Math.round(brightness.get(frame) ?? -1) };
  });
  console.log(JSON.stringify({ scenes: sceneList.finish(), clusters }));
} finally {
  await encoder.release();
}
