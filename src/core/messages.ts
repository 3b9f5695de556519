/**
 * Every sentence a user can read comes from here, so wording stays consistent (sharp's style:
 * "Expected number between 0 and 1 for epsilon but received 1.5") and the CLI and the library say
 * the same thing for the same mistake.
 */

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** A value as an argument check names it: numbers and strings as they are, objects by their class. */
function kindOf(value: unknown): string {
  if (value === null || typeof value !== 'object') return typeof value === 'function' ? 'a function' : show(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}

// ---- options ----
export const messages = {
  expectedNumberBetween: (name: string, min: number, max: number, received: unknown) =>
    `Expected number between ${min} and ${max} for ${name} but received ${show(received)}`,
  expectedIntegerBetween: (name: string, min: number, max: number, received: unknown) =>
    `Expected integer between ${min} and ${max} for ${name} but received ${show(received)}`,
  expectedOneOf: (name: string, choices: readonly string[], received: unknown) =>
    `Expected one of ${choices.join(', ')} for ${name} but received ${show(received)}`,
  expectedBoolean: (name: string, received: unknown) => `Expected boolean for ${name} but received ${show(received)}`,
  expectedString: (name: string, received: unknown) => `Expected string for ${name} but received ${show(received)}`,
  expectedNonEmptyString: (name: string) => `Expected a non-empty string for ${name} but received ''`,
  expectedFramesOrSeconds: (name: string, received: unknown) =>
    `Expected a whole number of frames (15) or seconds with an s suffix (0.6s) for ${name} but received ${show(received)}`,
  expectedNumberList: (name: string, length: number, received: unknown) =>
    `Expected ${length} numbers for ${name} but received ${show(received)}`,
  expectedPositiveNumberList: (name: string, length: number, received: unknown) =>
    `Expected ${length} positive numbers for ${name} but received ${show(received)}`,
  unknownOption: (name: string, known: readonly string[], suggestion?: string) =>
    suggestion ? `Unknown option ${name}; did you mean ${suggestion}?` : `Unknown option ${name}; known options are ${known.join(', ')}`,
  missingArguments: (usage: string) => `Missing arguments: ${usage} (piaggio --help shows examples)`,
  moreFlags: (command: string, sections: readonly string[]) =>
    `More flags: ${command} --help-all lists all of them; ${command} --help SECTION one section: ${sections.join(', ')}`,
  unknownHelpSection: (word: string, sections: readonly string[]) => `Unknown help section ${JSON.stringify(word)}; the sections are ${sections.join(', ')}`,
  unknownFlag: (flag: string, suggestion: string | undefined) =>
    suggestion ? `Unknown argument: ${flag}; did you mean ${suggestion}? (piaggio --help-all lists every flag)` : `Unknown argument: ${flag} (piaggio --help-all lists every flag)`,
  minSceneLengthNeedsFps: (seconds: number) =>
    `min-scene-len is ${seconds}s but the frame rate is unknown: pass fps to detectSceneCuts, or give the length in frames (15)`,
  expectedDetectorThreshold: (detector: string, min: number, max: number, received: unknown) =>
    `Expected number between ${min} and ${max} for threshold with the ${detector} detector but received ${show(received)}`,
  expectedContentWeights: (received: unknown) =>
    `Expected 4 comma-separated numbers hue,saturation,luma,edges (not all 0) for weights but received ${show(received)}`,
  expectedOddKernelSize: (received: unknown) => `Expected an odd integer of at least 3 for kernelSize but received ${show(received)}`,
  sceneDetectorHoldsTooMany: (needed: number, limit: number) =>
    `These settings make the scene detector hold ${needed} frames at once, more than the ${limit} the frame pool allows: lower --min-scene-len`,

  // ---- ffmpeg ----
  ffmpegNotFound: (tool: 'ffmpeg' | 'ffprobe') =>
    `${tool} was not found: install it (apt-get install ffmpeg, brew install ffmpeg, or https://ffmpeg.org/download.html), set ${tool === 'ffmpeg' ? 'FFMPEG_PATH' : 'FFPROBE_PATH'} to its path, or run npm install so the bundled @${tool}-installer/${tool} package is used`,
  ffmpegPathInvalid: (variable: string, path: string) => `${variable} is set to ${path}, which is not an executable file: fix the path or unset ${variable}`,
  inputNotFound: (path: string) => `Input not found: ${path}: check the path`,
  inputIsDirectory: (path: string) => `Expected a video file but ${path} is a directory: give one video (-v ${path} -o DIR runs each video in it; -d ${path} is for a folder of images)`,
  inputNotDirectory: (path: string) => `Expected a folder of images but ${path} is not a directory: use -v ${path} for a video`,
  inputEmpty: (path: string) => `${path} is empty (0 bytes): nothing to read`,
  inputNotRegularFile: (path: string) => `${path} is not a regular file (a FIFO, socket or device): give a video file`,
  inputNotReadable: (path: string) => `Cannot read ${path}: check its permissions`,
  modelNotRegularFile: (path: string) => `${path} is not a regular file (a FIFO, socket or device): give an .onnx model file`,
  permissionDenied: () => 'permission denied: check its permissions',
  noVideosFound: (path: string) =>
    `No videos found in ${path} (a folder given with -v is searched for video files by extension, not recursively): use -d ${path} for a folder of images`,
  noFilesMatch: (pattern: string) => `No files match ${pattern}: check the pattern (* and ? match within a folder name, ** any number of folders)`,
  videoProbeFailed: (path: string, reason: string) => `Cannot read ${path} as a video: ${reason}`,
  videoHasNoVideoStream: (path: string) => `${path} has no video stream: give a file with video in it`,
  videoIsText: (path: string) => `${path} is a text file, not a video: give a file with video in it`,
  videoHasNoFrames: (path: string) => `${path} has no video frames: its video stream decodes to nothing`,
  videoDecodeFailed: (path: string, reason: string) => `ffmpeg failed while decoding ${path}: ${reason}`,
  framesWithoutTimestamp: (count: number) => `${count} frames came without a timestamp in ffmpeg's log`,
  detailPicturesUnpaired: (count: number) => `${count} detail pictures came without their frame`,
  videoDecodedNothing: (path: string, expected: number) =>
    `ffmpeg decoded no frame of ${path} although ffprobe counts ${expected}: its video cannot be decoded (see ffmpeg -v error -i FILE -f null -)`,
  framesDamaged: (path: string, count: number) =>
    `${count} frame${count === 1 ? '' : 's'} of ${path} could not be decoded cleanly (damaged data): ffmpeg concealed or skipped ${count === 1 ? 'it' : 'them'} and the run went on`,
  keyframeExtractFailed: (path: string, frame: number, reason: string) =>
    `Could not extract frame ${frame} of ${path}: ${reason}`,
  fastNeedsPairwiseDetector: (detector: string, supported: readonly string[]) =>
    `--fast works with --detector ${supported.join(' or ')}, not ${detector}: drop --fast or choose ${supported.join(' or ')}`,
  fastWritesNoStats: () => '--fast decodes only parts of the video, so it cannot write --stats: drop one of them',
  fastFellBack: (path: string, reason: string) =>
    `--fast cannot number the frames of ${path} exactly (${reason}): decoding every frame instead`,

  // ---- images ----
  imageSkipped: (path: string, reason: string) => `Skipped ${path}: ${reason}`,
  imageUndecodable: (reason: string) => `cannot decode it as an image (${reason})`,
  folderUnreadable: (reason: string) => `cannot read this folder (${reason})`,
  linkLeavesInput: (target: string, root: string) =>
    `it links to ${target}, outside the input folder ${root}: pass --follow-symlinks to follow links out of it`,
  notRegularFile: () => 'it is not a regular file (a FIFO, socket or device), so it was not opened',
  noImagesFound: (path: string) => `No images found in ${path}: give a folder that contains image files sharp can decode (jpg, png, webp, gif, tiff, avif, svg)`,

  // ---- models ----
  modelNotFound: (pathOrId: string, knownIds: readonly string[]) =>
    `Unknown model ${pathOrId}: give a path to an .onnx file or one of ${knownIds.join(', ')}`,
  modelLoadFailed: (path: string, reason: string) => `Cannot load the ONNX model ${path}: ${reason}`,
  modelInputUnsupported: (path: string, detail: string) =>
    `${path} does not look like an image encoder (${detail}): give a model whose input is an image tensor [N, 3, H, W]`,
  modelOutputAmbiguous: (path: string, outputs: readonly string[]) =>
    `${path} has several outputs (${outputs.join(', ')}) and none is named like an embedding: choose one with --model-output NAME`,
  modelOutputMissing: (path: string, name: string, outputs: readonly string[]) =>
    `${path} has no output named ${name}; its outputs are ${outputs.join(', ')}`,
  modelOffline: (id: string, url: string, destination: string, reason: string, instead = 'pass -m PATH.onnx') =>
    `Cannot download model ${id} from ${url} (${reason}): download it yourself and put it at ${destination}, or ${instead}`,
  modelChecksumMismatch: (id: string, expected: string, actual: string) =>
    `Downloaded model ${id} is corrupt (sha256 ${actual}, expected ${expected}); it was not kept: run the command again`,
  modelDownloadFailed: (id: string, url: string, reason: string) => `Downloading model ${id} from ${url} failed: ${reason}`,
  modelInsecureUrl: (url: string) =>
    `Refusing to download ${url} over plain http: models are downloaded only over https (http only from this machine: localhost, 127.0.0.1, ::1)`,
  inferenceFailed: (path: string, reason: string) => `Inference with ${path} failed: ${reason}`,
  modelUnverified: (id: string, path: string) =>
    `model ${id} has no published sha256, so ${path} could not be verified: pass -m PATH.onnx with a file you trust to silence this`,
  modelCachedCorrupt: (id: string, path: string, actual: string, expected: string) =>
    `the cached model ${id} at ${path} is corrupt (sha256 ${actual}, expected ${expected}); downloading it again`,
  modelOutputNotFloat: (path: string, output: string, type: string) =>
    `${path}: output ${output} is ${type}, not float32: choose a float32 output with --model-output NAME`,
  modelDeriveFailed: (id: string, path: string, reason: string) =>
    `Cannot prepare model ${id} from ${path} (${reason}): delete that file and run the command again to download it afresh`,
  cudaProviderMissing: () =>
    "onnxruntime-node's CUDA provider is not installed (in piaggio's folder: node node_modules/onnxruntime-node/script/install.js --onnxruntime-node-install=cuda12; see the README, GPU)",
  deviceUnsupportedOnPlatform: (device: string, platform: string) => `onnxruntime-node has no ${device} provider on ${platform}`,
  deviceFallback: (device: string, reason: string) => `${device} is not available: ${reason}; running the model on the CPU`,
  inferenceWorkerStopped: (reason: string) => `the inference worker thread stopped: ${reason}`,
  sceneModelNotFound: (path: string) =>
    `Scene model not found: ${path}: give the path of a TransNet V2-format .onnx file with --scene-model, or leave --scene-model out to use the registry model`,
  sceneModelIsDirectory: (path: string) => `Expected an .onnx file for sceneModel (--scene-model) but ${path} is a directory`,
  sceneModelSignature: (path: string, detail: string) =>
    `${path} is not a TransNet V2-format shot-boundary model (${detail}): give an ONNX export with input frames uint8 [batch, 100, 27, 48, 3] and outputs single_frame and many_hot float32 [batch, 50]`,
  sceneModelWithoutLearnedDetector: (detector: string, learned: readonly string[]) =>
    `sceneModel (--scene-model) is the model of a learned detector (${learned.join(', ')}), not of ${detector}: add --detector ${learned[0]}, or drop --scene-model`,
  sceneModelScoreInvalid: (output: string, value: number) => `its ${output} output holds ${value}, not a probability`,
  learnedDetectorNotBuilt: (detector: string) =>
    `The ${detector} detector runs an ONNX model in a worker thread, not a SceneCutDetector: use detectLearnedSceneCuts for it (detectScenes and runKeyframes pick it by themselves)`,
  sceneModelsActionUnknownId: (id: string, imageIds: readonly string[], sceneIds: readonly string[]) =>
    `Unknown model ${id}: give one of ${imageIds.join(', ')} (image encoders) or ${sceneIds.join(', ')} (scene-cut models)`,
  hashSizeNotPowerOfTwo: (size: number) =>
    `Expected a power of two (4, 8 or 16) for embedderHashSize with --embedder whash but received ${size}`,
  embeddingCacheUnavailable: (path: string, reason: string) =>
    `the embedding cache at ${path} cannot be used (${reason}): embeddings are computed without it; pass --no-cache to silence this`,
  modelsActionNeedsId: (action: string) => `Give a model id: piaggio models ${action} ID (see piaggio models list)`,
  modelEmbeddingInvalid: (path: string, problem: string) =>
    `${path} gave an embedding that ${problem}, which cannot be compared with others (identical pictures would come out as distinct): check the model, or choose its embedding output with --model-output NAME`,
  modelInputTooLarge: (path: string, input: string, shape: string, maxSide: number, maxBatch: number) =>
    `${path} asks for input ${input} of shape ${shape}, more than piaggio can feed (sides up to ${maxSide} pixels, a fixed batch up to ${maxBatch} pictures): give a model with a smaller input`,
  inputTensorTooLarge: (shape: string, reason: string) => `its input tensor ${shape} cannot be allocated (${reason}): lower --batch-size`,
  embeddingCacheEntryCorrupt: (path: string) => `the cached embedding ${path} is corrupt (its checksum does not match): computing it again`,

  // ---- clustering ----
  npyUnreadable: (path: string, reason: string) => `Cannot read ${path} as a NumPy array: ${reason}`,
  npyNotNpy: () => 'it is not a .npy file (no NumPy header): save it with numpy.save(path, array)',
  npyNotFile: () => 'it is not a file: give a .npy file written by numpy.save',
  npyVersion: (version: string) => `its format version ${version} is unknown: save it again with numpy.save`,
  npyType: (descr: string) => `its element type is ${descr}, not float32 or float64: save array.astype('float32')`,
  npyBigEndian: (descr: string) => `it is big-endian (${descr}): save array.astype('<f4')`,
  npyFortranOrder: () => 'it is in Fortran (column-major) order: save numpy.ascontiguousarray(array)',
  npyShape: (shape: readonly number[]) =>
    `its shape is (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), not 2-D: save one row per vector, e.g. array.reshape(len(array), -1)`,
  npyTruncated: (expected: number, found: number) => `it is truncated: its header promises ${expected} bytes of data but the file holds ${found}`,
  hammingNeedsBits: () =>
    'The hamming metric counts differing bits, but the vectors hold values other than 0 and 1: give 0/1 bit vectors (such as perceptual hashes), or use -t cosine or -t euclidean',
  nonFiniteRow: (source: string, row: number, value: number) =>
    `Cannot cluster ${source}: row ${row} (counting from 0) holds ${value}, and DBSCAN needs finite numbers (scikit-learn's refuses NaN and infinity too): fix or remove that row`,
  nonFiniteEmbedding: (path: string, value: number) =>
    `The embedding of ${path} holds ${value}, and DBSCAN needs finite numbers: check the embedder that produced it`,
  expectedTypedArray: (name: string, type: string, received: unknown) => `Expected ${type} for ${name} but received ${kindOf(received)}`,
  expectedPositiveInteger: (name: string, received: unknown) => `Expected positive integer for ${name} but received ${kindOf(received)}`,
  expectedObject: (name: string, received: unknown) => `Expected an object for ${name} but received ${kindOf(received)}`,
  vectorsNotWholeRows: (length: number, dimensions: number) =>
    `Expected a whole number of rows of ${dimensions} values in vectors but received ${length} values`,
  embeddingDimensionsMismatch: (path: string, expected: number, received: number) =>
    `The embedding of ${path} has ${received} values but earlier ones have ${expected}: every picture must be embedded by the same model`,

  // ---- outputs ----
  outputOverlapsInput: (output: string, input: string) =>
    `Refusing to write to ${output}: it is, holds or lies inside the input ${input}; choose an output folder outside every input`,
  outputNotEmpty: (output: string, example: string) =>
    `Refusing to write to ${output}: it is not empty (it holds ${example}) and piaggio did not write it; choose a new or empty folder, or pass --overwrite to delete its contents`,
  outputHoldsForeignFile: (output: string, foreign: string) =>
    `Refusing to replace ${output}: piaggio wrote it, but ${foreign} was added since; move that away, choose another folder, or pass --overwrite`,
  outputNotAFolder: (output: string, kind: string) => `Refusing to write to ${output}: it is ${kind}, not a folder; give a folder path with -o`,
  outputFolderIsLink: (output: string, target: string) =>
    `Refusing to write to ${output}: it is a symbolic link (to ${target}), which the run would replace; give the real folder with -o`,
  outputNamedLikeStaging: (output: string) =>
    `Refusing to write to ${output}: its name is that of piaggio's temporary folders (.piaggio-staging-…), which later runs remove; choose another name`,
  batchOutputNotEmpty: (output: string, example: string) =>
    `Refusing to write a batch into ${output}: it is not empty (it holds ${example}) and piaggio did not make it; choose a new or empty folder, or pass --overwrite to add one folder per video to it (a folder named like a video is replaced)`,
  outputChangedDuringRun: (output: string) =>
    `Refusing to write into ${output}: it was empty when the run began, and something was put into it since; nothing was written, run again`,
  outputNotReplaceable: (output: string, reason: string) =>
    `Refusing to replace ${output}: ${reason}, so the old folder could not be deleted whole; clear that first or choose another folder`,
  outputPreviousLeft: (previous: string, reason: string) => `the new output is in place, but its previous version could not be deleted (${reason}): it is left at ${previous}`,
  outputIsMountPoint: (output: string) => `Refusing to write to ${output}: it is a mount point; give a new folder inside it, such as ${output}/piaggio-out`,
  outputHoldsWorkingDirectory: (output: string) =>
    `Refusing to overwrite ${output}: the current folder is inside it; run piaggio from another folder or choose another output`,
  outputFileFolderMissing: (flag: string, path: string, folder: string) => `Cannot write ${flag} ${path}: the folder ${folder} does not exist (make it first)`,
  outputFileNotRegular: (flag: string, path: string, kind: string) =>
    `Refusing to write ${flag} to ${path}: it is ${kind}, not a regular file; give the path of a new or ordinary file`,
  outputFileIsInput: (flag: string, path: string, input: string) =>
    `Refusing to write ${flag} to ${path}: it is the input ${input} or a file inside it; give a path outside the inputs`,
  outputFileCollides: (flag: string, path: string) =>
    `Refusing to write ${flag} to ${path}: the run writes a file of that name into its output folder; give another name`,
  outputNotWritable: (path: string, reason: string) => `Cannot write to ${path}: ${reason}`,
  splitFailed: (path: string, sceneNumber: number, reason: string) =>
    `Could not cut scene ${sceneNumber} out of ${path}: ${reason} (no part was kept; try --split-mode copy if the re-encode is the problem)`,
  splitNameInvalid: (template: string, reason: string) =>
    `Expected a file name template for split-name but received ${JSON.stringify(template)}: ${reason}`,
  splitNameNotVideo: (extension: string, mode: string, containers: readonly string[]) =>
    `.${extension} is not a video container --split-mode ${mode} writes: end the name with one of ${containers.map((name) => `.${name}`).join(', ')}`,
  splitNameTooLong: (maxBytes: number) => `a part's name would be longer than ${maxBytes} bytes (the file system's limit, less room for a temporary name): shorten the template`,

  // ---- cli ----
  missingInput: () => 'Give a video with -v VIDEO or a folder of images with -d DIR (see piaggio --help)',
  bothInputs: () => 'Give either -v VIDEO or -d DIR, not both',
  oneImageFolder: () => 'Give one folder of images with -d DIR (its subfolders are searched too)',
  missingOutput: () => 'Give an output folder with -o DIR',
  statsInsideOutput: (stats: string, output: string) =>
    `The stats file ${stats} lies inside the output folder ${output}, which a run replaces as a whole: put it elsewhere`,
  oneOutputFolder: () => 'Give one output folder with -o DIR, not several',
  batchScenesPreset: () => 'The scenes preset prints the cut list of one video: give one video, or run piaggio scenes VIDEO for each',
  batchOneFile: (flag: string) => `${flag} names one file, which every video of a batch would overwrite: give one video, or run piaggio once per video`,
  batchInterrupted: (signal: string, written: number, total: number) =>
    `Interrupted by ${signal}: ${written} of ${total} videos were written (status ok in the list); the interrupted one left nothing`,
  batchSummary: (total: number, ok: number, failed: number) => `${total} input${total === 1 ? '' : 's'}: ${ok} ok, ${failed} failed`,
  framesHeldTooMany: (needed: number, limit: number) =>
    `These settings hold up to ${needed} frames at once (min scene length + middle samples + 2 batches), more than the ${limit} the frame pool allows: lower --min-scene-len or --batch-size`,
  optionNotForRun: (flag: string, run: string) => `${flag} does nothing for ${run}: leave it out (piaggio --help-all says which runs read each flag)`,
  sceneExportWithoutOutput: (flag: string) => `${flag} needs -o DIR: it writes its files there`,
  presetWrongInput: (preset: string, input: string) => `The ${preset} preset works on ${input}: pick a preset for your input (piaggio presets lists them)`,
  plotsNeedEmbeddings: () => 'no plot: this run computed no embeddings (--clustering none), so there is nothing to place; the report shows scenes and clusters only',
  interrupted: (signal: string) => `Interrupted by ${signal}: nothing was written`,
  interruptedWhilePrinting: (signal: string) => `Interrupted by ${signal} while printing the result: what stdout received is incomplete`,
  /** Why a run stopped when the process that started it (npx, a shell) ended, as `interrupted` completes it. */
  parentProcessEnded: (pid: number) => `the end of the process that started piaggio (PID ${pid})`,
  expectedStringList: (name: string, received: unknown) => `Expected an array of strings for ${name} but received ${kindOf(received)}`,
  expectedNonEmptyList: (name: string) => `Expected at least one entry in ${name} but received an empty array`,
  expectedFunction: (name: string, received: unknown) => `Expected a function for ${name} but received ${kindOf(received)}`,
  expectedAbortSignal: (name: string, received: unknown) => `Expected an AbortSignal for ${name} but received ${kindOf(received)}`,
  unexpected: (reason: string) => `Unexpected error: ${reason} (run again with --verbose for details)`,
  warning: (text: string) => `warning: ${text}`,

  // ---- scene detection kernels (src/operators/kernels/scenes) ----
  expectedFiniteNumber: (name: string, received: unknown) => `Expected finite number for ${name} but received ${show(received)}`,
  expectedWholeFrames: (name: string, received: unknown) => `Expected a whole number of frames for ${name} but received ${show(received)}`,
  expectedContentWeightArray: (name: string, received: readonly unknown[]) =>
    `Expected 4 finite numbers hue,saturation,luma,edges (not all 0) for ${name} but received [${received.map(String).join(', ')}]`,
  sceneDetectorReused: () =>
    'Expected a fresh scene detector for detectSceneCuts but received one another subscription already used: build one with createSceneCutDetector per run',
  expectedFrameCountRange: (name: string, min: number, minFrames: unknown, maxFrames: unknown) =>
    `Expected integers ${min} <= minFrames <= maxFrames for ${name} but received ${show(minFrames)} and ${show(maxFrames)}`,
  frameDataTooShort: (detector: string, frameIndex: number, width: number, height: number, expected: number, received: number) =>
    `Expected ${expected} bytes (${width}x${height} RGB) for frame ${frameIndex} in ${detector} but received ${received}`,
  frameSizeChanged: (detector: string, frameIndex: number, width: number, height: number, expectedPixels: number) =>
    `Expected every frame in ${detector} to have ${expectedPixels} pixels like the first but frame ${frameIndex} is ${width}x${height}: analyse frames of one size per run`,
  transitionFinderFinished: () => 'GradualTransitionFinder: the stream was flushed; start a new GradualTransitionFinder for another video',
  transitionFinderOutOfOrder: (expected: number, received: number) =>
    `GradualTransitionFinder: expected frame ${expected} next but received frame ${received}: push every frame, in order`,
  transNetWindowsFinished: () => 'TransNetWindows: the stream was finished; start a new TransNetWindows for another video',
  transNetWindowOutOfOrder: (expected: number, received: number) =>
    `TransNetScores: expected the window scoring frames from ${expected} next but received one from ${received}: add windows in order`,
  transNetTooFewScores: (frames: number, scored: number) =>
    `TransNetScores: expected scores for ${frames} frames but the windows added score ${scored}: add every window, including those TransNetWindows.finish returns`,
  transNetScoreCount: (expected: number, singleFrame: number, manyHot: number) =>
    `TransNetScores: expected ${expected} single_frame and many_hot scores but received ${singleFrame} and ${manyHot}`,
  framesTooSmallForHash: (width: number, height: number, side: number) =>
    `HashDetector: frames of ${width}x${height} are smaller than the ${side}x${side} the hash shrinks them to: raise --analysis-size or lower --hash-size or --hash-lowpass`,

  // ---- clustering, projection and image kernels (src/operators/kernels/clustering, projection, image) ----
  expectedNumberAtLeast: (name: string, min: number, received: unknown) => `Expected number of at least ${min} for ${name} but received ${show(received)}`,
  dedupSummary: (mode: string, groups: number, duplicates: number, images: number, skipped: number, output: string) =>
    `${count(groups)} group${groups === 1 ? '' : 's'} of duplicates (${mode} mode): ${count(duplicates)} of ${count(images)} images not kept (${count(skipped)} skipped); written to ${output}`,
  dryRunSummary: (files: number) => `Dry run: ${count(files)} file${files === 1 ? '' : 's'} would move; nothing was moved`,
  movedSummary: (files: number, target: string) => `Moved ${count(files)} file${files === 1 ? '' : 's'} to ${target}`,
  againstNotARun: (directory: string) => `--against ${directory}: not the output folder of a piaggio -d run (no readable manifest.json of an image run)`,
  againstWithoutIndex: (directory: string) =>
    `--against ${directory}: the run saved no usable embeddings.npy (runs in exact mode and runs before piaggio 0.1 save none); run -d on that folder again first`,
  againstOtherModel: (directory: string) =>
    `--against ${directory}: that run's pictures were embedded with another model or preprocessing; give the same -m and model flags (and --cache setting) as that run`,
  moveTargetOverlapsOutput: (target: string, output: string) =>
    `Refusing --move-duplicates ${target}: it overlaps the output folder ${output}, which the next run replaces whole; choose a folder outside it`,
  digestUnreadable: (path: string, reason: string) => `Cannot read ${path} to compare its pixels (it changed since the folder was read?): ${reason}`,
  keptCopyFailed: (path: string, reason: string) => `Cannot copy the kept picture ${path}: ${reason}`,
  pairNotVerified: (reason: string) => `${reason}; its pairs count as different pictures`,
  optionMeaninglessInMode: (flag: string, mode: string) => `${flag} has no meaning with --mode ${mode}`,
  dryRunWithoutMove: () => '--dry-run needs --move-duplicates DIR: there is nothing else it would do',
  nearAcceptAboveEpsilon: (nearAccept: number, epsilon: number) =>
    `--near-accept ${nearAccept} is above the largest near-duplicate distance -e ${epsilon}: give a smaller --near-accept or a larger -e`,
  movesIncomplete: (moved: number, notMoved: number, output: string) =>
    `moved ${count(moved)} duplicates; ${count(notMoved)} could not be moved (see the warnings above; ${output}/duplicates.csv lists where each went, while report.html and manifest.json show the plan)`,
  nearThresholdsOutOfOrder: (acceptBelow: number, verifyUpTo: number) =>
    `Expected 0 <= acceptBelow <= verifyUpTo for the near-duplicate thresholds but received acceptBelow ${show(acceptBelow)} and verifyUpTo ${show(verifyUpTo)}`,
  expectedIntegerAtLeast: (name: string, min: number, received: unknown) => `Expected integer of at least ${min} for ${name} but received ${show(received)}`,
  expectedOddIntegerAtLeast: (name: string, min: number, received: unknown) =>
    `Expected an odd integer of at least ${min} for ${name} but received ${show(received)}`,
  expectedPowerOfTwoDividing: (name: string, whole: number, received: unknown) =>
    `Expected a power of two that divides ${whole} for ${name} but received ${show(received)}`,
  expectedRowsAtLeast: (name: string, min: number, received: number) => `Expected at least ${min} row${min === 1 ? '' : 's'} for ${name} but received ${received}`,
  expectedCoordinates: (name: string, points: number, received: number) =>
    `Expected ${points * 2} values (x and y of ${points} points) for ${name} but received ${received}`,
  expectedPictureBytes: (name: string, width: number, height: number, layout: 'RGB' | 'grey', received: number) =>
    `Expected at least ${width * height * (layout === 'RGB' ? 3 : 1)} bytes (a ${width}x${height} ${layout} picture) for ${name} but received ${received}`,
  expectedPicturePlanes: (name: string, pixels: number, rgbBytes: number, saturation: number, value: number) =>
    `Expected at least ${pixels * 3} RGB bytes and saturation and value planes of at least ${pixels} values (the hue plane's length) for ${name} but received ${rgbBytes} bytes and planes of ${saturation} and ${value}`,
  pictureTooSmallToShrink: (name: string, sourceWidth: number, sourceHeight: number, width: number, height: number) =>
    `Expected a picture of at least ${width}x${height} for ${name} but received ${sourceWidth}x${sourceHeight}: the analysis frames are too small for this hash size`,
  hashLengthsDiffer: (name: string, first: number, second: number) => `Expected hashes of the same length for ${name} but received ${first} and ${second} bits`,
  expectedDistanceRoom: (name: string, rows: number, received: number) => `Expected room for ${rows} distances in ${name} but received ${received}`,
  expectedRowNorms: (name: string, rows: number, received: number | undefined) =>
    `Expected the ${rows} row norms from rowNorms(vectors, dimensions) for ${name} with the cosine metric but received ${received === undefined ? 'none' : received}`,
  matrixProductDimensions: (name: string, expected: number, received: number) =>
    `Expected a matrix product of ${expected} dimensions for ${name} but received one of ${received}`,
  hammingSearchNeedsBits: (name: string, search: string) =>
    `Expected vectors of 0s and 1s for ${name} with the hamming metric through ${search} but received other values`,
  emptyCluster: (name: string, cluster: number) => `Expected at least one member in cluster ${cluster} for ${name} but received an empty list`,
  clusterMemberNotRow: (name: string, cluster: number, rows: number, received: unknown) =>
    `Expected the index of one of the ${rows} rows in cluster ${cluster} for ${name} but received ${show(received)}`,
  dbscanWorkerFailed: (reason: string) => `a DBSCAN worker thread failed: ${reason}`,
  dbscanWorkerStopped: (exitCode: number) => `a DBSCAN worker thread stopped (exit code ${exitCode})`,
  dbscanWorkerClosed: () => 'the DBSCAN worker thread was closed',

  // ---- video source (src/sources) ----
  sceneImageNameInvalid: (flag: string, template: string, reason: string) =>
    `Expected a file name template for ${flag} but received ${JSON.stringify(template)}: ${reason}`,
  sceneImageNameTooLong: (maxBytes: number) =>
    `an image's name would be longer than ${maxBytes} bytes (the file system's limit, less room for a temporary name): shorten the template`,

  // --- issue 14: fast scenes ---
  fastCutHints: (hinted: number, intervals: number, frameShare: number) =>
    `the packet sizes hint at a cut in ${count(hinted)} of ${count(intervals)} keyframe intervals (${percent(frameShare)} of the frames)`,
  fastPartsCostMore: (share: number) => `decoding the keyframes and the stretches that may hold a cut would cost about ${percent(share)} of decoding everything`,
  fastDecodedParts: (decoded: number, frames: number, keyframes: number, stretches: number, scored: number) =>
    `--fast decoded ${count(decoded)} of ${count(frames)} frames (${percent(decoded / Math.max(1, frames))}): ${count(keyframes)} keyframes alone, ${count(stretches)} ${stretches === 1 ? 'stretch' : 'stretches'} around possible cuts (${count(scored)} frames scored)`,
  fastDecodedEverything: (reason: string, runs: number) =>
    `--fast decoded every frame${runs > 1 ? ` in ${count(runs)} single-threaded ffmpeg runs side by side` : ''}, without the full pass's transition detector: ${reason}`,
  fastRanFullPass: (reason: string) => `--fast ran the full pass: ${reason}`,

  // --- issue 14: decoding lanes (src/sources/fromVideoLanes.ts): why a video is decoded in one run ---
  lanesOneAskedFor: () => 'one lane asked for',
  lanesVideoTooShort: () => 'too short to gain',
  lanesNoPacketTable: (reason: string) => `no packet table (${reason})`,
  lanesNoDecodeTimes: () => 'packets without decode times, or a file name a concat list cannot hold',
  lanesKeyframesUnreadable: (reason: string) => `keyframe packets unreadable (${reason})`,
  lanesNoRestartKeyframe: () => 'no keyframe to split the video at where a decoder can restart (an IDR picture)',
  lanesGaveUp: (lane: number, reason: string) => `lane ${lane}: ${reason}`,

  // ---- duplicate decisions: keep rule, duplicates.csv/json, moving duplicates, kept copies ----
  keepGroupEmpty: (name: string) => `Expected at least one picture for ${name} but received none`,
  keepMedoidNotMember: (name: string, medoid: unknown) => `Expected the index of one of the members for ${name} but received ${show(medoid)}`,
  keptNotMember: (name: string, group: number, kept: unknown) => `Expected the kept index of group ${group} to be one of its members for ${name} but received ${show(kept)}`,
  decisionFactsMissing: (name: string, index: number) => `Expected the facts of picture ${index} in ${name} but received none for it`,
  decisionMemberTwice: (name: string, index: number) => `Expected each picture in one group only for ${name} but received picture ${index} in two`,
  decisionPathOutsideInput: (path: string, input: string) => `Expected pictures inside the input folder ${input} but received ${path}`,
  movePathInvalid: (name: string, path: string) =>
    `Expected a path relative to the input folder, '/'-separated, without empty, . or .. parts, for ${name} but received ${show(path)}`,
  movePathListedTwice: (name: string, path: string) => `Expected each path once in ${name} but received ${show(path)} twice`,
  moveGroupKeptCount: (name: string, group: number, kept: number) =>
    `Expected exactly one kept picture in group ${group} of ${name}, which has duplicates to move, but received ${kept}`,
  moveTargetOverlapsInput: (target: string, input: string) =>
    `Refusing to move duplicates into ${target}: it is, holds or lies inside the input folder ${input} (the next run would find them again); choose a folder outside it`,
  moveTargetNotFolder: (target: string, kind: string) => `Refusing to move duplicates into ${target}: it is ${kind}, not a folder; give a new or existing folder`,
  moveDestinationsTaken: (target: string, count: number, examples: readonly string[]) =>
    `Refusing to move duplicates into ${target}: ${count === 1 ? 'a destination is' : `${count} destinations are`} already taken (${examples.join('; ')}${count > examples.length ? '; ...' : ''}); nothing was moved and nothing is ever overwritten: choose an empty folder or move those away`,
  moveDestinationExists: (to: string, kind: string) => `${to} exists (${kind})`,
  moveDestinationFolderBlocked: (folder: string, kind: string) => `${folder} is ${kind}, not a folder`,
  moveDestinationFolderElsewhere: (folder: string, real: string) => `the folder ${folder} leads to ${real} (a symbolic link, or a folder whose name differs only in letter case)`,
  moveDestinationAppeared: (to: string) => `${to} appeared after the plan was checked; nothing is overwritten`,
  moveSourceMissing: () => 'it is no longer there',
  moveSourceIsLink: (target: string) =>
    `it is a symbolic link (to ${target}); a link is not moved (a relative one would break where it lands) and what it points to is left alone`,
  moveSourceNotRegular: (kind: string) => `it is ${kind}, not a regular file`,
  moveSourceChanged: (bytes: number, modified: string, nowBytes: number, nowModified: string) =>
    `it changed since it was read (${bytes} bytes, modified ${modified || 'at an unknown time'}; now ${nowBytes} bytes, modified ${nowModified}); run piaggio again to decide about it`,
  moveSourceOutsideInput: (real: string) => `it is ${real}, outside the input folder, reached through a symbolic link`,
  moveSourceIsKept: (kept: string) => `the kept picture ${kept} is this file (through a symbolic link); moving it would leave the kept picture dangling`,
  moveSourceSameFile: (other: string) => `it is the same file as ${other}, which is moved already`,
  moveCopyMismatch: (expected: number, written: number) => `the copy holds ${written} bytes, not ${expected}; the copy was removed and the picture left in place`,
  moveSourceNotRemoved: (reason: string) => `it could not be removed from the input folder (${reason}); its copy was removed again and the picture left in place`,
  moveFailed: (reason: string) => `it could not be moved: ${reason}`,
  moveStopped: () => 'the moves were stopped before this one',
  moveSkipped: (path: string, reason: string) => `Not moved: ${path}: ${reason}`,
  moveLine: (from: string, to: string) => `${from} -> ${to}`,
  keptCopyNoFreeName: (folder: string, name: string) => `Cannot copy ${name} into ${folder}: every name tried for it is taken`,
  pictureFactsUnreadable: (path: string, reason: string) => `Cannot read ${path}: ${reason}`,
  pictureGone: () => 'it is no longer there (moved or deleted since it was read)',

  // --- batch-invariant embeddings (src/models/ImageEncoder.ts) and candidates decoded again for the model (src/operators/redecodeCandidates.ts) ---
  batchCouplingOperators: (operators: readonly string[]) => `its graph computes ${operators.join(', ')} over the whole batch`,
  batchDependenceMeasured: () => 'its embedding of a test picture changed when other pictures shared its batch',
  embeddingPerPicture: (path: string, reason: string) =>
    `${path}: ${reason}, so pictures are embedded one per model call (the same embedding whatever the batch size, at some cost in speed)`,
  candidateFrameNotDecoded: (videoPath: string, frame: number, time: number) =>
    `Cannot decode frame ${frame} (${time.toFixed(3)} s) of ${videoPath} again for the model: ffmpeg gave no frame with its timestamp; --embed-from analysis embeds the analysis frames instead`,

  // --- verification of near-duplicate pairs by local features (src/operators/kernels/dedup/GeometricVerifier.ts, src/models/orbFeatures.ts) ---
  featureSetLength: (name: string, keypoints: number, expected: number, received: number) =>
    `Expected ${expected} values in ${name} for ${keypoints} keypoints but received ${received}`,
  verificationUnreadable: (path: string, reason: string) => `Cannot read ${path} to compare its local features: ${reason}`,

  // --- distributed runs on a BullMQ queue (src/pipelines/queue/) ---
  queueUrlInvalid: (url: string) => `Expected a Redis URL for --queue (redis://HOST:PORT, rediss://HOST:PORT, with /DB optional) but received ${show(url)}`,
  queueUnreachable: (url: string, reason: string) =>
    `Cannot reach Redis at ${url}: ${reason}. Start it (redis-server --appendonly yes) or check the address`,
  queueConnectionLost: (url: string, reason: string) => `Lost the connection to Redis at ${url} (${reason}); reconnecting`,
  queueConnectionBack: (url: string) => `Connected to Redis at ${url} again`,
  queueOptionWithoutQueue: (flag: string) => `${flag} needs --queue URL: it only applies to a run handed to workers`,
  queueNotForCommand: (what: string) => `--queue cannot run ${what}: only -v/video (one job per video) and -d/images (embedding shards, then one grouping job) are handed to workers`,
  queueDryRun: () => '--dry-run with --queue: run it without --queue, it only reads the folder and lists what would move',
  queueEnqueued: (jobs: number, run: string, url: string) =>
    `${jobs} job${jobs === 1 ? '' : 's'} queued at ${url} (run ${run}); piaggio status --queue ${url} shows them`,
  queueJobFailed: (input: string, reason: string) => `The queued job for ${input} failed: ${reason}`,
  queueJobVanished: (id: string, url: string) => `Job ${id} is no longer in the queue at ${url} (removed by hand, or Redis lost it: configure appendonly yes); run the command again`,
  queueAlreadyFailed: (input: string, reason: string) =>
    `${input} failed in an earlier queued run (${reason}); the queue keeps that result: fix the input (a changed file is a new job) or remove the job`,
  queueShardMissing: (path: string) => `The embedding shard ${path} is missing: its job finished but the file is gone (a shared folder every worker sees is required)`,
  queueShardOtherModel: (path: string) => `The embedding shard ${path} was written by another model or mode than this run uses`,
  queueStoppedWaiting: (signal: string, url: string) =>
    `Interrupted by ${signal}: stopped waiting; the jobs stay queued and the workers go on (piaggio status --queue ${url} shows them; the same command waits again without queuing anything twice)`,
  workerReady: (name: string, url: string) => `worker ${name} waiting for jobs at ${url} (Ctrl-C hands the running job back and stops)`,
  workerStopping: (signal: string) => `${signal}: handing the running job back to the queue and stopping`,
  workerJobDone: (kind: string, input: string, seconds: number) => `done ${kind} ${input} in ${seconds.toFixed(1)} s`,
  workerJobFailed: (kind: string, input: string, reason: string) => `failed ${kind} ${input}: ${reason}`,
  workerJobWaits: (input: string) => `queued a round of verification of the candidate pairs of ${input}; its grouping goes on when they are done`,
  workerJobAlreadyDone: (kind: string, input: string) => `skipped ${kind} ${input}: its output is already complete`,
} as const;

/** 1234567 as 1,234,567. */
function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** 0.2166 as 22%. */
function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

export type Messages = typeof messages;
