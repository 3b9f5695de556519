import { map, type OperatorFunction } from 'rxjs';
import { frameInfoOf, type Candidate, type Frame } from '../core/frame.js';
import { yuv420pToRgb } from './kernels/image/yuv420p.js';

/**
 * Gives each candidate the pixels its frame's detail picture holds (the source decoded it beside
 * the analysis frame: fromVideo's `detail`, the embedder's resize size), so the embedder reads
 * those instead of the 256-px analysis frame, without decoding anything again.
 *
 * Emits: one candidate per input candidate, the same scene and sharpness, its frame the detail
 * picture converted to packed RGB (`width` and `height` its size; index and times unchanged). A
 * candidate whose frame has no detail picture goes on as it came.
 *
 *     candidates:  -a-b-c-|
 *     emitted:     -A-B-C-|   (A: a's detail picture)
 *
 * Backpressure and resources: none of its own; each emitted frame owns its RGB copy (about
 * 270 KB at 1080p for a 224-px model) and releasing it releases the source frame (its analysis and
 * detail buffers), so the source's pool bounds how many candidates wait downstream.
 */
export function embedDetailPictures(): OperatorFunction<Candidate, Candidate> {
  return map((candidate) => {
    const detail = candidate.frame.detail;
    if (!detail) return candidate;
    const source = candidate.frame;
    const data = yuv420pToRgb(detail.data, detail.width, detail.height, detail.colorimetry);
    const frame: Frame = { ...frameInfoOf(source), width: detail.width, height: detail.height, data, release: () => source.release() };
    return { ...candidate, frame };
  });
}
