/**
 * The three feature buffers of a detector with a flash check: the current frame's, the previous
 * frame's, and the anchor (the frame before a possible flash, which {@link FlashGuard} compares
 * later frames with). Buffers change roles instead of being copied, so a frame allocates nothing.
 */
export class FeatureHistory<Features> {
  current: Features;
  previous: Features;
  anchor: Features;
  /** False until the first frame has ended: the first frame has nothing to be compared with. */
  hasPrevious = false;

  constructor(create: () => Features) {
    this.current = create();
    this.previous = create();
    this.anchor = create();
  }

  /**
   * Ends a frame: its features become the previous ones. With `keepAnchor` (what
   * FlashGuard.push returned), the previous frame's features first become the anchor.
   */
  advance(keepAnchor: boolean): void {
    if (keepAnchor) {
      const anchor = this.anchor;
      this.anchor = this.previous;
      this.previous = anchor;
    }
    const previous = this.previous;
    this.previous = this.current;
    this.current = previous;
    this.hasPrevious = true;
  }
}
