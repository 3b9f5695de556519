import { argumentError, requireIntegerBetween } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';

/** Where a frame's detail picture comes from: `lender` is the frame itself when it has one, undefined when no frame of its scene within reach has one. */
export interface Lending<Item> {
  readonly item: Item;
  readonly lender: Item | undefined;
}

export interface DetailLenderOptions<Item> {
  /** Whether the item carries its own picture. */
  readonly hasPicture: (item: Item) => boolean;
  /** The item's scene: pictures are never lent across a cut. */
  readonly scene: (item: Item) => number;
  /** The item's frame number: the nearer of two lenders is chosen by it. */
  readonly index: (item: Item) => number;
  /** Most items held waiting for a later picture; the oldest goes on with the earlier lender (or none) when one more comes. */
  readonly maxWaiting: number;
}

/**
 * Decides, for frames given in order, whose detail picture each frame without one should carry: the
 * nearer (by frame number; a tie goes to the earlier) of the last frame before it and the first
 * frame after it that have one, both in its own scene. Never a frame of another scene: across a cut
 * the picture shows something else. A frame whose scene has no picture near it (a scene of a few
 * frames between two pictures) gets none.
 *
 * Why wait: a frame just after a cut has no earlier lender in its scene, and the frame after it
 * that has a picture is at most the detail interval away; a scene's start pick (its 2nd frame) is
 * such a frame.
 *
 * Feed items with {@link add}; each call returns the lendings it could decide, in the order the
 * items came; {@link finish} decides the rest. {@link currentLender} is the frame whose picture a
 * later frame may still be given: the caller keeps that picture alive while it is.
 */
export class DetailLender<Item> {
  private readonly options: DetailLenderOptions<Item>;
  private lender: Item | undefined;
  private waiting: Item[] = [];
  private openScene: number | undefined;

  constructor(options: DetailLenderOptions<Item>) {
    requireIntegerBetween('DetailLender maxWaiting', options.maxWaiting, 0, Number.MAX_SAFE_INTEGER);
    for (const name of ['hasPicture', 'scene', 'index'] as const) {
      if (typeof options[name] !== 'function') throw argumentError(messages.expectedFunction(`DetailLender ${name}`, options[name]));
    }
    this.options = options;
  }

  /** The last frame with a picture in the open scene, which later frames of it may borrow from; undefined after a cut until the next such frame. */
  get currentLender(): Item | undefined {
    return this.lender;
  }

  /** Frames held, waiting for a later picture. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  add(item: Item): Lending<Item>[] {
    const { hasPicture, scene, index, maxWaiting } = this.options;
    const decided: Lending<Item>[] = [];
    const itemScene = scene(item);
    if (this.openScene !== undefined && itemScene !== this.openScene) {
      this.flushWaiting(decided);
      this.lender = undefined;
    }
    this.openScene = itemScene;
    if (hasPicture(item)) {
      const earlier = this.lender;
      for (const waiting of this.waiting) {
        const useEarlier = earlier !== undefined && index(waiting) - index(earlier) <= index(item) - index(waiting);
        decided.push({ item: waiting, lender: useEarlier ? earlier : item });
      }
      this.waiting = [];
      decided.push({ item, lender: item });
      this.lender = item;
      return decided;
    }
    this.waiting.push(item);
    if (this.waiting.length > maxWaiting) decided.push({ item: this.waiting.shift() as Item, lender: this.lender });
    return decided;
  }

  /** Decides every waiting frame (the input ended): each gets the earlier lender of its scene, if any. */
  finish(): Lending<Item>[] {
    const decided: Lending<Item>[] = [];
    this.flushWaiting(decided);
    this.lender = undefined;
    this.openScene = undefined;
    return decided;
  }

  private flushWaiting(decided: Lending<Item>[]): void {
    for (const waiting of this.waiting) decided.push({ item: waiting, lender: this.lender });
    this.waiting = [];
  }
}
