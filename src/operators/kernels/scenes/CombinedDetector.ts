import { AdaptiveDetector } from './AdaptiveDetector.js';
import { checkContentScoreValues, contentScoreOptions, contentScoreSettings, DEFAULT_CONTENT_THRESHOLD, type ContentScoreOptions } from './ContentDetector.js';
import { GradualTransitionFinder } from './GradualTransitionFinder.js';
import { emptySketch, PictureSketcher, solidColour, structureDistance, type PictureSketch } from './PictureSketch.js';
import { defineSceneDetector, type AnalysisFrame, type CommonDetectorOptions } from './SceneCutDetector.js';
import type { TransitionSpan } from './TransitionDetector.js';

/** Ratio of a frame's content score to its neighbours' mean that a cut needs (half of adaptive's 3: the other checks carry the rest). */
export const COMBINED_NEIGHBOUR_RATIO = 1.5;
/** Frames on each side of a frame whose scores are its neighbours'. */
export const COMBINED_WINDOW = 2;
/**
 * Least change of the picture's layout of light and dark (normalised cell lumas, see
 * PictureSketch) at a cut. Every hard cut of the accuracy benchmark changes it by 0.75 or more; a
 * change of light or colour of the whole picture (a lamp switched on, counter.mp4's background
 * colour) by less than 0.1, a white flash over a fast-moving fractal (the small benchmark's) by
 * 0.22. The first frame of testvideo.mp4's fade in from black changes it by 0.28 (a faint picture
 * over the watermark): the check is not asked out of black, where there is no layout to compare.
 */
export const COMBINED_LEAST_STRUCTURE_CHANGE = 0.3;
/** The combined detector's defaults for the shared settings (frames): short shots count, flashes up to 3 frames do not. */
export const COMBINED_MIN_SCENE_LENGTH = 6;
export const COMBINED_FLASH_LENGTH = 3;

/** A detector that also finds gradual transitions: the operator takes them from it instead of running a TransitionDetector. */
export interface TransitionSource {
  /** How far behind the newest frame a reported transition may start (frames). */
  readonly transitionHorizon: number;
  /** The transitions decided since the last call, in frame order. */
  takeTransitions(): readonly TransitionSpan[];
}

export function isTransitionSource(detector: object): detector is TransitionSource {
  return typeof (detector as Partial<TransitionSource>).takeTransitions === 'function';
}

export interface CombinedDetectorOptions extends ContentScoreOptions, CommonDetectorOptions {
  /** Content score (PySceneDetect's, 0..255) a cut must reach (default 27, the content detector's). */
  readonly threshold?: number;
}

/**
 * piaggio's own detector, the default: hard cuts from three kinds of evidence, and gradual
 * transitions of every kind as spans.
 *
 * A frame is a cut when
 * - its content score (PySceneDetect's HSV change) reaches `threshold` (27, the content detector's),
 * - that score is at least 1.5 times the mean of the two frames on either side (a camera pan or a
 *   shaky shot raises them all together: adaptive's check, at half its ratio),
 * - the layout of light and dark changed (a change of light or colour alone is not a cut, see
 *   {@link COMBINED_LEAST_STRUCTURE_CHANGE}; not asked out of black), and
 * - the picture does not come back within 3 frames (the flash check).
 * The minimum scene length then applies as in PySceneDetect's adaptive detector (from the last cut
 * to the frame being read, 2 past the candidate), by default 6 frames, so that shots of 4 frames
 * are kept: montages cut every 4 to 14 frames, and flashes no longer need a long minimum. As
 * there, a cut in the last 2 frames of a video is not found (their neighbours never come).
 *
 * Beside the cuts, a {@link GradualTransitionFinder} reports fades, dissolves, wipes, slides and
 * shapes as spans with their type ({@link takeTransitions}); it is told the cuts, so that a cut to
 * black and back or a cut at a transition's edge joins the transition. Spans do not change the
 * cuts: the scene list splits where a cut is.
 *
 * Cuts come as late as adaptive's (the window and the flash check); transitions up to
 * {@link transitionHorizon} frames late. Allocates per frame only what the finder does for pending candidates.
 */
export class CombinedDetector extends AdaptiveDetector implements TransitionSource {
  private readonly sketcher = new PictureSketcher('CombinedDetector');
  private previousSketch: PictureSketch = emptySketch();
  private currentSketch: PictureSketch = emptySketch();
  private hasPreviousSketch = false;
  private readonly finder = new GradualTransitionFinder();
  private readonly transitions: TransitionSpan[] = [];

  constructor(options: CombinedDetectorOptions = {}) {
    super(
      {
        ...options,
        minSceneLength: options.minSceneLength ?? COMBINED_MIN_SCENE_LENGTH,
        flashLength: options.flashLength ?? COMBINED_FLASH_LENGTH,
        adaptiveThreshold: COMBINED_NEIGHBOUR_RATIO,
        window: COMBINED_WINDOW,
        minContentValue: options.threshold ?? DEFAULT_CONTENT_THRESHOLD,
      },
      'CombinedDetector',
    );
  }

  get transitionHorizon(): number {
    return this.finder.horizon;
  }

  override process(frame: AnalysisFrame): readonly number[] {
    const cuts = super.process(frame);
    for (const cut of cuts) this.finder.noteCut(cut);
    return cuts;
  }

  override flush(): readonly number[] {
    const cuts = super.flush();
    for (const cut of cuts) this.finder.noteCut(cut);
    this.transitions.push(...this.finder.flush());
    return cuts;
  }

  takeTransitions(): readonly TransitionSpan[] {
    if (this.transitions.length === 0) return NO_TRANSITIONS;
    return this.transitions.splice(0, this.transitions.length);
  }

  protected override measure(frame: AnalysisFrame): boolean {
    const aboveThreshold = super.measure(frame);
    const sketch = this.currentSketch;
    this.sketcher.sketch(frame, sketch);
    // Out of black there is no layout to compare with (noise, a watermark): the picture coming up is
    // judged by the other checks alone. Into black, and out of white, the check stays: a white flash
    // keeps the layout of the picture under it.
    const layoutChanged =
      !this.hasPreviousSketch ||
      solidColour(this.previousSketch) === 'black' ||
      structureDistance(this.previousSketch, sketch) >= COMBINED_LEAST_STRUCTURE_CHANGE;
    const found = this.finder.push(frame.index, sketch);
    if (found.length > 0) this.transitions.push(...found);
    return aboveThreshold && layoutChanged;
  }

  protected override advance(keepAnchor: boolean): void {
    super.advance(keepAnchor);
    [this.previousSketch, this.currentSketch] = [this.currentSketch, this.previousSketch];
    this.hasPreviousSketch = true;
  }
}

const NO_TRANSITIONS: readonly TransitionSpan[] = Object.freeze([]);

/** The combined detector's registry entry: the content score's options; its threshold is the content score's. */
export const combinedDetector = defineSceneDetector({
  name: 'combined',
  summary: "piaggio's own, the default: content change checked against its neighbours and the picture's layout; fades, dissolves and wipes as spans",
  threshold: { default: DEFAULT_CONTENT_THRESHOLD, min: 0, max: 255, meaning: 'mean HSV change' },
  flashFilterMode: AdaptiveDetector.defaultFlashFilterMode,
  minSceneLength: COMBINED_MIN_SCENE_LENGTH,
  flashLength: COMBINED_FLASH_LENGTH,
  options: contentScoreOptions,
  checkOptions: checkContentScoreValues,
  create: (settings, values) => new CombinedDetector({ ...settings, ...contentScoreSettings(values) }),
});
