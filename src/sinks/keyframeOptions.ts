import { declareOptions, type OptionValues } from '../core/options.js';

/** How keyframe files are written: declared once for the CLI and the library. */
export const writeKeyframesOptions = declareOptions('io', {
  format: { type: 'choice', choices: ['jpg', 'png', 'webp'], default: 'jpg', description: 'image format of the pictures written (keyframes, scene images)' },
  quality: { type: 'integer', min: 1, max: 100, default: 95, description: 'jpg and webp quality, 1 (smallest) to 100 (best); png is lossless' },
  width: { type: 'integer', min: 16, max: 16384, description: 'scale the pictures written to this width, keeping the aspect ratio (with --height: fit inside both)' },
  height: { type: 'integer', min: 16, max: 16384, description: 'scale the pictures written to this height, keeping the aspect ratio (with --width: fit inside both)' },
  allCandidates: {
    type: 'boolean',
    default: false,
    description: 'also write every candidate frame, named with its cluster, into candidates/ (the manifest then gives every item a path)',
  },
});

export type WriteKeyframesValues = OptionValues<typeof writeKeyframesOptions>;
