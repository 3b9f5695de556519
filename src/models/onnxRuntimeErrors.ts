/**
 * onnxruntime's error texts, made into the reason of a one-line message: the first non-empty line,
 * without what only its own developers read (the source file and line, the C++ signature) or
 * what the message around it already says (the model's path).
 */

/** The first non-empty line of an error's message. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n').find((line) => line.trim() !== '')?.trim() ?? text;
}

/**
 * Why a model did not load: `Load model from PATH failed:/onnxruntime_src/.../model.cc:187
 * onnxruntime::Model::Model(...) ModelProto does not have a graph.` becomes `ModelProto does not
 * have a graph.`; a text without those parts is returned as it is.
 */
export function modelLoadReason(error: unknown): string {
  const line = firstLine(error);
  const reason = line
    .replace(/^Load model from .*? failed:\s*/, '')
    .replace(/^\S*\.(?:cc|cpp|h):\d+ .*?\)\s+(?=\S)/, '')
    .trim();
  return reason === '' ? line : reason;
}
