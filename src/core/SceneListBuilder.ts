import type { Scene, SceneFrame } from './scenes.js';

/**
 * Builds the scene list from the annotated frame stream without holding frames: it remembers only
 * where the open scene started and the last frame seen.
 */
export class SceneListBuilder {
  private readonly scenes: Scene[] = [];
  private readonly cutFrames: number[] = [];
  private openStartFrame = -1;
  private openStartTime = 0;
  private lastFrame = -1;
  private lastTime = 0;
  private readonly frameDuration: number;

  /** `fps` gives the duration of the last frame, which closes the last scene. */
  constructor(fps: number) {
    this.frameDuration = fps > 0 ? 1 / fps : 0;
  }

  add(sceneFrame: SceneFrame): void {
    const { frame } = sceneFrame;
    const time = frame.time ?? 0;
    if (sceneFrame.isSceneStart || this.openStartFrame < 0) {
      if (this.openStartFrame >= 0) {
        this.scenes.push({ startFrame: this.openStartFrame, endFrame: frame.index, startTime: this.openStartTime, endTime: time });
        this.cutFrames.push(frame.index);
      }
      this.openStartFrame = frame.index;
      this.openStartTime = time;
    }
    this.lastFrame = frame.index;
    this.lastTime = time;
  }

  /** Frames seen so far. */
  get frameCount(): number {
    return this.lastFrame + 1;
  }

  /** 0-based first frames of every scene after the first (PySceneDetect's cut list). */
  get cuts(): readonly number[] {
    return this.cutFrames;
  }

  /** The scenes, the open one closed at the end of the last frame seen. */
  finish(): Scene[] {
    if (this.openStartFrame < 0) return [];
    return [
      ...this.scenes,
      // Rounded to the microsecond so that 0.92 + 0.04 reads 0.96, not 0.9600000000000001.
      { startFrame: this.openStartFrame, endFrame: this.lastFrame + 1, startTime: this.openStartTime, endTime: Math.round((this.lastTime + this.frameDuration) * 1e6) / 1e6 },
    ];
  }
}
