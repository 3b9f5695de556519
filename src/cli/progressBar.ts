import type { ProgressEvent, ProgressListener } from '../core/progress.js';
import { messages } from '../core/messages.js';

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const whole = Math.round(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = whole % 60;
  const two = (value: number) => String(value).padStart(2, '0');
  return hours > 0 ? `${hours}:${two(minutes)}:${two(rest)}` : `${two(minutes)}:${two(rest)}`;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  if (bytes >= 1 << 10) return `${(bytes / (1 << 10)).toFixed(0)} KiB`;
  return `${bytes} B`;
}

/**
 * Draws one self-overwriting status line on a TTY: stage, frames (or the event's unit), per second, ETA.
 * Redraws at most 10 times a second so that drawing never costs more than the work it reports.
 * Warnings are always printed (on their own line), TTY or not, because they name skipped input.
 */
export function createProgressRenderer(stream: NodeJS.WriteStream, settings: { interactive: boolean }): ProgressListener & { finish(): void } {
  let stage = '';
  let startedAt = Date.now();
  let lastDraw = 0;
  let lineVisible = false;

  const clear = () => {
    if (lineVisible) {
      stream.write('\r\x1b[2K');
      lineVisible = false;
    }
  };
  const draw = (text: string, force = false) => {
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    const width = stream.columns && stream.columns >= 20 ? stream.columns : 100;
    stream.write(`\r\x1b[2K${text.slice(0, Math.max(10, width - 1))}`);
    lineVisible = true;
  };

  const listener = (event: ProgressEvent) => {
    if (event.kind === 'warning') {
      clear();
      stream.write(`${messages.warning(event.message)}\n`);
      return;
    }
    if (!settings.interactive) return;
    switch (event.kind) {
      case 'stage':
        stage = event.stage;
        startedAt = Date.now();
        draw(`${stage}…`, true);
        break;
      case 'frames': {
        const elapsed = (Date.now() - startedAt) / 1000;
        const rate = elapsed > 0 ? event.done / elapsed : 0;
        const total = event.total && event.total > 0 ? event.total : undefined;
        const percent = total ? ` ${Math.min(100, (100 * event.done) / total).toFixed(0)}%` : '';
        const eta = total && rate > 0 ? ` ETA ${formatDuration((total - event.done) / rate)}` : '';
        const unit = event.unit ?? 'frames';
        const perSecond = unit === 'frames' ? 'fps' : `${unit}/s`;
        draw(`${stage}${percent} ${event.done}${total ? `/${total}` : ''} ${unit}, ${rate.toFixed(0)} ${perSecond}${eta}`);
        break;
      }
      case 'download': {
        const percent = event.total ? ` ${((100 * event.received) / event.total).toFixed(0)}%` : '';
        draw(`Downloading ${event.label}${percent} ${formatBytes(event.received)}${event.total ? ` of ${formatBytes(event.total)}` : ''}`);
        break;
      }
    }
  };
  return Object.assign(listener, { finish: clear });
}
