import { argumentError, requireIntegerBetween } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';

/**
 * The frames PySceneDetect's `save_images(num_images=k, frame_margin=1)` picks from a scene of
 * `length` frames, as offsets from the scene's first frame (its frame-based rule, which the original
 * piaggio used to choose its 3 frames per scene). Duplicates are kept, as PySceneDetect keeps them.
 *
 * The scene's frames are padded to `k` by repeating the last one, split into `k` nearly equal
 * consecutive parts (numpy `array_split`: the first `length % k` parts get one frame more), and:
 * the first part gives `min(first + margin, last of part)`, the last part gives
 * `max(last - margin, first of part)`, any other part (or the single part when k = 1) gives its
 * middle element `part[floor(size / 2)]`.
 *
 * For k = 3 and margin 1: length 1 → [0, 0, 0]; 2 → [0, 1, 1]; 3 → [0, 1, 2]; 10 → [1, 5, 8];
 * 1000 → [1, 500, 998].
 */
export function pySceneDetectPicks(length: number, framesPerScene: number, frameMargin = 1): number[] {
  if (!Number.isInteger(length) || length < 1) throw argumentError(messages.expectedIntegerAtLeast('pySceneDetectPicks length', 1, length));
  if (!Number.isInteger(framesPerScene) || framesPerScene < 1) throw argumentError(messages.expectedIntegerAtLeast('pySceneDetectPicks framesPerScene', 1, framesPerScene));
  const padded = Math.max(length, framesPerScene);
  const valueAt = (position: number) => Math.min(position, length - 1);
  const baseSize = Math.floor(padded / framesPerScene);
  const largerParts = padded % framesPerScene;
  const picks: number[] = [];
  let partStart = 0;
  for (let part = 0; part < framesPerScene; part += 1) {
    const size = baseSize + (part < largerParts ? 1 : 0);
    const first = valueAt(partStart);
    const last = valueAt(partStart + size - 1);
    if (framesPerScene === 1 || (part > 0 && part < framesPerScene - 1)) picks.push(valueAt(partStart + Math.floor(size / 2)));
    else if (part === 0) picks.push(Math.min(first + frameMargin, last));
    else picks.push(Math.max(last - frameMargin, first));
    partStart += size;
  }
  return picks;
}

/**
 * PySceneDetect's middle pick for a scene of `length` frames (k = 1: `floor(length / 2)`; k = 3: the
 * middle of the second part), without building the pick list; it never decreases as length grows.
 */
export function middleOffset(length: number, framesPerScene: number): number {
  if (length <= 0) return 0;
  if (framesPerScene === 1) return Math.floor(length / 2);
  const padded = Math.max(length, framesPerScene);
  const baseSize = Math.floor(padded / framesPerScene);
  const largerParts = padded % framesPerScene;
  const firstSize = baseSize + (largerParts > 0 ? 1 : 0);
  const secondSize = baseSize + (largerParts > 1 ? 1 : 0);
  return Math.min(firstSize + Math.floor(secondSize / 2), length - 1);
}

export interface CandidateSelectorOptions<Item> {
  /** 1 = middle only, 2 = start and end, 3 = start, middle and end (default). */
  readonly framesPerScene?: number;
  /** Most frames kept as candidates for the middle pick (default 8, at least 2). */
  readonly middleSamples?: number;
  /** Called exactly once for every item the selector drops (never for the items it returns). */
  readonly release: (item: Item) => void;
}

const ROLE_TAIL = 1;
const ROLE_HEAD = 2;
const ROLE_SAMPLE = 4;
/** Middle samples sit at scene offsets FIRST_SAMPLE + m * stride: offsets 0 and 1 are never middles. */
const FIRST_SAMPLE = 2;

/**
 * Chooses, scene by scene and without ever holding a whole scene, the frames that stand for it.
 * Feed the frames of one scene in order with {@link add}, then call {@link finishScene} to get the
 * chosen ones; every other frame is handed to `release` as soon as it can no longer be chosen.
 *
 * The rule (offsets from the scene's first frame, `n` = scene length), for k = framesPerScene:
 * - the start and end picks are exactly PySceneDetect's (see {@link pySceneDetectPicks}): start is
 *   offset 1 when n > k and offset 0 otherwise; end is offset n - 2 when the last part has at least
 *   2 frames and n - 1 otherwise. The selector holds offsets 0 and 1 until it knows n > k, and the
 *   last two frames seen.
 * - the middle pick (k = 1 or 3) targets PySceneDetect's middle offset, which depends on n and so is
 *   unknown until the scene ends. The selector keeps at most `middleSamples` frames at offsets
 *   2, 2 + s, 2 + 2s, ... (s starts at 1; when a new sample would exceed the budget, s doubles and
 *   every other sample is dropped). Since the middle offset never decreases as the scene grows, it
 *   also drops the samples below the middle of the frames seen so far, except the closest one. At
 *   the end it picks, among all frames it still holds other than the start and end picks, the one
 *   nearest the target (the earlier one on a tie). The pick is exact whenever the target is held:
 *   every scene up to 2 * middleSamples - 3 frames (13 with the default 8), and longer ones when the
 *   target falls on a sample; otherwise it is off by less than n / middleSamples frames (measured
 *   worst case 0.57 n / middleSamples with the default; a 1000-frame scene gives [1, 514, 998]
 *   instead of [1, 500, 998]).
 * - picks are returned in frame order without duplicates: a 1-frame scene gives 1 frame, a 2-frame
 *   scene 2 frames, any longer scene k frames.
 *
 * Memory: after each {@link add} it holds at most `middleSamples + 3` items (start pick, last two
 * frames, samples), whatever the scene's length. Per-frame work allocates nothing.
 */
export class CandidateSelector<Item> {
  readonly framesPerScene: number;
  readonly middleSamples: number;
  private readonly release: (item: Item) => void;
  private readonly keepsSamples: boolean;
  private readonly keepsHead: boolean;
  // Held items, one entry per distinct offset, with the reasons (roles) for holding it.
  private readonly heldOffsets: Int32Array;
  private readonly heldRoles: Uint8Array;
  private readonly heldItems: Array<Item | undefined>;
  private heldCount = 0;
  private count = 0;
  private stride = 1;
  private sampleCount = 0;

  constructor(options: CandidateSelectorOptions<Item>) {
    this.framesPerScene = options.framesPerScene ?? 3;
    this.middleSamples = options.middleSamples ?? 8;
    requireIntegerBetween('CandidateSelector framesPerScene', this.framesPerScene, 1, 3);
    if (!Number.isInteger(this.middleSamples) || this.middleSamples < 2) throw argumentError(messages.expectedIntegerAtLeast('CandidateSelector middleSamples', 2, this.middleSamples));
    this.release = options.release;
    this.keepsSamples = this.framesPerScene !== 2;
    this.keepsHead = this.framesPerScene >= 2;
    const capacity = this.middleSamples + 4;
    this.heldOffsets = new Int32Array(capacity);
    this.heldRoles = new Uint8Array(capacity);
    this.heldItems = new Array<Item | undefined>(capacity).fill(undefined);
  }

  /** Frames fed since the current scene started. */
  get sceneLength(): number {
    return this.count;
  }

  /** Items held right now (for tests and memory accounting). */
  get heldItemCount(): number {
    return this.heldCount;
  }

  /** Feeds the next frame of the current scene. */
  add(item: Item): void {
    const offset = this.count;
    this.count += 1;
    // New roles first, old roles after, so that an item keeping one role is never released.
    this.addRole(offset, item, ROLE_TAIL);
    if (this.keepsHead && offset <= 1) this.addRole(offset, item, ROLE_HEAD);
    if (this.keepsSamples && offset >= FIRST_SAMPLE && (offset - FIRST_SAMPLE) % this.stride === 0) {
      if (this.sampleCount === this.middleSamples) this.thinSamples();
      if ((offset - FIRST_SAMPLE) % this.stride === 0) {
        this.addRole(offset, item, ROLE_SAMPLE);
        this.sampleCount += 1;
      }
    }
    if (this.keepsSamples) this.dropSamplesBelowMiddle();
    if (offset >= 2) this.removeRole(offset - 2, ROLE_TAIL);
    // Once the scene is longer than k frames the start pick is offset 1 for good.
    if (this.keepsHead && offset === this.framesPerScene) this.removeRole(0, ROLE_HEAD);
  }

  /**
   * Ends the current scene: returns its picks in frame order (the caller now owns them), releases
   * every other held item, and gets ready for the next scene. Returns [] when no frame was fed.
   */
  finishScene(): Item[] {
    const length = this.count;
    if (length === 0) return [];
    const targets = pySceneDetectPicks(length, this.framesPerScene);
    const chosen: number[] = [];
    const exact = targets.filter((target) => this.find(target) >= 0);
    for (const target of targets) {
      let offset = target;
      if (this.find(target) < 0) offset = this.nearestHeld(target, exact);
      if (offset >= 0 && !chosen.includes(offset)) chosen.push(offset);
    }
    chosen.sort((left, right) => left - right);
    const picks = chosen.map((offset) => this.heldItems[this.find(offset)] as Item);
    for (let entry = 0; entry < this.heldCount; entry += 1) {
      if (!chosen.includes(this.heldOffsets[entry])) this.release(this.heldItems[entry] as Item);
    }
    this.clear();
    return picks;
  }

  /** Releases everything held (on unsubscribe or error) and starts afresh. */
  dispose(): void {
    for (let entry = 0; entry < this.heldCount; entry += 1) this.release(this.heldItems[entry] as Item);
    this.clear();
  }

  private clear(): void {
    this.heldItems.fill(undefined);
    this.heldCount = 0;
    this.count = 0;
    this.stride = 1;
    this.sampleCount = 0;
  }

  private find(offset: number): number {
    for (let entry = 0; entry < this.heldCount; entry += 1) if (this.heldOffsets[entry] === offset) return entry;
    return -1;
  }

  /** The held offset nearest `target` that is not one of `excluded`, the earlier on a tie; -1 if none. */
  private nearestHeld(target: number, excluded: readonly number[]): number {
    let best = -1;
    for (let entry = 0; entry < this.heldCount; entry += 1) {
      const offset = this.heldOffsets[entry];
      if (excluded.includes(offset)) continue;
      const distance = Math.abs(offset - target);
      const bestDistance = Math.abs(best - target);
      if (best < 0 || distance < bestDistance || (distance === bestDistance && offset < best)) best = offset;
    }
    return best;
  }

  private addRole(offset: number, item: Item, role: number): void {
    const entry = this.find(offset);
    if (entry >= 0) {
      this.heldRoles[entry] |= role;
      return;
    }
    const slot = this.heldCount;
    this.heldOffsets[slot] = offset;
    this.heldRoles[slot] = role;
    this.heldItems[slot] = item;
    this.heldCount += 1;
  }

  private removeRole(offset: number, role: number): void {
    const entry = this.find(offset);
    if (entry < 0) return;
    this.heldRoles[entry] &= ~role;
    if (this.heldRoles[entry] === 0) this.drop(entry);
  }

  /** Releases the item of `entry` and fills the gap with the last entry. */
  private drop(entry: number): void {
    const item = this.heldItems[entry] as Item;
    const last = this.heldCount - 1;
    this.heldOffsets[entry] = this.heldOffsets[last];
    this.heldRoles[entry] = this.heldRoles[last];
    this.heldItems[entry] = this.heldItems[last];
    this.heldItems[last] = undefined;
    this.heldCount = last;
    this.release(item);
  }

  /**
   * PySceneDetect's middle offset never decreases as a scene grows, so a sample before the middle
   * of the frames seen so far can only ever be chosen as the nearest one from below: keep the
   * closest such sample and drop the others, which leaves the budget to the part that can still
   * hold the middle and halves the worst error of the pick.
   */
  private dropSamplesBelowMiddle(): void {
    const lowestTarget = middleOffset(this.count, this.framesPerScene);
    let closestBelow = -1;
    for (let entry = 0; entry < this.heldCount; entry += 1) {
      const offset = this.heldOffsets[entry];
      if ((this.heldRoles[entry] & ROLE_SAMPLE) !== 0 && offset < lowestTarget && offset > closestBelow) closestBelow = offset;
    }
    if (closestBelow < 0) return;
    for (let entry = this.heldCount - 1; entry >= 0; entry -= 1) {
      if ((this.heldRoles[entry] & ROLE_SAMPLE) === 0 || this.heldOffsets[entry] >= closestBelow) continue;
      this.heldRoles[entry] &= ~ROLE_SAMPLE;
      this.sampleCount -= 1;
      if (this.heldRoles[entry] === 0) this.drop(entry);
    }
  }

  /** Doubles the sample spacing and drops the samples that no longer sit on it. */
  private thinSamples(): void {
    this.stride *= 2;
    let kept = 0;
    for (let entry = this.heldCount - 1; entry >= 0; entry -= 1) {
      if ((this.heldRoles[entry] & ROLE_SAMPLE) === 0) continue;
      if ((this.heldOffsets[entry] - FIRST_SAMPLE) % this.stride === 0) {
        kept += 1;
        continue;
      }
      this.heldRoles[entry] &= ~ROLE_SAMPLE;
      // drop() moves the last entry here; it was already visited, since we walk backwards.
      if (this.heldRoles[entry] === 0) this.drop(entry);
    }
    this.sampleCount = kept;
  }
}
