import { declareOptions } from '../core/options.js';
import { splitVideoOptions } from './splitVideo.js';

/**
 * Declared apart from the writers in sceneExports.ts: splitVideo.ts uses those writers' timecodes,
 * so declaring these beside them would make the two modules load each other.
 */
/** Which scene exports a video run writes into its output folder. */
export const sceneExportOptions = declareOptions('sceneExports', {
  sceneList: { type: 'boolean', default: true, description: 'write <video>-Scenes.csv, the scene list in PySceneDetect list-scenes format (--no-scene-list to skip)' },
  edl: { type: 'boolean', default: false, description: 'write <video>.edl, the scenes as a CMX 3600 edit decision list' },
  split: { type: 'boolean', default: false, description: 'cut the video into one file per scene, into scenes/ in the output folder' },
  ...splitVideoOptions,
});
