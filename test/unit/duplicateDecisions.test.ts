import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DECISION_COLUMNS,
  decisionRows,
  duplicatesCsv,
  relativePathParts,
  writeDuplicatesCsv,
  writeDuplicatesJson,
  type DecisionRow,
  type DuplicateGroup,
} from '../../src/sinks/duplicateDecisions.js';
import type { PictureFacts } from '../../src/operators/kernels/dedup/keepRule.js';
import { PiaggioError } from '../../src/core/errors.js';

const ROOT = '/data/photos';

function facts(index: number, relativePath: string, extra: Partial<PictureFacts> = {}): PictureFacts {
  return { index, path: `${ROOT}/${relativePath}`, width: 640, height: 480, bytes: 1000 + index, modifiedMs: Date.UTC(2024, 0, 1) + index, ...extra };
}

/**
 * RFC 4180 the way a spreadsheet or Python's csv module reads it, written apart from the code under
 * test: quoted fields may hold commas, CR, LF and doubled quotes. Fails on anything malformed.
 */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let position = 0;
  let quoted = false;
  while (position < text.length) {
    const character = text[position];
    if (quoted) {
      if (character === '"' && text[position + 1] === '"') {
        field += '"';
        position += 2;
      } else if (character === '"') {
        quoted = false;
        position += 1;
        assert.ok([',', '\r', undefined].includes(text[position]), `a closing quote is followed by ${JSON.stringify(text[position])}`);
      } else {
        field += character;
        position += 1;
      }
    } else if (character === '"') {
      assert.equal(field, '', 'a quote may only open a field');
      quoted = true;
      position += 1;
    } else if (character === ',') {
      record.push(field);
      field = '';
      position += 1;
    } else if (character === '\r') {
      assert.equal(text[position + 1], '\n', 'records end with CRLF');
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      position += 2;
    } else {
      assert.notEqual(character, '\n', 'a bare LF outside quotes');
      field += character;
      position += 1;
    }
  }
  assert.equal(quoted, false, 'an unclosed quote');
  assert.deepEqual(record, [], 'the last record ends with CRLF');
  assert.equal(field, '');
  return records;
}

describe('decisionRows', () => {
  // Groups: {b/2, a/1} (2), {c/3, c/4, c/5} (3), {d/6, d/7} (2), singles z/9 and e/8.
  const allFacts = [
    facts(1, 'a/1.jpg'),
    facts(2, 'b/2.jpg', { sharpness: 4.5 }),
    facts(3, 'c/3.jpg'),
    facts(4, 'c/4.jpg'),
    facts(5, 'c/5.jpg'),
    facts(6, 'd/6.jpg'),
    facts(7, 'd/7.jpg'),
    facts(8, 'e/8.jpg'),
    facts(9, 'z/9.jpg'),
  ];
  const groups: DuplicateGroup[] = [
    { members: [9], kept: 9, cluster: 4 },
    { members: [6, 7], kept: 7, cluster: 3 },
    { members: [1, 2], kept: 2, cluster: 0 },
    { members: [8], kept: 8, cluster: 5 },
    { members: [5, 3, 4], kept: 5, cluster: 1 },
  ];
  const distanceToKept = (member: number, kept: number) => (member === 4 ? Number.NaN : (member + kept) / 100);

  test('lists groups largest first, then by smallest path; singles last in path order; kept first in each group', () => {
    const rows = decisionRows({ groups, facts: [...allFacts].reverse(), inputRoot: ROOT, distanceToKept });
    assert.deepEqual(
      rows.map((row) => [row.group, row.path, row.action, row.keep, row.groupSize, row.cluster]),
      [
        [1, 'c/5.jpg', 'keep', true, 3, 1],
        [1, 'c/3.jpg', 'move', false, 3, 1],
        [1, 'c/4.jpg', 'move', false, 3, 1],
        // {a/1, b/2} sorts before {d/6, d/7} by its smallest path, a/1.jpg, although b/2.jpg is kept.
        [2, 'b/2.jpg', 'keep', true, 2, 0],
        [2, 'a/1.jpg', 'move', false, 2, 0],
        [3, 'd/7.jpg', 'keep', true, 2, 3],
        [3, 'd/6.jpg', 'move', false, 2, 3],
        [4, 'e/8.jpg', 'none', true, 1, 5],
        [5, 'z/9.jpg', 'none', true, 1, 4],
      ],
    );
  });

  test('carries distances to the kept picture (0 for itself, null for NaN or none), facts and times', () => {
    const rows = decisionRows({ groups, facts: allFacts, inputRoot: `${ROOT}/`, distanceToKept });
    const byPath = new Map(rows.map((row) => [row.path, row]));
    assert.equal(byPath.get('c/5.jpg')!.distance, 0);
    assert.equal(byPath.get('c/3.jpg')!.distance, 0.08);
    assert.equal(byPath.get('c/4.jpg')!.distance, null);
    assert.equal(byPath.get('e/8.jpg')!.distance, 0);
    assert.deepEqual(byPath.get('b/2.jpg'), {
      group: 2,
      path: 'b/2.jpg',
      keep: true,
      action: 'keep',
      distance: 0,
      width: 640,
      height: 480,
      bytes: 1002,
      modified: '2024-01-01T00:00:00.002Z',
      groupSize: 2,
      cluster: 0,
      sharpness: 4.5,
      movedTo: null,
      duplicateOf: null,
    } satisfies DecisionRow);
    const withoutDistances = decisionRows({ groups, facts: allFacts, inputRoot: ROOT });
    assert.deepEqual(withoutDistances.map((row) => row.distance), withoutDistances.map((row) => (row.keep ? 0 : null)));
  });

  test('a group whose kept picture lies outside the input (an earlier run): every member is a duplicate of it', () => {
    const rows = decisionRows({
      groups: [
        { members: [1, 2], kept: 99, keptElsewhere: { path: '/earlier/original.jpg' } },
        { members: [3], kept: 3 },
      ],
      facts: allFacts,
      inputRoot: ROOT,
      distanceToKept: (member, kept) => (kept === 99 ? member / 10 : 0),
    });
    const external = rows.filter((row) => row.duplicateOf !== null);
    assert.deepEqual(
      external.map((row) => [row.path, row.keep, row.action, row.groupSize, row.distance, row.duplicateOf]),
      external.map((row) => [row.path, false, 'move', 3, row.distance, '/earlier/original.jpg']),
    );
    assert.equal(external.length, 2);
    assert.ok(external.every((row) => row.distance !== null && row.distance > 0));
    assert.equal(rows.find((row) => row.duplicateOf === null)?.action, 'none');
  });

  test('refuses groups and facts that do not describe each picture once, inside the input folder', () => {
    const isArgumentError = (pattern: RegExp) => (error: unknown) => error instanceof PiaggioError && error.code === 'EINVALIDARGUMENT' && pattern.test(error.message);
    assert.throws(() => decisionRows({ groups: [{ members: [1, 2], kept: 3 }], facts: allFacts, inputRoot: ROOT }), isArgumentError(/kept index of group 0/));
    assert.throws(() => decisionRows({ groups: [{ members: [1, 99], kept: 1 }], facts: allFacts, inputRoot: ROOT }), isArgumentError(/picture 99/));
    assert.throws(() => decisionRows({ groups: [{ members: [1], kept: 1 }, { members: [1, 2], kept: 2 }], facts: allFacts, inputRoot: ROOT }), isArgumentError(/picture 1 in two/));
    assert.throws(() => decisionRows({ groups: [{ members: [], kept: 1 }], facts: allFacts, inputRoot: ROOT }), isArgumentError(/at least one member/));
    const outside = [facts(1, '../elsewhere/1.jpg')];
    assert.throws(() => decisionRows({ groups: [{ members: [1], kept: 1 }], facts: outside, inputRoot: ROOT }), isArgumentError(/inside the input folder/));
    const sibling = [{ ...facts(1, 'x.jpg'), path: '/data/photos-old/x.jpg' }];
    assert.throws(() => decisionRows({ groups: [{ members: [1], kept: 1 }], facts: sibling, inputRoot: ROOT }), isArgumentError(/photos-old/));
  });

  test('relative paths with empty, . or .. parts, or absolute ones, are not plain', () => {
    assert.deepEqual(relativePathParts('a/b c/d.jpg'), ['a', 'b c', 'd.jpg']);
    for (const path of ['', '/etc/passwd', 'a//b.jpg', './a.jpg', 'a/../../b.jpg', '..', 'a\0b.jpg', 'a/']) {
      assert.equal(relativePathParts(path), undefined, JSON.stringify(path));
    }
    // A backslash separates folders on Windows only; elsewhere it is part of a file's name.
    assert.equal(relativePathParts('a\\..\\b.jpg', '\\'), undefined);
    assert.equal(relativePathParts('a\\b.jpg', '\\'), undefined);
    assert.deepEqual(relativePathParts('a\\b.jpg', '/'), ['a\\b.jpg']);
    assert.deepEqual(relativePathParts('x/a\\..\\b.jpg', '/'), ['x', 'a\\..\\b.jpg']);
  });
});

describe('duplicates.csv and duplicates.json', () => {
  const folders: string[] = [];
  after(async () => {
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  const awkward = [
    'plain.jpg',
    'with, comma.jpg',
    'with "quotes".jpg',
    'line\nbreak.jpg',
    'carriage\r\nreturn.jpg',
    'ünïcödé/日本語 👍🏽.jpg',
    '=HYPERLINK("x","y").jpg',
    '+1.jpg',
    '-rf.jpg',
    '@SUM(A1).jpg',
    '\tTab.jpg',
    '\rCR.jpg',
    "'quoted already.jpg",
  ];
  const rows = decisionRows({
    groups: [{ members: awkward.map((_, index) => index), kept: 0, cluster: -1 }],
    facts: awkward.map((path, index) => facts(index, path, index === 1 ? { sharpness: 0.125 } : {})),
    inputRoot: ROOT,
    distanceToKept: (member) => member / 3,
  });

  /** What a cell should hold for a row's value: OWASP's quote before a formula start, nothing for null. */
  function expectedCell(value: DecisionRow[keyof DecisionRow]): string {
    if (value === null) return '';
    if (typeof value === 'string') return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
    return String(value);
  }

  test('the CSV parses back to every field, paths with commas, quotes, line breaks and unicode included', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'piaggio-decisions-'));
    folders.push(folder);
    const path = join(folder, 'duplicates.csv');
    await writeDuplicatesCsv(path, rows);
    const bytes = await readFile(path);
    assert.notEqual(bytes[0], 0xef, 'no byte-order mark');
    const text = bytes.toString('utf8');
    assert.equal(text, duplicatesCsv(rows));
    const [header, ...records] = parseCsv(text);
    assert.deepEqual(header, [...DECISION_COLUMNS]);
    assert.equal(records.length, awkward.length);
    for (const [position, record] of records.entries()) {
      assert.deepEqual(record, DECISION_COLUMNS.map((column) => expectedCell(rows[position][column])), `row ${position}`);
    }
    const paths = records.map((record) => record[DECISION_COLUMNS.indexOf('path')]);
    assert.ok(paths.includes('ünïcödé/日本語 👍🏽.jpg'));
    assert.ok(paths.includes('line\nbreak.jpg'));
    assert.ok(paths.includes('with "quotes".jpg'));
    assert.ok(paths.includes(`'=HYPERLINK("x","y").jpg`));
    assert.ok(paths.includes(`'\tTab.jpg`));
    assert.ok(paths.includes("'quoted already.jpg"), 'a quote that starts no formula is left alone');
    // A number is data, not a formula: the cluster -1 keeps its minus sign.
    assert.ok(records.every((record) => record[DECISION_COLUMNS.indexOf('cluster')] === '-1'));
    assert.deepEqual(await readdir(folder), ['duplicates.csv'], 'no temporary file left beside it');
  });

  test('the JSON holds the rows exactly, with the extra fields first', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'piaggio-decisions-'));
    folders.push(folder);
    const path = join(folder, 'duplicates.json');
    await writeDuplicatesJson(path, rows, { input: ROOT, keep: 'largest', rows: 'replaced' });
    const parsed = JSON.parse(await readFile(path, 'utf8')) as { input: string; keep: string; rows: DecisionRow[] };
    assert.equal(parsed.input, ROOT);
    assert.equal(parsed.keep, 'largest');
    assert.deepEqual(parsed.rows, rows);
    assert.equal(parsed.rows.find((row) => row.path.startsWith('='))?.path, '=HYPERLINK("x","y").jpg', 'JSON carries paths unguarded');
    assert.deepEqual(await readdir(folder), ['duplicates.json']);
  });

  test('an empty list is a header line alone', () => {
    assert.equal(duplicatesCsv([]), `${DECISION_COLUMNS.join(',')}\r\n`);
  });
});
