import type { ArtifactStorage } from '@ippro/artifact-store';
import type { ScoreTable } from '@ippro/importance';
import { decodeNumber, getJson, putJson } from './json-artifacts';

/** The scores artifact a round plans from: `{ method, rows: [[group id, score], ...] }`, +-Infinity as strings. */
interface ScoresDocument {
  method: string;
  rows: [string, number | string][];
}

/** Stores a score table as a scores artifact and returns its id. */
export function putScores(store: ArtifactStorage, table: ScoreTable): Promise<string> {
  const document: ScoresDocument = { method: table.method, rows: table.rows.map((row) => [row.id, row.score]) };
  return putJson(store, document);
}

/** The scores of a scores artifact, by group id. */
export async function getScores(store: ArtifactStorage, id: string): Promise<{ method: string; scores: Map<string, number> }> {
  const document = await getJson<ScoresDocument>(store, id);
  return { method: document.method, scores: new Map(document.rows.map(([group, score]) => [group, decodeNumber(score)])) };
}
