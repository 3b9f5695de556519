import { loadSharp } from '../core/nativeModules.js';
import type { Frame } from '../core/frame.js';
import type { ManifestItem } from './manifest.js';
import type { ThumbnailProvider } from './thumbnails.js';

/** Long edge of the kept thumbnails: what the report shows, a few KB each as JPEG. */
const THUMBNAIL_SIZE = 160;

/**
 * Keeps a small JPEG of every video candidate for the report and the image plots, since only
 * representatives get a keyframe file. The pixels are copied when the candidate passes (the frame
 * goes back to its pool right after) and encoded on sharp's threads; what stays is about 5 KB per
 * candidate, not the 110 KB analysis frame.
 */
export class CandidateThumbnails {
  private readonly pictures = new Map<number, Promise<Buffer | undefined>>();

  capture(frame: Frame): void {
    const pixels = Buffer.from(frame.data);
    const { width, height } = frame;
    this.pictures.set(
      frame.index,
      loadSharp()
        .then((sharp) =>
          sharp(pixels, { raw: { width, height, channels: 3 } })
            .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
            .jpeg({ quality: 80 })
            .toBuffer(),
        )
        .catch(() => undefined),
    );
  }

  /** Thumbnails by manifest item (video items carry their frame index). */
  provider(items: readonly ManifestItem[]): ThumbnailProvider {
    return async (itemIndex) => {
      const frame = items[itemIndex]?.frame;
      return frame === undefined ? undefined : this.pictures.get(frame);
    };
  }
}
