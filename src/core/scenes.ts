import type { Frame } from './frame.js';

/**
 * A frame annotated by the scene-cut operator with the scene it belongs to. Frames arrive in order;
 * `isSceneStart` is true on frame 0 and on every cut (the first frame of a new scene).
 */
export interface SceneFrame {
  readonly frame: Frame;
  /** 0-based scene number. */
  readonly scene: number;
  readonly isSceneStart: boolean;
}

/**
 * A scene as the manifest and `scenes --json` report it. `endFrame` is exclusive (the first frame
 * of the next scene, or the frame count for the last scene), as PySceneDetect's scene list is;
 * `endTime` is the time of that boundary.
 */
export interface Scene {
  readonly startFrame: number;
  readonly endFrame: number;
  readonly startTime: number;
  readonly endTime: number;
}
