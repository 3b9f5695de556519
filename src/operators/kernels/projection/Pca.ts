import { argumentError, requireIntegerBetween } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';
import { rowCount } from '../clustering/distance.js';
import { seededRandom } from '../../../core/seededRandom.js';

export { seededRandom };

/**
 * Principal component analysis of the rows of one contiguous Float32Array (row `i` at
 * `i * dimensions`), deterministic: the same input gives bit-identical output on every run.
 *
 * Method: the smaller of the covariance matrix (dimensions x dimensions) and the Gram matrix
 * (rows x rows) of the centred data is formed once, and its leading eigenvectors are found by
 * subspace iteration with a Rayleigh-Ritz step, started from a fixed pseudo-random block. Both
 * matrices share their non-zero eigenvalues, so the cheaper one is always exact; forming it costs
 * `min(rows, dimensions)^2 * max(rows, dimensions) / 2` multiply-adds, after which each iteration is
 * cheap. Arithmetic is float64.
 *
 * Signs: an eigenvector's sign is arbitrary, so each component is flipped to make its
 * largest-magnitude loading positive (the first one on a tie), as scikit-learn's `svd_flip` does
 * with `u_based_decision=False`. Variances use the `n - 1` denominator (scikit-learn's
 * `explained_variance_`).
 */
export class Pca {
  /** Column means of the input, subtracted before projecting. */
  readonly mean: Float64Array;
  /** `componentCount` unit vectors of length `dimensions`, by decreasing variance. */
  readonly components: readonly Float64Array[];
  /** Variance of the data along each component (eigenvalues of the covariance). */
  readonly explainedVariance: Float64Array;
  /** `explainedVariance` divided by the total variance (0 when the data has none). */
  readonly explainedVarianceRatio: Float64Array;
  readonly dimensions: number;

  private constructor(mean: Float64Array, components: Float64Array[], explainedVariance: Float64Array, totalVariance: number) {
    this.mean = mean;
    this.components = components;
    this.dimensions = mean.length;
    this.explainedVariance = explainedVariance;
    this.explainedVarianceRatio = explainedVariance.map((variance) => (totalVariance > 0 ? variance / totalVariance : 0));
  }

  /**
   * Fits `componentCount` components. With fewer independent directions in the data than
   * components (e.g. two rows), the extra components have zero variance and are unit vectors
   * orthogonal to the others, so projections along them are 0.
   */
  static fit(vectors: Float32Array, dimensions: number, componentCount = 2, settings: PcaSettings = {}): Pca {
    const rows = rowCount(vectors, dimensions);
    if (rows < 1) throw argumentError(messages.expectedRowsAtLeast('Pca vectors', 1, rows));
    requireIntegerBetween('Pca componentCount', componentCount, 1, dimensions);
    const mean = columnMeans(vectors, dimensions, rows);
    const centred = new Float64Array(rows * dimensions);
    let sumOfSquares = 0;
    for (let row = 0; row < rows; row++) {
      const offset = row * dimensions;
      for (let column = 0; column < dimensions; column++) {
        const value = vectors[offset + column] - mean[column];
        centred[offset + column] = value;
        sumOfSquares += value * value;
      }
    }
    const denominator = Math.max(1, rows - 1);
    const totalVariance = sumOfSquares / denominator;
    const useGram = rows < dimensions;
    const size = useGram ? rows : dimensions;
    const matrix = useGram ? gramMatrix(centred, rows, dimensions, denominator) : covarianceMatrix(centred, rows, dimensions, denominator);
    const wanted = Math.min(componentCount, size);
    const { values, vectors: eigenvectors } = leadingEigenpairs(matrix, size, wanted, settings);

    // Eigenvalues below this share of the total are rounding noise: their directions are arbitrary.
    const negligible = Math.max(totalVariance, Number.MIN_VALUE) * 1e-12;
    const components: Float64Array[] = [];
    const variances = new Float64Array(componentCount);
    for (let index = 0; index < wanted; index++) {
      const eigenvalue = values[index];
      if (!(eigenvalue > negligible)) break;
      let component: Float64Array;
      if (useGram) {
        // v = X^T u / |X^T u|: the covariance eigenvector that shares the Gram eigenvalue.
        component = new Float64Array(dimensions);
        const u = eigenvectors[index];
        for (let row = 0; row < rows; row++) {
          const weight = u[row];
          if (weight === 0) continue;
          const offset = row * dimensions;
          for (let column = 0; column < dimensions; column++) component[column] += weight * centred[offset + column];
        }
        normalize(component);
      } else {
        component = eigenvectors[index];
      }
      components.push(component);
      variances[index] = eigenvalue;
    }
    completeOrthonormalBasis(components, componentCount, dimensions);
    for (const component of components) flipSign(component);
    return new Pca(mean, components, variances, totalVariance);
  }

  /** Projects rows onto the components: `rows x componentCount` scores, row-major. */
  transform(vectors: Float32Array): Float64Array {
    const rows = rowCount(vectors, this.dimensions);
    const count = this.components.length;
    const scores = new Float64Array(rows * count);
    for (let row = 0; row < rows; row++) {
      const offset = row * this.dimensions;
      for (let index = 0; index < count; index++) {
        const component = this.components[index];
        let sum = 0;
        for (let column = 0; column < this.dimensions; column++) sum += (vectors[offset + column] - this.mean[column]) * component[column];
        scores[row * count + index] = sum;
      }
    }
    return scores;
  }
}

export interface PcaSettings {
  /** Subspace iterations at most (default 200); the result after the last one is used. */
  readonly maxIterations?: number;
  /**
   * Stop when every wanted eigenpair's residual |A v - l v| is below this times the largest
   * eigenvalue, or the wanted eigenvalues change by less than ten times that between two
   * iterations (default 1e-10).
   */
  readonly tolerance?: number;
}

function columnMeans(vectors: Float32Array, dimensions: number, rows: number): Float64Array {
  const mean = new Float64Array(dimensions);
  for (let row = 0; row < rows; row++) {
    const offset = row * dimensions;
    for (let column = 0; column < dimensions; column++) mean[column] += vectors[offset + column];
  }
  for (let column = 0; column < dimensions; column++) mean[column] /= rows;
  return mean;
}

function covarianceMatrix(centred: Float64Array, rows: number, dimensions: number, denominator: number): Float64Array {
  const matrix = new Float64Array(dimensions * dimensions);
  for (let row = 0; row < rows; row++) {
    const offset = row * dimensions;
    for (let i = 0; i < dimensions; i++) {
      const value = centred[offset + i];
      if (value === 0) continue;
      const target = i * dimensions;
      for (let j = i; j < dimensions; j++) matrix[target + j] += value * centred[offset + j];
    }
  }
  return symmetrize(matrix, dimensions, denominator);
}

function gramMatrix(centred: Float64Array, rows: number, dimensions: number, denominator: number): Float64Array {
  const matrix = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    const first = i * dimensions;
    for (let j = i; j < rows; j++) {
      const second = j * dimensions;
      let sum = 0;
      for (let column = 0; column < dimensions; column++) sum += centred[first + column] * centred[second + column];
      matrix[i * rows + j] = sum;
    }
  }
  return symmetrize(matrix, rows, denominator);
}

/** Copies the upper triangle to the lower one and divides by `denominator`. */
function symmetrize(matrix: Float64Array, size: number, denominator: number): Float64Array {
  for (let i = 0; i < size; i++) {
    for (let j = i; j < size; j++) {
      const value = matrix[i * size + j] / denominator;
      matrix[i * size + j] = value;
      matrix[j * size + i] = value;
    }
  }
  return matrix;
}


function normalize(vector: Float64Array): number {
  let sum = 0;
  for (let k = 0; k < vector.length; k++) sum += vector[k] * vector[k];
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let k = 0; k < vector.length; k++) vector[k] /= norm;
  return norm;
}

function dot(first: Float64Array, second: Float64Array): number {
  let sum = 0;
  for (let k = 0; k < first.length; k++) sum += first[k] * second[k];
  return sum;
}

/**
 * Modified Gram-Schmidt in place. A column that collapses (it lay in the span of the earlier ones)
 * is replaced by the first unit basis vector that does not, so the block stays full rank.
 */
function orthonormalize(block: Float64Array[], size: number): void {
  for (let index = 0; index < block.length; index++) {
    const column = block[index];
    const before = Math.sqrt(dot(column, column));
    for (let earlier = 0; earlier < index; earlier++) subtractProjection(column, block[earlier]);
    const after = normalize(column);
    if (after > before * 1e-10 && after > 0) continue;
    for (let basis = 0; basis < size; basis++) {
      column.fill(0);
      column[basis] = 1;
      for (let earlier = 0; earlier < index; earlier++) subtractProjection(column, block[earlier]);
      if (normalize(column) > 1e-6) break;
    }
  }
}

function subtractProjection(vector: Float64Array, unit: Float64Array): void {
  const projection = dot(vector, unit);
  for (let k = 0; k < vector.length; k++) vector[k] -= projection * unit[k];
}

/**
 * products[c] = matrix x block[c] for every column c, reading each matrix row once for all the
 * columns (the matrix is the large operand; the block stays in cache).
 */
function multiplyBlock(matrix: Float64Array, size: number, block: readonly Float64Array[], products: Float64Array[]): void {
  for (let i = 0; i < size; i++) {
    const offset = i * size;
    for (let column = 0; column < block.length; column++) {
      const vector = block[column];
      let sum = 0;
      for (let j = 0; j < size; j++) sum += matrix[offset + j] * vector[j];
      products[column][i] = sum;
    }
  }
}

/**
 * The `wanted` largest eigenpairs of a symmetric positive semi-definite matrix, by subspace
 * iteration on a block a few columns wider than needed (convergence goes with the gap to the
 * first eigenvalue outside the block) with a Rayleigh-Ritz step each round.
 */
function leadingEigenpairs(matrix: Float64Array, size: number, wanted: number, settings: PcaSettings): { values: Float64Array; vectors: Float64Array[] } {
  const maxIterations = settings.maxIterations ?? 200;
  const tolerance = settings.tolerance ?? 1e-10;
  const blockSize = Math.min(size, wanted + 8);
  const random = seededRandom(0x5eed);
  let block: Float64Array[] = Array.from({ length: blockSize }, () => {
    const column = new Float64Array(size);
    for (let k = 0; k < size; k++) column[k] = random() - 0.5;
    return column;
  });
  orthonormalize(block, size);
  const products = Array.from({ length: blockSize }, () => new Float64Array(size));
  let values: Float64Array = new Float64Array(blockSize);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    multiplyBlock(matrix, size, block, products);
    // Rayleigh-Ritz: eigen-decompose the small projected matrix and rotate the block by it.
    const projected = new Float64Array(blockSize * blockSize);
    for (let i = 0; i < blockSize; i++) {
      for (let j = i; j < blockSize; j++) {
        const value = dot(block[i], products[j]);
        projected[i * blockSize + j] = value;
        projected[j * blockSize + i] = value;
      }
    }
    const small = jacobiEigen(projected, blockSize);
    const rotated = rotate(block, small.vectors, blockSize, size);
    const rotatedProducts = rotate(products, small.vectors, blockSize, size);
    const previous = values;
    values = small.values;
    const scale = Math.max(Math.abs(values[0]), Number.MIN_VALUE);
    // Equal eigenvalues make their eigenvectors ambiguous and the residuals slow to fall; any
    // basis of that eigenspace is as good, so settled eigenvalues also end the iteration.
    let settled = iteration > 0;
    for (let index = 0; index < wanted && settled; index++) if (Math.abs(values[index] - previous[index]) > tolerance * 10 * scale) settled = false;
    let converged = true;
    for (let index = 0; index < wanted && converged && !settled; index++) {
      let residual = 0;
      for (let k = 0; k < size; k++) {
        const difference = rotatedProducts[index][k] - values[index] * rotated[index][k];
        residual += difference * difference;
      }
      if (Math.sqrt(residual) > tolerance * scale) converged = false;
    }
    if (converged || settled || iteration === maxIterations - 1) return { values, vectors: rotated.slice(0, wanted) };
    block = rotatedProducts;
    orthonormalize(block, size);
  }
  return { values, vectors: block.slice(0, wanted) };
}

/** Columns of `block` combined by `rotation` (blockSize x blockSize, eigenvectors in columns). */
function rotate(block: Float64Array[], rotation: Float64Array, blockSize: number, size: number): Float64Array[] {
  const result = Array.from({ length: blockSize }, () => new Float64Array(size));
  for (let target = 0; target < blockSize; target++) {
    const out = result[target];
    for (let source = 0; source < blockSize; source++) {
      const weight = rotation[source * blockSize + target];
      if (weight === 0) continue;
      const column = block[source];
      for (let k = 0; k < size; k++) out[k] += weight * column[k];
    }
  }
  return result;
}

/**
 * Cyclic Jacobi eigen-decomposition of a small symmetric matrix: eigenvalues in decreasing order,
 * eigenvectors as the columns of `vectors` (row-major size x size).
 */
export function jacobiEigen(input: Float64Array, size: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(input);
  const v = new Float64Array(size * size);
  for (let i = 0; i < size; i++) v[i * size + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let offDiagonal = 0;
    let diagonal = 0;
    for (let i = 0; i < size; i++) {
      diagonal += a[i * size + i] * a[i * size + i];
      for (let j = i + 1; j < size; j++) offDiagonal += a[i * size + j] * a[i * size + j];
    }
    if (offDiagonal <= 1e-30 * Math.max(diagonal, Number.MIN_VALUE) || offDiagonal === 0) break;
    for (let p = 0; p < size; p++) {
      for (let q = p + 1; q < size; q++) {
        const apq = a[p * size + q];
        if (apq === 0) continue;
        const app = a[p * size + p];
        const aqq = a[q * size + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < size; k++) {
          const akp = a[k * size + p];
          const akq = a[k * size + q];
          a[k * size + p] = c * akp - s * akq;
          a[k * size + q] = s * akp + c * akq;
        }
        for (let k = 0; k < size; k++) {
          const apk = a[p * size + k];
          const aqk = a[q * size + k];
          a[p * size + k] = c * apk - s * aqk;
          a[q * size + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < size; k++) {
          const vkp = v[k * size + p];
          const vkq = v[k * size + q];
          v[k * size + p] = c * vkp - s * vkq;
          v[k * size + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: size }, (_, index) => index).sort((first, second) => a[second * size + second] - a[first * size + first] || first - second);
  const values = new Float64Array(size);
  const vectors = new Float64Array(size * size);
  order.forEach((source, target) => {
    values[target] = a[source * size + source];
    for (let k = 0; k < size; k++) vectors[k * size + target] = v[k * size + source];
  });
  return { values, vectors };
}

/** Adds unit vectors orthogonal to the existing components until there are `count` of them. */
function completeOrthonormalBasis(components: Float64Array[], count: number, dimensions: number): void {
  for (let basis = 0; components.length < count && basis < dimensions; basis++) {
    const candidate = new Float64Array(dimensions);
    candidate[basis] = 1;
    for (const component of components) subtractProjection(candidate, component);
    if (normalize(candidate) > 1e-6) components.push(candidate);
  }
}

function flipSign(component: Float64Array): void {
  let largest = 0;
  for (let k = 1; k < component.length; k++) if (Math.abs(component[k]) > Math.abs(component[largest])) largest = k;
  if (component[largest] < 0) for (let k = 0; k < component.length; k++) component[k] = -component[k];
}
