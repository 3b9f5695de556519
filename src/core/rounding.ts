/**
 * Round to the nearest integer, a tie to the even neighbour: what Python's round() and OpenCV's
 * cvRound do, so values that follow PySceneDetect or OpenCV land where theirs do (JavaScript's
 * Math.round sends every tie up).
 */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const difference = value - floor;
  if (difference > 0.5) return floor + 1;
  if (difference < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
