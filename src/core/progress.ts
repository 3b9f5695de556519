/**
 * Progress of a long run, reported by pipelines as plain events so that library users can show it
 * their own way; the CLI renders them on a TTY (src/cli/progressBar.ts) and ignores them otherwise.
 */
export type ProgressEvent =
  | { readonly kind: 'stage'; readonly stage: string }
  /** Counted work: video frames unless `unit` (a plural noun: 'images', 'vectors') says otherwise. */
  | { readonly kind: 'frames'; readonly done: number; readonly total?: number; readonly unit?: string }
  | { readonly kind: 'download'; readonly received: number; readonly total?: number; readonly label: string }
  | { readonly kind: 'warning'; readonly message: string };

export type ProgressListener = (event: ProgressEvent) => void;

export const ignoreProgress: ProgressListener = () => {};

/** What every pipeline takes besides its options: where progress goes and what stops it. */
export interface RunSettings {
  readonly onProgress?: ProgressListener;
  /** Aborting it tears the run down: no process or worker is left, nothing half-written stays. */
  readonly signal?: AbortSignal;
  /**
   * Written into the output folder's marker when the run completes (a queue job's key), so that a
   * retry of the same job can tell its output is already complete; never part of the manifest.
   */
  readonly outputTag?: string;
}
