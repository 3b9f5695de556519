import { argumentError } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';
import { cellDistance, emptySketch, histogramDistance, SKETCH_CELLS, solidColour, type PictureSketch } from './PictureSketch.js';
import type { TransitionSpan, TransitionType } from './TransitionDetector.js';

/**
 * Shortest and longest transitions looked for, in frames from the last frame of one shot to the
 * first of the next (2 to 60 blended frames between them: editors' cross-fades run 5 to 60).
 */
const SHORTEST = 3;
const LONGEST = 61;
/**
 * Frames over which each shot's own change (camera motion, Ken Burns moves) is measured next to
 * a candidate: as long as the candidate, at least 10 frames (a short pair would otherwise be
 * compared with too short a stretch of a pan), at most 20 (a longer stretch reaches into the
 * shot after the next).
 */
const SHORTEST_REFERENCE = 10;
const LONGEST_REFERENCE = 20;
/** The two ends must differ this much more than either shot changes by itself over the reference stretch. */
const CHANGE_RATIO = 3;
/** Added to a shot's own change before the ratio, so that two still shots do not make any small change a transition. */
const STILL_SHOT_CHANGE = 1.5;
/** Least change of the cells between the ends (0..255) and of their colours (histogram distance 0..1). */
const MINIMUM_CELL_CHANGE = 12;
const MINIMUM_COLOUR_CHANGE = 0.08;
/**
 * No single frame may make more than this share of the change: a hard cut does it in one frame (the
 * cut detector's business), a transition spreads it.
 */
const LARGEST_STEP_SHARE = 0.5;
/**
 * Largest share of the change between the ends that the middle frame may differ from both a blend
 * and a patchwork of them (see {@link mixResiduals}).
 */
const LARGEST_UNEXPLAINED_SHARE = 0.35;
/** A frame changing this many times more than both its neighbours (plus 6) is a cut. */
const CUT_STEP_RATIO = 4;
/** A found pair is narrowed to the frames that make the change: ends that still hold this share of it are moved in. */
const TRIM_SHARE = 0.95;
/** A frame changing less than this share of a pair's mean change per frame is calm: narrowing may cut it off. */
const CALM_STEP_SHARE = 0.5;
/** Transitions this close (frames) are one: a fade out and a fade in, a wipe in two passes. */
const JOINING_GAP = 3;
/** Longest solid black or white stretch between a fade out and a fade in (or two cuts) that is still one transition. */
const LONGEST_SOLID_GAP = 100;
/** A cut this close to a transition is its abrupt start or end. */
const CUT_ABSORBED = 2;
/**
 * Longest a group of overlapping candidates may grow before it is decided anyway: bounds the
 * delay (and memory) where a long stretch of motion keeps making candidates.
 */
const LONGEST_HOLD = 150;

/** A pair of frames, the last of one picture (`before`) and the first of the next (`after`), and how clearly it is a transition. */
interface Candidate {
  before: number;
  after: number;
  score: number;
}

/** A transition or cut on its way out: frames `before` (last of the old picture) and `after` (first of the new). */
interface Piece {
  before: number;
  after: number;
  /** A cut the cut detector found (not a transition by itself). */
  readonly cut: boolean;
  /** The piece joins pieces through a solid black or white stretch. */
  throughSolid: boolean;
}

/**
 * Finds gradual transitions of every kind (fades, dissolves, wipes, slides, shapes) in a stream of
 * {@link PictureSketch}es and reports them as spans with their type.
 *
 * A transition from picture A to picture B over m frames makes frames t - m and t differ like two
 * shots, while each shot by itself changes little over a comparable stretch. So for every pair
 * (t - m, t) with m from 3 to 61 the finder compares the change between the two ends (cells and
 * colours) with the change of the stretch before the first and after the second (10 to 20 frames):
 * a candidate needs both ends to differ clearly (cells by 12 of 255, colours by 0.08), three times
 * more than either shot moves by itself (plus 1.5, for still shots), and no single frame may make
 * half of the change (that is a hard cut). Camera motion fails the ratio (the shot moves as much
 * before and after), a flash fails the end-to-end change (the picture comes back), a hard cut
 * fails the step share.
 *
 * Overlapping candidates compete: the clearest wins (greedy non-maximum suppression, decided once
 * no later candidate can overlap the group, or after {@link LONGEST_HOLD} frames). The winner is
 * narrowed to the frames that make the change, and joined with a neighbour 3 frames away or less,
 * or across a solid black or white stretch (a fade out and a fade in: one transition). Two cuts
 * with only black or white between them (a cut to black and back) are reported as one such fade
 * too, and a cut within 2 frames of a transition is taken in as its abrupt start or end: the cut
 * detector reports its cuts through {@link noteCut}.
 *
 * Types: a span whose first picture is black or white is a fade-in, one whose last is a fade-out,
 * one through a solid stretch a fade; otherwise the middle frame decides: closer to a blend of the
 * two ends (each cell A + alpha (B - A)) is a dissolve, closer to a patchwork (each cell A or B) a wipe.
 *
 * Spans come out in frame order, at most {@link horizon} frames behind the newest frame. Sketches,
 * steps and solid flags live in rings sized from the constants above (about 650 frames, 2.5 kB
 * each); per frame it allocates only while candidates are pending (their list, a sort, the spans found).
 */
export class GradualTransitionFinder {
  /**
   * How far behind the newest frame a reported span may start: pieces are final once no pair can
   * still reach them (the reference stretch, the longest pair, the longest hold and a cut's reach),
   * a group waits up to the longest solid gap for a piece to join, and a group is at most two
   * pairs and a solid gap long.
   */
  readonly horizon = LONGEST_REFERENCE + LONGEST + LONGEST_HOLD + CUT_ABSORBED + (LONGEST_SOLID_GAP + JOINING_GAP + 1) + (2 * LONGEST + LONGEST_SOLID_GAP) + 4;
  private readonly capacity = this.horizon + LONGEST_REFERENCE + LONGEST + 8;
  private readonly sketches: PictureSketch[] = Array.from({ length: this.capacity }, emptySketch);
  /** Cell change from the frame before, per frame. */
  private readonly steps = new Float64Array(this.capacity);
  private readonly solids: Array<'black' | 'white' | undefined> = new Array(this.capacity).fill(undefined);
  private first = -1;
  private last = -1;
  private candidates: Candidate[] = [];
  /** `after` of the latest accepted candidate: later candidates that start before it overlap it. */
  private acceptedUntil = -1;
  /** Accepted transitions and noted cuts, in order, not yet grouped. */
  private pieces: Piece[] = [];
  /** The group being built: pieces joined so far. */
  private open: Piece | undefined;
  private openHasTransition = false;
  private openCuts = 0;
  private readonly found: TransitionSpan[] = [];
  private finished = false;

  /** Takes the next frame's sketch (copied); returns the spans decided now, in order (valid until the next call). */
  push(frameIndex: number, sketch: PictureSketch): readonly TransitionSpan[] {
    if (this.finished) throw argumentError(messages.transitionFinderFinished());
    if (this.last >= 0 && frameIndex !== this.last + 1) throw argumentError(messages.transitionFinderOutOfOrder(this.last + 1, frameIndex));
    this.found.length = 0;
    if (this.first < 0) this.first = frameIndex;
    this.last = frameIndex;
    const slot = this.sketches[frameIndex % this.capacity];
    slot.cells.set(sketch.cells);
    slot.histogram.set(sketch.histogram);
    slot.structure.set(sketch.structure);
    slot.meanLuma = sketch.meanLuma;
    slot.lumaSpread = sketch.lumaSpread;
    this.steps[frameIndex % this.capacity] = frameIndex === this.first ? 0 : cellDistance(this.sketchAt(frameIndex - 1), slot);
    this.solids[frameIndex % this.capacity] = solidColour(slot);
    for (let length = SHORTEST; length <= LONGEST; length += 1) {
      const reference = referenceLength(length);
      this.consider(frameIndex - reference - length, frameIndex - reference, reference);
    }
    this.decide(false);
    return this.found;
  }

  /** A cut the cut detector decided (frames in any order, each at most `horizon` frames old). */
  noteCut(frameIndex: number): void {
    const piece: Piece = { before: frameIndex - 1, after: frameIndex, cut: true, throughSolid: false };
    let position = this.pieces.length;
    while (position > 0 && this.pieces[position - 1].before > piece.before) position -= 1;
    this.pieces.splice(position, 0, piece);
  }

  /** Ends the stream: pairs that reach past the last frame are judged without the stretch after; returns the spans still pending. */
  flush(): readonly TransitionSpan[] {
    this.found.length = 0;
    if (this.finished) return this.found;
    this.finished = true;
    if (this.first >= 0) {
      // The pairs whose stretch after reaches past the end: judged on the stretch before alone.
      for (let after = Math.max(this.first + 1, this.last - LONGEST_REFERENCE + 1); after <= this.last; after += 1) {
        for (let length = SHORTEST; length <= LONGEST; length += 1) {
          const reference = referenceLength(length);
          if (after + reference > this.last) this.consider(after - length, after, reference);
        }
      }
    }
    this.decide(true);
    return this.found;
  }

  private sketchAt(frameIndex: number): PictureSketch {
    return this.sketches[frameIndex % this.capacity];
  }

  /** Judges the pair (before, after), its shots measured over `reference` frames each side. */
  private consider(before: number, after: number, reference: number): void {
    if (before < this.first) return;
    if (before < this.acceptedUntil) return;
    const first = this.sketchAt(before);
    const second = this.sketchAt(after);
    // The colours first: 48 numbers, against 432 cells, and most pairs of a shot fail here.
    if (histogramDistance(first, second) < MINIMUM_COLOUR_CHANGE) return;
    const change = cellDistance(first, second);
    if (change < MINIMUM_CELL_CHANGE) return;
    const steps = this.steps;
    const capacity = this.capacity;
    let largestStep = 0;
    for (let frame = before + 1; frame <= after; frame += 1) {
      const step = steps[frame % capacity];
      largestStep = Math.max(largestStep, step);
      // A step far above both its neighbours is a cut (or a flash) inside the pair: a shot, then a
      // cut to another, is not one transition however the three pictures compare.
      const neighbours = Math.max(steps[(frame - 1) % capacity], frame < this.last ? steps[(frame + 1) % capacity] : 0);
      if (step > CUT_STEP_RATIO * neighbours + MINIMUM_CELL_CHANGE / 2) return;
    }
    if (largestStep > LARGEST_STEP_SHARE * change) return;
    const shotBefore = before - reference >= this.first ? cellDistance(this.sketchAt(before - reference), first) : 0;
    const shotAfter = after + reference <= this.last ? cellDistance(second, this.sketchAt(after + reference)) : 0;
    const score = change / (Math.max(shotBefore, shotAfter) + STILL_SHOT_CHANGE);
    if (score < CHANGE_RATIO) return;
    // The frames between must be made of the two ends: a third picture (a short shot of its own,
    // moving fast between two still ones) is not a transition.
    const residuals = mixResiduals(first, this.sketchAt((before + after) >> 1), second);
    if (Math.min(residuals.blend, residuals.patchwork) > LARGEST_UNEXPLAINED_SHARE * change) return;
    this.candidates.push({ before, after, score });
  }

  /** Decides the candidate groups no later pair can reach, then groups what is decided into spans. */
  private decide(atEnd: boolean): void {
    // Pairs judged from now on start after this frame.
    const reachable = atEnd ? Number.POSITIVE_INFINITY : this.last - LONGEST_REFERENCE - LONGEST;
    const forced = this.last - LONGEST_HOLD;
    if (this.candidates.length > 0) {
      this.candidates.sort((left, right) => left.before - right.before || left.after - right.after);
      const remaining: Candidate[] = [];
      let group: Candidate[] = [];
      let groupEnd = -1;
      const close = () => {
        if (group.length === 0) return;
        if (groupEnd <= reachable || group[0].before < forced) this.accept(group);
        else remaining.push(...group);
        group = [];
      };
      for (const candidate of this.candidates) {
        if (group.length > 0 && candidate.before >= groupEnd) close();
        group.push(candidate);
        groupEnd = Math.max(groupEnd, candidate.after);
      }
      close();
      this.candidates = remaining;
    }
    // Pieces starting before this are all known: no transition accepted later starts earlier.
    let known = atEnd ? Number.POSITIVE_INFINITY : Math.min(reachable, forced);
    for (const candidate of this.candidates) known = Math.min(known, candidate.before);
    known -= CUT_ABSORBED;
    while (this.pieces.length > 0 && this.pieces[0].before < known) this.join(this.pieces.shift()!);
    const open = this.open;
    if (open && (atEnd || !this.mayJoinLater(open, known))) this.emitOpen();
  }

  /** Greedy non-maximum suppression inside one group of overlapping candidates. */
  private accept(group: Candidate[]): void {
    group.sort((left, right) => right.score - left.score || left.before - right.before);
    const accepted: Candidate[] = [];
    for (const candidate of group) {
      // Pairs conflict where their blended frames do: A-black and black-B share only black frames.
      if (accepted.some((other) => candidate.before + 1 < other.after && other.before + 1 < candidate.after)) continue;
      accepted.push(candidate);
    }
    for (const candidate of accepted) {
      const { before, after } = this.narrowed(candidate);
      this.acceptedUntil = Math.max(this.acceptedUntil, candidate.after);
      let position = this.pieces.length;
      while (position > 0 && this.pieces[position - 1].before > before) position -= 1;
      this.pieces.splice(position, 0, { before, after, cut: false, throughSolid: false });
    }
  }

  /** Moves the ends in over calm frames while the pair still differs by {@link TRIM_SHARE} of its change, keeping one frame between them. */
  private narrowed(candidate: Candidate): { before: number; after: number } {
    let { before, after } = candidate;
    const change = cellDistance(this.sketchAt(before), this.sketchAt(after));
    let path = 0;
    for (let frame = before + 1; frame <= after; frame += 1) path += this.steps[frame % this.capacity];
    // Only calm frames are cut off: through black (A, black, B) the pair A-black differs as much
    // as A-B, but the frames fading in from black are no calm part of shot B.
    const calm = (CALM_STEP_SHARE * path) / (after - before);
    const step = (frame: number) => this.steps[frame % this.capacity];
    while (before + 2 < after && step(before + 1) < calm && cellDistance(this.sketchAt(before + 1), this.sketchAt(after)) >= TRIM_SHARE * change) before += 1;
    while (after - 2 > before && step(after) < calm && cellDistance(this.sketchAt(before), this.sketchAt(after - 1)) >= TRIM_SHARE * change) after -= 1;
    return { before, after };
  }

  /** Adds the next piece to the open group, or emits the group and opens a new one. */
  private join(piece: Piece): void {
    const open = this.open;
    if (open) {
      const joined = this.joining(open, piece);
      if (joined !== undefined) {
        open.throughSolid ||= joined === 'through solid';
        open.after = Math.max(open.after, piece.after);
        if (piece.cut) this.openCuts += 1;
        else this.openHasTransition = true;
        return;
      }
      this.emitOpen();
    }
    this.open = { ...piece };
    this.openHasTransition = !piece.cut;
    this.openCuts = piece.cut ? 1 : 0;
  }

  /** How `piece` (starting no earlier than the open group) belongs to the open group, if it does. */
  private joining(open: Piece, piece: Piece): 'overlapping' | 'adjacent' | 'through solid' | undefined {
    if (piece.before < open.after) return 'overlapping';
    const gap = piece.before - open.after;
    // Two transitions a few frames apart; a cut at a transition's edge.
    if (!piece.cut && this.openHasTransition && gap <= JOINING_GAP) return 'adjacent';
    if ((this.openHasTransition || !piece.cut) && gap < CUT_ABSORBED) return 'adjacent';
    if (this.solidBetween(open.after, piece.before)) return 'through solid';
    return undefined;
  }

  /** Whether a piece not yet known (starting at `known` or later) could still join the open group. */
  private mayJoinLater(open: Piece, known: number): boolean {
    if (known - open.after <= Math.max(JOINING_GAP, CUT_ABSORBED)) return true;
    if (known - open.after > LONGEST_SOLID_GAP) return false;
    return this.solidBetween(open.after, Math.min(known, this.last));
  }

  /** Every frame from `from` to `to` is solid black or white (and the stretch is short enough to be a fade's). */
  private solidBetween(from: number, to: number): boolean {
    if (to - from > LONGEST_SOLID_GAP || from < this.last - this.capacity + 1) return false;
    for (let frame = from; frame <= to; frame += 1) if (this.solids[frame % this.capacity] === undefined) return false;
    return true;
  }

  /** Reports the open group: any group with a transition, or two cuts or more through a solid stretch. */
  private emitOpen(): void {
    const open = this.open;
    this.open = undefined;
    if (!open || (!this.openHasTransition && this.openCuts < 2)) return;
    this.found.push({ startFrame: open.before + 1, endFrame: open.after, ...this.typeOf(open) });
  }

  private typeOf(piece: Piece): { type: TransitionType; colour?: 'black' | 'white' } {
    const first = this.sketchAt(piece.before);
    const last = this.sketchAt(piece.after);
    const from = solidColour(first);
    const to = solidColour(last);
    // A dip through black or white found as one pair (a short solid stretch) is a fade too.
    const middle = this.solids[((piece.before + piece.after) >> 1) % this.capacity];
    if (piece.throughSolid || (from && to) || (middle && !from && !to)) return { type: 'fade', ...(middle ? { colour: middle } : {}) };
    if (to) return { type: 'fade-out', colour: to };
    if (from) return { type: 'fade-in', colour: from };
    const residuals = mixResiduals(first, this.sketchAt((piece.before + piece.after) >> 1), last);
    return { type: residuals.blend <= residuals.patchwork ? 'dissolve' : 'wipe' };
  }
}

function referenceLength(length: number): number {
  return Math.min(LONGEST_REFERENCE, Math.max(length, SHORTEST_REFERENCE));
}

/** How far `middle` is from a blend of `first` and `last` and from a patchwork of them (mean per cell and channel, 0..255). */
export interface MixResiduals {
  /** From the best single mix first + alpha (last - first), alpha in 0..1, as a dissolve makes every cell. */
  readonly blend: number;
  /** From taking each cell from first or last, whichever is nearer, as a wipe does. */
  readonly patchwork: number;
}

export function mixResiduals(first: PictureSketch, middle: PictureSketch, last: PictureSketch): MixResiduals {
  const a = first.cells;
  const m = middle.cells;
  const b = last.cells;
  let along = 0;
  let squared = 0;
  for (let index = 0; index < a.length; index += 1) {
    const direction = b[index] - a[index];
    along += (m[index] - a[index]) * direction;
    squared += direction * direction;
  }
  const alpha = squared === 0 ? 0 : Math.min(1, Math.max(0, along / squared));
  let blend = 0;
  let patchwork = 0;
  for (let cell = 0; cell < SKETCH_CELLS; cell += 1) {
    let toFirst = 0;
    let toLast = 0;
    for (let channel = 0; channel < 3; channel += 1) {
      const index = cell * 3 + channel;
      blend += Math.abs(m[index] - a[index] - alpha * (b[index] - a[index]));
      toFirst += Math.abs(m[index] - a[index]);
      toLast += Math.abs(m[index] - b[index]);
    }
    patchwork += Math.min(toFirst, toLast);
  }
  return { blend: blend / a.length, patchwork: patchwork / a.length };
}
